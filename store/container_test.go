package store

import "testing"

// fakeList is the smallest Container, enough to test the settling rules.
type fakeList struct{ items [][]byte }

func (f *fakeList) Len() int { return len(f.items) }
func (f *fakeList) MemSize() int64 {
	var n int64
	for _, it := range f.items {
		n += int64(len(it)) + 24
	}
	return n
}
func (f *fakeList) Encoding() string { return "quicklist" }
func (f *fakeList) Clone() Container {
	c := &fakeList{}
	for _, it := range f.items {
		c.items = append(c.items, append([]byte(nil), it...))
	}
	return c
}

func newFake() Container { return &fakeList{} }

func TestContainerSettling(t *testing.T) {
	s, _ := newTestStore(t, 2, 4)
	db := s.DB(0)
	k := bs("list")
	push := func(vals ...string) {
		t.Helper()
		err := db.Update([][]byte{k}, func(tx *Tx) error {
			c, err := tx.Container(k, KindList, newFake)
			if err != nil {
				return err
			}
			for _, v := range vals {
				c.(*fakeList).items = append(c.(*fakeList).items, []byte(v))
			}
			tx.MarkReady(k)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var readyKeys []string
	s.SetReadyHook(func(_ *DB, keys [][]byte) {
		for _, k := range keys {
			readyKeys = append(readyKeys, string(k))
		}
	})

	push("a", "bb")
	want := int64(len("list")+entryOverhead) + (1 + 24) + (2 + 24)
	if got := s.UsedBytes(); got != want {
		t.Fatalf("UsedBytes after push = %d, want %d", got, want)
	}
	if len(readyKeys) != 1 || readyKeys[0] != "list" {
		t.Fatalf("ready hook heard %q, want [list]", readyKeys)
	}
	db.View([][]byte{k}, func(tx *Tx) error {
		if tx.KindOf(k) != KindList {
			t.Errorf("KindOf = %v, want list", tx.KindOf(k))
		}
		if _, _, err := tx.GetString(k); err != ErrWrongType {
			t.Errorf("GetString on a list = %v, want ErrWrongType", err)
		}
		return nil
	})
	// A container emptied inside a transaction is deleted with its key.
	db.Update([][]byte{k}, func(tx *Tx) error {
		c, _ := tx.Container(k, KindList, nil)
		c.(*fakeList).items = nil
		return nil
	})
	if db.Len() != 0 || s.UsedBytes() != 0 {
		t.Fatalf("after emptying: Len = %d, UsedBytes = %d, want 0 and 0", db.Len(), s.UsedBytes())
	}
	// Missing key without create: nil, no key made.
	db.Update([][]byte{k}, func(tx *Tx) error {
		if c, err := tx.Container(k, KindList, nil); c != nil || err != nil {
			t.Errorf("Container on missing key = %v, %v; want nil, nil", c, err)
		}
		return nil
	})
	// Wrong kind.
	set(t, db, "str", "v", 0)
	db.Update([][]byte{bs("str")}, func(tx *Tx) error {
		if _, err := tx.Container(bs("str"), KindList, newFake); err != ErrWrongType {
			t.Errorf("Container on a string = %v, want ErrWrongType", err)
		}
		return nil
	})
	// COPY deep-copies a container.
	push("x")
	db.UpdateRefs([]KeyRef{{db, k}, {s.DB(1), k}}, func(tx *Tx) error {
		if ok, err := tx.CopyTo(s.DB(1), k, k, false); !ok || err != nil {
			t.Fatalf("CopyTo = %v, %v", ok, err)
		}
		return nil
	})
	db.Update([][]byte{k}, func(tx *Tx) error {
		c, _ := tx.Container(k, KindList, nil)
		c.(*fakeList).items[0][0] = 'y'
		return nil
	})
	s.DB(1).View([][]byte{k}, func(tx *Tx) error {
		c, _ := tx.ReadContainer(k, KindList)
		if got := string(c.(*fakeList).items[0]); got != "x" {
			t.Errorf("copy changed with its source: %q", got)
		}
		return nil
	})
}
