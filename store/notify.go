package store

// Expiry notifications (keyspace "expired" events, tracking invalidation).

// SetExpiredHook installs the function told about every key reclaimed
// because its TTL passed, by lazy expiry (a command found it expired) or by
// the active expire cycle. It runs with the key's shard locked: it must not
// touch the store. key is only valid during the call. Install it before
// serving.
func (s *Store) SetExpiredHook(fn func(db *DB, key []byte)) { s.expiredHook = fn }

// expiredKey reports a reclaimed key to the hook, if any.
func (s *Store) expiredKey(db *DB, key string) {
	if s.expiredHook != nil {
		s.expiredHook(db, []byte(key))
	}
}
