package store

import (
	"bytes"
	"math/bits"
	"sync/atomic"
	"time"
)

// Observation hooks that cost nothing until they are switched on:
//
//   - per-key-prefix hit, miss and eviction counters (metrics-key-prefixes):
//     one atomic pointer load per lookup while no prefix is configured;
//   - the miss hook (keyspace "keymiss" events): one atomic load per missed
//     lookup while it is off;
//   - shard lock waits: a lock is tried first, and only an acquisition that
//     finds the shard held is timed.

// observeState is the store's share of the observation machinery.
type observeState struct {
	prefixes atomic.Pointer[prefixSet]

	missOn   atomic.Bool
	missHook func(db *DB, keys [][]byte)

	lockWait LockWaitHistogram
}

// prefixSet is the configured prefixes and their counters. It is replaced
// as a whole when the list changes; counters of prefixes kept across the
// change carry over.
type prefixSet struct {
	prefixes [][]byte
	counts   []prefixCount
}

// prefixCount is one prefix's counters, padded to its own cache line so
// reads of different prefixes don't contend.
type prefixCount struct {
	hits, misses, evicted atomic.Int64
	_                     [40]byte
}

// PrefixStats are one prefix's counters.
type PrefixStats struct {
	Prefix  string
	Hits    int64
	Misses  int64
	Evicted int64
}

// SetKeyPrefixes sets the key prefixes whose hits, misses and evictions are
// counted separately; none turns the counting off. A key is counted under
// every configured prefix it starts with. Counters of a prefix that stays
// configured keep their values (increments racing with the change may be
// lost).
func (s *Store) SetKeyPrefixes(prefixes []string) {
	if len(prefixes) == 0 {
		s.obs.prefixes.Store(nil)
		return
	}
	old := s.obs.prefixes.Load()
	next := &prefixSet{counts: make([]prefixCount, len(prefixes))}
	for i, p := range prefixes {
		next.prefixes = append(next.prefixes, []byte(p))
		if old == nil {
			continue
		}
		for j, q := range old.prefixes {
			if string(q) == p {
				next.counts[i].hits.Store(old.counts[j].hits.Load())
				next.counts[i].misses.Store(old.counts[j].misses.Load())
				next.counts[i].evicted.Store(old.counts[j].evicted.Load())
			}
		}
	}
	s.obs.prefixes.Store(next)
}

// KeyPrefixStats returns the counters of the configured prefixes, in the
// configured order.
func (s *Store) KeyPrefixStats() []PrefixStats {
	ps := s.obs.prefixes.Load()
	if ps == nil {
		return nil
	}
	out := make([]PrefixStats, len(ps.prefixes))
	for i, p := range ps.prefixes {
		out[i] = PrefixStats{Prefix: string(p), Hits: ps.counts[i].hits.Load(),
			Misses: ps.counts[i].misses.Load(), Evicted: ps.counts[i].evicted.Load()}
	}
	return out
}

func (ps *prefixSet) reset() {
	for i := range ps.counts {
		ps.counts[i].hits.Store(0)
		ps.counts[i].misses.Store(0)
		ps.counts[i].evicted.Store(0)
	}
}

// countHit counts a keyspace hit, as Redis's lookupKey does.
func (tx *Tx) countHit(key []byte) {
	s := tx.db.store
	s.hits.Add(1)
	if ps := s.obs.prefixes.Load(); ps != nil {
		for i, p := range ps.prefixes {
			if bytes.HasPrefix(key, p) {
				ps.counts[i].hits.Add(1)
			}
		}
	}
}

// countMiss counts a keyspace miss and, while the miss hook is on, records
// the key for it.
func (tx *Tx) countMiss(key []byte) {
	tx.countMissOnly(key)
	if tx.db.store.obs.missOn.Load() {
		tx.missed = append(tx.missed, append([]byte(nil), key...))
	}
}

// countMissOnly counts a keyspace miss.
func (tx *Tx) countMissOnly(key []byte) {
	s := tx.db.store
	s.misses.Add(1)
	if ps := s.obs.prefixes.Load(); ps != nil {
		for i, p := range ps.prefixes {
			if bytes.HasPrefix(key, p) {
				ps.counts[i].misses.Add(1)
			}
		}
	}
}

// countEvicted counts an eviction under the key's prefixes.
func (s *Store) countEvicted(key string) {
	ps := s.obs.prefixes.Load()
	if ps == nil {
		return
	}
	for i, p := range ps.prefixes {
		if len(key) >= len(p) && key[:len(p)] == string(p) {
			ps.counts[i].evicted.Add(1)
		}
	}
}

// SetMissHook installs the function told, after a transaction released its
// locks, of the keys its read lookups found missing (in lookup order, the
// same lookups that count keyspace misses). It is only called while
// ReportMisses(true) is in force. keys belong to fn. Install it before
// serving.
func (s *Store) SetMissHook(fn func(db *DB, keys [][]byte)) { s.obs.missHook = fn }

// ReportMisses switches the miss hook on or off.
func (s *Store) ReportMisses(on bool) { s.obs.missOn.Store(on) }

// notifyMisses hands the transaction's missed keys to the hook.
func (tx *Tx) notifyMisses() {
	if len(tx.missed) == 0 {
		return
	}
	keys := tx.missed
	tx.missed = nil
	if hook := tx.db.store.obs.missHook; hook != nil {
		hook(tx.db, keys)
	}
}

// LockWaitBuckets is the number of finite buckets of the lock-wait
// histogram: upper bounds 1 µs × 4^i, i = 0…10 (1 µs to about 1 s).
const LockWaitBuckets = 11

// LockWaitHistogram counts how long transactions waited for shard locks
// that were held when they asked.
type LockWaitHistogram struct {
	buckets [LockWaitBuckets + 1]atomic.Uint64 // the last one is +Inf
	sumNs   atomic.Int64
}

// LockWaitBound is bucket i's upper bound.
func LockWaitBound(i int) time.Duration { return time.Microsecond << (2 * i) }

func (h *LockWaitHistogram) observe(d time.Duration) {
	i := 0
	if d > 0 {
		// The smallest i with 4^i µs ≥ d.
		i = (bits.Len64(uint64(d-1)/uint64(time.Microsecond)) + 1) / 2
		if i > LockWaitBuckets {
			i = LockWaitBuckets
		}
	}
	h.buckets[i].Add(1)
	h.sumNs.Add(int64(d))
}

// LockWaits is a snapshot of the lock-wait histogram.
type LockWaits struct {
	Counts [LockWaitBuckets + 1]uint64 // per bucket, not cumulative; the last is +Inf
	Sum    time.Duration
}

// LockWaits reads the lock-wait histogram.
func (s *Store) LockWaits() LockWaits {
	var w LockWaits
	for i := range w.Counts {
		w.Counts[i] = s.obs.lockWait.buckets[i].Load()
	}
	w.Sum = time.Duration(s.obs.lockWait.sumNs.Load())
	return w
}

// lockSlow takes sh's lock after TryLock failed, timing the wait.
func (s *Store) lockSlow(sh *shard, write bool) {
	start := time.Now()
	if write {
		sh.mu.Lock()
	} else {
		sh.mu.RLock()
	}
	s.obs.lockWait.observe(time.Since(start))
}

// LookupNoNotify is Lookup for OBJECT: it counts a hit or a miss but a miss
// raises no keymiss event (Redis's LOOKUP_NONOTIFY).
func (tx *Tx) LookupNoNotify(key []byte) (kind Kind, expireAt int64, ok bool) {
	_, e := tx.find(tx.db, key)
	if e == nil {
		tx.countMissOnly(key)
		return KindNone, 0, false
	}
	tx.countHit(key)
	return e.kind, e.expireAt, true
}
