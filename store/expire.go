package store

import (
	"math"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// Active expiry follows Redis 7's cycle: sample keys that carry a TTL, reclaim
// the expired ones, and keep going on a shard while more than a tenth of the
// sample was stale, all within a time budget per call.
const (
	expireSampleSize     = 20
	expireAcceptableRate = 10 // percent of a sample that may be stale before we stop
)

// ExpireCursor remembers where the last active expiry cycle stopped, so the
// next one carries on instead of always starting at database 0, shard 0.
type ExpireCursor struct {
	db, shard int
}

// expireStats are the cycle's counters for INFO stats.
type expireStats struct {
	stalePerc      atomic.Uint64 // float64 bits
	timeCapReached atomic.Int64
	cycleMicros    atomic.Int64
}

// record folds one cycle into the counters the way Redis does: the stale
// share is a running average weighted 5 % to the newest cycle.
func (st *expireStats) record(sampled, expired int, elapsed time.Duration, capped bool) {
	st.cycleMicros.Add(elapsed.Microseconds())
	if capped {
		st.timeCapReached.Add(1)
	}
	current := 0.0
	if sampled > 0 {
		current = float64(expired) / float64(sampled)
	}
	old := math.Float64frombits(st.stalePerc.Load())
	st.stalePerc.Store(math.Float64bits(current*0.05 + old*0.95))
}

// ExpireCycle reclaims expired keys for at most budget and returns how many it
// removed. It takes each shard's lock only briefly, one sample at a time.
func (s *Store) ExpireCycle(cur *ExpireCursor, budget time.Duration) int {
	if s.snap.loading.Load() {
		return 0 // nothing expires while a file is replayed (SetLoading)
	}
	start := time.Now()
	deadline := start.Add(budget)
	removed, sampledTotal, capped := 0, 0, false
	defer func() {
		s.expireStats.record(sampledTotal, removed, time.Since(start), capped)
	}()
	total := len(s.dbs) * len(s.dbs[0].shards)
	for visited := 0; visited < total; visited++ {
		if cur.db >= len(s.dbs) {
			cur.db = 0
		}
		db := s.dbs[cur.db]
		sh := &db.shards[cur.shard]
		for {
			n, sampled := sh.expireSample(s.NowMs(), s, db)
			removed += n
			sampledTotal += sampled
			s.expired.Add(int64(n))
			if sampled == 0 || n*100 <= sampled*expireAcceptableRate {
				break
			}
			if time.Now().After(deadline) {
				capped = true
				return removed
			}
		}
		cur.shard++
		if cur.shard == len(db.shards) {
			cur.shard = 0
			cur.db++
		}
		if visited%16 == 15 && time.Now().After(deadline) {
			capped = true
			break
		}
	}
	return removed
}

// expireSample checks up to expireSampleSize random keys with a TTL and
// removes the expired ones.
func (sh *shard) expireSample(now int64, s *Store, db *DB) (removed, sampled int) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	epoch := s.settleLocked(db, sh)
	for sampled < expireSampleSize && len(sh.ttlKeys) > 0 {
		sampled++
		e := sh.ttlKeys[rand.IntN(len(sh.ttlKeys))]
		if e.expireAt <= now {
			key := e.key()
			sh.remove(e)
			s.propagateDel(db, epoch, key)
			s.expiredKey(db, key)
			removed++
		}
	}
	return removed, sampled
}
