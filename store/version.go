package store

import (
	"sync"
	"sync/atomic"
)

// WATCH support.
//
// A client that WATCHes a key records two things about it, under the key's
// shard lock: the key's version and its live entry (nil when the key is
// missing or already expired). EXEC then finds the key unchanged only if
// both are the same:
//
//   - Versions exist only for watched keys (a registry keyed by database
//     and key, reference-counted by the watchers), so unwatched writes cost
//     one atomic load. Writers bump the versions of the keys they dirtied
//     while they still hold the shard locks (Tx.BumpWatched), which catches
//     in-place changes (APPEND, LPUSH onto an existing list…).
//   - Comparing the live entry catches what replaces or drops the entry
//     without going through a command's key positions: expiry (active or
//     lazy, including a key that expires between WATCH and EXEC), eviction,
//     FLUSHDB/FLUSHALL, SWAPDB, MOVE, COPY. As in Redis 7.0, a key that was
//     already expired when watched and is still gone at EXEC is unchanged.
type watchRegistry struct {
	n  atomic.Int64 // watched (database, key) pairs; 0 skips the map
	mu sync.Mutex
	m  map[watchKey]*watchEntry
}

type watchKey struct {
	db  int
	key string
}

type watchEntry struct {
	ver  atomic.Uint64
	refs int // under watchRegistry.mu
}

// Watch is one client's record of one watched key.
type Watch struct {
	db    *DB
	key   string
	ent   *watchEntry
	ver   uint64
	live  *entry
	valid bool
}

// Watch registers key as watched and records its state. Call it inside a
// transaction that locked key (any mode).
func (tx *Tx) Watch(key []byte) Watch {
	db := tx.db
	reg := &db.store.watch
	wk := watchKey{db.index, string(key)}
	reg.mu.Lock()
	if reg.m == nil {
		reg.m = make(map[watchKey]*watchEntry)
	}
	we := reg.m[wk]
	if we == nil {
		we = new(watchEntry)
		reg.m[wk] = we
		reg.n.Add(1)
	}
	we.refs++
	reg.mu.Unlock()
	return Watch{db: db, key: wk.key, ent: we, ver: we.ver.Load(), live: tx.liveEntry(db, key), valid: true}
}

// liveEntry is key's entry unless it is missing or expired, without
// reclaiming anything.
func (tx *Tx) liveEntry(db *DB, key []byte) *entry {
	sh := tx.shardFor(db, key)
	e := sh.lookup(bytesView(key))
	if e == nil || (e.expireAt != 0 && e.expireAt <= tx.now) {
		return nil
	}
	return e
}

// Key is the watched key's name.
func (w *Watch) Key() string { return w.key }

// DBIndex is the watched key's database.
func (w *Watch) DBIndex() int { return w.db.index }

// Unwatch drops the registration made by Watch.
func (w *Watch) Unwatch() {
	if !w.valid {
		return
	}
	w.valid = false
	reg := &w.db.store.watch
	wk := watchKey{w.db.index, w.key}
	reg.mu.Lock()
	w.ent.refs--
	if w.ent.refs == 0 && reg.m[wk] == w.ent {
		delete(reg.m, wk)
		reg.n.Add(-1)
	}
	reg.mu.Unlock()
	w.ent, w.live = nil, nil
}

// Changed reports whether the watched key changed since Watch: a write
// bumped its version, or its live entry is another one (replaced,
// deleted, expired, evicted, flushed, swapped away). It read-locks the
// key's shard.
func (w *Watch) Changed() bool {
	if !w.valid {
		return false
	}
	if w.ent.ver.Load() != w.ver {
		return true
	}
	sh := &w.db.shards[w.db.shardOf([]byte(w.key))]
	now := w.db.store.NowMs()
	sh.mu.RLock()
	e := sh.lookup(w.key)
	if e != nil && e.expireAt != 0 && e.expireAt <= now {
		e = nil
	}
	sh.mu.RUnlock()
	return e != w.live
}

// BumpWatched records that the transaction changed keys (in its own
// database), for the clients watching them. Call it before the transaction
// ends, while the keys' shards are still locked. Only keys that exist
// afterwards are bumped: a key the write removed has another live entry
// (nil) than the watcher recorded, and a key that was missing and stays
// missing (DEL of a missing key) did not change.
func (tx *Tx) BumpWatched(keys [][]byte) {
	reg := &tx.db.store.watch
	if reg.n.Load() == 0 {
		return
	}
	reg.mu.Lock()
	for _, k := range keys {
		if we := reg.m[watchKey{tx.db.index, string(k)}]; we != nil && tx.liveEntry(tx.db, k) != nil {
			we.ver.Add(1)
		}
	}
	reg.mu.Unlock()
}

// Watched reports whether any client watches any key, so writers can skip
// BumpWatched's work.
func (tx *Tx) Watched() bool { return tx.db.store.watch.n.Load() != 0 }

// BumpWatchedSwap is called before SWAPDB a b: it bumps every watched key
// of either database that exists in either of them, as Redis's
// touchAllWatchedKeysInDb does (a swap can bring back the very entries a
// watcher recorded, so comparing entries is not enough).
func (s *Store) BumpWatchedSwap(a, b int) {
	reg := &s.watch
	if reg.n.Load() == 0 {
		return
	}
	da, db := s.DB(a), s.DB(b)
	if da == nil || db == nil {
		return
	}
	type cand struct {
		wk watchKey
		we *watchEntry
	}
	var cands []cand
	reg.mu.Lock()
	for wk, we := range reg.m {
		if wk.db == a || wk.db == b {
			cands = append(cands, cand{wk, we})
		}
	}
	reg.mu.Unlock()
	now := s.NowMs()
	exists := func(d *DB, key string) bool {
		sh := &d.shards[d.shardOf([]byte(key))]
		sh.mu.RLock()
		e := sh.lookup(key)
		live := e != nil && (e.expireAt == 0 || e.expireAt > now)
		sh.mu.RUnlock()
		return live
	}
	for _, c := range cands {
		if exists(da, c.wk.key) || exists(db, c.wk.key) {
			c.we.ver.Add(1)
		}
	}
}
