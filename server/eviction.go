package server

import (
	"math"
	"os"
	"runtime/debug"
	"time"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/store"
)

// memoryLimitBase is the headroom, beyond maxmemory × 1.5, given to the Go
// runtime's soft memory limit: goroutine stacks, client buffers and the
// runtime's own structures (see docs/memory.md).
const memoryLimitBase = 64 << 20

// applyEviction tells the store the eviction settings of cfg and derives
// the Go soft memory limit from maxmemory, unless GOMEMLIMIT is set in the
// environment (the operator's choice wins).
func (s *Server) applyEviction(cfg *config.Config) {
	if s.store == nil {
		return
	}
	policy, _ := store.ParsePolicy(cfg.MaxmemoryPolicy)
	s.store.SetEviction(&store.EvictionConfig{
		MaxMemory:    cfg.Maxmemory,
		BaseBytes:    baseUsedMemory,
		Policy:       policy,
		Samples:      cfg.MaxmemorySamples,
		Tenacity:     cfg.MaxmemoryEvictionTenacity,
		LFULogFactor: cfg.LFULogFactor,
		LFUDecayTime: cfg.LFUDecayTime,
	})
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(goMemoryLimit(cfg.Maxmemory))
	}
}

// goMemoryLimit is the soft limit for a maxmemory: 1.5 × maxmemory plus a
// fixed base, or no limit when maxmemory is 0.
func goMemoryLimit(maxmemory int64) int64 {
	if maxmemory <= 0 || maxmemory > (math.MaxInt64-memoryLimitBase)/3*2 {
		return math.MaxInt64
	}
	return maxmemory + maxmemory/2 + memoryLimitBase
}

// checkMemory is Redis 7.0's processCommand memory check: with a maxmemory
// set, every command first gives the store a chance to evict; while memory
// stays over the limit a command that may grow memory (denyoom) is refused,
// and so is EXEC when its queue holds one (the dispatcher turns that into
// EXECABORT, as Redis's rejectCommand does for EXEC), and inside MULTI every
// command but EXEC, DISCARD, QUIT and RESET is refused (queueing grows
// memory too), which aborts the transaction.
//
// A denyoom command run now (not queued) first reserves about the memory it
// may add (releaseMemory ends the reservation when it is done), so that the
// eviction done here for many concurrent writers makes room for all of them.
func (s *Server) checkMemory(c *client, cmd *command, argv [][]byte) error {
	if s.store == nil {
		return nil
	}
	if cmd.has(flagDenyOOM) && !c.multi.active && c.memReserved == 0 {
		if cfg := s.store.Eviction(); cfg != nil && cfg.MaxMemory > 0 {
			c.memReserved = writeEstimate(argv)
			s.store.Reserve(c.memReserved)
		}
	}
	if s.store.EnsureFree() {
		return nil
	}
	reject := cmd.has(flagDenyOOM) || s.scriptDenyOOM(cmd, argv) // a script's declared flags (scripting.go)
	switch cmd.fullName {
	case "exec":
		reject = reject || c.multi.queuedDenyOOM()
	case "discard", "quit", "reset":
	default:
		reject = reject || c.multi.active
	}
	if !reject {
		return nil
	}
	cmd.stats.rejectedCalls.Add(1)
	return errOOM
}

// writeEstimate is the memory a write of argv may add: its arguments (but
// the command name) and an entry's fixed cost.
func writeEstimate(argv [][]byte) int64 {
	n := int64(64)
	for _, a := range argv[1:] {
		n += int64(len(a))
	}
	return n
}

// releaseMemory ends the reservation checkMemory made for c's command.
func (s *Server) releaseMemory(c *client) {
	if c.memReserved != 0 {
		s.store.Release(c.memReserved)
		c.memReserved = 0
	}
}

// queuedDenyOOM reports whether a queued command may grow memory (Redis's
// mstate.cmd_flags & CMD_DENYOOM; a script command's flags are those of its
// script when it was queued).
func (m *multiState) queuedDenyOOM() bool {
	for _, q := range m.queue {
		if q.denyOOM || q.cmd.has(flagDenyOOM) {
			return true
		}
	}
	return false
}

// evictInBackground carries on evicting when memory is over the limit
// (after CONFIG SET lowered maxmemory, or when a command ran out of
// tenacity), as Redis's eviction time proc does.
func (s *Server) evictInBackground(budget time.Duration) {
	if s.store != nil && s.store.OverLimit() {
		s.store.EvictFor(budget)
	}
}

// applyNoTouch makes the transaction of a CLIENT NO-TOUCH client leave the
// access clocks alone, except for TOUCH, as Redis 7.2 does. It applies to
// every command the client sends, reads and writes, its commands inside
// EXEC, and the commands its scripts run: those run on the script's own
// client, which follows its caller (TOUCH included, as in Redis, where the
// exception looks at the command the client sent: EVAL, not TOUCH).
func applyNoTouch(c *client, cmd *command, tx *store.Tx) {
	noTouchTx(c, cmd.name == "touch", tx)
}

// noTouchTx is applyNoTouch for handlers that open their own transactions
// (flagOwnLocks rows: COPY, PFCOUNT, SORT); touchCmd is whether the command
// is TOUCH.
func noTouchTx(c *client, touchCmd bool, tx *store.Tx) {
	if c.noTouch {
		if !touchCmd {
			tx.NoTouch()
		}
		return
	}
	if c.id == -1 {
		if run := c.srv.lua.run; run != nil && run.lc == c && run.caller != nil && run.caller.noTouch {
			tx.NoTouch()
		}
	}
}
