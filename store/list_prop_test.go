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
			"pushBig": func(t *rapid.T) {
				// Around the size that gets a chunk of its own.
				n := rapid.IntRange(listBigElem-1, listBigElem+1).Draw(t, "n")
				v := bytes.Repeat([]byte{rapid.ByteRange('a', 'd').Draw(t, "b")}, n)
				l.PushRight(v)
				model = append(model, v)
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
	if len(l.ring) != 0 && (len(l.ring)&(len(l.ring)-1)) != 0 || len(l.ring) < l.n {
		t.Fatalf("capacity %d for %d elements", len(l.ring), l.n)
	}
	checkListChunks(t, l)
}

// checkListChunks checks the chunk bookkeeping against the entries: each
// chunk's live count is the bytes of the entries in it, no entry points at
// a dropped chunk, and the arena size is the sum of the held chunks.
func checkListChunks(t *rapid.T, l *List) {
	live := make([]int, len(l.chunks))
	for i := 0; i < l.n; i++ {
		e := l.ring[l.slot(i)]
		if e.chunk < 0 {
			if e.n != 0 {
				t.Fatalf("element %d: %d bytes without a chunk", i, e.n)
			}
			continue
		}
		if l.chunks[e.chunk] == nil {
			t.Fatalf("element %d in dropped chunk %d", i, e.chunk)
		}
		live[e.chunk] += e.n
	}
	var arena int64
	for id, c := range l.chunks {
		if live[id] != l.live[id] {
			t.Fatalf("chunk %d: live %d, want %d", id, l.live[id], live[id])
		}
		if c != nil {
			arena += int64(cap(c))
		}
	}
	if arena != l.arena {
		t.Fatalf("arena %d, want %d", l.arena, arena)
	}
	if l.hasCur && l.chunks[l.cur] == nil {
		t.Fatalf("current chunk %d was dropped", l.cur)
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
