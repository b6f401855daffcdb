package store

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestKeyPrefixCounters(t *testing.T) {
	s, _ := newTestStore(t, 1, 4)
	db := s.DB(0)
	set := func(k string) {
		db.Update([][]byte{[]byte(k)}, func(tx *Tx) error {
			tx.SetString([]byte(k), []byte("v"), SetOptions{})
			return nil
		})
	}
	get := func(k string) {
		db.View([][]byte{[]byte(k)}, func(tx *Tx) error {
			tx.GetString([]byte(k))
			return nil
		})
	}
	set("user:1")
	set("session:1")
	get("user:1") // counted before any prefix is configured: only the totals
	s.SetKeyPrefixes([]string{"user:", "user:admin:", "session:"})
	get("user:1")
	get("user:2")
	get("user:admin:1") // a miss under both user: and user:admin:
	get("session:1")
	get("other")
	db.View([][]byte{[]byte("session:9")}, func(tx *Tx) error {
		tx.Lookup([]byte("session:9")) // TYPE/EXISTS-style lookups count too
		return nil
	})
	want := []PrefixStats{
		{Prefix: "user:", Hits: 1, Misses: 2},
		{Prefix: "user:admin:", Misses: 1},
		{Prefix: "session:", Hits: 1, Misses: 1},
	}
	check := func(want []PrefixStats) {
		t.Helper()
		got := s.KeyPrefixStats()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("KeyPrefixStats = %v, want %v", got, want)
		}
	}
	check(want)
	if st := s.Stats(); st.KeyspaceHits != 3 || st.KeyspaceMisses != 4 {
		t.Fatalf("totals hits=%d misses=%d, want 3 and 4", st.KeyspaceHits, st.KeyspaceMisses)
	}
	// A prefix that stays keeps its counters; a new one starts at zero.
	s.SetKeyPrefixes([]string{"session:", "new:"})
	check([]PrefixStats{{Prefix: "session:", Hits: 1, Misses: 1}, {Prefix: "new:"}})
	s.ResetStats()
	check([]PrefixStats{{Prefix: "session:"}, {Prefix: "new:"}})
	s.SetKeyPrefixes(nil)
	if got := s.KeyPrefixStats(); got != nil {
		t.Fatalf("no prefixes configured, got %v", got)
	}
}

func TestKeyPrefixEvictions(t *testing.T) {
	s, _ := newTestStore(t, 1, 4)
	db := s.DB(0)
	s.SetKeyPrefixes([]string{"ev:"})
	for i := 0; i < 200; i++ {
		k := []byte(fmt.Sprintf("ev:%d", i))
		db.Update([][]byte{k}, func(tx *Tx) error {
			tx.SetString(k, make([]byte, 100), SetOptions{})
			return nil
		})
	}
	s.SetEviction(&EvictionConfig{MaxMemory: s.UsedBytes() / 2, Policy: AllKeysRandom})
	s.EnsureFree()
	n := s.Stats().EvictedKeys
	if n == 0 {
		t.Fatal("nothing evicted")
	}
	if got := s.KeyPrefixStats()[0].Evicted; got != n {
		t.Fatalf("ev: evicted %d, store total %d", got, n)
	}
}

func TestMissHook(t *testing.T) {
	s, clk := newTestStore(t, 1, 4)
	db := s.DB(0)
	var got []string
	s.SetMissHook(func(_ *DB, keys [][]byte) {
		for _, k := range keys {
			got = append(got, string(k))
		}
	})
	read := func(keys ...string) {
		var bk [][]byte
		for _, k := range keys {
			bk = append(bk, []byte(k))
		}
		db.View(bk, func(tx *Tx) error {
			for _, k := range bk {
				tx.GetString(k)
			}
			return nil
		})
	}
	read("a") // off: not reported
	if got != nil {
		t.Fatalf("hook called while off: %q", got)
	}
	s.ReportMisses(true)
	db.Update([][]byte{[]byte("k"), []byte("e")}, func(tx *Tx) error {
		tx.SetString([]byte("k"), []byte("v"), SetOptions{})
		tx.SetString([]byte("e"), []byte("v"), SetOptions{ExpireAt: clk.NowMs() + 10})
		return nil
	})
	clk.Advance(20 * time.Millisecond)
	read("a", "k", "b", "e")
	db.View([][]byte{[]byte("o")}, func(tx *Tx) error {
		tx.LookupNoNotify([]byte("o")) // OBJECT: counted, not reported
		return nil
	})
	if want := "a b e"; strings.Join(got, " ") != want {
		t.Fatalf("missed keys %q, want %q", got, want)
	}
}

func TestLockWaitBuckets(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want int
	}{
		{0, 0}, {time.Microsecond, 0}, {time.Microsecond + 1, 1}, {4 * time.Microsecond, 1},
		{5 * time.Microsecond, 2}, {time.Millisecond, 5}, {1048576 * time.Microsecond, 10},
		{1048577 * time.Microsecond, 11}, {time.Hour, 11},
	} {
		var h LockWaitHistogram
		h.observe(tt.d)
		for i := range h.buckets {
			if n := h.buckets[i].Load(); (n == 1) != (i == tt.want) {
				t.Errorf("observe(%v): bucket %d has %d, want the sample in bucket %d", tt.d, i, n, tt.want)
			}
		}
		if tt.want < LockWaitBuckets && tt.d > LockWaitBound(tt.want) {
			t.Errorf("%v above its bucket bound %v", tt.d, LockWaitBound(tt.want))
		}
	}
}

// A transaction that finds its shard locked is timed; one that doesn't is
// not.
func TestLockWaitMeasured(t *testing.T) {
	s, _ := newTestStore(t, 1, 1)
	db := s.DB(0)
	key := [][]byte{[]byte("k")}
	db.Update(key, func(*Tx) error { return nil })
	if w := s.LockWaits(); w.Counts != [LockWaitBuckets + 1]uint64{} {
		t.Fatalf("uncontended update observed: %v", w.Counts)
	}
	sh := &db.shards[0]
	sh.mu.Lock()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		db.View(key, func(*Tx) error { return nil })
	}()
	// Release only once the reader waits in lockSlow.
	deadline := time.Now().Add(10 * time.Second)
	buf := make([]byte, 1<<20)
	for !strings.Contains(string(buf[:runtime.Stack(buf, true)]), "lockSlow") {
		if time.Now().After(deadline) {
			t.Fatal("the reader never waited")
		}
		time.Sleep(time.Millisecond)
	}
	sh.mu.Unlock()
	wg.Wait()
	w := s.LockWaits()
	var n uint64
	for _, c := range w.Counts {
		n += c
	}
	if n != 1 || w.Sum <= 0 {
		t.Fatalf("lock waits: %d observations, sum %v; want 1 and > 0", n, w.Sum)
	}
}

// BenchmarkGetPrefixes measures a GET's store part with no prefix
// configured and with three (one of them matching).
func BenchmarkGetPrefixes(b *testing.B) {
	for _, prefixes := range [][]string{nil, {"session:", "user:", "cfg:"}} {
		b.Run(fmt.Sprintf("prefixes=%d", len(prefixes)), func(b *testing.B) {
			s, _ := newTestStore(b, 1, 16)
			db := s.DB(0)
			key := [][]byte{[]byte("user:42")}
			db.Update(key, func(tx *Tx) error {
				tx.SetString(key[0], []byte("v"), SetOptions{})
				return nil
			})
			s.SetKeyPrefixes(prefixes)
			fn := func(tx *Tx) error { tx.GetString(key[0]); return nil }
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				db.View(key, fn)
			}
		})
	}
}
