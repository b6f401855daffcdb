package store

import (
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
)

// Options configures a Store.
type Options struct {
	Databases int   // number of databases (SELECT 0..Databases-1)
	Shards    int   // shards per database, a power of two
	Clock     Clock // nil means the system clock
}

// Stats are the counters INFO stats reports from the store.
type Stats struct {
	KeyspaceHits   int64
	KeyspaceMisses int64
	ExpiredKeys    int64
	EvictedKeys    int64
	// Active expiry, as Redis reports it: a running estimate of the share
	// of keys with a TTL that are expired, the cycles that ran out of
	// time, and the CPU time spent in the cycle.
	ExpiredStalePerc      float64
	ExpireTimeCapReached  int64
	ExpireCycleTimeMicros int64
}

// Store is the whole keyspace: a fixed set of databases.
type Store struct {
	dbs   []*DB
	clock Clock
	seed  maphash.Seed

	expireStats expireStats

	readyHook   func(db *DB, keys [][]byte)
	expiredHook func(db *DB, key []byte) // notify.go
	txPool      sync.Pool

	hits    atomic.Int64
	misses  atomic.Int64
	expired atomic.Int64

	usedTotal atomic.Int64 // sum of every shard's used (evict.go)
	ev        evictState   // maxmemory and eviction (evict.go)

	watch watchRegistry // WATCH's per-key versions (version.go)
	snap  snapState     // snapshot epochs for the AOF rewrite (snapshot.go)
	obs   observeState  // per-prefix counters, miss hook, lock waits (observe.go)
}

// ErrWrongType is returned when an operation meets a key of another kind.
var ErrWrongType = errors.New("wrong kind of value")

// ErrNoSuchKey is returned by operations that need an existing key.
var ErrNoSuchKey = errors.New("no such key")

// New builds an empty store.
func New(opts Options) (*Store, error) {
	if opts.Databases < 1 {
		return nil, fmt.Errorf("store: databases must be at least 1, got %d", opts.Databases)
	}
	if opts.Shards < 1 || opts.Shards&(opts.Shards-1) != 0 {
		return nil, fmt.Errorf("store: shards must be a power of two, got %d", opts.Shards)
	}
	s := &Store{clock: opts.Clock, seed: maphash.MakeSeed()}
	if s.clock == nil {
		s.clock = SystemClock{}
	}
	s.dbs = make([]*DB, opts.Databases)
	for i := range s.dbs {
		s.dbs[i] = newDB(s, i, opts.Shards)
	}
	return s, nil
}

// SetReadyHook installs the function told, after each write transaction
// that called MarkReady, which keys became ready. keys alias the caller's
// arguments: copy what you keep. Install it before serving.
func (s *Store) SetReadyHook(fn func(db *DB, keys [][]byte)) { s.readyHook = fn }

// DB returns database i, or nil when i is out of range.
func (s *Store) DB(i int) *DB {
	if i < 0 || i >= len(s.dbs) {
		return nil
	}
	return s.dbs[i]
}

// Databases returns how many databases the store has.
func (s *Store) Databases() int { return len(s.dbs) }

// NowMs is the store's clock, which every TTL computation must use.
func (s *Store) NowMs() int64 { return s.clock.NowMs() }

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	return Stats{
		KeyspaceHits:   s.hits.Load(),
		KeyspaceMisses: s.misses.Load(),
		ExpiredKeys:    s.expired.Load(),
		EvictedKeys:    s.ev.evicted.Load(),

		ExpiredStalePerc:      math.Float64frombits(s.expireStats.stalePerc.Load()),
		ExpireTimeCapReached:  s.expireStats.timeCapReached.Load(),
		ExpireCycleTimeMicros: s.expireStats.cycleMicros.Load(),
	}
}

// ResetStats zeroes the counters (CONFIG RESETSTAT).
func (s *Store) ResetStats() {
	s.hits.Store(0)
	s.misses.Store(0)
	s.expired.Store(0)
	s.ev.evicted.Store(0)
	if ps := s.obs.prefixes.Load(); ps != nil {
		ps.reset()
	}
	s.expireStats.stalePerc.Store(0)
	s.expireStats.timeCapReached.Store(0)
	s.expireStats.cycleMicros.Store(0)
}

// UsedBytes is the sum of every entry's accounted size.
func (s *Store) UsedBytes() int64 {
	return s.usedTotal.Load()
}

// FlushAll empties every database.
func (s *Store) FlushAll() { s.FlushAllWith(nil) }

// FlushAllWith empties every database at once, holding every shard's lock,
// and calls fn (when not nil) with the epoch of the change before letting
// go, so the AOF logs the flush in its place among other writes.
func (s *Store) FlushAllWith(fn func(epoch uint64)) {
	s.lockAll(s.dbs, func(epoch uint64) {
		for _, db := range s.dbs {
			for i := range db.shards {
				db.shards[i].init()
			}
		}
		if fn != nil {
			fn(epoch)
		}
	})
}

// lockAll runs fn with every shard of dbs write-locked (in the order
// transactions lock: database, then shard) and settled in one epoch.
func (s *Store) lockAll(dbs []*DB, fn func(epoch uint64)) {
	for _, db := range dbs {
		for i := range db.shards {
			db.shards[i].mu.Lock()
		}
	}
	e := s.snap.epoch.Load()
	for _, db := range dbs {
		for i := range db.shards {
			s.settleAt(db, &db.shards[i], e)
		}
	}
	fn(e)
	for j := len(dbs) - 1; j >= 0; j-- {
		for i := len(dbs[j].shards) - 1; i >= 0; i-- {
			dbs[j].shards[i].mu.Unlock()
		}
	}
}

// SwapDB exchanges the contents of two databases atomically.
func (s *Store) SwapDB(a, b int) error { return s.SwapDBWith(a, b, nil) }

// SwapDBWith is SwapDB calling fn (when not nil) with the epoch of the
// change while both databases are still locked.
func (s *Store) SwapDBWith(a, b int, fn func(epoch uint64)) error {
	da, db := s.DB(a), s.DB(b)
	if da == nil || db == nil {
		return fmt.Errorf("store: swapdb %d %d: database out of range", a, b)
	}
	if a == b {
		return nil
	}
	if a > b {
		da, db = db, da
	}
	s.lockAll([]*DB{da, db}, func(epoch uint64) {
		for i := range da.shards {
			x, y := &da.shards[i], &db.shards[i]
			x.idx, y.idx = y.idx, x.idx
			x.ttlKeys, y.ttlKeys = y.ttlKeys, x.ttlKeys
			ux, uy := x.used.Load(), y.used.Load()
			x.used.Store(uy)
			y.used.Store(ux)
		}
		if fn != nil {
			fn(epoch)
		}
	})
	return nil
}

// DB is one numbered database.
type DB struct {
	store  *Store
	index  int
	shards []shard
	mask   uint64
	used   atomic.Int64 // sum of the shards' used (evict.go)
}

func newDB(s *Store, index, nshards int) *DB {
	db := &DB{store: s, index: index, shards: make([]shard, nshards), mask: uint64(nshards - 1)}
	for i := range db.shards {
		db.shards[i].used.total = &s.usedTotal
		db.shards[i].used.dbTotal = &db.used
		db.shards[i].idx.seed = s.seed
		db.shards[i].init()
	}
	return db
}

// Index is the database's number.
func (db *DB) Index() int { return db.index }

func (db *DB) hash(key []byte) uint64 { return maphash.Bytes(db.store.seed, key) }

func (db *DB) shardOf(key []byte) int { return int(db.hash(key) & db.mask) }

// Len counts the keys, including expired ones not yet reclaimed, as DBSIZE does.
func (db *DB) Len() int {
	n := 0
	for i := range db.shards {
		sh := &db.shards[i]
		sh.mu.RLock()
		n += sh.idx.len()
		sh.mu.RUnlock()
	}
	return n
}

// ExpiresLen counts the keys that carry a TTL (INFO keyspace's expires=).
func (db *DB) ExpiresLen() int {
	n := 0
	for i := range db.shards {
		sh := &db.shards[i]
		sh.mu.RLock()
		n += len(sh.ttlKeys)
		sh.mu.RUnlock()
	}
	return n
}

// AvgTTL is the mean remaining TTL in ms of keys that have one, or 0.
func (db *DB) AvgTTL() int64 {
	now := db.store.NowMs()
	var sum, n int64
	for i := range db.shards {
		sh := &db.shards[i]
		sh.mu.RLock()
		for _, e := range sh.ttlKeys {
			if left := e.expireAt - now; left > 0 {
				sum += left
				n++
			}
		}
		sh.mu.RUnlock()
	}
	if n == 0 {
		return 0
	}
	return sum / n
}

// Flush removes every key.
func (db *DB) Flush() { db.FlushWith(nil) }

// FlushWith empties the database at once, holding all its shards' locks,
// and calls fn (when not nil) with the epoch of the change before letting go.
func (db *DB) FlushWith(fn func(epoch uint64)) {
	db.store.lockAll([]*DB{db}, func(epoch uint64) {
		for i := range db.shards {
			db.shards[i].init()
		}
		if fn != nil {
			fn(epoch)
		}
	})
}

// atomicInt64 is a named alias so shard's field reads as what it is.
type atomicInt64 = atomic.Int64
