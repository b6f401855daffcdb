package store

import (
	"bytes"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestListMatchesSliceModel runs random operation sequences on a List and
// on a plain slice and checks they always agree, including the MemSize
// running count.
func TestListMatchesSliceModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		l := NewList()
		var model [][]byte
		elem := rapid.SliceOfN(rapid.ByteRange('a', 'd'), 0, 3)
		pos := func(t *rapid.T, n int) int { return rapid.IntRange(0, n).Draw(t, "pos") }
		t.Repeat(map[string]func(*rapid.T){
			"pushLeft": func(t *rapid.T) {
				v := elem.Draw(t, "v")
				l.PushLeft(v)
				model = slices.Insert(model, 0, slices.Clone(v))
			},
			"pushRight": func(t *rapid.T) {
				v := elem.Draw(t, "v")
				l.PushRight(v)
				model = append(model, slices.Clone(v))
			},
			"popLeft": func(t *rapid.T) {
				v, ok := l.PopLeft()
				if ok != (len(model) > 0) {
					t.Fatalf("PopLeft ok=%v with %d elements", ok, len(model))
				}
				if ok {
					if !bytes.Equal(v, model[0]) {
						t.Fatalf("PopLeft %q, want %q", v, model[0])
					}
					model = model[1:]
				}
			},
			"popRight": func(t *rapid.T) {
				v, ok := l.PopRight()
				if ok != (len(model) > 0) {
					t.Fatalf("PopRight ok=%v with %d elements", ok, len(model))
				}
				if ok {
					if !bytes.Equal(v, model[len(model)-1]) {
						t.Fatalf("PopRight %q, want %q", v, model[len(model)-1])
					}
					model = model[:len(model)-1]
				}
			},
			"insert": func(t *rapid.T) {
				i := pos(t, len(model))
				v := elem.Draw(t, "v")
				l.Insert(i, v)
				model = slices.Insert(model, i, slices.Clone(v))
			},
			"set": func(t *rapid.T) {
				if len(model) == 0 {
					t.Skip("empty")
				}
				i := pos(t, len(model)-1)
				v := elem.Draw(t, "v")
				l.Set(i, v)
				model[i] = slices.Clone(v)
			},
			"remove": func(t *rapid.T) {
				count := rapid.Int64Range(-3, 3).Draw(t, "count")
				v := elem.Draw(t, "v")
				got := l.Remove(count, v)
				want := modelRemove(&model, count, v)
				if got != want {
					t.Fatalf("Remove(%d, %q) = %d, want %d", count, v, got, want)
				}
			},
			"trim": func(t *rapid.T) {
				start := rapid.Int64Range(-6, 6).Draw(t, "start")
				stop := rapid.Int64Range(-6, 6).Draw(t, "stop")
				from, to, ok := l.ResolveRange(start, stop)
				if !ok {
					l.Trim(1, 0)
					model = nil
					return
				}
				l.Trim(from, to)
				model = model[from : to+1]
			},
			"index": func(t *rapid.T) {
				idx := rapid.Int64Range(-8, 8).Draw(t, "idx")
				i, ok := l.ResolveIndex(idx)
				j := idx
				if j < 0 {
					j += int64(len(model))
				}
				wantOK := j >= 0 && j < int64(len(model))
				if ok != wantOK || (ok && (int64(i) != j || !bytes.Equal(l.At(i), model[j]))) {
					t.Fatalf("index %d: got %d %v", idx, i, ok)
				}
			},
			"find": func(t *rapid.T) {
				v := elem.Draw(t, "v")
				want := slices.IndexFunc(model, func(e []byte) bool { return bytes.Equal(e, v) })
				if got := l.Index(v, 0); got != want {
					t.Fatalf("Index(%q) = %d, want %d", v, got, want)
				}
			},
			"clone": func(t *rapid.T) {
				c := l.Clone().(*List)
				checkList(t, c, model)
				if c.Len() > 0 {
					c.Set(0, []byte("changed"))
				}
				checkList(t, l, model) // the original is untouched
			},
			"": func(t *rapid.T) { checkList(t, l, model) },
		})
	})
}

func checkList(t *rapid.T, l *List, model [][]byte) {
	if l.Len() != len(model) {
		t.Fatalf("Len %d, want %d", l.Len(), len(model))
	}
	var bytesWant int64
	for i, e := range model {
		bytesWant += int64(len(e))
		if !bytes.Equal(l.At(i), e) {
			t.Fatalf("element %d = %q, want %q", i, l.At(i), e)
		}
	}
	if l.bytes != bytesWant {
		t.Fatalf("byte count %d, want %d", l.bytes, bytesWant)
	}
	if len(l.buf) != 0 && (len(l.buf)&(len(l.buf)-1)) != 0 || len(l.buf) < l.n {
		t.Fatalf("capacity %d for %d elements", len(l.buf), l.n)
	}
}

// modelRemove is LREM on a slice.
func modelRemove(model *[][]byte, count int64, v []byte) int {
	m := *model
	drop := make([]bool, len(m))
	removed := 0
	if count >= 0 {
		for i := range m {
			if (count == 0 || int64(removed) < count) && bytes.Equal(m[i], v) {
				drop[i] = true
				removed++
			}
		}
	} else {
		for i := len(m) - 1; i >= 0; i-- {
			if int64(removed) < -count && bytes.Equal(m[i], v) {
				drop[i] = true
				removed++
			}
		}
	}
	var out [][]byte
	for i, e := range m {
		if !drop[i] {
			out = append(out, e)
		}
	}
	*model = out
	return removed
}
