package store

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// hashModel is the obvious reference: pairs in insertion order (what a
// listpack keeps), a sticky "converted" flag computed from Redis's rules.
type hashModel struct {
	fields    []string
	values    map[string]string
	converted bool
}

func (m *hashModel) set(f, v string, maxEntries, maxValue int64) bool {
	if int64(len(f)) > maxValue || int64(len(v)) > maxValue {
		m.converted = true
	}
	_, had := m.values[f]
	m.values[f] = v
	if !had {
		m.fields = append(m.fields, f)
		if int64(len(m.fields)) > maxEntries {
			m.converted = true
		}
	}
	return !had
}

func (m *hashModel) del(f string) bool {
	if _, had := m.values[f]; !had {
		return false
	}
	delete(m.values, f)
	m.fields = slices.DeleteFunc(m.fields, func(x string) bool { return x == f })
	return true
}

func TestHashMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		maxEntries := rapid.Int64Range(0, 12).Draw(t, "maxEntries")
		maxValue := rapid.Int64Range(1, 6).Draw(t, "maxValue")
		field := rapid.StringMatching(`[a-f]{0,3}`)
		value := rapid.StringMatching(`[0-9x]{0,7}`)
		h := NewHash()
		m := &hashModel{values: map[string]string{}}
		base := h.MemSize()
		t.Repeat(map[string]func(*rapid.T){
			"set": func(t *rapid.T) {
				f, v := field.Draw(t, "f"), value.Draw(t, "v")
				if got, want := h.Set([]byte(f), []byte(v), maxEntries, maxValue), m.set(f, v, maxEntries, maxValue); got != want {
					t.Fatalf("Set(%q,%q) created %v, model %v", f, v, got, want)
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
					t.Fatalf("Delete(%q) = %v, model %v", f, got, want)
				}
			},
			"get": func(t *rapid.T) {
				f := field.Draw(t, "f")
				got, ok := h.Get([]byte(f))
				want, wok := m.values[f]
				if ok != wok || got != want || h.Exists([]byte(f)) != wok {
					t.Fatalf("Get(%q) = %q %v, model %q %v", f, got, ok, want, wok)
				}
			},
			"scan": func(t *rapid.T) {
				count := rapid.IntRange(1, 5).Draw(t, "count")
				seen := map[string]int{}
				var cursor uint64
				for i := 0; ; i++ {
					cursor = h.Scan(cursor, count, func(p HashPair) { seen[p.Field]++ })
					if cursor == 0 {
						break
					}
					if i > len(m.fields)+1 {
						t.Fatalf("scan does not end")
					}
				}
				if len(seen) != len(m.fields) {
					t.Fatalf("scan saw %d fields, model has %d", len(seen), len(m.fields))
				}
			},
			"": func(t *rapid.T) {
				if h.Len() != len(m.fields) {
					t.Fatalf("Len %d, model %d", h.Len(), len(m.fields))
				}
				wantEnc := "listpack"
				if m.converted {
					wantEnc = "hashtable"
				}
				if h.Encoding() != wantEnc {
					t.Fatalf("encoding %s, model %s", h.Encoding(), wantEnc)
				}
				var got []string
				var bytes int64
				for _, p := range h.Pairs() {
					got = append(got, p.Field)
					bytes += int64(len(p.Field) + len(p.Value))
					if m.values[p.Field] != p.Value {
						t.Fatalf("field %q = %q, model %q", p.Field, p.Value, m.values[p.Field])
					}
				}
				if h.IsListpack() {
					// A listpack keeps insertion order exactly.
					if !slices.Equal(got, m.fields) {
						t.Fatalf("order %q, model %q", got, m.fields)
					}
				} else {
					slices.Sort(got)
					want := slices.Clone(m.fields)
					slices.Sort(want)
					if !slices.Equal(got, want) {
						t.Fatalf("fields %q, model %q", got, want)
					}
				}
				per := int64(hashListpackPairMem)
				if !h.IsListpack() {
					per = hashTablePairMem
				}
				if want := base + bytes + per*int64(h.Len()); h.MemSize() != want {
					t.Fatalf("MemSize %d, recomputed %d", h.MemSize(), want)
				}
			},
		})
	})
}
