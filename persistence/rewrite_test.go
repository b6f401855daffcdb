package persistence

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

func manifestOf(t *testing.T, opts Options) string {
	t.Helper()
	return readFile(t, filepath.Join(dirOf(opts), "appendonly.aof.manifest"))
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// replay loads opts' directory into a model.
func replay(t *testing.T, opts Options) map[string]string {
	t.Helper()
	a, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	m := newModel()
	if _, err := a.Load(m.apply); err != nil {
		t.Fatal(err)
	}
	return m.keys
}

func TestRewriteCommit(t *testing.T) {
	opts := Options{Dir: t.TempDir(), Fsync: FsyncAlways}
	a := openT(t, opts)
	dir := dirOf(opts)
	for i := 0; i < 5; i++ {
		a.Append(0, 0, cmd("INCR", "n"))
	}
	waitT(t, a, a.Append(0, 1, cmd("SET", "x", "1")))

	r, err := a.StartRewrite(1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.StartRewrite(2); err != ErrRewriteInProgress {
		t.Fatalf("second StartRewrite = %v", err)
	}
	if got, want := manifestOf(t, opts), "file appendonly.aof.1.base.aof seq 1 type b\n"+
		"file appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n"; got != want {
		t.Fatalf("manifest during rewrite = %q, want %q", got, want)
	}
	// Writes that began before the switch (epoch 0) and after (epoch 1).
	a.Append(0, 0, cmd("INCR", "n"))      // old epoch: n=6, in the image
	s := a.Append(1, 0, cmd("INCR", "n")) // new epoch: n=7
	s2 := a.Append(1, 2, cmd("SET", "y", "2"))
	if !a.Info().RewriteInProgress {
		t.Fatal("rewrite not in progress")
	}
	// The image of epoch 1.
	for _, c := range []struct {
		db   int
		argv [][]byte
	}{{0, cmd("SET", "n", "6")}, {1, cmd("SET", "x", "1")}} {
		if err := r.Append(c.db, c.argv); err != nil {
			t.Fatal(err)
		}
	}
	waitT(t, a, s2)
	waitT(t, a, s)
	for _, f := range []string{"appendonly.aof.1.base.aof", "appendonly.aof.1.incr.aof"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("%s removed before commit: %v", f, err)
		}
	}
	if err := r.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, want := manifestOf(t, opts), "file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"; got != want {
		t.Fatalf("manifest after commit = %q, want %q", got, want)
	}
	if got, want := strings.Join(listDir(t, dir), " "), "appendonly.aof.2.base.aof appendonly.aof.2.incr.aof appendonly.aof.manifest"; got != want {
		t.Fatalf("directory = %s, want %s", got, want)
	}
	if got, want := readFile(t, filepath.Join(dir, "appendonly.aof.2.base.aof")),
		"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nn\r\n$1\r\n6\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1\r\n1\r\n"; got != want {
		t.Fatalf("base = %q, want %q", got, want)
	}
	waitT(t, a, a.Append(1, 0, cmd("INCR", "n"))) // n=8
	info := a.Info()
	if info.Rewrites != 1 || !info.LastBgrewriteOK || info.RewriteInProgress || info.LastRewriteTime < 0 ||
		info.BaseSize == 0 || info.CurrentSize < info.BaseSize {
		t.Fatalf("Info after commit = %+v", info)
	}
	a.Close()
	keys := replay(t, opts)
	if keys["0/n"] != "8" || keys["1/x"] != "1" || keys["2/y"] != "2" {
		t.Fatalf("replayed %v", keys)
	}
}

func TestRewriteAbort(t *testing.T) {
	opts := Options{Dir: t.TempDir(), Fsync: FsyncEverySec}
	a := openT(t, opts)
	dir := dirOf(opts)
	a.Append(0, 0, cmd("INCR", "n"))
	r, err := a.StartRewrite(1)
	if err != nil {
		t.Fatal(err)
	}
	a.Append(0, 0, cmd("INCR", "n"))
	r.Append(0, cmd("SET", "n", "2"))
	a.Append(1, 0, cmd("INCR", "n"))
	r.Abort(fmt.Errorf("test"))
	r.Abort(fmt.Errorf("twice")) // no-op
	if err := r.Commit(); err == nil {
		t.Fatal("Commit after Abort succeeded")
	}
	waitT(t, a, a.Append(1, 0, cmd("INCR", "n")))
	if got, want := manifestOf(t, opts), "file appendonly.aof.1.base.aof seq 1 type b\n"+
		"file appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n"; got != want {
		t.Fatalf("manifest after abort = %q, want %q", got, want)
	}
	for _, n := range listDir(t, dir) {
		if strings.HasPrefix(n, "temp-") {
			t.Fatalf("temp file left: %s", n)
		}
	}
	info := a.Info()
	if info.LastBgrewriteOK || info.RewriteFailures != 1 || info.RewriteInProgress {
		t.Fatalf("Info after abort = %+v", info)
	}
	// A later rewrite replaces all three files.
	r2, err := a.StartRewrite(2)
	if err != nil {
		t.Fatal(err)
	}
	r2.Append(0, cmd("SET", "n", "4"))
	a.Append(2, 0, cmd("INCR", "n"))
	if err := r2.Commit(); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if got, want := manifestOf(t, opts), "file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.3.incr.aof seq 3 type i\n"; got != want {
		t.Fatalf("manifest = %q, want %q", got, want)
	}
	if keys := replay(t, opts); keys["0/n"] != "5" {
		t.Fatalf("n = %q, want 5", keys["0/n"])
	}
}

// TestRewriteCrashPoints copies the directory after every rename, removal
// and directory fsync of a rewrite and checks that each copy, as a crash
// would leave it, loads to the same data.
func TestRewriteCrashPoints(t *testing.T) {
	fs := newFaultFS()
	opts := Options{Dir: t.TempDir(), Fsync: FsyncAlways, FS: fs}
	a := openT(t, opts)
	dir := dirOf(opts)
	for i := 0; i < 3; i++ {
		a.Append(0, 0, cmd("INCR", "n"))
	}
	waitT(t, a, a.Append(0, 0, cmd("RPUSH", "l", "a")))
	var mu sync.Mutex
	var snaps []string
	fs.set(func(fs *faultFS) {
		fs.onOp = func(op, name string) {
			mu.Lock()
			defer mu.Unlock()
			snap := t.TempDir()
			copyDir(t, dir, filepath.Join(snap, "appendonlydir"))
			snaps = append(snaps, op+" "+filepath.Base(name)+" -> "+snap)
		}
	})
	r, err := a.StartRewrite(1)
	if err != nil {
		t.Fatal(err)
	}
	r.Append(0, cmd("SET", "n", "3"))
	r.Append(0, cmd("RPUSH", "l", "a"))
	waitT(t, a, a.Append(1, 0, cmd("INCR", "n")))
	mu.Lock()
	acked := len(snaps) // copies taken before the INCR was acknowledged
	mu.Unlock()
	if err := r.Commit(); err != nil {
		t.Fatal(err)
	}
	fs.set(func(fs *faultFS) { fs.onOp = nil })
	mu.Lock()
	defer mu.Unlock()
	if len(snaps) < 6 {
		t.Fatalf("only %d crash points: %v", len(snaps), snaps)
	}
	for i, s := range snaps {
		p := s[strings.LastIndex(s, " ")+1:]
		keys := replay(t, Options{Dir: p})
		want := "4"
		if i < acked {
			want = "3"
		}
		if keys["0/n"] != want || keys["0/l"] != "a," || len(keys) != 2 {
			t.Errorf("crash after %s: replayed %v, want n=%s l=a,", s, keys, want)
		}
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			continue // removed meanwhile
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRewriteConcurrent(t *testing.T) {
	opts := Options{Dir: t.TempDir(), Fsync: FsyncAlways}
	a := openT(t, opts)
	var epoch sync.RWMutex // stands in for the store: a writer holds it shared
	cur := uint64(0)
	counts := make([]int, 8)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				epoch.RLock()
				e := cur
				counts[w]++
				s := a.Append(e, 0, cmd("INCR", fmt.Sprintf("k%d", w)))
				epoch.RUnlock()
				if err := a.Wait(context.Background(), s); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for round := 1; round <= 3; round++ {
		epoch.Lock() // the switch: no writer in flight
		r, err := a.StartRewrite(uint64(round))
		if err != nil {
			t.Fatal(err)
		}
		cur = uint64(round)
		image := append([]int(nil), counts...)
		epoch.Unlock()
		for w, n := range image {
			if err := r.Append(0, cmd("SET", fmt.Sprintf("k%d", w), itoa(n))); err != nil {
				t.Fatal(err)
			}
		}
		if round == 2 {
			r.Abort(fmt.Errorf("test abort"))
		} else if err := r.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	a.Close()
	keys := replay(t, opts)
	for w, n := range counts {
		if keys[fmt.Sprintf("0/k%d", w)] != itoa(n) {
			t.Errorf("k%d = %q, want %d", w, keys[fmt.Sprintf("0/k%d", w)], n)
		}
	}
}

func TestOpenWithRewrite(t *testing.T) {
	opts := Options{Dir: t.TempDir(), Fsync: FsyncAlways}
	// A previous AOF in the directory is replaced.
	old := openT(t, opts)
	waitT(t, old, old.Append(0, 0, cmd("SET", "stale", "1")))
	old.Close()

	a, r, err := OpenWithRewrite(opts, 5)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.Append(4, 0, cmd("SET", "a", "old")) // in the image: dropped
	s := a.Append(5, 0, cmd("SET", "b", "new"))
	waitT(t, a, s)
	if got, want := manifestOf(t, opts), "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"; got != want {
		t.Fatalf("manifest changed before commit: %q", got)
	}
	r.Append(0, cmd("SET", "a", "old"))
	if err := r.Commit(); err != nil {
		t.Fatal(err)
	}
	waitT(t, a, a.Append(6, 0, cmd("SET", "c", "1")))
	a.Close()
	if got, want := manifestOf(t, opts), "file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"; got != want {
		t.Fatalf("manifest = %q, want %q", got, want)
	}
	if got, want := strings.Join(listDir(t, dirOf(opts)), " "), "appendonly.aof.2.base.aof appendonly.aof.2.incr.aof appendonly.aof.manifest"; got != want {
		t.Fatalf("directory = %s, want %s", got, want)
	}
	keys := replay(t, opts)
	if len(keys) != 3 || keys["0/a"] != "old" || keys["0/b"] != "new" || keys["0/c"] != "1" {
		t.Fatalf("replayed %v", keys)
	}

	// Aborted bootstrap: Close removes the temporary file, nothing changes.
	b, r2, err := OpenWithRewrite(opts, 1)
	if err != nil {
		t.Fatal(err)
	}
	b.Append(1, 0, cmd("SET", "z", "1"))
	r2.Abort(fmt.Errorf("test"))
	b.Close()
	for _, n := range listDir(t, dirOf(opts)) {
		if strings.HasPrefix(n, "temp-") {
			t.Fatalf("temp file left: %s", n)
		}
	}
	if keys := replay(t, opts); len(keys) != 3 {
		t.Fatalf("after aborted bootstrap: %v", keys)
	}
}
