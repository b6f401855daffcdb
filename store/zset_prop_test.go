package store

import (
	"math"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// zsetModel is the obvious reference: a member → score map, sorted on
// demand, and a sticky "converted" flag from Redis's listpack rules.
type zsetModel struct {
	scores    map[string]float64
	converted bool
}

type zpair struct {
	m string
	s float64
}

func (m *zsetModel) sorted() []zpair {
	out := make([]zpair, 0, len(m.scores))
	for k, v := range m.scores {
		out = append(out, zpair{k, v})
	}
	slices.SortFunc(out, func(a, b zpair) int {
		switch {
		case a.s < b.s:
			return -1
		case a.s > b.s:
			return 1
		}
		return strings.Compare(a.m, b.m)
	})
	return out
}

// add mirrors zsetAdd's rules.
func (m *zsetModel) add(member string, score float64, flags int, maxEntries, maxValue int64) (ZAddResult, float64) {
	cur, ok := m.scores[member]
	if ok {
		if flags&ZAddNX != 0 {
			return ZAddNop, cur
		}
		if flags&ZAddIncr != 0 {
			score += cur
			if math.IsNaN(score) {
				return ZAddNaN, 0
			}
		}
		if (flags&ZAddLT != 0 && score >= cur) || (flags&ZAddGT != 0 && score <= cur) {
			return ZAddNop, cur
		}
		if score == cur {
			return ZAddSame, score
		}
		m.scores[member] = m.lp(score)
		return ZAddUpdated, score
	}
	if flags&ZAddXX != 0 {
		return ZAddNop, 0
	}
	if !m.converted && (int64(len(m.scores))+1 > maxEntries || int64(len(member)) > maxValue) {
		m.converted = true
	}
	m.scores[member] = m.lp(score)
	return ZAddAdded, score
}

func (m *zsetModel) lp(s float64) float64 {
	if !m.converted && s == 0 {
		return 0
	}
	return s
}

func checkZSet(t *rapid.T, z *ZSet, m *zsetModel) {
	want := m.sorted()
	if z.Len() != len(want) {
		t.Fatalf("Len = %d, model %d", z.Len(), len(want))
	}
	if z.IsListpack() == m.converted {
		t.Fatalf("encoding %s, model converted=%v", z.Encoding(), m.converted)
	}
	var got []zpair
	z.ForEach(func(mem string, s float64) { got = append(got, zpair{mem, s}) })
	for i := range want {
		if got[i].m != want[i].m || math.Float64bits(got[i].s) != math.Float64bits(want[i].s) {
			t.Fatalf("element %d = %v, model %v", i, got[i], want[i])
		}
		if mem, s := z.At(i); mem != want[i].m || s != want[i].s {
			t.Fatalf("At(%d) = %q %v, model %v", i, mem, s, want[i])
		}
		if r, ok := z.Rank([]byte(want[i].m), false); !ok || r != i {
			t.Fatalf("Rank(%q) = %d %v, want %d", want[i].m, r, ok, i)
		}
		if r, ok := z.Rank([]byte(want[i].m), true); !ok || r != len(want)-1-i {
			t.Fatalf("reverse Rank(%q) = %d %v, want %d", want[i].m, r, ok, len(want)-1-i)
		}
	}
	var mem int64
	for k := range m.scores {
		mem += int64(len(k)) + zsetEntryOverhead
	}
	if z.MemSize() != mem+64 {
		t.Fatalf("MemSize = %d, recomputed %d", z.MemSize(), mem+64)
	}
}

func TestZSetMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		maxEntries := rapid.Int64Range(0, 10).Draw(t, "maxEntries")
		maxValue := rapid.Int64Range(1, 4).Draw(t, "maxValue")
		member := rapid.StringMatching(`[a-e]{0,4}`)
		score := rapid.SampledFrom([]float64{0, math.Copysign(0, -1), 1, 1.5, 2, -3, 7, math.Inf(1), math.Inf(-1)})
		z := NewZSet(maxEntries == 0)
		m := &zsetModel{scores: map[string]float64{}, converted: maxEntries == 0}
		t.Repeat(map[string]func(*rapid.T){
			"add": func(t *rapid.T) {
				mem, s := member.Draw(t, "m"), score.Draw(t, "s")
				flags := rapid.SampledFrom([]int{0, ZAddNX, ZAddXX, ZAddGT, ZAddLT, ZAddIncr, ZAddIncr | ZAddGT, ZAddXX | ZAddLT}).Draw(t, "flags")
				gr, gs := z.Add([]byte(mem), s, flags, maxEntries, maxValue)
				wr, ws := m.add(mem, s, flags, maxEntries, maxValue)
				if gr != wr || (gr != ZAddNop && gr != ZAddNaN && gs != ws) {
					t.Fatalf("Add(%q, %v, %b) = %v %v, model %v %v", mem, s, flags, gr, gs, wr, ws)
				}
			},
			"remove": func(t *rapid.T) {
				mem := member.Draw(t, "m")
				_, had := m.scores[mem]
				delete(m.scores, mem)
				if got := z.Remove([]byte(mem)); got != had {
					t.Fatalf("Remove(%q) = %v, model %v", mem, got, had)
				}
			},
			"scoreRange": func(t *rapid.T) {
				r := ScoreRange{Min: score.Draw(t, "min"), Max: score.Draw(t, "max"),
					MinEx: rapid.Bool().Draw(t, "minex"), MaxEx: rapid.Bool().Draw(t, "maxex")}
				lo, hi := z.ScoreRanks(r)
				want := 0
				first := -1
				for i, p := range m.sorted() {
					in := (p.s > r.Min || (!r.MinEx && p.s == r.Min)) && (p.s < r.Max || (!r.MaxEx && p.s == r.Max))
					if in {
						if first < 0 {
							first = i
						}
						want++
					}
				}
				if hi-lo != want || (want > 0 && lo != first) {
					t.Fatalf("ScoreRanks(%+v) = [%d,%d), model first %d count %d", r, lo, hi, first, want)
				}
			},
			"removeRanks": func(t *rapid.T) {
				n := z.Len()
				start := rapid.IntRange(-1, n+1).Draw(t, "start")
				end := rapid.IntRange(-1, n+1).Draw(t, "end")
				sorted := m.sorted()
				want := 0
				for i, p := range sorted {
					if i >= max(start, 0) && i <= end {
						delete(m.scores, p.m)
						want++
					}
				}
				if got := z.RemoveRanks(start, end); got != want {
					t.Fatalf("RemoveRanks(%d,%d) = %d, model %d", start, end, got, want)
				}
			},
			"pop": func(t *rapid.T) {
				count := rapid.IntRange(0, 3).Draw(t, "count")
				top := rapid.Bool().Draw(t, "max")
				sorted := m.sorted()
				if top {
					slices.Reverse(sorted)
				}
				i := 0
				z.Pop(count, top, func(mem string, s float64) {
					if i >= len(sorted) || sorted[i].m != mem || sorted[i].s != s {
						t.Fatalf("pop %d = %q %v, model %v", i, mem, s, sorted)
					}
					delete(m.scores, mem)
					i++
				})
				if i != min(count, len(sorted)) {
					t.Fatalf("popped %d, want %d", i, min(count, len(sorted)))
				}
			},
			"rangeReverse": func(t *rapid.T) {
				n := z.Len()
				if n == 0 {
					return
				}
				start := rapid.IntRange(0, n-1).Draw(t, "start")
				end := rapid.IntRange(start, n-1).Draw(t, "end")
				sorted := m.sorted()
				slices.Reverse(sorted)
				i := start
				z.Range(start, end, true, func(mem string, _ float64) bool {
					if sorted[i].m != mem {
						t.Fatalf("reverse rank %d = %q, model %q", i, mem, sorted[i].m)
					}
					i++
					return true
				})
				if i != end+1 {
					t.Fatalf("reverse range %d..%d stopped at %d", start, end, i)
				}
			},
			"scan": func(t *rapid.T) {
				count := rapid.IntRange(1, 4).Draw(t, "count")
				seen := map[string]bool{}
				var cursor uint64
				for calls := 0; ; calls++ {
					cursor = z.Scan(cursor, count, func(mem string, _ float64) { seen[mem] = true })
					if cursor == 0 {
						break
					}
					if calls > 1000 {
						t.Fatal("scan does not terminate")
					}
				}
				if len(seen) != len(m.scores) {
					t.Fatalf("scan saw %d members, model has %d", len(seen), len(m.scores))
				}
			},
			"clone": func(t *rapid.T) {
				c := z.Clone().(*ZSet)
				checkZSet(t, c, m)
			},
		})
		checkZSet(t, z, m)
	})
}

// TestZSetLexMatchesModel checks lexicographic ranges on sets whose scores
// are all equal, the case they are defined for.
func TestZSetLexMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		members := rapid.SliceOfDistinct(rapid.StringMatching(`[a-d]{0,3}`), func(s string) string { return s }).Draw(t, "members")
		z := NewZSet(rapid.Bool().Draw(t, "skiplist"))
		for _, mem := range members {
			z.Add([]byte(mem), 0, 0, 128, 64)
		}
		bound := func(label string) LexBound {
			switch rapid.IntRange(0, 5).Draw(t, label+"kind") {
			case 0:
				return LexBound{Ex: true, Inf: -1}
			case 1:
				return LexBound{Ex: true, Inf: 1}
			}
			return LexBound{Value: []byte(rapid.StringMatching(`[a-d]{0,3}`).Draw(t, label)), Ex: rapid.Bool().Draw(t, label+"ex")}
		}
		r := LexRange{Min: bound("min"), Max: bound("max")}
		sorted := slices.Clone(members)
		slices.Sort(sorted)
		want, first := 0, -1
		for i, mem := range sorted {
			if modelLexIn(mem, r) {
				if first < 0 {
					first = i
				}
				want++
			}
		}
		lo, hi := z.LexRanks(r)
		if hi-lo != want || (want > 0 && lo != first) {
			t.Fatalf("LexRanks(%+v) = [%d,%d), model first %d count %d", r, lo, hi, first, want)
		}
	})
}

// modelLexIn is Redis's lex-range membership, written out independently.
func modelLexIn(mem string, r LexRange) bool {
	var aboveMin, belowMax bool
	switch r.Min.Inf {
	case -1:
		aboveMin = true
	case 1:
		aboveMin = false
	default:
		c := strings.Compare(mem, string(r.Min.Value))
		aboveMin = c > 0 || (c == 0 && !r.Min.Ex)
	}
	switch r.Max.Inf {
	case -1:
		belowMax = false
	case 1:
		belowMax = true
	default:
		c := strings.Compare(mem, string(r.Max.Value))
		belowMax = c < 0 || (c == 0 && !r.Max.Ex)
	}
	return aboveMin && belowMax
}
