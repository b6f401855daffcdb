package store

import (
	"testing"
	"time"
)

// TestWriteLookupsTouch checks the access clock updates of write commands,
// as Redis's lookupKeyWrite and dbSetValue make them: a write to an
// existing container touches it (unless NO-TOUCH); a string replaced by SET
// gets a fresh LRU clock even under NO-TOUCH (Redis stores a new object) but
// keeps its LFU counter untouched under NO-TOUCH.
func TestWriteLookupsTouch(t *testing.T) {
	s, clk := newEvictStore(t, 1, 1)
	db := s.DB(0)
	info := func(key string) ObjectInfo {
		var oi ObjectInfo
		k := []byte(key)
		db.View([][]byte{k}, func(tx *Tx) error { oi, _ = tx.Object(k); return nil })
		return oi
	}
	write := func(key string, noTouch bool, fn func(tx *Tx, k []byte)) {
		k := []byte(key)
		if err := db.Update([][]byte{k}, func(tx *Tx) error {
			if noTouch {
				tx.NoTouch()
			}
			fn(tx, k)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	hashWrite := func(tx *Tx, k []byte) {
		c, err := tx.Container(k, KindHash, func() Container { return NewHash() })
		if err != nil || c == nil {
			t.Fatalf("Container: %v, %v", c, err)
		}
		c.(*Hash).Set([]byte("f"), []byte("v"), 128, 64) // not left empty
	}
	setWrite := func(tx *Tx, k []byte) { tx.SetString(k, []byte("new value"), SetOptions{}) }

	// LRU: idle times.
	write("h", false, hashWrite)
	setKey(t, db, "s", 0)
	for _, tc := range []struct {
		key     string
		noTouch bool
		fn      func(tx *Tx, k []byte)
		idle    int64
	}{
		{"h", true, hashWrite, 10}, // NO-TOUCH: the clock stays
		{"h", false, hashWrite, 0}, // a write lookup touches
		{"s", true, setWrite, 0},   // a new value, a new clock
		{"s", false, setWrite, 0},
	} {
		clk.Advance(10 * time.Second)
		before := info(tc.key).IdleSeconds
		write(tc.key, tc.noTouch, tc.fn)
		if got := info(tc.key).IdleSeconds; got != tc.idle {
			t.Errorf("LRU %s (no-touch %v): idle %d → %d, want %d", tc.key, tc.noTouch, before, got, tc.idle)
		}
	}

	// LFU: a counter at LFU_INIT_VAL grows by one on every access that
	// counts (the probability is 1 below LFU_INIT_VAL+1).
	s.SetEviction(&EvictionConfig{Policy: AllKeysLFU, LFULogFactor: 10, LFUDecayTime: 1})
	db.Update([][]byte{[]byte("h2")}, func(tx *Tx) error { hashWrite(tx, []byte("h2")); return nil })
	setKey(t, db, "s2", 0)
	for _, tc := range []struct {
		key     string
		noTouch bool
		fn      func(tx *Tx, k []byte)
		delta   int
	}{
		{"h2", true, hashWrite, 0},
		{"s2", true, setWrite, 0},
		{"h2", false, hashWrite, 1},
		{"s2", false, setWrite, 1},
	} {
		before := info(tc.key).Freq
		write(tc.key, tc.noTouch, tc.fn)
		if got := info(tc.key).Freq; got != before+tc.delta {
			t.Errorf("LFU %s (no-touch %v): freq %d → %d, want +%d", tc.key, tc.noTouch, before, got, tc.delta)
		}
	}
}
