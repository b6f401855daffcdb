package server

import (
	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/store"
)

// Observation settings the store applies: per-key-prefix counters
// (metrics-key-prefixes) and "keymiss" keyspace events (the m class of
// notify-keyspace-events). Both cost nothing on the read path while off.
//
// keymiss is emitted for the lookups that count keyspace misses (Redis's
// lookupKey without LOOKUP_NONOTIFY), after the command's locks are
// released, with "expired" (when the miss was a key found expired) first,
// as in Redis. The store reports misses without knowing the client, so a
// RESP3 client subscribed to its own keymiss events gets them after its
// reply, where Redis puts them before it; other subscribers see Redis's
// order.

// applyObservability tells the store the settings of cfg.
func (s *Server) applyObservability(cfg *config.Config) {
	s.applyOutputLimits(cfg) // pubsub.go
	if s.store == nil {
		return
	}
	s.store.SetKeyPrefixes(cfg.KeyPrefixes())
	f := cfg.NotifyKeyspaceEvents
	s.store.ReportMisses(f&config.NotifyKeyMiss != 0 && f&(config.NotifyKeyspace|config.NotifyKeyevent) != 0)
}

// missHook is the store's miss hook: one keymiss event per missed lookup.
func (s *Server) missHook(db *store.DB, keys [][]byte) {
	for _, k := range keys {
		s.notifyKeyspaceEvent(nil, config.NotifyKeyMiss, "keymiss", k, db.Index())
	}
}
