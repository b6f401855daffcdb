package store

import (
	"slices"
	"strconv"
	"testing"
)

// expectedSetSize recomputes MemSize from scratch.
func expectedSetSize(s *Set) int64 {
	n := int64(setBaseSize)
	if s.IsIntset() {
		return n + int64(s.Len())*setIntSize
	}
	for _, m := range s.Members() {
		n += int64(len(m)) + setMemberExtra
	}
	return n
}

func addAll(s *Set, max int64, members ...string) int {
	added := 0
	for _, m := range members {
		if s.Add([]byte(m), max) {
			added++
		}
	}
	return added
}

func TestSetInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1", 1, true},
		{"-1", -1, true},
		{"9223372036854775807", 9223372036854775807, true},
		{"-9223372036854775808", -9223372036854775808, true},
		{"9223372036854775808", 0, false},
		{"-9223372036854775809", 0, false},
		{"99999999999999999999", 0, false},
		{"", 0, false},
		{"-", 0, false},
		{"-0", 0, false},
		{"+1", 0, false},
		{"01", 0, false},
		{"00", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"1.0", 0, false},
		{"1e3", 0, false},
		{"abc", 0, false},
		{"123456789012345678901", 0, false},
	}
	for _, tt := range tests {
		got, ok := setInt([]byte(tt.in))
		if ok != tt.ok || got != tt.want {
			t.Errorf("setInt(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSetEncodingTransitions(t *testing.T) {
	tests := []struct {
		name    string
		max     int64
		adds    []string
		removes []string
		enc     string
		members []string // in iteration order for intsets, sorted for hashtables
	}{
		{"ints sorted", 512, []string{"5", "-3", "10", "0"}, nil, "intset", []string{"-3", "0", "5", "10"}},
		{"duplicates", 512, []string{"2", "2", "1", "1"}, nil, "intset", []string{"1", "2"}},
		{"extremes", 512, []string{"9223372036854775807", "-9223372036854775808"}, nil, "intset",
			[]string{"-9223372036854775808", "9223372036854775807"}},
		{"non-int converts", 512, []string{"1", "a"}, nil, "hashtable", []string{"1", "a"}},
		{"non-canonical converts", 512, []string{"1", "01"}, nil, "hashtable", []string{"01", "1"}},
		{"minus zero", 512, []string{"-0"}, nil, "hashtable", []string{"-0"}},
		{"empty member", 512, []string{""}, nil, "hashtable", []string{""}},
		{"at the limit", 3, []string{"1", "2", "3"}, nil, "intset", []string{"1", "2", "3"}},
		{"over the limit", 3, []string{"1", "2", "3", "4"}, nil, "hashtable", []string{"1", "2", "3", "4"}},
		{"duplicate at the limit", 3, []string{"1", "2", "3", "3"}, nil, "intset", []string{"1", "2", "3"}},
		{"limit zero", 0, []string{"1"}, nil, "hashtable", []string{"1"}},
		{"never back", 512, []string{"1", "a"}, []string{"a"}, "hashtable", []string{"1"}},
		{"remove from intset", 512, []string{"1", "2", "3"}, []string{"2", "x", "02"}, "intset", []string{"1", "3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSet()
			addAll(s, tt.max, tt.adds...)
			for _, m := range tt.removes {
				s.Remove([]byte(m))
			}
			if got := s.Encoding(); got != tt.enc {
				t.Errorf("encoding %s, want %s", got, tt.enc)
			}
			got := s.Members()
			if tt.enc == "hashtable" {
				slices.Sort(got)
			}
			if !slices.Equal(got, tt.members) {
				t.Errorf("members %q, want %q", got, tt.members)
			}
			if s.Len() != len(tt.members) {
				t.Errorf("Len %d, want %d", s.Len(), len(tt.members))
			}
			if s.MemSize() != expectedSetSize(s) {
				t.Errorf("MemSize %d, want %d", s.MemSize(), expectedSetSize(s))
			}
		})
	}
}

func TestSetAddRemoveContains(t *testing.T) {
	for _, enc := range []string{"intset", "hashtable"} {
		s := NewSet()
		if enc == "hashtable" {
			s.Add([]byte("x"), 512)
			s.Remove([]byte("x"))
		}
		if got := addAll(s, 512, "3", "1", "2", "3"); got != 3 {
			t.Errorf("%s: added %d, want 3", enc, got)
		}
		for _, tc := range []struct {
			m    string
			want bool
		}{{"1", true}, {"3", true}, {"4", false}, {"01", false}, {"+1", false}, {"", false}} {
			if got := s.Contains([]byte(tc.m)); got != tc.want {
				t.Errorf("%s: Contains(%q) = %v", enc, tc.m, got)
			}
		}
		if s.Remove([]byte("4")) || s.Remove([]byte("01")) {
			t.Errorf("%s: removed a non-member", enc)
		}
		if !s.Remove([]byte("1")) || s.Contains([]byte("1")) || s.Len() != 2 {
			t.Errorf("%s: Remove(1) did not remove", enc)
		}
		if s.Encoding() != enc {
			t.Errorf("encoding %s, want %s", s.Encoding(), enc)
		}
	}
}

func TestSetCloneIsDeep(t *testing.T) {
	for _, members := range [][]string{{"1", "2"}, {"a", "b"}} {
		s := NewSet()
		addAll(s, 512, members...)
		c := s.Clone().(*Set)
		c.Add([]byte("9"), 512)
		c.Remove([]byte(members[0]))
		if s.Len() != 2 || !s.Contains([]byte(members[0])) || s.Contains([]byte("9")) {
			t.Errorf("%v: clone shares storage with the original", members)
		}
		if c.Encoding() != s.Encoding() || c.MemSize() != expectedSetSize(c) {
			t.Errorf("%v: clone encoding %s size %d", members, c.Encoding(), c.MemSize())
		}
	}
}

func TestSetPop(t *testing.T) {
	s := NewSet()
	addAll(s, 512, "a", "b", "c")
	seen := map[string]bool{}
	for s.Len() > 0 {
		m, ok := s.Pop()
		if !ok || seen[m] {
			t.Fatalf("Pop = %q, %v (seen %v)", m, ok, seen)
		}
		seen[m] = true
	}
	if len(seen) != 3 {
		t.Errorf("popped %v", seen)
	}
	if _, ok := s.Pop(); ok {
		t.Error("Pop on an empty set succeeded")
	}
	if _, ok := s.Random(); ok {
		t.Error("Random on an empty set succeeded")
	}
}

func TestSetPopN(t *testing.T) {
	tests := []struct {
		name    string
		members []string
		count   int
		encOut  string
	}{
		{"few popped from intset", []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}, 2, "intset"},
		{"most popped from intset", []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}, 9, "intset"},
		// Case 3 rebuilds the remaining members in a fresh set: integers
		// left behind by a hashtable make an intset again.
		{"most popped from int hashtable", []string{"x", "1", "2", "3", "4", "5", "6", "7"}, 7, ""},
		{"few popped from hashtable", []string{"a", "b", "c", "d", "e", "f", "g"}, 1, "hashtable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSet()
			addAll(s, 512, tt.members...)
			before := s.Members()
			var popped []string
			s.PopN(tt.count, 512, func(m string) { popped = append(popped, m) })
			if len(popped) != tt.count || s.Len() != len(tt.members)-tt.count {
				t.Fatalf("popped %d, left %d", len(popped), s.Len())
			}
			all := append(slices.Clone(popped), s.Members()...)
			slices.Sort(all)
			slices.Sort(before)
			if !slices.Equal(all, before) {
				t.Errorf("popped+left %q, want %q", all, before)
			}
			want := tt.encOut
			if want == "" {
				want = "hashtable"
				allInts := true
				for _, m := range s.Members() {
					if _, ok := setInt([]byte(m)); !ok {
						allInts = false
					}
				}
				if allInts {
					want = "intset"
				}
			}
			if s.Encoding() != want {
				t.Errorf("encoding %s, want %s", s.Encoding(), want)
			}
			if s.MemSize() != expectedSetSize(s) {
				t.Errorf("MemSize %d, want %d", s.MemSize(), expectedSetSize(s))
			}
		})
	}
}

func TestSetScanIntsetWhole(t *testing.T) {
	s := NewSet()
	addAll(s, 512, "3", "1", "2")
	for _, cursor := range []uint64{0, 1, 99} {
		var got []string
		next := s.Scan(cursor, 1, func(m []byte) { got = append(got, string(m)) })
		if next != 0 || !slices.Equal(got, []string{"1", "2", "3"}) {
			t.Errorf("Scan(%d) = %d, %q", cursor, next, got)
		}
	}
}

// TestSetScanGuarantee walks a hashtable while removing and adding members
// between calls: every member present for the whole walk must be returned.
func TestSetScanGuarantee(t *testing.T) {
	for _, count := range []int{1, 3, 7, 100} {
		s := NewSet()
		for i := range 50 {
			s.Add([]byte("m"+strconv.Itoa(i)), 512)
		}
		stable := map[string]bool{}
		for i := 10; i < 50; i++ {
			stable["m"+strconv.Itoa(i)] = true
		}
		seen := map[string]bool{}
		cursor, calls, removed, added := uint64(0), 0, 0, 0
		for {
			cursor = s.Scan(cursor, count, func(m []byte) { seen[string(m)] = true })
			calls++
			if removed < 10 {
				s.Remove([]byte("m" + strconv.Itoa(removed)))
				removed++
			}
			s.Add([]byte("new"+strconv.Itoa(added)), 512)
			added++
			if cursor == 0 || calls > 1000 {
				break
			}
		}
		if cursor != 0 {
			t.Fatalf("count %d: walk did not finish", count)
		}
		for m := range stable {
			if !seen[m] {
				t.Errorf("count %d: %s never returned", count, m)
			}
		}
	}
}

func TestSetScanCursorPastEnd(t *testing.T) {
	s := NewSet()
	addAll(s, 512, "a", "b", "c")
	var got []string
	next := s.Scan(1000, 10, func(m []byte) { got = append(got, string(m)) })
	slices.Sort(got)
	if next != 0 || !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("Scan(1000) = %d, %q", next, got)
	}
}

func TestSetForEachStops(t *testing.T) {
	for _, members := range [][]string{{"1", "2", "3"}, {"a", "b", "c"}} {
		s := NewSet()
		addAll(s, 512, members...)
		n := 0
		s.ForEach(func([]byte) bool { n++; return n < 2 })
		if n != 2 {
			t.Errorf("%v: ForEach visited %d after stop", members, n)
		}
	}
}
