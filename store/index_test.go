package store

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

func newTestIndex() *index { return &index{seed: maphash.MakeSeed()} }

func idxEntry(key string) *entry { return newStringEntry([]byte(key), nil, 0) }

func idxPut(x *index, e *entry) *entry { return x.put(x.hash(e.key()), e) }
func idxGet(x *index, key string) *entry {
	return x.get(x.hash(key), key)
}
func idxDel(x *index, key string) *entry { return x.del(x.hash(key), key) }

// mustCheck fails the test when the index's invariants do not hold.
func mustCheck(t *testing.T, x *index) {
	t.Helper()
	if err := x.check(); err != nil {
		t.Fatal(err)
	}
}

// TestIndexMatchesMap runs random puts, replacements, deletions and lookups
// against an index and a Go map, over key sets that make the table grow and
// shrink, and compares them after every step.
func TestIndexMatchesMap(t *testing.T) {
	cases := []struct {
		name     string
		universe int // distinct keys
		ops      int
		putShare int // percent of operations that put; the rest delete or get
	}{
		{"tiny", 5, 2000, 50},
		{"grow", 3000, 20000, 80},
		{"churn", 800, 30000, 50},
		{"drain", 3000, 30000, 25},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tc.universe), uint64(tc.ops)))
			x := newTestIndex()
			model := map[string]*entry{}
			for op := 0; op < tc.ops; op++ {
				key := fmt.Sprintf("k%d", rng.IntN(tc.universe))
				switch r := rng.IntN(100); {
				case r < tc.putShare:
					e := idxEntry(key)
					if old := idxPut(x, e); old != model[key] {
						t.Fatalf("op %d: put(%q) replaced %p, model %p", op, key, old, model[key])
					}
					model[key] = e
				case r < tc.putShare+(100-tc.putShare)/2:
					if got := idxDel(x, key); got != model[key] {
						t.Fatalf("op %d: del(%q) = %p, model %p", op, key, got, model[key])
					}
					delete(model, key)
				default:
					if got := idxGet(x, key); got != model[key] {
						t.Fatalf("op %d: get(%q) = %p, model %p", op, key, got, model[key])
					}
				}
				if x.len() != len(model) {
					t.Fatalf("op %d: len %d, model %d", op, x.len(), len(model))
				}
				if op%97 == 0 {
					mustCheck(t, x)
				}
			}
			mustCheck(t, x)
			for k, e := range model {
				if got := idxGet(x, k); got != e {
					t.Fatalf("get(%q) = %p, model %p", k, got, e)
				}
			}
			n := 0
			for e := range x.all {
				n++
				if model[e.key()] != e {
					t.Fatalf("all yielded %q, not the model's entry", e.key())
				}
			}
			if n != len(model) {
				t.Fatalf("all yielded %d entries, model has %d", n, len(model))
			}
		})
	}
}

// TestIndexLoadAndShrink: the table stays within its load bounds as it
// grows and shrinks, and lets its memory go when emptied.
func TestIndexLoadAndShrink(t *testing.T) {
	x := newTestIndex()
	const n = 5000
	for i := range n {
		idxPut(x, idxEntry(fmt.Sprint(i)))
		if size := len(x.slots); x.n*indexMaxLoadDen > size*indexMaxLoadNum {
			t.Fatalf("%d entries in %d slots", x.n, size)
		}
	}
	if size := len(x.slots); x.n*100 < size*55 {
		t.Errorf("after growth: %d entries in %d slots, want at least 55 %% full", x.n, size)
	}
	for i := range n - 10 {
		idxDel(x, fmt.Sprint(i))
		if size := len(x.slots); size > indexMinSize && x.n < size/4 {
			t.Fatalf("%d entries left in %d slots", x.n, size)
		}
	}
	mustCheck(t, x)
	for i := n - 10; i < n; i++ {
		idxDel(x, fmt.Sprint(i))
	}
	if x.len() != 0 || x.slots != nil || x.tags != nil {
		t.Errorf("emptied index keeps %d entries, %d slots", x.len(), len(x.slots))
	}
	if idxGet(x, "1") != nil || idxDel(x, "1") != nil {
		t.Error("empty index finds a key")
	}
	if next := x.scan(0, 10, func(*entry) bool { t.Error("empty scan visited an entry"); return true }); next != posEnd {
		t.Errorf("empty scan returned %d", next)
	}
}

// TestIndexSharedTags: keys whose hashes share a tag (forced here; rare
// for real keys) are told apart by their keys, through growth, lookups and
// deletions, among keys of other tags.
func TestIndexSharedTags(t *testing.T) {
	x := newTestIndex()
	model := map[string]*entry{}
	const shared = 0x1234_5678_0000_0000
	hashOf := func(k string) uint64 {
		if k[0] == 's' {
			return shared
		}
		return x.hash(k)
	}
	for i := range 300 {
		for _, k := range []string{fmt.Sprint("s", i), fmt.Sprint("o", i)} {
			e := idxEntry(k)
			x.put(hashOf(k), e)
			model[k] = e
		}
	}
	for i := 0; i < 300; i += 2 {
		for _, k := range []string{fmt.Sprint("s", i), fmt.Sprint("o", i)} {
			if got := x.del(hashOf(k), k); got != model[k] {
				t.Fatalf("del(%q) = %p, want %p", k, got, model[k])
			}
			delete(model, k)
		}
	}
	for i := range 300 {
		for _, k := range []string{fmt.Sprint("s", i), fmt.Sprint("o", i)} {
			if got := x.get(hashOf(k), k); got != model[k] {
				t.Fatalf("get(%q) = %p, want %p", k, got, model[k])
			}
		}
	}
	if x.len() != len(model) {
		t.Fatalf("len %d, want %d", x.len(), len(model))
	}
}

// TestIndexHomeAndPositions: homes are the positions scaled to the table,
// and firstPos is the exact boundary between two home slots, for tables of
// any size.
func TestIndexHomeAndPositions(t *testing.T) {
	for _, size := range []int{1, 3, 8, 12, 1000, 5166, 1 << 20, 3<<30 + 7, 1<<32 - 1} {
		if got := homeAt(0, size); got != 0 {
			t.Errorf("size %d: home of position 0 is %d", size, got)
		}
		if got := homeAt(posEnd-1, size); got != size-1 {
			t.Errorf("size %d: home of the last position is %d", size, got)
		}
		if got := firstPos(0, size); got != 0 {
			t.Errorf("size %d: firstPos(0) = %d", size, got)
		}
		if got := firstPos(size, size); got != posEnd {
			t.Errorf("size %d: firstPos(size) = %d, want posEnd", size, got)
		}
		for _, b := range []int{1, 2, size / 3, size / 2, size - 1} {
			if b < 1 || b >= size {
				continue
			}
			p := firstPos(b, size)
			if homeAt(p, size) != b || homeAt(p-1, size) != b-1 {
				t.Errorf("size %d: firstPos(%d) = %d, homes %d and %d around it", size, b, p, homeAt(p-1, size), homeAt(p, size))
			}
		}
	}
}

// TestIndexFrom: from yields every entry exactly once whatever the start,
// and random starts reach every entry.
func TestIndexFrom(t *testing.T) {
	x := newTestIndex()
	for i := range 50 {
		idxPut(x, idxEntry(fmt.Sprint(i)))
	}
	for _, start := range []uint64{0, 1, uint64(len(x.slots) - 1), uint64(len(x.slots)), 1 << 63} {
		seen := map[*entry]int{}
		for e := range x.from(start) {
			seen[e]++
		}
		if len(seen) != 50 {
			t.Errorf("from(%d) yielded %d distinct entries", start, len(seen))
		}
		for e, n := range seen {
			if n != 1 {
				t.Errorf("from(%d) yielded %q %d times", start, e.key(), n)
			}
		}
	}
	first := map[*entry]bool{}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		for e := range x.from(rng.Uint64()) {
			first[e] = true
			break
		}
	}
	if len(first) != 50 {
		t.Errorf("5000 random starts reached %d of 50 entries first", len(first))
	}
}

// indexScanAll runs a scan from position 0 to the end, calling between after
// every call, and returns how often it saw each key.
func indexScanAll(t *testing.T, x *index, count int, between func()) map[string]int {
	t.Helper()
	seen := map[string]int{}
	pos := uint64(0)
	for calls := 0; ; calls++ {
		if calls > 1_000_000 {
			t.Fatal("scan does not end")
		}
		next := x.scan(pos, count, func(e *entry) bool { seen[e.key()]++; return true })
		if next != posEnd && next <= pos {
			t.Fatalf("scan went from %d back to %d", pos, next)
		}
		if next == posEnd {
			return seen
		}
		pos = next
		between()
	}
}

// TestIndexScan: a scan visits every entry present throughout exactly once,
// while the index does not change and while it grows or shrinks between
// calls.
func TestIndexScan(t *testing.T) {
	for _, count := range []int{1, 3, 10, 1000} {
		t.Run(fmt.Sprint("count", count), func(t *testing.T) {
			x := newTestIndex()
			for i := range 2000 {
				idxPut(x, idxEntry(fmt.Sprint("stay", i)))
			}
			for k, n := range indexScanAll(t, x, count, func() {}) {
				if n != 1 {
					t.Errorf("unchanged index: %q visited %d times", k, n)
				}
			}

			added := 0
			seen := indexScanAll(t, x, count, func() {
				for j := 0; j < 20 && added < 4000; j++ {
					idxPut(x, idxEntry(fmt.Sprint("new", added)))
					added++
				}
			})
			for i := range 2000 {
				if k := fmt.Sprint("stay", i); seen[k] != 1 {
					t.Fatalf("growing index (%d added): %q visited %d times", added, k, seen[k])
				}
			}
			mustCheck(t, x)

			removed := 0
			seen = indexScanAll(t, x, count, func() {
				for j := 0; j < 40 && removed < added; j++ {
					idxDel(x, fmt.Sprint("new", removed))
					removed++
				}
			})
			for i := range 2000 {
				if k := fmt.Sprint("stay", i); seen[k] != 1 {
					t.Fatalf("shrinking index: %q visited %d times", k, seen[k])
				}
			}
			mustCheck(t, x)

			// Grow and shrink the table every few calls.
			burst, calls := 0, 0
			seen = indexScanAll(t, x, count, func() {
				if calls++; calls%8 != 0 {
					return
				}
				if burst%2 == 0 {
					for j := range 6000 {
						idxPut(x, idxEntry(fmt.Sprint("burst", j)))
					}
				} else {
					for j := range 6000 {
						idxDel(x, fmt.Sprint("burst", j))
					}
				}
				burst++
			})
			for i := range 2000 {
				if k := fmt.Sprint("stay", i); seen[k] != 1 {
					t.Fatalf("rebuilt index (%d bursts): %q visited %d times", burst, k, seen[k])
				}
			}
			mustCheck(t, x)
		})
	}
}

// TestIndexScanFilter: entries fn declines (expired keys) do not count
// towards count.
func TestIndexScanFilter(t *testing.T) {
	x := newTestIndex()
	for i := range 100 {
		idxPut(x, idxEntry(fmt.Sprint(i)))
	}
	visited, counted := 0, 0
	next := x.scan(0, 5, func(e *entry) bool {
		visited++
		if visited%2 == 0 {
			counted++
			return true
		}
		return false
	})
	if counted < 5 || next == posEnd {
		t.Errorf("scan stopped after %d counted of %d visited, next %d", counted, visited, next)
	}
}

// BenchmarkIndexGrow measures the growth of a full table the size of one
// shard's at 1M and 10M keys over 256 shards, with the entries out of the
// cache: tables holding 1M entries in all are built first and one is
// rebuilt per iteration.
func BenchmarkIndexGrow(b *testing.B) {
	for _, perShard := range []int{3906, 39062} {
		b.Run(fmt.Sprint(perShard), func(b *testing.B) {
			tables := make([]*index, 1_000_000/perShard)
			seed := maphash.MakeSeed()
			for i := range tables {
				tables[i] = &index{seed: seed}
				for j := range perShard {
					e := newStringEntry([]byte(fmt.Sprintf("key:%d:%d", i, j)), make([]byte, 100), 100)
					idxPut(tables[i], e)
				}
			}
			runtime.GC()
			grown := perShard * indexMaxLoadDen / indexMaxLoadNum * 3 / 2
			var worst time.Duration
			for i := 0; b.Loop(); i++ {
				x := tables[i%len(tables)]
				start := time.Now()
				x.rebuild(grown)
				worst = max(worst, time.Since(start))
			}
			b.ReportMetric(float64(worst.Microseconds()), "worst-µs")
		})
	}
}
