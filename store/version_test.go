package store

import "testing"

func TestWatchChanged(t *testing.T) {
	clk := &fakeWatchClock{ms: 1_000_000}
	s, err := New(Options{Databases: 2, Shards: 4, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	db := s.DB(0)
	set := func(k string, ttlMs int64) {
		db.Update([][]byte{[]byte(k)}, func(tx *Tx) error {
			tx.SetString([]byte(k), []byte("v"), SetOptions{})
			if ttlMs > 0 {
				tx.SetExpireAt([]byte(k), tx.NowMs()+ttlMs)
			}
			tx.BumpWatched([][]byte{[]byte(k)})
			return nil
		})
	}
	watch := func(k string) Watch {
		var w Watch
		db.Update([][]byte{[]byte(k)}, func(tx *Tx) error { w = tx.Watch([]byte(k)); return nil })
		return w
	}
	tests := []struct {
		name   string
		setup  func()
		key    string
		change func()
		want   bool
	}{
		{"untouched", func() { set("a", 0) }, "a", func() {}, false},
		{"rewritten", func() { set("a", 0) }, "a", func() { set("a", 0) }, true},
		{"other key", func() { set("a", 0) }, "a", func() { set("b", 0) }, false},
		{"created", func() {}, "new", func() { set("new", 0) }, true},
		{"missing stays missing", func() {}, "none", func() {}, false},
		{"flushed", func() { set("a", 0) }, "a", func() { db.Flush() }, true},
		{"expires", func() { set("e", 100) }, "e", func() { clk.ms += 200 }, true},
		{"already expired", func() { set("x", 100); clk.ms += 200 }, "x", func() { clk.ms += 200 }, false},
		{"swapped away and back", func() { set("a", 0) }, "a", func() {
			s.BumpWatchedSwap(0, 1)
			s.SwapDB(0, 1)
			s.BumpWatchedSwap(0, 1)
			s.SwapDB(0, 1)
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db.Flush()
			tt.setup()
			w := watch(tt.key)
			tt.change()
			if got := w.Changed(); got != tt.want {
				t.Fatalf("Changed() = %v, want %v", got, tt.want)
			}
			w.Unwatch()
			if n := s.watch.n.Load(); n != 0 {
				t.Fatalf("%d registrations left after Unwatch", n)
			}
		})
	}
}

type fakeWatchClock struct{ ms int64 }

func (c *fakeWatchClock) NowMs() int64 { return c.ms }
