package store

import (
	"bytes"
	"strings"
	"testing"
)

// TestStringLayout runs string edits that keep, grow, rebuild and move
// entries, with the inline form and with the boxed one (maxInline lowered),
// and checks values, TTLs and the shard invariants (the map and the TTL
// index share the inline key) after every step.
func TestStringLayout(t *testing.T) {
	type step struct {
		name string
		do   func(tx *Tx) error
		key  string // checked afterwards
		want string // "" with gone: the key must be missing
		gone bool
	}
	long := strings.Repeat("x", 300)
	steps := []step{
		{"set", func(tx *Tx) error { tx.SetString(bs("k"), bs("hello"), SetOptions{}); return nil }, "k", "hello", false},
		{"set with ttl", func(tx *Tx) error {
			tx.SetString(bs("t"), bs("v"), SetOptions{ExpireAt: testEpoch + 10_000})
			return nil
		}, "t", "v", false},
		{"overwrite in place", func(tx *Tx) error { tx.SetString(bs("k"), bs("HELLO"), SetOptions{}); return nil }, "k", "HELLO", false},
		{"overwrite larger keeps ttl", func(tx *Tx) error {
			tx.SetString(bs("t"), bs(long), SetOptions{KeepTTL: true})
			return nil
		}, "t", long, false},
		{"overwrite much smaller", func(tx *Tx) error {
			tx.SetString(bs("t"), bs("s"), SetOptions{KeepTTL: true})
			return nil
		}, "t", "s", false},
		{"append grows", func(tx *Tx) error { _, err := tx.AppendString(bs("k"), bs(" world")); return err }, "k", "HELLO world", false},
		{"append within room", func(tx *Tx) error { _, err := tx.AppendString(bs("k"), bs("!")); return err }, "k", "HELLO world!", false},
		{"setrange pads", func(tx *Tx) error { _, err := tx.SetRange(bs("t"), 3, bs("z")); return err }, "t", "s\x00\x00z", false},
		{"setrange inside", func(tx *Tx) error { _, err := tx.SetRange(bs("k"), 0, bs("j")); return err }, "k", "jELLO world!", false},
		{"grow for bits", func(tx *Tx) error {
			buf, _, err := tx.GrowString(bs("b"), 4)
			buf[3] = 'x'
			return err
		}, "b", "\x00\x00\x00x", false},
		{"grow existing for bits", func(tx *Tx) error { _, _, err := tx.GrowString(bs("b"), 6); return err }, "b", "\x00\x00\x00x\x00\x00", false},
		{"rename moves the key", func(tx *Tx) error { _, err := tx.Rename(bs("t"), bs("renamed"), false); return err }, "renamed", "s\x00\x00z", false},
		{"rename source gone", func(tx *Tx) error { return nil }, "t", "", true},
		{"copy", func(tx *Tx) error { _, err := tx.CopyTo(tx.DB(), bs("k"), bs("copy"), false); return err }, "copy", "jELLO world!", false},
		{"copy is independent", func(tx *Tx) error { _, err := tx.SetRange(bs("copy"), 0, bs("C")); return err }, "k", "jELLO world!", false},
		{"persist", func(tx *Tx) error { tx.Persist(bs("renamed")); return nil }, "renamed", "s\x00\x00z", false},
		{"empty key and value", func(tx *Tx) error { tx.SetString(nil, nil, SetOptions{}); return nil }, "", "", false},
	}
	for _, limit := range []int{maxInline, 8} {
		t.Run("maxInline="+itoa(limit), func(t *testing.T) {
			defer func(old int) { maxInline = old }(maxInline)
			maxInline = limit
			s, _ := newTestStore(t, 2, 1)
			db := s.DB(0)
			for _, st := range steps {
				keys := [][]byte{bs("k"), bs("t"), bs("b"), bs("renamed"), bs("copy"), bs("")}
				if err := db.Update(keys, st.do); err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				var got []byte
				var ok bool
				db.View([][]byte{bs(st.key)}, func(tx *Tx) error {
					v, found, _ := tx.PeekString(bs(st.key))
					got, ok = bytes.Clone(v), found
					return nil
				})
				if st.gone {
					if ok {
						t.Errorf("%s: %q still present", st.name, st.key)
					}
				} else if !ok || string(got) != st.want {
					t.Errorf("%s: %q = %q (present %v), want %q", st.name, st.key, got, ok, st.want)
				}
				checkInvariants(t, s)
			}
			db.View([][]byte{bs("renamed")}, func(tx *Tx) error {
				if _, at, _ := tx.Lookup(bs("renamed")); at != 0 {
					t.Errorf("renamed key kept expireAt %d after PERSIST", at)
				}
				return nil
			})
			// MOVE keeps the inline key; the entry moves as it is.
			db.UpdateRefs([]KeyRef{{db, bs("k")}, {s.DB(1), bs("k")}}, func(tx *Tx) error {
				if !tx.MoveTo(s.DB(1), bs("k")) {
					t.Error("MOVE failed")
				}
				return nil
			})
			checkInvariants(t, s)
		})
	}
}

// TestStringEntryIsOneAllocation: a new string key costs one allocation
// (the index growing by half now and then adds well under 0.01), and
// overwriting it costs none.
func TestStringEntryIsOneAllocation(t *testing.T) {
	s, _ := newTestStore(t, 1, 1)
	db := s.DB(0)
	key := make([]byte, 0, 16)
	val := bytes.Repeat([]byte("v"), 100)
	i := 0
	set := func() {
		db.Update([][]byte{key}, func(tx *Tx) error {
			tx.SetString(key, val, SetOptions{})
			return nil
		})
	}
	perNew := testing.AllocsPerRun(10_000, func() {
		i++
		key = append(key[:0], "key:"...)
		key = append(key, itoa(i)...)
		set()
	})
	if perNew > 1.01 {
		t.Errorf("a new string key costs %.2f allocations, want 1", perNew)
	}
	if perSet := testing.AllocsPerRun(1000, set); perSet != 0 {
		t.Errorf("overwriting a string costs %.2f allocations, want 0", perSet)
	}
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[n:])
		}
	}
}
