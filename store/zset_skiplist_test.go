package store

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// checkSkiplist verifies the skiplist's structure: every level is sorted
// and ends where it should, a level's span is the rank distance to its
// forward node, each level keeps its forward node's score, backward links
// and tail agree with level 0, and the dictionary holds exactly the nodes.
func checkSkiplist(t *testing.T, sl *skiplist) {
	t.Helper()
	rank := map[*zslNode]int{sl.header: 0}
	var prev *zslNode
	r := 0
	for x := sl.header.lv(0).forward; x != nil; x = x.lv(0).forward {
		r++
		rank[x] = r
		if x.backward != prev {
			t.Fatalf("rank %d (%q): backward %p, want %p", r, x.member, x.backward, prev)
		}
		if prev != nil && !(prev.score < x.score || (prev.score == x.score && prev.member < x.member)) {
			t.Fatalf("rank %d (%q %v) not after %q %v", r, x.member, x.score, prev.member, prev.score)
		}
		if x.nlevel < 1 || x.nlevel > sl.level {
			t.Fatalf("%q has %d levels, list %d", x.member, x.nlevel, sl.level)
		}
		if sl.dict[x.member] != x {
			t.Fatalf("dict[%q] is not its node", x.member)
		}
		prev = x
	}
	if r != sl.length || len(sl.dict) != sl.length {
		t.Fatalf("walked %d nodes, length %d, dict %d", r, sl.length, len(sl.dict))
	}
	if sl.tail != prev {
		t.Fatalf("tail %p, last node %p", sl.tail, prev)
	}
	var mem int64
	for m := range sl.dict {
		mem += int64(len(m)) + zsetEntryOverhead
	}
	if mem != sl.mem {
		t.Fatalf("mem %d, recomputed %d", sl.mem, mem)
	}
	if sl.level > 1 && sl.header.lv(sl.level-1).forward == nil {
		t.Fatalf("top level %d is empty", sl.level)
	}
	for i := 0; i < sl.level; i++ {
		x := sl.header
		for {
			l := x.lv(i)
			f := l.forward
			if f == nil {
				if want := sl.length - rank[x]; l.span != want && !(x == sl.header && l.span == 0) {
					t.Fatalf("level %d: last span %d, want %d", i, l.span, want)
				}
				break
			}
			if f.nlevel <= i {
				t.Fatalf("level %d links %q, which has %d levels", i, f.member, f.nlevel)
			}
			if math.Float64bits(l.score) != math.Float64bits(f.score) {
				t.Fatalf("level %d: keeps score %v for %q, which has %v", i, l.score, f.member, f.score)
			}
			if got, want := l.span, rank[f]-rank[x]; got != want {
				t.Fatalf("level %d: span to %q is %d, want %d", i, f.member, got, want)
			}
			x = f
		}
	}
}

// TestSkiplistStructure runs random adds (inserts, moves and in-place
// score changes), removals, rank-range removals and pops on sets large
// enough to have many levels, with few distinct scores so that ties fall
// back to member order, checking the structure after each batch.
func TestSkiplistStructure(t *testing.T) {
	for _, tc := range []struct {
		name    string
		members int
		scores  int
	}{
		{"ties", 3000, 8},
		{"spread", 3000, 1 << 20},
		{"one score", 500, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(tc.members), uint64(tc.scores)))
			z := NewZSet(true)
			member := func() []byte { return fmt.Appendf(nil, "m%d", r.IntN(tc.members)) }
			for round := 0; round < 40; round++ {
				for j := 0; j < 500; j++ {
					switch op := r.IntN(100); {
					case op < 70:
						z.Add(member(), float64(r.IntN(tc.scores)), 0, 128, 64)
					case op < 80:
						// a nudge mostly keeps the node's place: the in-place path
						m := member()
						if s, ok := z.Score(m); ok {
							z.Add(m, s+float64(r.IntN(3)-1)*0.25, 0, 128, 64)
						}
					case op < 95:
						z.Remove(member())
					case op < 98:
						start := r.IntN(z.Len() + 1)
						z.RemoveRanks(start, start+r.IntN(5))
					default:
						z.Pop(1+r.IntN(3), r.IntN(2) == 0, func(string, float64) {})
					}
				}
				checkSkiplist(t, z.sl)
				checkSkiplist(t, z.Clone().(*ZSet).sl)
			}
		})
	}
}

// TestZslNodeLayout checks what lv relies on: a node's extra levels start
// right after level0, and a one-level node fills one 64-byte size class.
func TestZslNodeLayout(t *testing.T) {
	level := unsafe.Sizeof(zslLevel{})
	for _, c := range []struct {
		name        string
		more, after uintptr
	}{
		{"2 levels", unsafe.Offsetof(zslNodeOf[[1]zslLevel]{}.more), unsafe.Offsetof(zslNode{}.level0) + level},
		{"32 levels", unsafe.Offsetof(zslNodeOf[[zslMaxLevel - 1]zslLevel]{}.more), unsafe.Offsetof(zslNode{}.level0) + level},
	} {
		if c.more != c.after {
			t.Errorf("%s: extra levels at offset %d, level0 ends at %d", c.name, c.more, c.after)
		}
	}
	if size := unsafe.Sizeof(zslNode{}); size != 64 {
		t.Errorf("one-level node is %d bytes, want 64", size)
	}
	for level := 1; level <= zslMaxLevel; level++ {
		n := allocNode(level)
		if n.nlevel != level {
			t.Fatalf("allocNode(%d) has %d levels", level, n.nlevel)
		}
		// Every level is writable and distinct (the race detector's
		// checkptr also checks each stays inside the node's allocation).
		for i := 0; i < level; i++ {
			n.lv(i).span = i + 1
		}
		for i := 0; i < level; i++ {
			if n.lv(i).span != i+1 {
				t.Fatalf("allocNode(%d): level %d reads %d", level, i, n.lv(i).span)
			}
		}
	}
}
