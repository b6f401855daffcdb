package store

import (
	"slices"
	"strconv"
	"testing"

	"pgregory.net/rapid"
)

// setModel is the reference: a plain map plus the encoding Redis would
// report, tracked by the rules alone.
type setModel struct {
	m         map[string]bool
	hashtable bool
}

func (md *setModel) allInts() bool {
	for k := range md.m {
		if _, ok := setInt([]byte(k)); !ok {
			return false
		}
	}
	return true
}

func TestSetProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		maxIntset := rapid.Int64Range(0, 8).Draw(t, "maxIntset")
		member := rapid.OneOf(
			rapid.Map(rapid.Int64Range(-20, 20), func(v int64) string { return strconv.FormatInt(v, 10) }),
			rapid.SampledFrom([]string{"a", "b", "", "01", "-0", "+3", "9223372036854775807", "-9223372036854775808", "9223372036854775808"}),
		)
		s := NewSet()
		md := &setModel{m: map[string]bool{}}

		check := func(t *rapid.T) {
			if s.Len() != len(md.m) {
				t.Fatalf("Len %d, model %d", s.Len(), len(md.m))
			}
			wantEnc := "intset"
			if md.hashtable {
				wantEnc = "hashtable"
			}
			if s.Encoding() != wantEnc {
				t.Fatalf("encoding %s, model %s", s.Encoding(), wantEnc)
			}
			got := s.Members()
			if s.IsIntset() {
				// Intsets iterate in ascending numeric order.
				for i := 1; i < len(got); i++ {
					x, _ := strconv.ParseInt(got[i-1], 10, 64)
					y, _ := strconv.ParseInt(got[i], 10, 64)
					if x >= y {
						t.Fatalf("intset order %q", got)
					}
				}
			}
			want := make([]string, 0, len(md.m))
			for k := range md.m {
				want = append(want, k)
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("members %q, model %q", got, want)
			}
			if s.MemSize() != expectedSetSize(s) {
				t.Fatalf("MemSize %d, recomputed %d", s.MemSize(), expectedSetSize(s))
			}
		}

		t.Repeat(map[string]func(*rapid.T){
			"add": func(t *rapid.T) {
				m := member.Draw(t, "m")
				added := s.Add([]byte(m), maxIntset)
				if added == md.m[m] {
					t.Fatalf("Add(%q) = %v, model had it: %v", m, added, md.m[m])
				}
				md.m[m] = true
				if _, ok := setInt([]byte(m)); !ok || int64(len(md.m)) > maxIntset {
					md.hashtable = true
				}
			},
			"remove": func(t *rapid.T) {
				m := member.Draw(t, "m")
				if got := s.Remove([]byte(m)); got != md.m[m] {
					t.Fatalf("Remove(%q) = %v, model %v", m, got, md.m[m])
				}
				delete(md.m, m)
			},
			"contains": func(t *rapid.T) {
				m := member.Draw(t, "m")
				if got := s.Contains([]byte(m)); got != md.m[m] {
					t.Fatalf("Contains(%q) = %v, model %v", m, got, md.m[m])
				}
			},
			"random": func(t *rapid.T) {
				m, ok := s.Random()
				if ok != (len(md.m) > 0) || (ok && !md.m[m]) {
					t.Fatalf("Random = %q, %v", m, ok)
				}
			},
			"pop": func(t *rapid.T) {
				m, ok := s.Pop()
				if ok != (len(md.m) > 0) || (ok && !md.m[m]) {
					t.Fatalf("Pop = %q, %v", m, ok)
				}
				delete(md.m, m)
			},
			"popN": func(t *rapid.T) {
				if s.Len() < 2 {
					t.Skip("PopN needs 0 < count < Len")
				}
				count := rapid.IntRange(1, s.Len()-1).Draw(t, "count")
				remaining := s.Len() - count
				n := 0
				s.PopN(count, maxIntset, func(m string) {
					if !md.m[m] {
						t.Fatalf("PopN gave %q, not a member", m)
					}
					delete(md.m, m)
					n++
				})
				if n != count {
					t.Fatalf("PopN emitted %d, want %d", n, count)
				}
				if remaining*spopMoveStrategyMul <= count {
					// Rebuilt from the remaining members.
					md.hashtable = !md.allInts() || int64(len(md.m)) > maxIntset
				}
			},
			"clone": func(t *rapid.T) {
				c := s.Clone().(*Set)
				if c.Len() != s.Len() || c.Encoding() != s.Encoding() || c.MemSize() != s.MemSize() {
					t.Fatalf("clone differs: %d %s %d", c.Len(), c.Encoding(), c.MemSize())
				}
			},
			"scan": func(t *rapid.T) {
				count := rapid.IntRange(1, 5).Draw(t, "count")
				seen := map[string]bool{}
				cursor := uint64(0)
				for i := 0; ; i++ {
					cursor = s.Scan(cursor, count, func(m []byte) { seen[string(m)] = true })
					if cursor == 0 {
						break
					}
					if i > len(md.m)/count+1 { // each call returns count members while any remain
						t.Fatal("scan does not finish")
					}
				}
				if len(seen) != len(md.m) {
					t.Fatalf("scan saw %d of %d", len(seen), len(md.m))
				}
			},
			"": check,
		})
	})
}
