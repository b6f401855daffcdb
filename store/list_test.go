package store

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func listOf(vals ...string) *List {
	l := NewList()
	for _, v := range vals {
		l.PushRight([]byte(v))
	}
	return l
}

func listStrings(l *List) []string {
	var out []string
	for _, e := range l.Elements() {
		out = append(out, string(e))
	}
	return out
}

func TestListOperations(t *testing.T) {
	cases := []struct {
		name string
		op   func(l *List) any
		in   []string
		want []string
		ret  any
	}{
		{"push left", func(l *List) any { l.PushLeft([]byte("z")); return nil }, []string{"a"}, []string{"z", "a"}, nil},
		{"pop left", func(l *List) any { v, _ := l.PopLeft(); return string(v) }, []string{"a", "b"}, []string{"b"}, "a"},
		{"pop right", func(l *List) any { v, _ := l.PopRight(); return string(v) }, []string{"a", "b"}, []string{"a"}, "b"},
		{"pop empty", func(l *List) any { _, ok := l.PopLeft(); return ok }, nil, nil, false},
		{"insert middle", func(l *List) any { l.Insert(2, []byte("x")); return nil }, []string{"a", "b", "c", "d"}, []string{"a", "b", "x", "c", "d"}, nil},
		{"insert near head", func(l *List) any { l.Insert(1, []byte("x")); return nil }, []string{"a", "b", "c", "d"}, []string{"a", "x", "b", "c", "d"}, nil},
		{"insert at end", func(l *List) any { l.Insert(2, []byte("x")); return nil }, []string{"a", "b"}, []string{"a", "b", "x"}, nil},
		{"set", func(l *List) any { l.Set(1, []byte("B")); return nil }, []string{"a", "b", "c"}, []string{"a", "B", "c"}, nil},
		{"remove all", func(l *List) any { return l.Remove(0, []byte("a")) }, []string{"a", "b", "a", "a"}, []string{"b"}, 3},
		{"remove head first", func(l *List) any { return l.Remove(2, []byte("a")) }, []string{"a", "b", "a", "a"}, []string{"b", "a"}, 2},
		{"remove tail first", func(l *List) any { return l.Remove(-2, []byte("a")) }, []string{"a", "b", "a", "a"}, []string{"a", "b"}, 2},
		{"remove none", func(l *List) any { return l.Remove(0, []byte("q")) }, []string{"a"}, []string{"a"}, 0},
		{"trim", func(l *List) any { l.Trim(1, 2); return nil }, []string{"a", "b", "c", "d"}, []string{"b", "c"}, nil},
		{"trim to empty", func(l *List) any { l.Trim(1, 0); return nil }, []string{"a", "b"}, nil, nil},
		{"index", func(l *List) any { return l.Index([]byte("c"), 0) }, []string{"a", "c", "c"}, []string{"a", "c", "c"}, 1},
		{"index from", func(l *List) any { return l.Index([]byte("c"), 2) }, []string{"a", "c", "c"}, []string{"a", "c", "c"}, 2},
		{"index missing", func(l *List) any { return l.Index([]byte("q"), 0) }, []string{"a"}, []string{"a"}, -1},
		{"binary", func(l *List) any { l.PushRight([]byte("\x00\r\n")); return nil }, []string{""}, []string{"", "\x00\r\n"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := listOf(tc.in...)
			ret := tc.op(l)
			if got := listStrings(l); !slices.Equal(got, tc.want) {
				t.Errorf("list %q, want %q", got, tc.want)
			}
			if fmt.Sprint(ret) != fmt.Sprint(tc.ret) {
				t.Errorf("returned %v, want %v", ret, tc.ret)
			}
			if l.Encoding() != "quicklist" {
				t.Errorf("encoding %q", l.Encoding())
			}
		})
	}
}

func TestListResolve(t *testing.T) {
	l := listOf("a", "b", "c", "d", "e")
	idx := []struct {
		in   int64
		want int
		ok   bool
	}{{0, 0, true}, {4, 4, true}, {5, 0, false}, {-1, 4, true}, {-5, 0, true}, {-6, 0, false}}
	for _, tc := range idx {
		got, ok := l.ResolveIndex(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ResolveIndex(%d) = %d %v, want %d %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	rng := []struct {
		start, stop int64
		from, to    int
		ok          bool
	}{
		{0, -1, 0, 4, true}, {1, 2, 1, 2, true}, {-2, -1, 3, 4, true}, {-100, 100, 0, 4, true},
		{3, 1, 0, 0, false}, {5, 10, 0, 0, false}, {-1, -3, 0, 0, false}, {0, -6, 0, 0, false},
	}
	for _, tc := range rng {
		from, to, ok := l.ResolveRange(tc.start, tc.stop)
		if ok != tc.ok || (ok && (from != tc.from || to != tc.to)) {
			t.Errorf("ResolveRange(%d, %d) = %d %d %v, want %d %d %v", tc.start, tc.stop, from, to, ok, tc.from, tc.to, tc.ok)
		}
	}
}

// TestListGrowShrink pushes and pops enough to wrap the ring and resize it
// both ways, checking order and the byte count.
func TestListGrowShrink(t *testing.T) {
	l := NewList()
	var model []string
	for i := 0; i < 1000; i++ {
		v := strings.Repeat("x", i%7) + fmt.Sprint(i)
		if i%3 == 0 {
			l.PushLeft([]byte(v))
			model = slices.Insert(model, 0, v)
		} else {
			l.PushRight([]byte(v))
			model = append(model, v)
		}
	}
	big := l.MemSize()
	for len(model) > 10 {
		v, _ := l.PopLeft()
		if string(v) != model[0] {
			t.Fatalf("PopLeft %q, want %q", v, model[0])
		}
		model = model[1:]
	}
	if !slices.Equal(listStrings(l), model) {
		t.Fatalf("after pops: %q, want %q", listStrings(l), model)
	}
	if l.MemSize() >= big || len(l.ring) > 64 {
		t.Errorf("did not shrink: MemSize %d (was %d), capacity %d", l.MemSize(), big, len(l.ring))
	}
	var want int64
	for _, v := range model {
		want += int64(len(v))
	}
	if l.bytes != want {
		t.Errorf("byte count %d, want %d", l.bytes, want)
	}
}

func TestListCopiesItsInput(t *testing.T) {
	in := []byte("abc")
	l := NewList()
	l.PushRight(in)
	l.Insert(0, in)
	l.Set(1, in)
	in[0] = 'X'
	if got := listStrings(l); !slices.Equal(got, []string{"abc", "abc"}) {
		t.Errorf("list shares the caller's bytes: %q", got)
	}
}

// TestReadyOnRenameCopyMove: moving a list onto a key tells the ready hook,
// in the destination's database.
func TestReadyOnRenameCopyMove(t *testing.T) {
	s, err := New(Options{Databases: 2, Shards: 4})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	s.SetReadyHook(func(db *DB, keys [][]byte) {
		for _, k := range keys {
			got = append(got, fmt.Sprintf("%d:%s", db.Index(), k))
		}
	})
	db0, db1 := s.DB(0), s.DB(1)
	mkList := func(db *DB, key string) {
		db.Update([][]byte{[]byte(key)}, func(tx *Tx) error {
			c, _ := tx.Container([]byte(key), KindList, func() Container { return NewList() })
			c.(*List).PushRight([]byte("v"))
			return nil
		})
	}
	mkList(db0, "a")
	db0.Update([][]byte{[]byte("a"), []byte("b")}, func(tx *Tx) error {
		_, err := tx.Rename([]byte("a"), []byte("b"), false)
		return err
	})
	db0.UpdateRefs([]KeyRef{{db0, []byte("b")}, {db1, []byte("c")}}, func(tx *Tx) error {
		_, err := tx.CopyTo(db1, []byte("b"), []byte("c"), false)
		return err
	})
	db0.UpdateRefs([]KeyRef{{db0, []byte("b")}, {db1, []byte("b")}}, func(tx *Tx) error {
		tx.MoveTo(db1, []byte("b"))
		return nil
	})
	db0.Update([][]byte{[]byte("s"), []byte("t")}, func(tx *Tx) error {
		tx.SetString([]byte("s"), []byte("x"), SetOptions{})
		_, err := tx.Rename([]byte("s"), []byte("t"), false)
		return err
	})
	want := []string{"0:b", "1:c", "1:b"}
	if !slices.Equal(got, want) {
		t.Errorf("ready keys %q, want %q", got, want)
	}
}

// TestListChurnKeepsValuesAndBoundsGarbage churns long lists in patterns
// that leave garbage in the chunks (LSET, LREM, pops from the end being
// appended to), checking after each round that the elements are right,
// that values popped or read earlier were not overwritten, and that the
// chunks hold no more than the repack threshold allows.
func TestListChurnKeepsValuesAndBoundsGarbage(t *testing.T) {
	elem := func(i int) []byte {
		return []byte(strings.Repeat(string(rune('a'+i%26)), 1+i%40) + fmt.Sprint(i))
	}
	cases := []struct {
		name   string
		rounds int
		churn  func(l *List, model *[]string, round int) []byte
	}{
		{"set", 20000, func(l *List, model *[]string, round int) []byte {
			i := (round * 7919) % l.Len()
			v := elem(round)
			l.Set(i, v)
			(*model)[i] = string(v)
			return l.At(i)
		}},
		{"lifo", 20000, func(l *List, model *[]string, round int) []byte {
			v := elem(round)
			l.PushLeft(v)
			l.PushLeft(v)
			*model = slices.Insert(*model, 0, string(v), string(v))
			p, _ := l.PopLeft()
			*model = (*model)[1:]
			return p
		}},
		{"remove", 6000, func(l *List, model *[]string, round int) []byte {
			// Nine copies of a junk value and one keeper in, the junk
			// removed again: chunks end up mostly garbage.
			junk := []byte(strings.Repeat("j", 40) + fmt.Sprint(round))
			for range 9 {
				l.PushRight(junk)
			}
			keep := fmt.Sprint(round)
			l.PushRight([]byte(keep))
			*model = append(*model, keep)
			l.Remove(-9, junk) // a miscount shows against the model
			return l.At(l.Len() - 1)
		}},
		{"big", 20000, func(l *List, model *[]string, round int) []byte {
			v := bytes.Repeat(elem(round), listBigElem/8)
			l.Set(round%l.Len(), v)
			(*model)[round%l.Len()] = string(v)
			return l.At(round % l.Len())
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := NewList()
			var model []string
			for i := 0; i < 5000; i++ {
				v := elem(i)
				if i%500 == 0 {
					// Some elements big enough for a chunk of their own.
					v = bytes.Repeat(v, listBigElem/len(v)+1)
				}
				l.PushRight(v)
				model = append(model, string(v))
			}
			type held struct {
				b    []byte
				want string
			}
			var kept []held
			for round := 0; round < c.rounds; round++ {
				if b := c.churn(l, &model, round); round%97 == 0 {
					kept = append(kept, held{b, string(b)})
				}
				if garbage := l.arena - l.bytes; garbage > l.bytes+2*listChunkMax+int64(l.n)*listEntrySize {
					t.Fatalf("round %d: %d bytes of garbage for %d live", round, garbage, l.bytes)
				}
			}
			if !slices.Equal(listStrings(l), model) {
				t.Fatalf("list differs from the model")
			}
			for _, h := range kept {
				if string(h.b) != h.want {
					t.Fatalf("a value handed out earlier changed: %q, was %q", h.b, h.want)
				}
			}
		})
	}
}
