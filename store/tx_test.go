package store

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestLazyExpiry: an expired key reads as missing from every accessor, and
// the access reclaims it and counts it in expired_keys — a write transaction
// at once, a read transaction right after it releases its read locks.
func TestLazyExpiry(t *testing.T) {
	reads := []struct {
		name string
		read func(tx *Tx, k []byte) bool // reports whether the key was seen
	}{
		{"GetString", func(tx *Tx, k []byte) bool { _, ok, _ := tx.GetString(k); return ok }},
		{"PeekString", func(tx *Tx, k []byte) bool { _, ok, _ := tx.PeekString(k); return ok }},
		{"KindOf", func(tx *Tx, k []byte) bool { return tx.KindOf(k) != KindNone }},
		{"Exists", func(tx *Tx, k []byte) bool { return tx.Exists(k) }},
		{"Lookup", func(tx *Tx, k []byte) bool { _, _, ok := tx.Lookup(k); return ok }},
		{"Touch", func(tx *Tx, k []byte) bool { return tx.Touch(k) }},
		{"ExpireAt", func(tx *Tx, k []byte) bool { _, ok := tx.ExpireAt(k); return ok }},
		{"Object", func(tx *Tx, k []byte) bool { _, ok := tx.Object(k); return ok }},
		{"Item", func(tx *Tx, k []byte) bool { _, ok := tx.Item(k); return ok }},
	}
	for _, rd := range reads {
		for _, write := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/write=%v", rd.name, write), func(t *testing.T) {
				s, clk := newTestStore(t, 1, 4)
				db := s.DB(0)
				k := bs("k")
				set(t, db, "k", "v", clk.NowMs()+100)
				run := db.View
				if write {
					run = db.Update
				}
				var seen bool
				run([][]byte{k}, func(tx *Tx) error { seen = rd.read(tx, k); return nil })
				if !seen {
					t.Fatal("live key not seen")
				}
				clk.Advance(100 * time.Millisecond) // expireAt == now: expired
				run([][]byte{k}, func(tx *Tx) error { seen = rd.read(tx, k); return nil })
				if seen {
					t.Fatal("expired key seen")
				}
				wantLen, wantExpired := 0, int64(1)
				if got := db.Len(); got != wantLen {
					t.Errorf("Len = %d, want %d", got, wantLen)
				}
				if got := s.Stats().ExpiredKeys; got != wantExpired {
					t.Errorf("ExpiredKeys = %d, want %d", got, wantExpired)
				}
				checkInvariants(t, s)
			})
		}
	}
}

// TestWholeDBWalksSkipExpired: Keys, ForEach, Scan and RandomKey never
// return an expired key, even before it is reclaimed.
func TestWholeDBWalksSkipExpired(t *testing.T) {
	s, clk := newTestStore(t, 1, 8)
	db := s.DB(0)
	for i := 0; i < 50; i++ {
		set(t, db, fmt.Sprint("dead", i), "v", clk.NowMs()+10)
	}
	set(t, db, "alive", "v", 0)
	clk.Advance(time.Second)
	walks := map[string]func() []string{
		"Keys": func() (out []string) {
			db.Keys(func(k string, _ Kind) { out = append(out, k) })
			return
		},
		"ForEach": func() (out []string) {
			db.ForEach(func(it Item) { out = append(out, it.Key) })
			return
		},
		"Scan": func() (out []string) {
			var cur uint64
			for {
				cur = db.Scan(cur, 3, func(k string, _ Kind) { out = append(out, k) })
				if cur == 0 {
					return
				}
			}
		},
		"RandomKey": func() (out []string) {
			for i := 0; i < 20; i++ {
				k, ok := db.RandomKey()
				if !ok {
					t.Fatal("RandomKey found nothing")
				}
				out = append(out, k)
			}
			return
		},
	}
	for name, walk := range walks {
		for _, k := range walk() {
			if k != "alive" {
				t.Errorf("%s returned %q", name, k)
			}
		}
	}
	if got := db.Len(); got != 51 {
		t.Errorf("Len = %d: walks must not reclaim (DBSIZE counts unreclaimed keys)", got)
	}
}

// TestLockOrderNoDeadlock runs multi-key updates naming the same keys in
// opposite orders, across two databases too, alongside SwapDB and whole-db
// walks. Locks taken in (db, shard) order make this finish.
func TestLockOrderNoDeadlock(t *testing.T) {
	s, _ := newTestStore(t, 2, 4)
	db0, db1 := s.DB(0), s.DB(1)
	keys := make([][]byte, 16)
	for i := range keys {
		keys[i] = bs(fmt.Sprint("key", i))
	}
	reversed := make([][]byte, len(keys))
	for i, k := range keys {
		reversed[len(keys)-1-i] = k
	}
	const rounds = 2000
	var wg sync.WaitGroup
	worker := func(fn func(i int)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				fn(i)
			}
		}()
	}
	worker(func(i int) {
		db0.Update(keys, func(tx *Tx) error {
			for _, k := range keys {
				tx.AppendString(k, bs("a"))
			}
			return nil
		})
	})
	worker(func(i int) {
		db0.Update(reversed, func(tx *Tx) error {
			for _, k := range reversed {
				tx.Delete(k)
			}
			return nil
		})
	})
	worker(func(i int) {
		a, b := keys[i%16], keys[(i*7+3)%16]
		db0.Update([][]byte{b, a}, func(tx *Tx) error {
			tx.SetString(a, bs("x"), SetOptions{})
			tx.Rename(a, b, false)
			return nil
		})
	})
	worker(func(i int) {
		k := keys[i%16]
		db1.UpdateRefs([]KeyRef{{db1, k}, {db0, k}}, func(tx *Tx) error {
			tx.SetString(k, bs("y"), SetOptions{})
			tx.MoveTo(db0, k)
			return nil
		})
	})
	worker(func(i int) {
		k := keys[(i+5)%16]
		db0.UpdateRefs([]KeyRef{{db1, k}, {db0, k}}, func(tx *Tx) error {
			_, err := tx.CopyTo(db1, k, k, true)
			return err
		})
	})
	worker(func(i int) {
		db1.View(reversed, func(tx *Tx) error {
			for _, k := range reversed {
				tx.GetString(k)
			}
			return nil
		})
	})
	worker(func(i int) {
		if i%20 == 0 {
			s.SwapDB(1-i%2, i%2)
		}
		db0.Len()
	})
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("deadlock: concurrent multi-key updates did not finish")
	}
	checkInvariants(t, s)
}

func TestTxGuards(t *testing.T) {
	s, _ := newTestStore(t, 1, 64)
	db := s.DB(0)
	mustPanic := func(name string, fn func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s did not panic", name)
			}
		}()
		fn()
	}
	mustPanic("mutation in View", func() {
		db.View([][]byte{bs("k")}, func(tx *Tx) error { tx.Delete(bs("k")); return nil })
	})
	// Find a key in another shard than "k".
	other := ""
	for i := 0; ; i++ {
		if o := fmt.Sprint("o", i); db.shardOf(bs(o)) != db.shardOf(bs("k")) {
			other = o
			break
		}
	}
	mustPanic("key outside the locked set", func() {
		db.Update([][]byte{bs("k")}, func(tx *Tx) error { tx.Exists(bs(other)); return nil })
	})
	// Locks are released after a panic in fn.
	mustPanic("panicking fn", func() {
		db.Update([][]byte{bs("k")}, func(tx *Tx) error { panic("boom") })
	})
	done := make(chan struct{})
	go func() {
		db.Update([][]byte{bs("k")}, func(tx *Tx) error { return nil })
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("lock still held after a panicking transaction")
	}
	var dirty bool
	db.Update([][]byte{bs("k")}, func(tx *Tx) error {
		tx.Exists(bs("k"))
		dirty = tx.Dirty()
		return nil
	})
	if dirty {
		t.Error("a read-only Update is dirty")
	}
	db.Update([][]byte{bs("k")}, func(tx *Tx) error {
		tx.SetString(bs("k"), bs("v"), SetOptions{})
		dirty = tx.Dirty()
		return nil
	})
	if !dirty {
		t.Error("a writing Update is not dirty")
	}
}

func TestUpdateReturnsFnError(t *testing.T) {
	s, _ := newTestStore(t, 1, 4)
	want := fmt.Errorf("handler failed")
	if got := s.DB(0).Update([][]byte{bs("k")}, func(tx *Tx) error { return want }); got != want {
		t.Errorf("Update returned %v, want %v", got, want)
	}
	if got := s.DB(0).View(nil, func(tx *Tx) error { return want }); got != want {
		t.Errorf("View returned %v, want %v", got, want)
	}
}
