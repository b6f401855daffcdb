package store

import (
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestHashListpackLongStrings drives the model with fields and values long
// enough for two-byte length prefixes (up to 300 bytes against a limit of
// 200 or 400), across the conversion boundary, and checks every pair, the
// order, At and Clone after each step.
func TestHashListpackLongStrings(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		maxEntries := rapid.Int64Range(0, 8).Draw(t, "maxEntries")
		maxValue := rapid.SampledFrom([]int64{200, 400}).Draw(t, "maxValue")
		field := rapid.Custom(func(t *rapid.T) string {
			return strings.Repeat(rapid.StringMatching(`[a-c]`).Draw(t, "c"), rapid.SampledFrom([]int{0, 1, 127, 128, 250}).Draw(t, "n"))
		})
		value := rapid.Custom(func(t *rapid.T) string {
			return strings.Repeat("v", rapid.IntRange(0, 300).Draw(t, "n"))
		})
		h := NewHash()
		m := &hashModel{values: map[string]string{}}
		var clones []*Hash
		var cloneWant []map[string]string
		t.Repeat(map[string]func(*rapid.T){
			"set": func(t *rapid.T) {
				f, v := field.Draw(t, "f"), value.Draw(t, "v")
				if got, want := h.Set([]byte(f), []byte(v), maxEntries, maxValue), m.set(f, v, maxEntries, maxValue); got != want {
					t.Fatalf("Set created %v, model %v", got, want)
				}
			},
			"setpairs": func(t *rapid.T) {
				// Several pairs in one call (HSET), a field possibly repeated.
				var args [][]byte
				want := 0
				for i := rapid.IntRange(1, 4).Draw(t, "pairs"); i > 0; i-- {
					f, v := field.Draw(t, "f"), value.Draw(t, "v")
					args = append(args, []byte(f), []byte(v))
					if m.set(f, v, maxEntries, maxValue) {
						want++
					}
				}
				if got := h.SetPairs(args, maxEntries, maxValue); got != want {
					t.Fatalf("SetPairs created %d, model %d", got, want)
				}
			},
			"del": func(t *rapid.T) {
				f := field.Draw(t, "f")
				if got, want := h.Delete([]byte(f)), m.del(f); got != want {
					t.Fatalf("Delete = %v, model %v", got, want)
				}
			},
			"clone": func(t *rapid.T) {
				clones = append(clones, h.Clone().(*Hash))
				want := make(map[string]string, len(m.values))
				for k, v := range m.values {
					want[k] = v
				}
				cloneWant = append(cloneWant, want)
			},
			"": func(t *rapid.T) {
				if h.Len() != len(m.fields) {
					t.Fatalf("Len %d, model %d", h.Len(), len(m.fields))
				}
				if m.converted == h.IsListpack() {
					t.Fatalf("encoding %s, model converted %v", h.Encoding(), m.converted)
				}
				var got []string
				for i := 0; i < h.Len(); i++ {
					p := h.At(i)
					if v, ok := h.Get([]byte(p.Field)); !ok || v != p.Value || m.values[p.Field] != v {
						t.Fatalf("At(%d) = %q…, Get %v, model %v", i, p.Field, ok, m.values[p.Field] == v)
					}
					got = append(got, p.Field)
				}
				if h.IsListpack() && !slices.Equal(got, m.fields) {
					t.Fatalf("order %q, model %q", got, m.fields)
				}
				for i, c := range clones {
					if c.Len() != len(cloneWant[i]) {
						t.Fatalf("clone %d: Len %d, want %d", i, c.Len(), len(cloneWant[i]))
					}
					c.ForEach(func(f, v string) {
						if cloneWant[i][f] != v {
							t.Fatalf("clone %d changed with the original", i)
						}
					})
				}
			},
		})
	})
}

// TestHashStringsOutliveWrites: what Get, At and Pairs return is not
// changed by later writes to the hash (the listpack string is immutable).
func TestHashStringsOutliveWrites(t *testing.T) {
	h := NewHash()
	h.Set(bs("a"), bs("one"), 128, 64)
	h.Set(bs("b"), bs("two"), 128, 64)
	v, _ := h.Get(bs("a"))
	p := h.At(1)
	pairs := h.Pairs()
	h.Set(bs("a"), bs("ONE"), 128, 64)
	h.Set(bs("b"), bs("TWO"), 128, 64)
	h.Delete(bs("a"))
	h.Set(bs("c"), bs("three"), 128, 64)
	if v != "one" || p != (HashPair{"b", "two"}) || !slices.Equal(pairs, []HashPair{{"a", "one"}, {"b", "two"}}) {
		t.Errorf("strings changed by later writes: %q %v %v", v, p, pairs)
	}
	if got := h.Pairs(); !slices.Equal(got, []HashPair{{"b", "TWO"}, {"c", "three"}}) {
		t.Errorf("pairs %v", got)
	}
}

// TestHashListpackMemSize: a listpack's MemSize counts its length prefixes,
// one byte each below 128 bytes, two from 128 (the accounting the hashtable
// formula gives for short strings).
func TestHashListpackMemSize(t *testing.T) {
	for _, tc := range []struct {
		f, v int
		want int64
	}{
		{1, 1, hashBase + 2 + hashListpackPairMem},
		{7, 10, hashBase + 17 + hashListpackPairMem},
		{127, 0, hashBase + 127 + hashListpackPairMem},
		{128, 0, hashBase + 128 + hashListpackPairMem + 1},
		{200, 300, hashBase + 500 + hashListpackPairMem + 2},
	} {
		h := NewHash()
		h.Set([]byte(strings.Repeat("f", tc.f)), []byte(strings.Repeat("v", tc.v)), 128, 1000)
		if got := h.MemSize(); got != tc.want || !h.IsListpack() {
			t.Errorf("%d/%d: MemSize %d, want %d (%s)", tc.f, tc.v, got, tc.want, h.Encoding())
		}
		h.Delete([]byte(strings.Repeat("f", tc.f)))
		if got := h.MemSize(); got != hashBase || h.Len() != 0 {
			t.Errorf("%d/%d: emptied MemSize %d, Len %d", tc.f, tc.v, got, h.Len())
		}
	}
}
