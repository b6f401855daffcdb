package store

import (
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// collect is an emit that records every command as strings.
type collected struct {
	mu   sync.Mutex
	cmds [][]string
}

func (c *collected) emit(db int, argv [][]byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	cmd := []string{strconv.Itoa(db)}
	for _, a := range argv {
		cmd = append(cmd, string(a))
	}
	c.cmds = append(c.cmds, cmd)
	return nil
}

func TestSnapshotEmitsEveryKind(t *testing.T) {
	s, _ := newTestStore(t, 2, 4)
	db0, db1 := s.DB(0), s.DB(1)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db0.Update([][]byte{[]byte("s")}, func(tx *Tx) error {
		tx.SetString([]byte("s"), []byte("v"), SetOptions{ExpireAt: testEpoch + 5000})
		return nil
	}))
	must(db1.Update([][]byte{[]byte("gone")}, func(tx *Tx) error {
		tx.SetString([]byte("gone"), []byte("x"), SetOptions{ExpireAt: testEpoch - 1})
		return nil
	}))
	l := NewList()
	for i := range 70 { // more than one RPUSH of itemsPerCommand
		l.PushRight([]byte(strconv.Itoa(i)))
	}
	z := NewZSet(false)
	z.Put("a", 1.5)
	z.Put("b", math.Inf(1))
	h := NewHash()
	h.Set([]byte("f"), []byte("v"), 128, 64)
	st := NewSet()
	st.Add([]byte("m"), 512)
	must(db1.Update([][]byte{[]byte("l"), []byte("z"), []byte("h"), []byte("set")}, func(tx *Tx) error {
		tx.SetContainer([]byte("l"), KindList, l)
		tx.SetContainer([]byte("z"), KindZSet, z)
		tx.SetContainer([]byte("h"), KindHash, h)
		tx.SetContainer([]byte("set"), KindSet, st)
		return nil
	}))

	var c collected
	var began uint64
	must(s.Snapshot(func(e uint64) error { began = e; return nil }, c.emit))
	if began != 1 || s.Epoch() != 1 {
		t.Fatalf("epoch: began %d, store %d; want 1", began, s.Epoch())
	}
	got := map[string]int{}
	for _, cmd := range c.cmds {
		got[cmd[0]+" "+cmd[1]+" "+cmd[2]]++
		switch cmd[1] {
		case "PEXPIREAT":
			if cmd[3] != strconv.FormatInt(testEpoch+5000, 10) {
				t.Errorf("PEXPIREAT %v", cmd)
			}
		case "ZADD":
			if fmt.Sprint(cmd[3:]) != "[1.5 a inf b]" {
				t.Errorf("ZADD %v", cmd)
			}
		case "HMSET":
			if fmt.Sprint(cmd[3:]) != "[f v]" {
				t.Errorf("HMSET %v", cmd)
			}
		}
	}
	want := map[string]int{
		"0 SET s": 1, "0 PEXPIREAT s": 1, "1 RPUSH l": 2, "1 ZADD z": 1, "1 HMSET h": 1, "1 SADD set": 1,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("commands %v, want %v", got, want)
	}
}

// TestSnapshotIsPointInTime runs writers during a slow snapshot: for every
// key the image must hold the value of the last write made in the old
// epoch, never one made after the switch.
func TestSnapshotIsPointInTime(t *testing.T) {
	s, _ := newTestStore(t, 1, 8)
	db := s.DB(0)
	const writers, keysPer = 4, 50
	for w := range writers {
		for k := range keysPer {
			key := []byte(fmt.Sprintf("w%d:k%d", w, k))
			db.Update([][]byte{key}, func(tx *Tx) error {
				tx.SetString(key, []byte("0"), SetOptions{})
				return nil
			})
		}
	}
	type write struct {
		epoch uint64
		val   int
	}
	logs := make([]map[string][]write, writers)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range writers {
		logs[w] = map[string][]write{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 1; !stop.Load() && n < 1_000_000; n++ {
				a := []byte(fmt.Sprintf("w%d:k%d", w, n%keysPer))
				b := []byte(fmt.Sprintf("w%d:k%d", w, (n*7+3)%keysPer))
				var ep uint64
				db.Update([][]byte{a, b}, func(tx *Tx) error {
					v := []byte(strconv.Itoa(n))
					tx.SetString(a, v, SetOptions{})
					tx.SetString(b, v, SetOptions{})
					ep = tx.Epoch()
					return nil
				})
				logs[w][string(a)] = append(logs[w][string(a)], write{ep, n})
				logs[w][string(b)] = append(logs[w][string(b)], write{ep, n})
			}
		}()
	}
	time.Sleep(5 * time.Millisecond)
	image := map[string]string{}
	var mu sync.Mutex
	err := s.Snapshot(func(uint64) error { return nil }, func(_ int, argv [][]byte) error {
		time.Sleep(20 * time.Microsecond) // slow enough for writers to overtake the dump
		mu.Lock()
		image[string(argv[1])] = string(argv[2])
		mu.Unlock()
		return nil
	})
	time.Sleep(5 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	after := 0
	for w := range writers {
		for key, ws := range logs[w] {
			want := "0"
			for _, x := range ws {
				if x.epoch == 0 {
					want = strconv.Itoa(x.val)
				} else {
					after++
				}
			}
			if image[key] != want {
				t.Errorf("%s: image %q, last old-epoch write %q", key, image[key], want)
			}
		}
	}
	if len(image) != writers*keysPer {
		t.Errorf("image has %d keys, want %d", len(image), writers*keysPer)
	}
	t.Logf("%d writes landed after the switch", after)
}

// TestSnapshotDeletesCarryEpoch checks that a key the store reclaims itself
// is reported to the propagate hook with the epoch of the deletion.
func TestSnapshotDeletesCarryEpoch(t *testing.T) {
	s, clk := newTestStore(t, 1, 2)
	db := s.DB(0)
	type del struct {
		epoch uint64
		key   string
	}
	var dels []del
	s.SetPropagateHook(func(_ *DB, e uint64, key []byte) { dels = append(dels, del{e, string(key)}) })
	key := []byte("k")
	db.Update([][]byte{key}, func(tx *Tx) error {
		tx.SetString(key, []byte("v"), SetOptions{ExpireAt: testEpoch + 10})
		return nil
	})
	if err := s.Snapshot(func(uint64) error { return nil }, func(int, [][]byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	clk.Advance(20 * time.Millisecond)
	db.Update([][]byte{key}, func(tx *Tx) error {
		if tx.Exists(key) {
			t.Error("expired key still exists")
		}
		return nil
	})
	if fmt.Sprint(dels) != "[{1 k}]" {
		t.Fatalf("propagated %v, want [{1 k}]", dels)
	}
}
