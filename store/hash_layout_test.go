package store

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"
)

// A hash in the store is its own entry (layout.go): the Hash is an entry
// header, and its block ends with the key. These tests drive hashes
// through the store's key operations and check contents, encodings, keys
// and the shard invariants after every step.

func newHashForTest() Container { return NewHash() }

// hsetIn sets field/value pairs on key's hash with limits maxEntries and
// maxValue, through SetPairs as HSET does.
func hsetIn(tx *Tx, key string, maxEntries, maxValue int64, pairs ...string) error {
	c, err := tx.Container(bs(key), KindHash, newHashForTest)
	if err != nil {
		return err
	}
	var args [][]byte
	for _, p := range pairs {
		args = append(args, bs(p))
	}
	c.(*Hash).SetPairs(args, maxEntries, maxValue)
	return nil
}

// hdelIn deletes fields from key's hash.
func hdelIn(tx *Tx, key string, fields ...string) error {
	c, err := tx.Container(bs(key), KindHash, nil)
	if err != nil || c == nil {
		return err
	}
	for _, f := range fields {
		c.(*Hash).Delete(bs(f))
	}
	return nil
}

// hashDump is "encoding: f=v f=v…" for key in db, "" when it is missing.
func hashDump(t *testing.T, db *DB, key string) string {
	t.Helper()
	var out string
	db.View([][]byte{bs(key)}, func(tx *Tx) error {
		c, err := tx.ReadContainer(bs(key), KindHash)
		if err != nil {
			t.Errorf("%q: %v", key, err)
		}
		if c != nil {
			out = c.Encoding() + ": " + hashFields(c.(*Hash))
		}
		return nil
	})
	return out
}

func TestHashLayoutInStore(t *testing.T) {
	long := strings.Repeat("x", 100)
	longKey := strings.Repeat("k", 300) // a two-byte length prefix
	var many []string                   // 130 pairs: a two-byte count
	for i := 0; i < 130; i++ {
		many = append(many, fmt.Sprintf("f%03d", i), "v")
	}
	var manyFields []string
	for i := 0; i < 130; i++ {
		manyFields = append(manyFields, fmt.Sprintf("f%03d=v", i))
	}
	manyWant := "listpack: " + strings.Join(manyFields, " ")
	type step struct {
		name string
		do   func(t *testing.T, tx *Tx) error
		db   int    // the database checked afterwards
		key  string // checked afterwards
		want string // hashDump; "" for a missing key
	}
	steps := []step{
		{"new hash", func(t *testing.T, tx *Tx) error { return hsetIn(tx, "h", 128, 64, "a", "1", "b", "2") },
			0, "h", "listpack: a=1 b=2"},
		{"strings outlive writes in the store", func(t *testing.T, tx *Tx) error {
			c, _ := tx.Container(bs("h"), KindHash, nil)
			h := c.(*Hash)
			v, _ := h.Get(bs("a"))
			h.Set(bs("a"), bs("ONE"), 128, 64)
			h.Delete(bs("b"))
			if v != "1" {
				t.Errorf("value read before the writes is now %q", v)
			}
			return nil
		}, 0, "h", "listpack: a=ONE"},
		{"emptied and refilled in one transaction", func(t *testing.T, tx *Tx) error {
			if err := hdelIn(tx, "h", "a"); err != nil {
				return err
			}
			if kind := tx.KindOf(bs("h")); kind != KindHash {
				t.Errorf("emptied hash reads as %v inside the transaction", kind)
			}
			return hsetIn(tx, "h", 128, 64, "c", "3")
		}, 0, "h", "listpack: c=3"},
		{"ttl", func(t *testing.T, tx *Tx) error {
			tx.SetExpireAt(bs("h"), testEpoch+60_000)
			return nil
		}, 0, "h", "listpack: c=3"},
		{"rename", func(t *testing.T, tx *Tx) error { _, err := tx.Rename(bs("h"), bs("renamed"), false); return err },
			0, "renamed", "listpack: c=3"},
		{"rename source gone", func(t *testing.T, tx *Tx) error { return nil }, 0, "h", ""},
		{"copy", func(t *testing.T, tx *Tx) error {
			_, err := tx.CopyTo(tx.DB(), bs("renamed"), bs("copy"), false)
			return err
		},
			0, "copy", "listpack: c=3"},
		{"copy written", func(t *testing.T, tx *Tx) error { return hsetIn(tx, "copy", 128, 64, "d", "4") },
			0, "copy", "listpack: c=3 d=4"},
		{"copy is independent", func(t *testing.T, tx *Tx) error { return nil }, 0, "renamed", "listpack: c=3"},
		{"copy to another database, same key", func(t *testing.T, tx *Tx) error {
			_, err := tx.CopyTo(tx.DB().store.DB(1), bs("copy"), bs("copy"), false)
			return err
		}, 1, "copy", "listpack: c=3 d=4"},
		{"convert", func(t *testing.T, tx *Tx) error { return hsetIn(tx, "copy", 128, 64, "e", long) },
			0, "copy", "hashtable: c=3 d=4 e=" + long},
		{"rename a hashtable", func(t *testing.T, tx *Tx) error { _, err := tx.Rename(bs("copy"), bs("table"), false); return err },
			0, "table", "hashtable: c=3 d=4 e=" + long},
		{"copy a hashtable", func(t *testing.T, tx *Tx) error {
			_, err := tx.CopyTo(tx.DB(), bs("table"), bs("table2"), false)
			return err
		},
			0, "table2", "hashtable: c=3 d=4 e=" + long},
		{"delete a hashtable to empty", func(t *testing.T, tx *Tx) error { return hdelIn(tx, "table2", "c", "d", "e") },
			0, "table2", ""},
		{"long key", func(t *testing.T, tx *Tx) error { return hsetIn(tx, longKey, 128, 64, "f", "v") },
			0, longKey, "listpack: f=v"},
		{"long key rewritten", func(t *testing.T, tx *Tx) error { return hsetIn(tx, longKey, 128, 64, "f", "w", "g", "x") },
			0, longKey, "listpack: f=w g=x"},
		{"over 127 pairs", func(t *testing.T, tx *Tx) error { return hsetIn(tx, "many", 200, 64, many...) },
			0, "many", manyWant},
		{"empty key", func(t *testing.T, tx *Tx) error { return hsetIn(tx, "", 128, 64, "f", "v") },
			0, "", "listpack: f=v"},
		{"empty key emptied", func(t *testing.T, tx *Tx) error { return hdelIn(tx, "", "f") }, 0, "", ""},
		{"delete", func(t *testing.T, tx *Tx) error { tx.Delete(bs("renamed")); return nil }, 0, "renamed", ""},
	}
	s, _ := newTestStore(t, 2, 2)
	db := s.DB(0)
	for _, st := range steps {
		keys := [][]byte{bs("h"), bs("renamed"), bs("copy"), bs("table"), bs("table2"), bs(longKey), bs("many"), bs("")}
		refs := make([]KeyRef, 0, len(keys)+1)
		for _, k := range keys {
			refs = append(refs, KeyRef{db, k})
		}
		refs = append(refs, KeyRef{s.DB(1), bs("copy")})
		if err := db.UpdateRefs(refs, func(tx *Tx) error { return st.do(t, tx) }); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := hashDump(t, s.DB(st.db), st.key); got != st.want {
			t.Errorf("%s: %q is %q, want %q", st.name, st.key, got, st.want)
		}
		checkInvariants(t, s)
	}
	db.View([][]byte{bs("table")}, func(tx *Tx) error {
		if _, at, _ := tx.Lookup(bs("table")); at != testEpoch+60_000 {
			t.Errorf("TTL after rename and copy: %d", at)
		}
		return nil
	})
}

// TestHashEntryCosts holds a small hash to its layout: a 32-byte header
// that is the entry, and allocations for a new hash, an overwrite and a
// read.
func TestHashEntryCosts(t *testing.T) {
	if got := unsafe.Sizeof(Hash{}); got != uintptr(entryHeader) {
		t.Errorf("Hash is %d bytes, want the entry header's %d", got, entryHeader)
	}
	s, _ := newTestStore(t, 1, 1)
	db := s.DB(0)
	key := make([]byte, 0, 16)
	i := 0
	args := benchHashArgs(10)
	create := func() {
		db.Update([][]byte{key}, func(tx *Tx) error {
			c, _ := tx.Container(key, KindHash, newHashForTest)
			c.(*Hash).SetPairs(args, 128, 64)
			return nil
		})
	}
	// The header, the empty hash's block holding the key, the block of
	// pairs; the index growing now and then adds well under 0.01.
	perNew := testing.AllocsPerRun(5000, func() {
		i++
		key = append(key[:0], "hash:"...)
		key = append(key, itoa(i)...)
		create()
	})
	if perNew > 3.01 {
		t.Errorf("a new 10-field hash costs %.2f allocations, want 3", perNew)
	}
	vals := [][]byte{bs("v1"), bs("v2")}
	j := 0
	perSet := testing.AllocsPerRun(1000, func() {
		j++
		db.Update([][]byte{key}, func(tx *Tx) error {
			c, _ := tx.Container(key, KindHash, nil)
			c.(*Hash).Set(bs("field:3"), vals[j&1], 128, 64)
			return nil
		})
	})
	if perSet != 1 {
		t.Errorf("overwriting a field costs %.2f allocations, want 1 (the new block)", perSet)
	}
	perGet := testing.AllocsPerRun(1000, func() {
		db.View([][]byte{key}, func(tx *Tx) error {
			c, _ := tx.ReadContainer(key, KindHash)
			c.(*Hash).Get(bs("field:3"))
			return nil
		})
	})
	if perGet != 0 {
		t.Errorf("reading a field costs %.2f allocations, want 0", perGet)
	}
}

// TestHashListpackByteLimit: a write that would take the listpack past
// hashMaxListpackBytes converts the hash first, whichever path writes.
func TestHashListpackByteLimit(t *testing.T) {
	defer func(old int) { hashMaxListpackBytes = old }(hashMaxListpackBytes)
	hashMaxListpackBytes = 20 // "a"/"123456789" is 11 bytes
	for _, tc := range []struct {
		name string
		ops  func(h *Hash)
		want string
	}{
		{"within", func(h *Hash) { h.Set(bs("a"), bs("123456789"), 128, 64) }, "listpack"},
		{"new field past it", func(h *Hash) {
			h.Set(bs("a"), bs("123456789"), 128, 64)
			h.Set(bs("b"), bs("123456789"), 128, 64)
		}, "hashtable"},
		{"overwrite past it", func(h *Hash) {
			h.Set(bs("a"), bs("1"), 128, 64)
			h.Set(bs("b"), bs("1"), 128, 64)
			h.Set(bs("a"), bs("12345678901234"), 128, 64)
		}, "hashtable"},
		{"pairs past it", func(h *Hash) {
			h.SetPairs([][]byte{bs("a"), bs("123456789"), bs("b"), bs("123456789")}, 128, 64)
		}, "hashtable"},
		{"pairs within", func(h *Hash) {
			h.SetPairs([][]byte{bs("a"), bs("1"), bs("b"), bs("2")}, 128, 64)
		}, "listpack"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHash()
			tc.ops(h)
			if got := h.Encoding(); got != tc.want {
				t.Errorf("encoding %s, want %s (%s)", got, tc.want, hashFields(h))
			}
			if h.IsListpack() && len(h.lp()) > hashMaxListpackBytes {
				t.Errorf("listpack of %d bytes", len(h.lp()))
			}
		})
	}
}

// TestHashCountAcrossWidths: the pair count lives in the header while under
// 255 and in the block from then on; Len stays right across the boundary,
// in a clone and in a copy made by the store.
func TestHashCountAcrossWidths(t *testing.T) {
	for _, n := range []int{1, 127, 128, 254, 255, 256, 300} {
		t.Run(itoa(n), func(t *testing.T) {
			s, _ := newTestStore(t, 1, 1)
			db := s.DB(0)
			var pairs []string
			for i := 0; i < n; i++ {
				pairs = append(pairs, "f"+itoa(i), "v")
			}
			lens := func(when string, want int) {
				t.Helper()
				db.View([][]byte{bs("h"), bs("c")}, func(tx *Tx) error {
					for _, k := range []string{"h", "c"} {
						c, _ := tx.ReadContainer(bs(k), KindHash)
						if got := c.Len(); got != want || c.Encoding() != "listpack" {
							t.Errorf("%s: %s has %d fields (%s), want %d", when, k, got, c.Encoding(), want)
						}
						if got := c.(*Hash).Clone().Len(); got != want {
							t.Errorf("%s: clone of %s has %d fields, want %d", when, k, got, want)
						}
					}
					return nil
				})
			}
			db.Update([][]byte{bs("h"), bs("c")}, func(tx *Tx) error {
				if err := hsetIn(tx, "h", 1000, 64, pairs...); err != nil {
					return err
				}
				_, err := tx.CopyTo(tx.DB(), bs("h"), bs("c"), false)
				return err
			})
			lens("set", n)
			db.Update([][]byte{bs("h"), bs("c")}, func(tx *Tx) error {
				hdelIn(tx, "h", "f0")
				return hdelIn(tx, "c", "f0")
			})
			if n > 1 {
				lens("after a delete", n-1)
			}
			checkInvariants(t, s)
		})
	}
}
