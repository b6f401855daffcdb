package store

import (
	"slices"
	"strings"
	"testing"
)

// hashOp is one step of a table-driven hash test: "set f v", "del f",
// "fit a b…" (FitArgs).
type hashOp struct {
	op   string
	args []string
}

func applyHashOps(h *Hash, ops []hashOp, maxEntries, maxValue int64) {
	for _, o := range ops {
		switch o.op {
		case "set":
			h.Set([]byte(o.args[0]), []byte(o.args[1]), maxEntries, maxValue)
		case "del":
			h.Delete([]byte(o.args[0]))
		case "fit":
			var bs [][]byte
			for _, a := range o.args {
				bs = append(bs, []byte(a))
			}
			h.FitArgs(bs, maxValue)
		}
	}
}

func hsetOp(f, v string) hashOp { return hashOp{"set", []string{f, v}} }
func hdelOp(f string) hashOp    { return hashOp{"del", []string{f}} }

func hashFields(h *Hash) string {
	var fs []string
	for _, p := range h.Pairs() {
		fs = append(fs, p.Field+"="+p.Value)
	}
	return strings.Join(fs, " ")
}

func TestHashListpackOrder(t *testing.T) {
	tests := []struct {
		name string
		ops  []hashOp
		want string
	}{
		{"insertion order", []hashOp{hsetOp("a", "1"), hsetOp("b", "2"), hsetOp("c", "3")}, "a=1 b=2 c=3"},
		{"overwrite in place", []hashOp{hsetOp("a", "1"), hsetOp("b", "2"), hsetOp("a", "9")}, "a=9 b=2"},
		{"delete closes the gap", []hashOp{hsetOp("a", "1"), hsetOp("b", "2"), hsetOp("c", "3"), hdelOp("b")}, "a=1 c=3"},
		{"re-added goes last", []hashOp{hsetOp("a", "1"), hsetOp("b", "2"), hdelOp("a"), hsetOp("a", "3")}, "b=2 a=3"},
		{"delete missing", []hashOp{hsetOp("a", "1"), hdelOp("x")}, "a=1"},
		{"empty field and value", []hashOp{hsetOp("", ""), hsetOp("x", "")}, "= x="},
		{"delete all", []hashOp{hsetOp("a", "1"), hdelOp("a")}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHash()
			applyHashOps(h, tc.ops, 128, 64)
			if got := hashFields(h); got != tc.want {
				t.Errorf("pairs %q, want %q", got, tc.want)
			}
			if h.Encoding() != "listpack" {
				t.Errorf("encoding %s, want listpack", h.Encoding())
			}
		})
	}
}

func TestHashConversion(t *testing.T) {
	long := strings.Repeat("x", 65)
	tests := []struct {
		name       string
		maxEntries int64
		maxValue   int64
		ops        []hashOp
		want       string
	}{
		{"at the entry limit", 3, 64, []hashOp{hsetOp("a", "1"), hsetOp("b", "2"), hsetOp("c", "3")}, "listpack"},
		{"over the entry limit", 3, 64, []hashOp{hsetOp("a", "1"), hsetOp("b", "2"), hsetOp("c", "3"), hsetOp("d", "4")}, "hashtable"},
		{"overwrite does not count", 1, 64, []hashOp{hsetOp("a", "1"), hsetOp("a", "2")}, "listpack"},
		{"zero entries", 0, 64, []hashOp{hsetOp("a", "1")}, "hashtable"},
		{"long value", 128, 64, []hashOp{hsetOp("a", long)}, "hashtable"},
		{"long field", 128, 64, []hashOp{hsetOp(long, "1")}, "hashtable"},
		{"value at the limit", 128, 65, []hashOp{hsetOp("a", long)}, "listpack"},
		{"never back", 1, 64, []hashOp{hsetOp("a", "1"), hsetOp("b", "2"), hdelOp("a"), hdelOp("b"), hsetOp("c", "3")}, "hashtable"},
		{"fit converts", 128, 64, []hashOp{hsetOp("a", "1"), {"fit", []string{"a", long}}}, "hashtable"},
		{"fit short stays", 128, 64, []hashOp{hsetOp("a", "1"), {"fit", []string{"a", "2"}}}, "listpack"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHash()
			applyHashOps(h, tc.ops, tc.maxEntries, tc.maxValue)
			if got := h.Encoding(); got != tc.want {
				t.Errorf("encoding %s, want %s", got, tc.want)
			}
		})
	}
}

func TestHashSetGetDelete(t *testing.T) {
	for _, enc := range []struct {
		name       string
		maxEntries int64
	}{{"listpack", 128}, {"hashtable", 0}} {
		t.Run(enc.name, func(t *testing.T) {
			h := NewHash()
			if !h.Set([]byte("f"), []byte("v"), enc.maxEntries, 64) {
				t.Error("first Set: created false")
			}
			if h.Set([]byte("f"), []byte("w"), enc.maxEntries, 64) {
				t.Error("overwrite: created true")
			}
			if v, ok := h.Get([]byte("f")); !ok || v != "w" {
				t.Errorf("Get = %q %v, want w true", v, ok)
			}
			if _, ok := h.Get([]byte("g")); ok {
				t.Error("Get of missing field: ok")
			}
			if !h.Exists([]byte("f")) || h.Exists([]byte("g")) {
				t.Error("Exists wrong")
			}
			if h.Encoding() != enc.name {
				t.Errorf("encoding %s, want %s", h.Encoding(), enc.name)
			}
			if !h.Delete([]byte("f")) || h.Delete([]byte("f")) || h.Len() != 0 {
				t.Error("Delete wrong")
			}
		})
	}
}

func TestHashMemSizeTracksContents(t *testing.T) {
	h := NewHash()
	empty := h.MemSize()
	h.Set([]byte("field"), []byte("value"), 128, 64)
	one := h.MemSize()
	if one <= empty+int64(len("fieldvalue"))-1 {
		t.Errorf("MemSize after one pair %d, empty %d", one, empty)
	}
	h.Set([]byte("field"), []byte(strings.Repeat("v", 40)), 128, 64)
	if got := h.MemSize(); got != one+35 {
		t.Errorf("MemSize after growing the value by 35 = %d, want %d", got, one+35)
	}
	h.Delete([]byte("field"))
	if got := h.MemSize(); got != empty {
		t.Errorf("MemSize after delete = %d, want %d", got, empty)
	}
}

func TestHashCloneIsIndependent(t *testing.T) {
	for _, maxEntries := range []int64{128, 1} {
		h := NewHash()
		h.Set([]byte("a"), []byte("1"), maxEntries, 64)
		h.Set([]byte("b"), []byte("2"), maxEntries, 64)
		c := h.Clone().(*Hash)
		h.Set([]byte("a"), []byte("changed"), maxEntries, 64)
		h.Delete([]byte("b"))
		if got := hashFields(c); got != "a=1 b=2" {
			t.Errorf("clone changed with the original: %q", got)
		}
		if c.Encoding() != h.Encoding() || c.MemSize() == h.MemSize() {
			t.Errorf("clone encoding %s (orig %s), sizes %d/%d", c.Encoding(), h.Encoding(), c.MemSize(), h.MemSize())
		}
		if v, ok := c.Get([]byte("b")); !ok || v != "2" {
			t.Errorf("clone Get b = %q %v", v, ok)
		}
	}
}

func TestHashScan(t *testing.T) {
	t.Run("listpack in one call", func(t *testing.T) {
		h := NewHash()
		for _, f := range []string{"c", "a", "b"} {
			h.Set([]byte(f), []byte("v"), 128, 64)
		}
		var got []string
		next := h.Scan(0, 1, func(p HashPair) { got = append(got, p.Field) })
		if next != 0 || strings.Join(got, "") != "cab" {
			t.Errorf("Scan = %v next %d, want [c a b] next 0", got, next)
		}
	})
	t.Run("hashtable walk survives deletes", func(t *testing.T) {
		h := NewHash()
		var all []string
		for i := 0; i < 50; i++ {
			f := string(rune('A' + i))
			all = append(all, f)
			h.Set([]byte(f), []byte("v"), 0, 64)
		}
		seen := map[string]bool{}
		var cursor uint64
		deleted := map[string]bool{}
		for round := 0; ; round++ {
			cursor = h.Scan(cursor, 7, func(p HashPair) { seen[p.Field] = true })
			// Delete a field that may or may not have been seen yet.
			victim := all[(round*13)%len(all)]
			if h.Delete([]byte(victim)) {
				deleted[victim] = true
			}
			if cursor == 0 {
				break
			}
			if round > 100 {
				t.Fatal("scan does not terminate")
			}
		}
		for _, f := range all {
			if !deleted[f] && !seen[f] {
				t.Errorf("field %s present throughout the walk was never returned", f)
			}
		}
	})
}

func TestHashInTransaction(t *testing.T) {
	s, _ := newTestStore(t, 1, 4)
	db := s.DB(0)
	k := bs("h")
	mk := func() Container { return NewHash() }
	err := db.Update([][]byte{k}, func(tx *Tx) error {
		c, err := tx.Container(k, KindHash, mk)
		if err != nil {
			return err
		}
		c.(*Hash).Set(bs("f"), bs("v"), 128, 64)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := int64(len("h")+entryOverhead) + NewHash().MemSize() + 2 + hashListpackPairMem
	if got := s.UsedBytes(); got != want {
		t.Errorf("UsedBytes = %d, want %d", got, want)
	}
	err = db.Update([][]byte{k}, func(tx *Tx) error {
		c, err := tx.Container(k, KindHash, nil)
		if err != nil {
			return err
		}
		c.(*Hash).Delete(bs("f"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if db.Len() != 0 || s.UsedBytes() != 0 {
		t.Errorf("emptied hash not deleted: Len %d, UsedBytes %d", db.Len(), s.UsedBytes())
	}
	var pairs []string
	_ = db.View([][]byte{k}, func(tx *Tx) error {
		c, _ := tx.ReadContainer(k, KindHash)
		if c != nil {
			for _, p := range c.(*Hash).Pairs() {
				pairs = append(pairs, p.Field)
			}
		}
		return nil
	})
	if !slices.Equal(pairs, nil) {
		t.Errorf("pairs after delete: %v", pairs)
	}
}
