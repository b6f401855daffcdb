package store

import (
	"math"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestZSetListpackMatchesModel drives both encodings with members long
// enough for two-byte length prefixes, Put and FitEncoding conversions in
// both directions, and forward ranges, checking every element after each
// step (checkZSet) and that clones keep their contents.
func TestZSetListpackMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		maxEntries := rapid.Int64Range(0, 8).Draw(t, "maxEntries")
		maxValue := rapid.SampledFrom([]int64{3, 200}).Draw(t, "maxValue")
		member := rapid.Custom(func(t *rapid.T) string {
			c := rapid.SampledFrom([]string{"a", "b", "c"}).Draw(t, "c")
			return strings.Repeat(c, rapid.SampledFrom([]int{0, 1, 2, 127, 128, 150}).Draw(t, "n"))
		})
		score := rapid.SampledFrom([]float64{0, math.Copysign(0, -1), 1, -2.5, 3, math.Inf(1)})
		z := NewZSet(maxEntries == 0)
		m := &zsetModel{scores: map[string]float64{}, converted: maxEntries == 0}
		type clone struct {
			z    *ZSet
			want []zpair
		}
		var clones []clone
		t.Repeat(map[string]func(*rapid.T){
			"add": func(t *rapid.T) {
				mem, s := member.Draw(t, "m"), score.Draw(t, "s")
				flags := rapid.SampledFrom([]int{0, ZAddIncr, ZAddXX, ZAddNX}).Draw(t, "flags")
				gr, gs := z.Add([]byte(mem), s, flags, maxEntries, maxValue)
				wr, ws := m.add(mem, s, flags, maxEntries, maxValue)
				if gr != wr || (gr != ZAddNop && gr != ZAddNaN && gs != ws) {
					t.Fatalf("Add = %v %v, model %v %v", gr, gs, wr, ws)
				}
			},
			"put": func(t *rapid.T) {
				mem, s := member.Draw(t, "m"), score.Draw(t, "s")
				z.Put(mem, s)
				if cur, ok := m.scores[mem]; !ok || cur != s { // 0 and -0 are the same score
					m.scores[mem] = m.lp(s)
				}
			},
			"remove": func(t *rapid.T) {
				mem := member.Draw(t, "m")
				_, had := m.scores[mem]
				delete(m.scores, mem)
				if got := z.Remove([]byte(mem)); got != had {
					t.Fatalf("Remove = %v, model %v", got, had)
				}
			},
			"fit": func(t *rapid.T) {
				e, v := rapid.Int64Range(-1, 8).Draw(t, "entries"), rapid.SampledFrom([]int64{0, 3, 200}).Draw(t, "value")
				z.FitEncoding(e, v)
				small := int64(len(m.scores)) <= e
				for k := range m.scores {
					small = small && int64(len(k)) <= v
				}
				m.converted = !small
				if small {
					for k, s := range m.scores {
						m.scores[k] = m.lp(s)
					}
				}
			},
			"removeRanks": func(t *rapid.T) {
				n := z.Len()
				start := rapid.IntRange(-1, n+1).Draw(t, "start")
				end := rapid.IntRange(-1, n+1).Draw(t, "end")
				want := 0
				for i, p := range m.sorted() {
					if i >= max(start, 0) && i <= end {
						delete(m.scores, p.m)
						want++
					}
				}
				if got := z.RemoveRanks(start, end); got != want {
					t.Fatalf("RemoveRanks(%d,%d) = %d, model %d", start, end, got, want)
				}
			},
			"range": func(t *rapid.T) {
				n := z.Len()
				if n == 0 {
					return
				}
				start := rapid.IntRange(0, n-1).Draw(t, "start")
				end := rapid.IntRange(start, n-1).Draw(t, "end")
				stop := rapid.IntRange(start, end).Draw(t, "stop") // fn says stop after this rank
				sorted := m.sorted()
				i := start
				z.Range(start, end, false, func(mem string, s float64) bool {
					if sorted[i].m != mem || sorted[i].s != s {
						t.Fatalf("rank %d = %q %v, model %v", i, mem, s, sorted[i])
					}
					i++
					return i <= stop
				})
				if i != stop+1 {
					t.Fatalf("range %d..%d (stop %d) ended at %d", start, end, stop, i)
				}
			},
			"clone": func(t *rapid.T) {
				clones = append(clones, clone{z.Clone().(*ZSet), m.sorted()})
			},
			"": func(t *rapid.T) {
				checkZSet(t, z, m)
				for i, c := range clones {
					j := 0
					c.z.ForEach(func(mem string, s float64) {
						if j >= len(c.want) || c.want[j].m != mem || c.want[j].s != s {
							t.Fatalf("clone %d changed with the original", i)
						}
						j++
					})
					if j != len(c.want) {
						t.Fatalf("clone %d has %d elements, want %d", i, j, len(c.want))
					}
				}
			},
		})
	})
}

// TestZSetListpackIsOneString: a small sorted set is a single string whose
// members what Range handed out keep after later writes.
func TestZSetListpackIsOneString(t *testing.T) {
	z := NewZSet(false)
	z.Add([]byte("b"), 2, 0, 128, 64)
	z.Add([]byte("a"), 1, 0, 128, 64)
	first, _ := z.At(0)
	z.Add([]byte("a"), 5, 0, 128, 64)
	z.Remove([]byte("b"))
	if first != "a" || z.sl != nil || z.Len() != 1 || z.lp == "" {
		t.Errorf("first %q, encoding %s, Len %d", first, z.Encoding(), z.Len())
	}
	if m, s := z.At(0); m != "a" || s != 5 {
		t.Errorf("At(0) = %q %v", m, s)
	}
}
