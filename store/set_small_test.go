package store

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// smallSetModel tracks a set's members and the internal encoding the rules
// give: intset, then the small string encoding, then the hashtable, whose
// limits (setSmallEntries members, setSmallValue bytes) the test crosses.
type smallSetModel struct {
	m   map[string]bool
	enc uint8
}

func (md *smallSetModel) add(m string, maxIntset int64) bool {
	if md.m[m] {
		return false
	}
	_, isInt := setInt([]byte(m))
	if md.enc == setIntset && isInt {
		md.m[m] = true
		if int64(len(md.m)) > maxIntset {
			md.leaveIntset()
		}
		return true
	}
	if md.enc == setIntset {
		md.leaveIntset()
	}
	if md.enc == setSmall && (len(m) > setSmallValue || len(md.m) >= setSmallEntries) {
		md.enc = setHashtable
	}
	md.m[m] = true
	return true
}

func (md *smallSetModel) leaveIntset() {
	md.enc = setSmall
	if len(md.m) >= setSmallEntries {
		md.enc = setHashtable
	}
}

// rebuilt is the encoding of a set built from scratch with the model's
// members, whatever their order (PopN's strategy 2).
func (md *smallSetModel) rebuilt(maxIntset int64) uint8 {
	allInts, short := true, true
	for k := range md.m {
		if _, ok := setInt([]byte(k)); !ok {
			allInts = false
		}
		short = short && len(k) <= setSmallValue
	}
	switch {
	case allInts && int64(len(md.m)) <= maxIntset:
		return setIntset
	case short && len(md.m) <= setSmallEntries:
		return setSmall
	}
	return setHashtable
}

func TestSetSmallEncodingMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		maxIntset := rapid.SampledFrom([]int64{0, 4, 200}).Draw(t, "maxIntset")
		long := strings.Repeat("L", setSmallValue)
		member := rapid.OneOf(
			rapid.Map(rapid.IntRange(-5, 5), strconv.Itoa),
			rapid.SampledFrom([]string{"a", "b", "", "01", long, long + "x", long[1:] + "y"}),
		)
		s := NewSet()
		md := &smallSetModel{m: map[string]bool{}}
		type clone struct {
			s       *Set
			members []string
		}
		var clones []clone
		fresh := 0 // members added by addMany so far
		members := func() []string {
			var out []string
			for k := range md.m {
				out = append(out, k)
			}
			slices.Sort(out)
			return out
		}
		t.Repeat(map[string]func(*rapid.T){
			"add": func(t *rapid.T) {
				m := member.Draw(t, "m")
				if got, want := s.Add([]byte(m), maxIntset), md.add(m, maxIntset); got != want {
					t.Fatalf("Add(%q) = %v, model %v", m, got, want)
				}
			},
			"addMany": func(t *rapid.T) {
				// Up to enough new members to cross setSmallEntries.
				n := rapid.IntRange(1, setSmallEntries+10).Draw(t, "n")
				ints := rapid.Bool().Draw(t, "ints")
				for ; n > 0; n-- {
					fresh++
					m := "k" + strconv.Itoa(fresh)
					if ints {
						m = strconv.Itoa(1000 + fresh)
					}
					if got, want := s.Add([]byte(m), maxIntset), md.add(m, maxIntset); got != want {
						t.Fatalf("Add(%q) = %v, model %v", m, got, want)
					}
				}
			},
			"remove": func(t *rapid.T) {
				m := member.Draw(t, "m")
				if rapid.Bool().Draw(t, "existing") && len(md.m) > 0 {
					m = rapid.SampledFrom(members()).Draw(t, "member")
				}
				if got := s.Remove([]byte(m)); got != md.m[m] {
					t.Fatalf("Remove(%q) = %v, model %v", m, got, md.m[m])
				}
				delete(md.m, m)
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
				s.PopN(count, maxIntset, func(m string) {
					if !md.m[m] {
						t.Fatalf("PopN gave %q, not a member", m)
					}
					delete(md.m, m)
				})
				if remaining*spopMoveStrategyMul <= count {
					md.enc = md.rebuilt(maxIntset)
				}
			},
			"clone": func(t *rapid.T) {
				clones = append(clones, clone{s.Clone().(*Set), members()})
			},
			"scan": func(t *rapid.T) {
				count := rapid.IntRange(1, 50).Draw(t, "count")
				seen := map[string]bool{}
				var cursor uint64
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
			"": func(t *rapid.T) {
				if s.enc != md.enc {
					t.Fatalf("encoding %d, model %d (Len %d)", s.enc, md.enc, s.Len())
				}
				if s.Len() != len(md.m) {
					t.Fatalf("Len %d, model %d", s.Len(), len(md.m))
				}
				got := s.Members()
				slices.Sort(got)
				if want := members(); !slices.Equal(got, want) {
					t.Fatalf("members %q, model %q", got, want)
				}
				var each []string
				s.ForEach(func(m []byte) bool { each = append(each, string(m)); return true })
				slices.Sort(each)
				if !slices.Equal(each, got) {
					t.Fatalf("ForEach %q, Members %q", each, got)
				}
				for m := range md.m {
					if !s.Contains([]byte(m)) {
						t.Fatalf("Contains(%q) false", m)
					}
				}
				if s.MemSize() != expectedSetSize(s) {
					t.Fatalf("MemSize %d, recomputed %d", s.MemSize(), expectedSetSize(s))
				}
				for i, c := range clones {
					got := c.s.Members()
					slices.Sort(got)
					if !slices.Equal(got, c.members) {
						t.Fatalf("clone %d changed with the original", i)
					}
				}
			},
		})
	})
}

// TestSetSmallReportsHashtable: the compact encoding is invisible to OBJECT
// ENCODING, as Redis 7.0 has no listpack sets.
func TestSetSmallReportsHashtable(t *testing.T) {
	s := NewSet()
	addAll(s, 512, "a", "b")
	if s.enc != setSmall || s.Encoding() != "hashtable" || s.IsIntset() {
		t.Errorf("enc %d reports %q", s.enc, s.Encoding())
	}
	addAll(s, 512, strings.Repeat("x", setSmallValue+1))
	if s.enc != setHashtable || s.Encoding() != "hashtable" {
		t.Errorf("after a long member: enc %d reports %q", s.enc, s.Encoding())
	}
}
