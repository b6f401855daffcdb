package store

import (
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Eviction follows Redis 7's evict.c. Every entry carries one 32-bit access
// field whose meaning depends on the policy, as Redis reuses robj.lru:
//
//   - LRU policies: the store's clock in milliseconds, modulo 2^32 (idle
//     times wrap after about 49 days; Redis's 24-bit seconds clock wraps
//     after 194 days, but its resolution is a thousand times coarser);
//   - LFU policies: Redis's layout, the last decrement time in minutes
//     (16 bits) above a logarithmic 8-bit counter that starts at
//     LFU_INIT_VAL, grows with probability 1/((c-5)·lfu-log-factor+1) and
//     loses one per lfu-decay-time minutes of idleness.
//
// Eviction samples maxmemory-samples keys per database into a pool of the
// sixteen best candidates, which survives between calls, and evicts from
// the pool's best end until used memory is under the limit.

// Policy is a maxmemory-policy.
type Policy uint8

// The eight Redis policies.
const (
	NoEviction Policy = iota
	AllKeysLRU
	VolatileLRU
	AllKeysLFU
	VolatileLFU
	AllKeysRandom
	VolatileRandom
	VolatileTTL
)

var policyNames = [...]string{
	NoEviction: "noeviction", AllKeysLRU: "allkeys-lru", VolatileLRU: "volatile-lru",
	AllKeysLFU: "allkeys-lfu", VolatileLFU: "volatile-lfu", AllKeysRandom: "allkeys-random",
	VolatileRandom: "volatile-random", VolatileTTL: "volatile-ttl",
}

// String is the policy's configuration name.
func (p Policy) String() string { return policyNames[p] }

// ParsePolicy maps a maxmemory-policy name to its Policy.
func ParsePolicy(name string) (Policy, bool) {
	for i, n := range policyNames {
		if n == name {
			return Policy(i), true
		}
	}
	return NoEviction, false
}

// LFU reports whether the policy keeps LFU counters in the access field.
func (p Policy) LFU() bool { return p == AllKeysLFU || p == VolatileLFU }

func (p Policy) volatile() bool {
	return p == VolatileLRU || p == VolatileLFU || p == VolatileRandom || p == VolatileTTL
}

// Redis's LFU constants.
const (
	LFUInitVal   = 5
	lfuMaxCount  = 255
	evictPoolLen = 16 // EVPOOL_SIZE
)

// EvictionConfig is what the store needs to know about the memory limit.
type EvictionConfig struct {
	MaxMemory    int64 // bytes; 0 means no limit
	BaseBytes    int64 // fixed overhead counted in used memory besides the entries
	Policy       Policy
	Samples      int // maxmemory-samples
	Tenacity     int // maxmemory-eviction-tenacity, 0..100
	LFULogFactor int
	LFUDecayTime int // minutes
}

// usedCounter is a shard's accounted bytes; every change is mirrored in
// the store's total, so the limit check reads one atomic.
type usedCounter struct {
	n       atomic.Int64
	total   *atomic.Int64 // the store's
	dbTotal *atomic.Int64 // the database's (which the shard keeps across SWAPDB)
}

func (u *usedCounter) Add(d int64) {
	u.n.Add(d)
	if u.total != nil {
		u.total.Add(d)
		u.dbTotal.Add(d)
	}
}

func (u *usedCounter) Load() int64 { return u.n.Load() }

func (u *usedCounter) Store(v int64) {
	old := u.n.Swap(v)
	if u.total != nil {
		u.total.Add(v - old)
		u.dbTotal.Add(v - old)
	}
}

// evictState is the store's eviction machinery.
type evictState struct {
	cfg     atomic.Pointer[EvictionConfig]
	evicted atomic.Int64
	mu      sync.Mutex // one evictor at a time; guards pool and nextDB
	pool    []poolEntry
	nextDB  int
	hook    func(db *DB, key []byte) // SetEvictedHook
	// reserved is the bytes of writes in flight: they passed the limit
	// check and are not accounted yet (Reserve). Eviction makes room for
	// them, so concurrent writers do not all land over the limit.
	reserved atomic.Int64
}

// Reserve announces a write of about n bytes about to be made; Release
// (with the same n) ends it, once the write is accounted or abandoned.
// EnsureFree evicts for the reserved bytes too, so used memory stays under
// maxmemory while many clients write at once (with a single thread Redis
// needs none of this: it evicts before every write).
func (s *Store) Reserve(n int64) { s.ev.reserved.Add(n) }

// Release ends a Reserve.
func (s *Store) Release(n int64) { s.ev.reserved.Add(-n) }

// SetEvictedHook installs the function told about every evicted key (for
// keyspace "evicted" events and client tracking), after the key's shard is
// unlocked. Install it before serving.
func (s *Store) SetEvictedHook(fn func(db *DB, key []byte)) { s.ev.hook = fn }

func (s *Store) evictedKey(db *DB, key string) {
	s.countEvicted(key) // per-prefix counters (observe.go)
	if s.ev.hook != nil {
		s.ev.hook(db, []byte(key))
	}
}

type poolEntry struct {
	score  uint64 // higher is evicted first
	db     int
	key    string
	access uint32 // the access field (or low bits of the expiry) when sampled
}

// SetEviction installs the eviction configuration. It may be called at any
// time (CONFIG SET); a nil cfg means no limit.
func (s *Store) SetEviction(cfg *EvictionConfig) {
	if cfg != nil {
		c := *cfg
		if c.Samples < 1 {
			c.Samples = 5
		}
		cfg = &c
	}
	old := s.ev.cfg.Swap(cfg)
	if old == nil || cfg == nil || old.Policy != cfg.Policy {
		s.ev.mu.Lock()
		s.ev.pool = s.ev.pool[:0] // scores of another policy are meaningless
		s.ev.mu.Unlock()
	}
}

// Eviction returns the configuration in force, nil when none was set.
func (s *Store) Eviction() *EvictionConfig { return s.ev.cfg.Load() }

// EvictedKeys counts the keys evicted since start (or ResetStats).
func (s *Store) EvictedKeys() int64 { return s.ev.evicted.Load() }

// OverLimit reports whether used memory exceeds maxmemory.
func (s *Store) OverLimit() bool {
	cfg := s.ev.cfg.Load()
	return cfg != nil && cfg.MaxMemory > 0 && s.usedTotal.Load()+cfg.BaseBytes > cfg.MaxMemory
}

// EnsureFree evicts keys, per the policy, until used memory is under
// maxmemory, spending at most the time maxmemory-eviction-tenacity allows.
// It returns false when memory is still over the limit and nothing more can
// be evicted (noeviction, or a volatile policy with no volatile keys): the
// caller then refuses commands that may grow memory. Running out of time is
// not a failure, as in Redis: the background cycle carries on.
// The caller must hold no shard lock.
//
// Eviction also makes room for the writes in flight (Reserve), but only
// memory actually over the limit refuses writes, as in Redis.
func (s *Store) EnsureFree() bool {
	cfg := s.ev.cfg.Load()
	if cfg == nil || cfg.MaxMemory <= 0 || s.usedTotal.Load()+cfg.BaseBytes+s.ev.reserved.Load() <= cfg.MaxMemory {
		return true
	}
	if s.evict(cfg, tenacityLimit(cfg.Tenacity)) {
		return true
	}
	return s.usedTotal.Load()+cfg.BaseBytes <= cfg.MaxMemory
}

// EvictFor is the background eviction cycle: it evicts for at most budget
// when used memory is over the limit, and reports false if it could not get
// under it.
func (s *Store) EvictFor(budget time.Duration) bool {
	cfg := s.ev.cfg.Load()
	if cfg == nil || cfg.MaxMemory <= 0 || s.usedTotal.Load()+cfg.BaseBytes <= cfg.MaxMemory {
		return true
	}
	return s.evict(cfg, budget)
}

// tenacityLimit is Redis's evictionTimeLimitUs.
func tenacityLimit(t int) time.Duration {
	switch {
	case t <= 10:
		return time.Duration(50*t) * time.Microsecond
	case t < 100:
		return time.Duration(500*math.Pow(1.15, float64(t-10))) * time.Microsecond
	}
	return time.Duration(math.MaxInt64)
}

func (s *Store) evict(cfg *EvictionConfig, budget time.Duration) bool {
	if cfg.Policy == NoEviction {
		return false
	}
	s.ev.mu.Lock()
	defer s.ev.mu.Unlock()
	start := time.Now()
	for n := 0; s.usedTotal.Load()+cfg.BaseBytes+s.ev.reserved.Load() > cfg.MaxMemory; n++ {
		var ok bool
		if cfg.Policy == AllKeysRandom || cfg.Policy == VolatileRandom {
			ok = s.evictRandom(cfg)
		} else {
			ok = s.evictFromPool(cfg)
		}
		if !ok {
			return false
		}
		s.ev.evicted.Add(1)
		if n%16 == 15 && time.Since(start) > budget {
			return true // EVICT_RUNNING: the background cycle goes on
		}
	}
	return true
}

// evictFromPool refills the pool from every database and evicts its best
// candidate that still exists unchanged.
func (s *Store) evictFromPool(cfg *EvictionConfig) bool {
	for attempt := 0; attempt < 8; attempt++ {
		sampled := 0
		for _, db := range s.dbs {
			if db.used.Load() > 0 {
				sampled += s.populate(db, cfg)
			}
		}
		if sampled == 0 && len(s.ev.pool) == 0 {
			return false
		}
		for len(s.ev.pool) > 0 {
			last := len(s.ev.pool) - 1
			pe := s.ev.pool[last]
			s.ev.pool = s.ev.pool[:last]
			check := &pe
			if attempt == 7 {
				check = nil // keys keep being touched: take the best regardless
			}
			if s.evictKey(s.dbs[pe.db], pe.key, cfg, check) {
				return true
			}
		}
		if sampled == 0 {
			return false
		}
	}
	return false
}

// populate samples keys of one database into the pool and returns how many
// keys it looked at.
func (s *Store) populate(db *DB, cfg *EvictionConfig) int {
	want := cfg.Samples
	nsh := len(db.shards)
	start := rand.IntN(nsh)
	now := s.NowMs()
	got := 0
	for i := 0; i < nsh && got < want; i++ {
		sh := &db.shards[(start+i)&(nsh-1)]
		if sh.used.Load() == 0 {
			continue
		}
		sh.mu.RLock()
		if cfg.Policy.volatile() {
			for n := len(sh.ttlKeys); n > 0 && got < want; got++ {
				e := sh.ttlKeys[rand.IntN(n)]
				s.poolInsert(db.index, e.key(), e, cfg, now)
			}
		} else {
			for e := range sh.idx.from(rand.Uint64()) {
				if got >= want {
					break
				}
				got++
				s.poolInsert(db.index, e.key(), e, cfg, now)
			}
		}
		sh.mu.RUnlock()
	}
	return got
}

// evictScore is how strongly e asks to be evicted (Redis's "idle").
func evictScore(e *entry, cfg *EvictionConfig, now int64) uint64 {
	switch cfg.Policy {
	case VolatileTTL:
		return math.MaxUint64 - uint64(e.expireAt)
	case AllKeysLFU, VolatileLFU:
		return uint64(lfuMaxCount - lfuDecr(e.access.Load(), lfuMinutes(now), cfg.LFUDecayTime))
	}
	return uint64(uint32(now) - e.access.Load())
}

func (s *Store) poolInsert(dbi int, key string, e *entry, cfg *EvictionConfig, now int64) {
	score := evictScore(e, cfg, now)
	pool := s.ev.pool
	for i := range pool {
		if pool[i].db == dbi && pool[i].key == key {
			pool = append(pool[:i], pool[i+1:]...) // re-inserted with its new score
			break
		}
	}
	if len(pool) == evictPoolLen {
		if score <= pool[0].score {
			s.ev.pool = pool
			return
		}
		pool = append(pool[:0], pool[1:]...)
	}
	// Among equal scores the candidate sampled earliest goes first (it sits
	// rightmost), as in Redis: unchanged since then, it has been idle longest.
	i := len(pool)
	for i > 0 && pool[i-1].score >= score {
		i--
	}
	pool = append(pool, poolEntry{})
	copy(pool[i+1:], pool[i:])
	pool[i] = poolEntry{score: score, db: dbi, key: key, access: e.access.Load()}
	s.ev.pool = pool
}

// evictKey deletes key from db if it still exists and, when pe is given,
// has not been accessed since it was sampled.
func (s *Store) evictKey(db *DB, key string, cfg *EvictionConfig, pe *poolEntry) bool {
	sh := &db.shards[db.shardOf([]byte(key))]
	sh.mu.Lock()
	e := sh.lookup(key)
	if e == nil || (pe != nil && e.access.Load() != pe.access) || (cfg.Policy.volatile() && e.expireAt == 0) {
		sh.mu.Unlock()
		return false
	}
	s.propagateDel(db, s.settleLocked(db, sh), key)
	sh.remove(e)
	sh.mu.Unlock()
	s.evictedKey(db, key)
	return true
}

// evictRandom evicts a random key (a random volatile key), visiting the
// databases in turn as Redis does.
func (s *Store) evictRandom(cfg *EvictionConfig) bool {
	for range s.dbs {
		db := s.dbs[s.ev.nextDB%len(s.dbs)]
		s.ev.nextDB++
		if db.used.Load() == 0 {
			continue
		}
		nsh := len(db.shards)
		start := rand.IntN(nsh)
		for i := 0; i < nsh; i++ {
			sh := &db.shards[(start+i)&(nsh-1)]
			if sh.used.Load() == 0 {
				continue
			}
			sh.mu.Lock()
			var e *entry
			if cfg.Policy.volatile() {
				if n := len(sh.ttlKeys); n > 0 {
					e = sh.ttlKeys[rand.IntN(n)]
				}
			} else {
				for e = range sh.idx.from(rand.Uint64()) {
					break
				}
			}
			if e != nil {
				key := e.key()
				s.propagateDel(db, s.settleLocked(db, sh), key)
				sh.remove(e)
				sh.mu.Unlock()
				s.evictedKey(db, key)
				return true
			}
			sh.mu.Unlock()
		}
	}
	return false
}

// lfuMinutes is Redis's LFUGetTimeInMinutes.
func lfuMinutes(ms int64) uint32 { return uint32(ms/60000) & 0xffff }

// lfuDecr is Redis's LFUDecrAndReturn: the counter after decay.
func lfuDecr(v, nowMin uint32, decayTime int) uint32 {
	ldt, counter := v>>8&0xffff, v&0xff
	if decayTime <= 0 {
		return counter
	}
	elapsed := nowMin - ldt
	if nowMin < ldt {
		elapsed = 65535 - ldt + nowMin
	}
	if periods := elapsed / uint32(decayTime); periods > 0 {
		if periods > counter {
			return 0
		}
		return counter - periods
	}
	return counter
}

// lfuIncr is Redis's LFULogIncr.
func lfuIncr(counter uint32, logFactor int) uint32 {
	if counter >= lfuMaxCount {
		return lfuMaxCount
	}
	base := float64(counter) - LFUInitVal
	if base < 0 {
		base = 0
	}
	if rand.Float64() < 1/(base*float64(logFactor)+1) {
		counter++
	}
	return counter
}

// initAccess sets a new entry's access field.
func (tx *Tx) initAccess(e *entry) {
	if cfg := tx.db.store.ev.cfg.Load(); cfg != nil && cfg.Policy.LFU() {
		e.access.Store(lfuMinutes(tx.now)<<8 | LFUInitVal)
		return
	}
	e.access.Store(uint32(tx.now))
}

// touch records an access, from readers too (the field is atomic): the LRU
// clock, or Redis's updateLFU. A NO-TOUCH client's transaction leaves it.
func (tx *Tx) touch(e *entry) {
	if tx.noTouch {
		return
	}
	cfg := tx.db.store.ev.cfg.Load()
	if cfg == nil || !cfg.Policy.LFU() {
		e.access.Store(uint32(tx.now))
		return
	}
	nowMin := lfuMinutes(tx.now)
	c := lfuIncr(lfuDecr(e.access.Load(), nowMin, cfg.LFUDecayTime), cfg.LFULogFactor)
	e.access.Store(nowMin<<8 | c)
}

// touchReplaced is the access update of a value replaced in place (SET on
// an existing string). Redis stores a new object: under LRU its clock is
// now, whatever CLIENT NO-TOUCH says; under LFU it inherits the old
// counter, which the write lookup has updated (unless NO-TOUCH).
func (tx *Tx) touchReplaced(e *entry) {
	if cfg := tx.db.store.ev.cfg.Load(); cfg == nil || !cfg.Policy.LFU() {
		e.access.Store(uint32(tx.now))
		return
	}
	tx.touch(e)
}

// NoTouch makes the transaction's reads leave access clocks alone (CLIENT
// NO-TOUCH). It lasts until the transaction ends.
func (tx *Tx) NoTouch() { tx.noTouch = true }

// idleSeconds is OBJECT IDLETIME under an LRU clock.
func (tx *Tx) idleSeconds(e *entry) int64 {
	return int64(uint32(tx.now)-e.access.Load()) / 1000
}

// lfuFreq is OBJECT FREQ: the counter after decay, not updated.
func (tx *Tx) lfuFreq(e *entry) int {
	decay := 1
	if cfg := tx.db.store.ev.cfg.Load(); cfg != nil {
		decay = cfg.LFUDecayTime
	}
	return int(lfuDecr(e.access.Load(), lfuMinutes(tx.now), decay))
}
