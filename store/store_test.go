package store

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// testEpoch is the fake clock's start: a fixed, realistic Unix time in ms.
const testEpoch = int64(1_700_000_000_000)

func newTestStore(t testing.TB, dbs, shards int) (*Store, *FakeClock) {
	t.Helper()
	clk := NewFakeClock(testEpoch)
	s, err := New(Options{Databases: dbs, Shards: shards, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return s, clk
}

// checkInvariants verifies every shard's bookkeeping: the index is sound
// and finds every entry by its key, ttlKeys holds exactly the entries with
// an expiry, each entry's ttlIdx points at its own slot (or is -1), and used
// equals the sum of the entries' sizes.
func checkInvariants(t testing.TB, s *Store) {
	t.Helper()
	for di, db := range s.dbs {
		for si := range db.shards {
			sh := &db.shards[si]
			sh.mu.RLock()
			withTTL := 0
			var used int64
			if err := sh.idx.check(); err != nil {
				t.Errorf("db %d shard %d: %v", di, si, err)
			}
			for e := range sh.idx.all {
				k := e.key()
				used += e.size(k)
				if sh.lookup(k) != e {
					t.Errorf("db %d shard %d: key %q does not find its entry", di, si, k)
				}
				if e.expireAt != 0 {
					withTTL++
					if e.ttlIdx < 0 || int(e.ttlIdx) >= len(sh.ttlKeys) || sh.ttlKeys[e.ttlIdx] != e {
						t.Errorf("db %d shard %d: key %q has expireAt %d but ttlIdx %d", di, si, k, e.expireAt, e.ttlIdx)
					}
				} else if e.ttlIdx != -1 {
					t.Errorf("db %d shard %d: key %q has no expiry but ttlIdx %d", di, si, k, e.ttlIdx)
				}
				if want := db.shardOf([]byte(k)); want != si {
					t.Errorf("db %d: key %q lives in shard %d, hashes to %d", di, k, si, want)
				}
			}
			if withTTL != len(sh.ttlKeys) {
				t.Errorf("db %d shard %d: %d entries with a TTL, ttlKeys has %d", di, si, withTTL, len(sh.ttlKeys))
			}
			for i, e := range sh.ttlKeys {
				if int(e.ttlIdx) != i || sh.lookup(e.key()) != e {
					t.Errorf("db %d shard %d: ttlKeys[%d] = %q is not tracked back", di, si, i, e.key())
				}
			}
			if got := sh.used.Load(); got != used {
				t.Errorf("db %d shard %d: used = %d, entries sum to %d", di, si, got, used)
			}
			sh.mu.RUnlock()
		}
	}
}

func bs(s string) []byte { return []byte(s) }

func set(t testing.TB, db *DB, key, val string, expireAt int64) {
	t.Helper()
	if err := db.Update([][]byte{bs(key)}, func(tx *Tx) error {
		tx.SetString(bs(key), bs(val), SetOptions{ExpireAt: expireAt})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func get(t testing.TB, db *DB, key string) (string, bool) {
	t.Helper()
	var out string
	var found bool
	db.View([][]byte{bs(key)}, func(tx *Tx) error {
		v, ok, err := tx.GetString(bs(key))
		if err != nil {
			t.Fatal(err)
		}
		out, found = string(v), ok
		return nil
	})
	return out, found
}

func TestNewValidatesOptions(t *testing.T) {
	for _, tc := range []struct {
		dbs, shards int
		ok          bool
	}{
		{16, 256, true}, {1, 1, true}, {0, 16, false}, {16, 0, false}, {16, 3, false}, {2, 48, false},
	} {
		_, err := New(Options{Databases: tc.dbs, Shards: tc.shards})
		if (err == nil) != tc.ok {
			t.Errorf("New(%d dbs, %d shards): err = %v, want ok=%v", tc.dbs, tc.shards, err, tc.ok)
		}
	}
}

// TestTTLIndexInvariants applies every mutation that touches the TTL index
// in many orders and checks the index after each step.
func TestTTLIndexInvariants(t *testing.T) {
	s, clk := newTestStore(t, 3, 4)
	db0, db1 := s.DB(0), s.DB(1)
	future := func(ms int64) int64 { return clk.NowMs() + ms }
	ops := []struct {
		name string
		run  func(t *testing.T, r *rand.Rand)
	}{
		{"set", func(t *testing.T, r *rand.Rand) {
			set(t, db0, fmt.Sprint("k", r.IntN(40)), "v", 0)
		}},
		{"set with ttl", func(t *testing.T, r *rand.Rand) {
			set(t, db0, fmt.Sprint("k", r.IntN(40)), "value", future(int64(1+r.IntN(5000))))
		}},
		{"set keepttl", func(t *testing.T, r *rand.Rand) {
			k := bs(fmt.Sprint("k", r.IntN(40)))
			db0.Update([][]byte{k}, func(tx *Tx) error {
				tx.SetString(k, bs("kept"), SetOptions{KeepTTL: true})
				return nil
			})
		}},
		{"expire", func(t *testing.T, r *rand.Rand) {
			k := bs(fmt.Sprint("k", r.IntN(40)))
			db0.Update([][]byte{k}, func(tx *Tx) error {
				tx.SetExpireAt(k, future(int64(r.IntN(3000))-1000))
				return nil
			})
		}},
		{"persist", func(t *testing.T, r *rand.Rand) {
			k := bs(fmt.Sprint("k", r.IntN(40)))
			db0.Update([][]byte{k}, func(tx *Tx) error { tx.Persist(k); return nil })
		}},
		{"rename", func(t *testing.T, r *rand.Rand) {
			a, b := bs(fmt.Sprint("k", r.IntN(40))), bs(fmt.Sprint("k", r.IntN(40)))
			db0.Update([][]byte{a, b}, func(tx *Tx) error { tx.Rename(a, b, r.IntN(2) == 0); return nil })
		}},
		{"delete", func(t *testing.T, r *rand.Rand) {
			k := bs(fmt.Sprint("k", r.IntN(40)))
			db0.Update([][]byte{k}, func(tx *Tx) error { tx.Delete(k); return nil })
		}},
		{"append", func(t *testing.T, r *rand.Rand) {
			k := bs(fmt.Sprint("k", r.IntN(40)))
			db0.Update([][]byte{k}, func(tx *Tx) error { tx.AppendString(k, bs("more")); return nil })
		}},
		{"copy to db1", func(t *testing.T, r *rand.Rand) {
			k := bs(fmt.Sprint("k", r.IntN(40)))
			db0.UpdateRefs([]KeyRef{{db0, k}, {db1, k}}, func(tx *Tx) error {
				_, err := tx.CopyTo(db1, k, k, r.IntN(2) == 0)
				return err
			})
		}},
		{"move to db1", func(t *testing.T, r *rand.Rand) {
			k := bs(fmt.Sprint("k", r.IntN(40)))
			db0.UpdateRefs([]KeyRef{{db0, k}, {db1, k}}, func(tx *Tx) error { tx.MoveTo(db1, k); return nil })
		}},
		{"swapdb", func(t *testing.T, r *rand.Rand) {
			if err := s.SwapDB(r.IntN(3), r.IntN(3)); err != nil {
				t.Fatal(err)
			}
		}},
		{"flushdb", func(t *testing.T, r *rand.Rand) {
			if r.IntN(8) == 0 {
				s.DB(r.IntN(3)).Flush()
			}
		}},
		{"clock", func(t *testing.T, r *rand.Rand) { clk.Advance(time.Duration(r.IntN(800)) * time.Millisecond) }},
		{"expire cycle", func(t *testing.T, r *rand.Rand) {
			var cur ExpireCursor
			s.ExpireCycle(&cur, time.Millisecond)
		}},
	}
	// First each operation alone on a fresh keyspace, then random mixes.
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			s.FlushAll()
			r := rand.New(rand.NewPCG(1, uint64(len(op.name))))
			for i := 0; i < 200; i++ {
				set(t, db0, fmt.Sprint("k", r.IntN(40)), "seed", future(int64(r.IntN(2000))))
				op.run(t, r)
				checkInvariants(t, s)
			}
		})
	}
	t.Run("mix", func(t *testing.T) {
		s.FlushAll()
		r := rand.New(rand.NewPCG(7, 7))
		for i := 0; i < 5000; i++ {
			op := ops[r.IntN(len(ops))]
			op.run(t, r)
			if i%50 == 0 {
				checkInvariants(t, s)
			}
		}
		checkInvariants(t, s)
	})
}

// TestUsedBytesReturnsToZero checks that the memory accounting balances:
// after every key is deleted (by DEL, expiry, rename, move or flush) the
// store reports 0 bytes.
func TestUsedBytesReturnsToZero(t *testing.T) {
	tests := []struct {
		name  string
		clear func(s *Store, clk *FakeClock, keys [][]byte)
	}{
		{"delete", func(s *Store, _ *FakeClock, keys [][]byte) {
			s.DB(0).Update(keys, func(tx *Tx) error {
				for _, k := range keys {
					tx.Delete(k)
				}
				return nil
			})
		}},
		{"lazy expiry", func(s *Store, clk *FakeClock, keys [][]byte) {
			s.DB(0).Update(keys, func(tx *Tx) error {
				for _, k := range keys {
					tx.SetExpireAt(k, tx.NowMs()+10)
				}
				return nil
			})
			clk.Advance(time.Second)
			s.DB(0).Update(keys, func(tx *Tx) error {
				for _, k := range keys {
					tx.Exists(k)
				}
				return nil
			})
		}},
		{"active expiry", func(s *Store, clk *FakeClock, keys [][]byte) {
			s.DB(0).Update(keys, func(tx *Tx) error {
				for _, k := range keys {
					tx.SetExpireAt(k, tx.NowMs()+10)
				}
				return nil
			})
			clk.Advance(time.Second)
			var cur ExpireCursor
			for i := 0; i < 100 && s.DB(0).Len() > 0; i++ {
				s.ExpireCycle(&cur, 10*time.Millisecond)
			}
		}},
		{"rename then flush", func(s *Store, _ *FakeClock, keys [][]byte) {
			s.DB(0).Update(keys, func(tx *Tx) error {
				for i := 1; i < len(keys); i++ {
					tx.Rename(keys[i], keys[i-1], false)
				}
				return nil
			})
			s.DB(0).Flush()
		}},
		{"copy move swap flushall", func(s *Store, _ *FakeClock, keys [][]byte) {
			db0, db1 := s.DB(0), s.DB(1)
			for _, k := range keys {
				db0.UpdateRefs([]KeyRef{{db0, k}, {db1, k}}, func(tx *Tx) error {
					tx.CopyTo(db1, k, k, true)
					return nil
				})
			}
			s.SwapDB(0, 1)
			s.FlushAll()
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, clk := newTestStore(t, 2, 8)
			var keys [][]byte
			for i := 0; i < 300; i++ {
				k := fmt.Sprintf("key:%d", i)
				keys = append(keys, bs(k))
				set(t, s.DB(0), k, fmt.Sprintf("%0*d", i%70, i), 0)
			}
			// Grow some values in place so capacities differ from lengths.
			s.DB(0).Update(keys, func(tx *Tx) error {
				for i, k := range keys {
					if i%3 == 0 {
						tx.AppendString(k, bs("tail"))
					}
					if i%5 == 0 {
						tx.SetRange(k, 90, bs("x"))
					}
				}
				return nil
			})
			if s.UsedBytes() <= 0 {
				t.Fatalf("UsedBytes = %d with 300 keys", s.UsedBytes())
			}
			checkInvariants(t, s)
			tc.clear(s, clk, keys)
			checkInvariants(t, s)
			if n := s.DB(0).Len() + s.DB(1).Len(); n != 0 {
				t.Fatalf("%d keys left", n)
			}
			if got := s.UsedBytes(); got != 0 {
				t.Fatalf("UsedBytes = %d after removing every key, want 0", got)
			}
		})
	}
}

func TestSwapDB(t *testing.T) {
	s, clk := newTestStore(t, 3, 4)
	set(t, s.DB(0), "a", "zero", clk.NowMs()+5000)
	set(t, s.DB(1), "b", "one", 0)
	if err := s.SwapDB(0, 1); err != nil {
		t.Fatal(err)
	}
	if v, ok := get(t, s.DB(0), "b"); !ok || v != "one" {
		t.Errorf("db0 b = %q %v after swap", v, ok)
	}
	if v, ok := get(t, s.DB(1), "a"); !ok || v != "zero" {
		t.Errorf("db1 a = %q %v after swap", v, ok)
	}
	if got := s.DB(1).ExpiresLen(); got != 1 {
		t.Errorf("db1 ExpiresLen = %d, want 1", got)
	}
	checkInvariants(t, s)
	for _, bad := range [][2]int{{0, 3}, {-1, 0}} {
		if err := s.SwapDB(bad[0], bad[1]); err == nil {
			t.Errorf("SwapDB(%d, %d) succeeded", bad[0], bad[1])
		}
	}
	if err := s.SwapDB(2, 2); err != nil {
		t.Errorf("SwapDB(2, 2): %v", err)
	}
}

func TestAvgTTLAndExpiresLen(t *testing.T) {
	s, clk := newTestStore(t, 1, 4)
	db := s.DB(0)
	if db.AvgTTL() != 0 || db.ExpiresLen() != 0 {
		t.Fatal("empty db reports TTLs")
	}
	set(t, db, "a", "v", clk.NowMs()+1000)
	set(t, db, "b", "v", clk.NowMs()+3000)
	set(t, db, "c", "v", 0)
	if got := db.AvgTTL(); got != 2000 {
		t.Errorf("AvgTTL = %d, want 2000", got)
	}
	if got := db.ExpiresLen(); got != 2 {
		t.Errorf("ExpiresLen = %d, want 2", got)
	}
}

// errRecorder counts the failures checkInvariants reports.
type errRecorder struct {
	testing.TB
	n int
}

func (r *errRecorder) Errorf(string, ...any) { r.n++ }
func (r *errRecorder) Helper()               {}

// TestCheckInvariantsCatchesCorruption makes sure the checker the other
// tests rely on notices each kind of damage.
func TestCheckInvariantsCatchesCorruption(t *testing.T) {
	corruptions := map[string]func(sh *shard, k string){
		"untracked ttl": func(sh *shard, k string) { sh.lookup(k).expireAt = 1 },
		"stale ttlIdx":  func(sh *shard, k string) { sh.lookup(k).ttlIdx = 3 },
		"extra ttl key": func(sh *shard, k string) { sh.ttlKeys = append(sh.ttlKeys, sh.lookup(k)) },
		"used drift":    func(sh *shard, k string) { sh.used.Add(1) },
		"value grew": func(sh *shard, k string) {
			sh.idx.put(sh.idx.hash(k), newStringEntry([]byte(k), []byte("vgrown"), 6))
		},
		"foreign key": func(sh *shard, k string) {
			sh.idx.slots[sh.idx.find(sh.idx.hash(k), k)] = newStringEntry([]byte("other"), []byte("v"), 1)
		},
		"unaccounted key": func(sh *shard, k string) {
			sh.idx.put(sh.idx.hash(k+"x"), newStringEntry([]byte(k+"x"), nil, 0))
		},
		"index count": func(sh *shard, k string) { sh.idx.n++ },
	}
	for name, corrupt := range corruptions {
		t.Run(name, func(t *testing.T) {
			s, _ := newTestStore(t, 1, 1)
			set(t, s.DB(0), "k", "v", 0)
			rec := &errRecorder{TB: t}
			checkInvariants(rec, s)
			if rec.n != 0 {
				t.Fatalf("clean store reported %d problems", rec.n)
			}
			corrupt(&s.DB(0).shards[0], "k")
			checkInvariants(rec, s)
			if rec.n == 0 {
				t.Error("corruption not detected")
			}
		})
	}
}
