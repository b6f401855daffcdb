package store

import (
	"fmt"
	"testing"
	"time"
)

func newEvictStore(t *testing.T, dbs, shards int) (*Store, *FakeClock) {
	t.Helper()
	clk := NewFakeClock(1_700_000_000_000)
	s, err := New(Options{Databases: dbs, Shards: shards, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return s, clk
}

func setKey(t *testing.T, db *DB, key string, ttl time.Duration) {
	t.Helper()
	k := []byte(key)
	err := db.Update([][]byte{k}, func(tx *Tx) error {
		opt := SetOptions{}
		if ttl > 0 {
			opt.ExpireAt = tx.NowMs() + ttl.Milliseconds()
		}
		tx.SetString(k, []byte("0123456789"), opt)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func readKey(db *DB, key string) {
	k := []byte(key)
	db.View([][]byte{k}, func(tx *Tx) error {
		tx.GetString(k)
		return nil
	})
}

func keyExists(db *DB, key string) bool {
	k := []byte(key)
	var ok bool
	db.View([][]byte{k}, func(tx *Tx) error {
		ok = tx.Exists(k)
		return nil
	})
	return ok
}

func TestLFUCounter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		v      uint32 // packed ldt<<8 | counter
		nowMin uint32
		decay  int
		want   uint32
	}{
		{"fresh", 100<<8 | 5, 100, 1, 5},
		{"one period", 100<<8 | 5, 101, 1, 4},
		{"decay 0 keeps", 100<<8 | 5, 200, 0, 5},
		{"decay 10, 25 min", 100<<8 | 50, 125, 10, 48},
		{"to zero", 100<<8 | 3, 110, 1, 0},
		{"wraps as Redis (65535-ldt+now)", 65530<<8 | 20, 4, 1, 11},
	} {
		if got := lfuDecr(tc.v, tc.nowMin, tc.decay); got != tc.want {
			t.Errorf("%s: lfuDecr = %d, want %d", tc.name, got, tc.want)
		}
	}
	if got := lfuIncr(255, 10); got != 255 {
		t.Errorf("lfuIncr(255) = %d, want 255 (saturated)", got)
	}
	for c := uint32(0); c <= LFUInitVal; c++ {
		if got := lfuIncr(c, 10); got != c+1 {
			t.Errorf("lfuIncr(%d) = %d: counters up to LFU_INIT_VAL always grow", c, got)
		}
	}
	// With log factor 10, reaching 100 takes on the order of 50k hits
	// (Redis's table: 100 hits → ~10, 1M hits → 255 is not reached by 100k).
	c := uint32(LFUInitVal)
	for range 1000 {
		c = lfuIncr(c, 10)
	}
	if c < 15 || c > 40 {
		t.Errorf("after 1000 hits the counter is %d, want the logarithmic growth Redis shows (about 20-30)", c)
	}
}

func TestPolicyNames(t *testing.T) {
	for p := NoEviction; p <= VolatileTTL; p++ {
		got, ok := ParsePolicy(p.String())
		if !ok || got != p {
			t.Errorf("ParsePolicy(%q) = %v, %v", p.String(), got, ok)
		}
	}
	if _, ok := ParsePolicy("lru"); ok {
		t.Error("ParsePolicy accepted an unknown name")
	}
}

// fill writes n keys k000.. and returns the used bytes.
func fill(t *testing.T, s *Store, db *DB, n int, ttl func(i int) time.Duration) int64 {
	t.Helper()
	for i := range n {
		setKey(t, db, fmt.Sprintf("k%03d", i), ttl(i))
	}
	return s.UsedBytes()
}

func noTTL(int) time.Duration { return 0 }

func TestEvictionPolicies(t *testing.T) {
	const n = 100
	hot := func(i int) bool { return i%10 == 0 } // ten keys the test favours
	for _, tc := range []struct {
		policy Policy
		ttl    func(i int) time.Duration
		prep   func(db *DB, clk *FakeClock)
		// survivor checks which keys must still be there.
		survivor func(i int) bool
		fails    bool
	}{
		{policy: AllKeysLRU, ttl: noTTL,
			prep: func(db *DB, clk *FakeClock) {
				clk.Advance(10 * time.Second)
				for i := range n {
					if hot(i) {
						readKey(db, fmt.Sprintf("k%03d", i))
					}
				}
			},
			survivor: hot},
		{policy: AllKeysLFU, ttl: noTTL,
			prep: func(db *DB, _ *FakeClock) {
				for i := range n {
					if hot(i) {
						for range 50 {
							readKey(db, fmt.Sprintf("k%03d", i))
						}
					}
				}
			},
			survivor: hot},
		{policy: VolatileTTL,
			ttl:      func(i int) time.Duration { return time.Duration(1000-i) * time.Second },
			survivor: func(i int) bool { return i < 10 }}, // the latest expiries stay
		{policy: VolatileLRU,
			ttl:      func(i int) time.Duration { return time.Duration(i%2) * time.Hour }, // odd keys volatile
			survivor: func(i int) bool { return i%2 == 0 },                                // persistent keys are never evicted
			fails:    true},
		{policy: VolatileLRU, ttl: noTTL, survivor: func(int) bool { return true }, fails: true},
		{policy: VolatileLFU, ttl: noTTL, survivor: func(int) bool { return true }, fails: true},
		{policy: VolatileRandom, ttl: noTTL, survivor: func(int) bool { return true }, fails: true},
		{policy: NoEviction, ttl: noTTL, survivor: func(int) bool { return true }, fails: true},
		{policy: AllKeysRandom, ttl: noTTL, survivor: func(int) bool { return false }},
	} {
		t.Run(tc.policy.String(), func(t *testing.T) {
			s, clk := newEvictStore(t, 2, 4)
			cfg := &EvictionConfig{Policy: tc.policy, Samples: 200, Tenacity: 100, LFULogFactor: 10, LFUDecayTime: 1}
			s.SetEviction(cfg)
			db := s.DB(0)
			used := fill(t, s, db, n, tc.ttl)
			if tc.prep != nil {
				tc.prep(db, clk)
			}
			perKey := used / n
			cfg.MaxMemory = perKey*12 + perKey/2 // room for 12 keys
			s.SetEviction(cfg)
			ok := s.EnsureFree()
			if ok == tc.fails {
				t.Fatalf("EnsureFree = %v, want %v", ok, !tc.fails)
			}
			if !tc.fails && s.UsedBytes() > cfg.MaxMemory {
				t.Errorf("used %d > maxmemory %d after EnsureFree", s.UsedBytes(), cfg.MaxMemory)
			}
			left := db.Len()
			if got := s.EvictedKeys(); got != int64(n-left) {
				t.Errorf("evicted_keys = %d, but %d keys went", got, n-left)
			}
			for i := range n {
				if tc.survivor(i) && !keyExists(db, fmt.Sprintf("k%03d", i)) {
					t.Errorf("k%03d was evicted; %s should have kept it", i, tc.policy)
				}
			}
		})
	}
}

func TestEvictionAcrossDatabases(t *testing.T) {
	s, _ := newEvictStore(t, 4, 8)
	s.SetEviction(&EvictionConfig{Policy: AllKeysLRU, Samples: 5, Tenacity: 10})
	for d := range 4 {
		fill(t, s, s.DB(d), 50, noTTL)
	}
	limit := s.UsedBytes() / 2
	s.SetEviction(&EvictionConfig{MaxMemory: limit, Policy: AllKeysLRU, Samples: 5, Tenacity: 10})
	for !s.EnsureFree() || s.OverLimit() {
		if !s.EvictFor(time.Second) {
			t.Fatal("EvictFor could not get under the limit with evictable keys left")
		}
	}
	total := 0
	for d := range 4 {
		total += s.DB(d).Len()
	}
	if s.UsedBytes() > limit || total >= 200 || total == 0 {
		t.Errorf("used %d (limit %d), %d keys left", s.UsedBytes(), limit, total)
	}
}

func TestUsedTotalFollowsShards(t *testing.T) {
	s, _ := newEvictStore(t, 3, 4)
	fill(t, s, s.DB(0), 30, noTTL)
	fill(t, s, s.DB(1), 10, noTTL)
	sum := func() int64 {
		var n int64
		for _, db := range s.dbs {
			for i := range db.shards {
				n += db.shards[i].used.Load()
			}
		}
		return n
	}
	check := func(step string) {
		t.Helper()
		var dbSum int64
		for _, db := range s.dbs {
			dbSum += db.used.Load()
		}
		if got, want := s.UsedBytes(), sum(); got != want || dbSum != want || want < 0 {
			t.Errorf("%s: UsedBytes %d, databases %d, shards %d", step, got, dbSum, want)
		}
	}
	check("after writes")
	if err := s.SwapDB(0, 2); err != nil {
		t.Fatal(err)
	}
	check("after SWAPDB")
	if s.DB(0).used.Load() != 0 || s.DB(2).used.Load() == 0 {
		t.Error("SWAPDB did not move the per-database total")
	}
	s.DB(1).Flush()
	check("after FLUSHDB")
	s.FlushAll()
	check("after FLUSHALL")
	if s.UsedBytes() != 0 {
		t.Errorf("empty store uses %d bytes", s.UsedBytes())
	}
}

func TestNoTouchAndIdle(t *testing.T) {
	s, clk := newEvictStore(t, 1, 1)
	db := s.DB(0)
	setKey(t, db, "a", 0)
	clk.Advance(30 * time.Second)
	k := []byte("a")
	idle := func() int64 {
		var info ObjectInfo
		db.View([][]byte{k}, func(tx *Tx) error { info, _ = tx.Object(k); return nil })
		return info.IdleSeconds
	}
	db.View([][]byte{k}, func(tx *Tx) error {
		tx.NoTouch()
		tx.GetString(k)
		return nil
	})
	if got := idle(); got != 30 {
		t.Errorf("after a NO-TOUCH read idle = %d, want 30", got)
	}
	readKey(db, "a")
	if got := idle(); got != 0 {
		t.Errorf("after a read idle = %d, want 0", got)
	}
	// Under LFU a new key starts at LFU_INIT_VAL and a read bumps it.
	s.SetEviction(&EvictionConfig{Policy: AllKeysLFU, LFULogFactor: 10, LFUDecayTime: 1})
	setKey(t, db, "b", 0)
	freq := func() int {
		var info ObjectInfo
		kb := []byte("b")
		db.View([][]byte{kb}, func(tx *Tx) error { info, _ = tx.Object(kb); return nil })
		return info.Freq
	}
	if got := freq(); got != LFUInitVal {
		t.Errorf("new key freq %d, want %d", got, LFUInitVal)
	}
	readKey(db, "b")
	if got := freq(); got != LFUInitVal+1 {
		t.Errorf("after one read freq %d, want %d", got, LFUInitVal+1)
	}
	clk.Advance(3 * time.Minute)
	if got := freq(); got != LFUInitVal+1-3 {
		t.Errorf("after 3 idle minutes freq %d, want %d", got, LFUInitVal+1-3)
	}
}

func TestTenacityLimit(t *testing.T) {
	for _, tc := range []struct {
		t    int
		want time.Duration
	}{
		{0, 0}, {10, 500 * time.Microsecond}, {11, 575 * time.Microsecond},
	} {
		if got := tenacityLimit(tc.t); got != tc.want {
			t.Errorf("tenacityLimit(%d) = %v, want %v", tc.t, got, tc.want)
		}
	}
	if tenacityLimit(100) < time.Hour {
		t.Error("tenacity 100 must be unlimited")
	}
}

func TestEvictedHook(t *testing.T) {
	for _, p := range []Policy{AllKeysLRU, AllKeysRandom} {
		s, _ := newEvictStore(t, 1, 2)
		var got []string
		s.SetEvictedHook(func(db *DB, key []byte) { got = append(got, fmt.Sprintf("%d:%s", db.Index(), key)) })
		used := fill(t, s, s.DB(0), 10, noTTL)
		s.SetEviction(&EvictionConfig{MaxMemory: used / 2, Policy: p, Samples: 5, Tenacity: 100})
		if !s.EnsureFree() {
			t.Fatalf("%s: EnsureFree failed", p)
		}
		if int64(len(got)) != s.EvictedKeys() || len(got) == 0 {
			t.Errorf("%s: hook heard %v, evicted_keys %d", p, got, s.EvictedKeys())
		}
		for _, k := range got {
			if keyExists(s.DB(0), k[2:]) {
				t.Errorf("%s: hook reported %s but it is still there", p, k)
			}
		}
	}
}
