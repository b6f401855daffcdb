package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type keyState struct {
	val      string
	expireAt int64
}

// snapshot returns db's live keys with values and expiries.
func snapshot(db *DB) map[string]keyState {
	out := map[string]keyState{}
	db.ForEach(func(it Item) { out[it.Key] = keyState{string(it.Str), it.ExpireAt} })
	return out
}

func TestKeyOperations(t *testing.T) {
	const (
		ttl  = int64(5000)
		base = testEpoch
	)
	tests := []struct {
		name    string
		setup   map[string]keyState // db 0; expireAt relative to now when > 0
		op      func(tx *Tx) (any, error)
		want    any
		wantErr error
		after   map[string]keyState
	}{
		{"delete existing", map[string]keyState{"a": {"1", 0}},
			func(tx *Tx) (any, error) { return tx.Delete(bs("a")), nil }, true, nil, map[string]keyState{}},
		{"delete missing", map[string]keyState{"a": {"1", 0}},
			func(tx *Tx) (any, error) { return tx.Delete(bs("b")), nil }, false, nil, map[string]keyState{"a": {"1", 0}}},
		{"rename keeps ttl", map[string]keyState{"a": {"1", ttl}},
			func(tx *Tx) (any, error) { return tx.Rename(bs("a"), bs("b"), false) }, true, nil,
			map[string]keyState{"b": {"1", base + ttl}}},
		{"rename overwrites", map[string]keyState{"a": {"1", 0}, "b": {"2", ttl}},
			func(tx *Tx) (any, error) { return tx.Rename(bs("a"), bs("b"), false) }, true, nil,
			map[string]keyState{"b": {"1", 0}}},
		{"renamenx refuses", map[string]keyState{"a": {"1", 0}, "b": {"2", 0}},
			func(tx *Tx) (any, error) { return tx.Rename(bs("a"), bs("b"), true) }, false, nil,
			map[string]keyState{"a": {"1", 0}, "b": {"2", 0}}},
		{"rename to itself", map[string]keyState{"a": {"1", ttl}},
			func(tx *Tx) (any, error) { return tx.Rename(bs("a"), bs("a"), false) }, true, nil,
			map[string]keyState{"a": {"1", base + ttl}}},
		{"renamenx to itself", map[string]keyState{"a": {"1", 0}},
			func(tx *Tx) (any, error) { return tx.Rename(bs("a"), bs("a"), true) }, false, nil,
			map[string]keyState{"a": {"1", 0}}},
		{"rename missing", map[string]keyState{},
			func(tx *Tx) (any, error) { return tx.Rename(bs("a"), bs("a"), false) }, false, ErrNoSuchKey,
			map[string]keyState{}},
		{"copy keeps ttl", map[string]keyState{"a": {"1", ttl}},
			func(tx *Tx) (any, error) { return tx.CopyTo(tx.DB(), bs("a"), bs("b"), false) }, true, nil,
			map[string]keyState{"a": {"1", base + ttl}, "b": {"1", base + ttl}}},
		{"copy without replace", map[string]keyState{"a": {"1", 0}, "b": {"2", 0}},
			func(tx *Tx) (any, error) { return tx.CopyTo(tx.DB(), bs("a"), bs("b"), false) }, false, nil,
			map[string]keyState{"a": {"1", 0}, "b": {"2", 0}}},
		{"copy with replace", map[string]keyState{"a": {"1", 0}, "b": {"2", ttl}},
			func(tx *Tx) (any, error) { return tx.CopyTo(tx.DB(), bs("a"), bs("b"), true) }, true, nil,
			map[string]keyState{"a": {"1", 0}, "b": {"1", 0}}},
		{"copy missing", map[string]keyState{},
			func(tx *Tx) (any, error) { return tx.CopyTo(tx.DB(), bs("a"), bs("b"), true) }, false, nil,
			map[string]keyState{}},
		{"persist", map[string]keyState{"a": {"1", ttl}},
			func(tx *Tx) (any, error) { return tx.Persist(bs("a")), nil }, true, nil, map[string]keyState{"a": {"1", 0}}},
		{"persist without ttl", map[string]keyState{"a": {"1", 0}},
			func(tx *Tx) (any, error) { return tx.Persist(bs("a")), nil }, false, nil, map[string]keyState{"a": {"1", 0}}},
		{"expire in future", map[string]keyState{"a": {"1", 0}},
			func(tx *Tx) (any, error) { return tx.SetExpireAt(bs("a"), tx.NowMs()+1), nil }, true, nil,
			map[string]keyState{"a": {"1", base + 1}}},
		{"expire now deletes", map[string]keyState{"a": {"1", ttl}},
			func(tx *Tx) (any, error) { return tx.SetExpireAt(bs("a"), tx.NowMs()), nil }, true, nil,
			map[string]keyState{}},
		{"expire in past deletes", map[string]keyState{"a": {"1", 0}},
			func(tx *Tx) (any, error) { return tx.SetExpireAt(bs("a"), -5), nil }, true, nil, map[string]keyState{}},
		{"expire missing", map[string]keyState{},
			func(tx *Tx) (any, error) { return tx.SetExpireAt(bs("a"), tx.NowMs()+10), nil }, false, nil,
			map[string]keyState{}},
		{"expireat reads", map[string]keyState{"a": {"1", ttl}},
			func(tx *Tx) (any, error) { at, ok := tx.ExpireAt(bs("a")); return [2]any{at, ok}, nil },
			[2]any{base + ttl, true}, nil, map[string]keyState{"a": {"1", base + ttl}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestStore(t, 2, 4)
			db := s.DB(0)
			for k, st := range tc.setup {
				at := int64(0)
				if st.expireAt > 0 {
					at = base + st.expireAt
				}
				set(t, db, k, st.val, at)
			}
			var got any
			err := db.Update([][]byte{bs("a"), bs("b")}, func(tx *Tx) error {
				var err error
				got, err = tc.op(tx)
				return err
			})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err == nil && got != tc.want {
				t.Errorf("result = %v, want %v", got, tc.want)
			}
			snap := snapshot(db)
			if len(snap) != len(tc.after) {
				t.Errorf("keyspace = %v, want %v", snap, tc.after)
			}
			for k, want := range tc.after {
				if snap[k] != want {
					t.Errorf("%s = %+v, want %+v", k, snap[k], want)
				}
			}
			checkInvariants(t, s)
		})
	}
}

func TestMoveTo(t *testing.T) {
	s, clk := newTestStore(t, 2, 4)
	db0, db1 := s.DB(0), s.DB(1)
	move := func(key string) bool {
		var ok bool
		k := bs(key)
		db0.UpdateRefs([]KeyRef{{db0, k}, {db1, k}}, func(tx *Tx) error { ok = tx.MoveTo(db1, k); return nil })
		return ok
	}
	set(t, db0, "a", "v", clk.NowMs()+1000)
	if !move("a") {
		t.Fatal("move of an existing key failed")
	}
	if _, ok := get(t, db0, "a"); ok {
		t.Error("a still in db0")
	}
	if v, ok := get(t, db1, "a"); !ok || v != "v" {
		t.Errorf("db1 a = %q %v", v, ok)
	}
	if got := db1.ExpiresLen(); got != 1 {
		t.Errorf("TTL not moved: db1 ExpiresLen = %d", got)
	}
	set(t, db0, "a", "again", 0)
	if move("a") {
		t.Error("move over an existing key succeeded")
	}
	if move("missing") {
		t.Error("move of a missing key succeeded")
	}
	checkInvariants(t, s)
}

func TestLookupAndTouchCountStats(t *testing.T) {
	s, clk := newTestStore(t, 1, 4)
	db := s.DB(0)
	set(t, db, "a", "v", 0)
	clk.Advance(10 * time.Second)
	db.View([][]byte{bs("a"), bs("b")}, func(tx *Tx) error {
		if k, at, ok := tx.Lookup(bs("a")); !ok || k != KindString || at != 0 {
			t.Errorf("Lookup(a) = %v %d %v", k, at, ok)
		}
		if _, _, ok := tx.Lookup(bs("b")); ok {
			t.Error("Lookup(b) found a missing key")
		}
		info, _ := tx.Object(bs("a"))
		if info.IdleSeconds != 10 {
			t.Errorf("Lookup touched the key: idle %d, want 10", info.IdleSeconds)
		}
		if !tx.Touch(bs("a")) || tx.Touch(bs("b")) {
			t.Error("Touch existence wrong")
		}
		info, _ = tx.Object(bs("a"))
		if info.IdleSeconds != 0 {
			t.Errorf("Touch did not touch: idle %d", info.IdleSeconds)
		}
		return nil
	})
	st := s.Stats()
	if st.KeyspaceHits != 2 || st.KeyspaceMisses != 2 {
		t.Errorf("hits/misses = %d/%d, want 2/2", st.KeyspaceHits, st.KeyspaceMisses)
	}
}

func TestObjectInfo(t *testing.T) {
	s, _ := newTestStore(t, 1, 4)
	db := s.DB(0)
	for _, tc := range []struct{ val, enc string }{
		{"12345", "int"}, {"-7", "int"}, {"007", "embstr"}, {"hello", "embstr"},
		{"a string that is longer than forty-four bytes!", "raw"},
	} {
		set(t, db, "k", tc.val, 0)
		db.View([][]byte{bs("k")}, func(tx *Tx) error {
			info, ok := tx.Object(bs("k"))
			if !ok || info.Encoding != tc.enc || string(info.Value) != tc.val || info.Kind != KindString {
				t.Errorf("Object(%q) = %+v %v, want encoding %s", tc.val, info, ok, tc.enc)
			}
			if info.ValueCap < len(tc.val) || info.SizeBytes <= int64(len(tc.val)) {
				t.Errorf("Object(%q): cap %d size %d", tc.val, info.ValueCap, info.SizeBytes)
			}
			return nil
		})
	}
}

func TestKeysAndRandomKey(t *testing.T) {
	s, _ := newTestStore(t, 1, 16)
	db := s.DB(0)
	if _, ok := db.RandomKey(); ok {
		t.Fatal("RandomKey on an empty db")
	}
	want := map[string]bool{}
	for i := 0; i < 40; i++ {
		k := fmt.Sprint("key", i)
		want[k] = true
		set(t, db, k, "v", 0)
	}
	got := map[string]bool{}
	db.Keys(func(k string, kind Kind) {
		if got[k] || kind != KindString {
			t.Errorf("Keys: %q twice or kind %v", k, kind)
		}
		got[k] = true
	})
	if len(got) != len(want) {
		t.Errorf("Keys returned %d keys, want %d", len(got), len(want))
	}
	seen := map[string]bool{}
	for i := 0; i < 4000 && len(seen) < len(want); i++ {
		k, ok := db.RandomKey()
		if !ok || !want[k] {
			t.Fatalf("RandomKey = %q %v", k, ok)
		}
		seen[k] = true
	}
	if len(seen) != len(want) {
		t.Errorf("RandomKey reached %d of %d keys in 4000 draws", len(seen), len(want))
	}
}

// scanAll runs a full SCAN and returns how many times each key came back.
func scanAll(db *DB, count int, between func()) map[string]int {
	out := map[string]int{}
	var cur uint64
	for {
		cur = db.Scan(cur, count, func(k string, _ Kind) { out[k]++ })
		if cur == 0 {
			return out
		}
		if between != nil {
			between()
		}
	}
}

func TestScanStatic(t *testing.T) {
	for _, tc := range []struct{ shards, keys, count int }{
		{1, 0, 10}, {1, 1, 1}, {4, 100, 1}, {4, 100, 7}, {16, 1000, 10}, {16, 1000, 5000}, {256, 3000, 100},
	} {
		t.Run(fmt.Sprintf("%dshards_%dkeys_count%d", tc.shards, tc.keys, tc.count), func(t *testing.T) {
			s, _ := newTestStore(t, 1, tc.shards)
			db := s.DB(0)
			for i := 0; i < tc.keys; i++ {
				set(t, db, fmt.Sprint("k", i), "v", 0)
			}
			calls := 0
			got := scanAll(db, tc.count, func() { calls++ })
			if len(got) != tc.keys {
				t.Errorf("scan returned %d distinct keys, want %d", len(got), tc.keys)
			}
			for k, n := range got {
				if n != 1 {
					t.Errorf("%q returned %d times on an unchanged keyspace", k, n)
				}
			}
			if tc.count >= tc.keys && calls != 0 {
				t.Errorf("COUNT %d over %d keys took %d extra calls", tc.count, tc.keys, calls)
			}
		})
	}
}

// TestScanCursorEdges: cursors the store never hands out still end the scan.
func TestScanCursorEdges(t *testing.T) {
	s, _ := newTestStore(t, 1, 4)
	db := s.DB(0)
	set(t, db, "a", "v", 0)
	for _, cur := range []uint64{1 << 63, ^uint64(0), 4 << posBits} {
		if next := db.Scan(cur, 10, func(string, Kind) {}); next != 0 {
			t.Errorf("Scan(%#x) = %#x, want 0", cur, next)
		}
	}
	n := 0
	db.Scan(0, 0, func(string, Kind) { n++ })
	if n != 1 {
		t.Errorf("count 0 returned %d keys, want it treated as 1", n)
	}
}

// TestScanGuaranteeUnderMutation: keys present for the whole scan are
// returned at least once while other keys are added and removed, both
// between calls and concurrently with them.
func TestScanGuaranteeUnderMutation(t *testing.T) {
	for _, count := range []int{1, 10, 100} {
		t.Run(fmt.Sprint("count", count), func(t *testing.T) {
			s, _ := newTestStore(t, 1, 16)
			db := s.DB(0)
			stable := map[string]bool{}
			for i := 0; i < 600; i++ {
				k := fmt.Sprint("stable:", i)
				stable[k] = true
				set(t, db, k, "v", 0)
			}
			for i := 0; i < 600; i++ {
				set(t, db, fmt.Sprint("churn:", i), "v", 0)
			}
			var stop atomic.Bool
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(3, 4))
				for !stop.Load() {
					k := bs(fmt.Sprint("churn:", r.IntN(6000)))
					db.Update([][]byte{k}, func(tx *Tx) error {
						if r.IntN(2) == 0 {
							tx.Delete(k)
						} else {
							tx.SetString(k, bs("new"), SetOptions{})
						}
						return nil
					})
				}
			}()
			r := rand.New(rand.NewPCG(5, 6))
			got := scanAll(db, count, func() {
				// Mutate between calls too: add and remove a burst.
				for i := 0; i < 5; i++ {
					k := bs(fmt.Sprint("burst:", r.IntN(2000)))
					db.Update([][]byte{k}, func(tx *Tx) error {
						if tx.Exists(k) {
							tx.Delete(k)
						} else {
							tx.SetString(k, k, SetOptions{})
						}
						return nil
					})
				}
			})
			stop.Store(true)
			wg.Wait()
			var missing []string
			for k := range stable {
				if got[k] == 0 {
					missing = append(missing, k)
				}
			}
			sort.Strings(missing)
			if len(missing) > 0 {
				t.Errorf("%d stable keys never returned, e.g. %v", len(missing), missing[:min(5, len(missing))])
			}
			for k, n := range got {
				if stable[k] && n != 1 {
					t.Errorf("stable key %q returned %d times", k, n)
				}
			}
		})
	}
}
