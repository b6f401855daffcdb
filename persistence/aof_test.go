package persistence

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestAppendCommandEncoding(t *testing.T) {
	tests := []struct {
		argv [][]byte
		want string
	}{
		{cmd("PING"), "*1\r\n$4\r\nPING\r\n"},
		{cmd("SET", "k", ""), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"},
		{cmd("SET", "a\r\nb", "v"), "*3\r\n$3\r\nSET\r\n$4\r\na\r\nb\r\n$1\r\nv\r\n"},
	}
	for _, tt := range tests {
		if got := string(appendCommand(nil, tt.argv)); got != tt.want {
			t.Errorf("appendCommand(%q) = %q, want %q", tt.argv, got, tt.want)
		}
	}
	if got, want := string(appendSelect(nil, 12)), "*2\r\n$6\r\nSELECT\r\n$2\r\n12\r\n"; got != want {
		t.Errorf("appendSelect(12) = %q, want %q", got, want)
	}
}

func TestParseFsyncPolicy(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want FsyncPolicy
		ok   bool
	}{{"always", FsyncAlways, true}, {"EVERYSEC", FsyncEverySec, true}, {"no", FsyncNo, true}, {"yes", FsyncEverySec, false}} {
		got, ok := ParseFsyncPolicy(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseFsyncPolicy(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if ok && !strings.EqualFold(got.String(), tt.in) {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
}

func TestOpenFreshLayoutAndSelect(t *testing.T) {
	opts := Options{Dir: t.TempDir(), Fsync: FsyncAlways}
	a := openT(t, opts)
	dir := dirOf(opts)
	if got, want := readFile(t, filepath.Join(dir, "appendonly.aof.manifest")),
		"file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"; got != want {
		t.Fatalf("manifest = %q, want %q", got, want)
	}
	if _, err := a.Load(func([][]byte) error { return errors.New("nothing to load") }); err != nil {
		t.Fatal(err)
	}
	a.Append(0, 0, cmd("SET", "a", "1"))
	a.Append(0, 0, cmd("SET", "b", "2"))
	a.Append(0, 3, cmd("MULTI"), cmd("INCR", "c"), cmd("SELECT", "5"), cmd("INCR", "d"), cmd("EXEC"))
	a.Append(0, 5, cmd("DEL", "d"))
	s := a.Append(0, -1, cmd("FLUSHALL"))
	waitT(t, a, s)
	want := "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n" +
		"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n" +
		"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n" +
		"*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n" +
		"*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\nc\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n5\r\n*2\r\n$4\r\nINCR\r\n$1\r\nd\r\n*1\r\n$4\r\nEXEC\r\n" +
		"*2\r\n$3\r\nDEL\r\n$1\r\nd\r\n" +
		"*1\r\n$8\r\nFLUSHALL\r\n"
	if got := readFile(t, filepath.Join(dir, "appendonly.aof.1.incr.aof")); got != want {
		t.Fatalf("incr file =\n%q\nwant\n%q", got, want)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopening appends to the same incremental file and selects again.
	b := openT(t, opts)
	if _, err := b.Load(func([][]byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	waitT(t, b, b.Append(0, 5, cmd("SET", "e", "1")))
	b.Close()
	got, _, err := loadAll(t, opts)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got); n != 13 || got[11] != "SELECT 5" || got[12] != "SET e 1" {
		t.Fatalf("reloaded %d commands: %q", n, got)
	}
	if st := b.Info(); st.CurrentSize != int64(len(want))+int64(len("*2\r\n$6\r\nSELECT\r\n$1\r\n5\r\n*3\r\n$3\r\nSET\r\n$1\r\ne\r\n$1\r\n1\r\n")) {
		t.Errorf("aof_current_size = %d", st.CurrentSize)
	}
}

func TestWaitZeroAndClosed(t *testing.T) {
	a := openT(t, Options{Dir: t.TempDir()})
	if err := a.Wait(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	s := a.Append(0, 0, cmd("SET", "a", "1"))
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if err := a.Wait(context.Background(), s); err != nil {
		t.Fatalf("Wait after a clean Close: %v", err)
	}
	s2 := a.Append(0, 0, cmd("SET", "b", "1"))
	if err := a.Wait(context.Background(), s2); !errors.Is(err, ErrClosed) {
		t.Fatalf("Wait for an Append after Close = %v, want ErrClosed", err)
	}
}

func TestGroupCommitAlways(t *testing.T) {
	fs := newFaultFS()
	fs.syncDelay = time.Millisecond
	opts := Options{Dir: t.TempDir(), Fsync: FsyncAlways, FS: fs}
	a := openT(t, opts)
	const workers, each = 40, 50
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				s := a.Append(0, w%3, cmd("SET", fmt.Sprintf("k%d-%d", w, i), "v"))
				if err := a.Wait(context.Background(), s); err != nil {
					t.Error(err)
					return
				}
				// Acknowledged means on disk: the durable size covers it.
			}
		}()
	}
	wg.Wait()
	a.Close()
	syncs := fs.syncs.Load()
	if syncs*4 > workers*each {
		t.Errorf("%d fsyncs for %d commands: no group commit", syncs, workers*each)
	}
	t.Logf("%d commands, %d fsyncs, %d writes", workers*each, syncs, fs.writes.Load())
	got, _, err := loadAll(t, Options{Dir: opts.Dir})
	if err != nil {
		t.Fatal(err)
	}
	sets := 0
	for _, c := range got {
		if strings.HasPrefix(c, "SET ") {
			sets++
		}
	}
	if sets != workers*each {
		t.Fatalf("loaded %d SETs, want %d", sets, workers*each)
	}
}

func TestEverysecAndNo(t *testing.T) {
	for _, p := range []FsyncPolicy{FsyncNo, FsyncEverySec} {
		t.Run(p.String(), func(t *testing.T) {
			fs := newFaultFS()
			opts := Options{Dir: t.TempDir(), Fsync: p, FS: fs}
			a := openT(t, opts)
			waitT(t, a, a.Append(0, 0, cmd("SET", "a", "1")))
			if n := fs.syncs.Load(); n != 0 {
				t.Fatalf("Wait under %s fsynced %d times", p, n)
			}
			if got := readFile(t, filepath.Join(dirOf(opts), "appendonly.aof.1.incr.aof")); !strings.HasSuffix(got, "$1\r\na\r\n$1\r\n1\r\n") {
				t.Fatalf("not written after Wait: %q", got)
			}
			if p == FsyncEverySec {
				deadline := time.Now().Add(5 * time.Second)
				for fs.syncs.Load() == 0 && time.Now().Before(deadline) {
					time.Sleep(20 * time.Millisecond)
				}
				if fs.syncs.Load() == 0 {
					t.Fatal("everysec never fsynced")
				}
			}
			// Sync forces an fsync under any policy.
			before := fs.syncs.Load()
			a.Append(0, 0, cmd("SET", "b", "1"))
			if err := a.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
			if fs.syncs.Load() == before {
				t.Fatal("Sync did not fsync")
			}
		})
	}
}

// expectBlocked checks that Wait(seq) has not returned.
func startWait(a *AOF, seq uint64) (chan error, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	ch := make(chan error, 1)
	go func() { ch <- a.Wait(ctx, seq) }()
	return ch, cancel
}

func TestWriteErrorRecovers(t *testing.T) {
	cases := []struct {
		name string
		set  func(fs *faultFS)
	}{
		{"enospc", func(fs *faultFS) { fs.writeErr = syscall.ENOSPC }},
		{"short-write", func(fs *faultFS) { fs.writeErr, fs.shortWrite = syscall.ENOSPC, 7 }},
		{"short-write-no-truncate", func(fs *faultFS) {
			fs.writeErr, fs.shortWrite, fs.truncErr = syscall.ENOSPC, 7, syscall.EIO
		}},
		{"eio-fsync", func(fs *faultFS) { fs.syncErr = syscall.EIO }},
	}
	for _, tc := range cases {
		for _, p := range []FsyncPolicy{FsyncAlways, FsyncEverySec} {
			if tc.name == "eio-fsync" && p != FsyncAlways {
				continue
			}
			t.Run(tc.name+"/"+p.String(), func(t *testing.T) {
				fs := newFaultFS()
				opts := Options{Dir: t.TempDir(), Fsync: p, FS: fs}
				a := openT(t, opts)
				waitT(t, a, a.Append(0, 0, cmd("SET", "before", "1")))
				fs.set(tc.set)
				s1 := a.Append(0, 0, cmd("SET", "during", "1"))
				s2 := a.Append(0, 1, cmd("RPUSH", "list", "a", "b"))
				ch, cancel := startWait(a, s2)
				defer cancel()
				deadline := time.Now().Add(5 * time.Second)
				for a.WriteError() == nil && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
				if err := a.WriteError(); err == nil {
					t.Fatal("WriteError not set")
				} else if !errors.Is(err, syscall.ENOSPC) && !errors.Is(err, syscall.EIO) {
					t.Fatalf("WriteError = %v", err)
				}
				if info := a.Info(); info.LastWriteOK {
					t.Fatal("Info says the last write was ok")
				}
				time.Sleep(250 * time.Millisecond) // a few retries happen
				select {
				case err := <-ch:
					t.Fatalf("Wait returned %v while the disk fails", err)
				default:
				}
				fs.set(func(fs *faultFS) { fs.writeErr, fs.syncErr, fs.truncErr, fs.shortWrite = nil, nil, nil, 0 })
				if err := <-ch; err != nil {
					t.Fatal(err)
				}
				if err := a.Wait(context.Background(), s1); err != nil {
					t.Fatal(err)
				}
				if err := a.WriteError(); err != nil {
					t.Fatalf("WriteError after recovery = %v", err)
				}
				a.Close()
				want := "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$6\r\nbefore\r\n$1\r\n1\r\n" +
					"*3\r\n$3\r\nSET\r\n$6\r\nduring\r\n$1\r\n1\r\n" +
					"*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n*4\r\n$5\r\nRPUSH\r\n$4\r\nlist\r\n$1\r\na\r\n$1\r\nb\r\n"
				if got := readFile(t, filepath.Join(dirOf(opts), "appendonly.aof.1.incr.aof")); got != want {
					t.Fatalf("file after recovery =\n%q\nwant\n%q", got, want)
				}
			})
		}
	}
}

func TestWaitContextCancel(t *testing.T) {
	fs := newFaultFS()
	a := openT(t, Options{Dir: t.TempDir(), Fsync: FsyncAlways, FS: fs})
	fs.set(func(fs *faultFS) { fs.writeErr = syscall.ENOSPC })
	s := a.Append(0, 0, cmd("SET", "a", "1"))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := a.Wait(ctx, s); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %v, want deadline exceeded", err)
	}
	fs.set(func(fs *faultFS) { fs.writeErr = nil })
	waitT(t, a, s)
}

type countObs struct {
	mu            sync.Mutex
	fsyncs, cmds  int
	bytes, groups int
}

func (o *countObs) Fsync(time.Duration) { o.mu.Lock(); o.fsyncs++; o.mu.Unlock() }
func (o *countObs) Batch(cmds, bytes int) {
	o.mu.Lock()
	o.cmds += cmds
	o.bytes += bytes
	o.groups++
	o.mu.Unlock()
}

func TestObserverAndInfo(t *testing.T) {
	a := openT(t, Options{Dir: t.TempDir(), Fsync: FsyncAlways})
	o := &countObs{}
	a.SetObserver(o)
	var s uint64
	for i := 0; i < 10; i++ {
		s = a.Append(0, 0, cmd("SET", "k", "v"))
	}
	waitT(t, a, s)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cmds != 10 || o.fsyncs == 0 || o.groups == 0 {
		t.Fatalf("observer saw cmds=%d fsyncs=%d groups=%d", o.cmds, o.fsyncs, o.groups)
	}
	info := a.Info()
	if int(info.WrittenBytes) != o.bytes || info.CurrentSize != info.WrittenBytes || info.RewriteInProgress ||
		!info.LastBgrewriteOK || info.LastRewriteTime != -1 || info.CurrentRewriteTime != -1 {
		t.Fatalf("Info = %+v, observer bytes %d", info, o.bytes)
	}
}

func TestOpenRemovesHistoryFiles(t *testing.T) {
	opts := Options{Dir: t.TempDir()}
	dir := dirOf(opts)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "appendonly.aof.1.base.aof"), []byte("*1\r\n$4\r\nPING\r\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "appendonly.aof.2.base.aof"), []byte("*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "appendonly.aof.1.incr.aof"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "appendonly.aof.manifest"), []byte(
		"file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.1.base.aof seq 1 type h\n"), 0o644)
	got, _, err := loadAll(t, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "SET a 1" {
		t.Fatalf("loaded %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "appendonly.aof.1.base.aof")); !os.IsNotExist(err) {
		t.Fatalf("history file still there: %v", err)
	}
	if got, want := readFile(t, filepath.Join(dir, "appendonly.aof.manifest")),
		"file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"; got != want {
		t.Fatalf("manifest = %q, want %q", got, want)
	}
	// appendonly.aof.1.incr.aof existed but was not in the manifest: it is
	// created empty, not appended to.
}

// TestEverysecDelayedFsync: a background fsync slower than 2 s holds the
// next write back for 2 s, then the write goes ahead and is counted in
// aof_delayed_fsync.
func TestEverysecDelayedFsync(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 3 s")
	}
	fs := newFaultFS()
	a := openT(t, Options{Dir: t.TempDir(), Fsync: FsyncEverySec, FS: fs})
	fs.set(func(fs *faultFS) { fs.syncDelay = 3 * time.Second })
	waitT(t, a, a.Append(0, 0, cmd("SET", "a", "1")))
	deadline := time.Now().Add(5 * time.Second)
	for !a.Info().PendingBioFsync && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !a.Info().PendingBioFsync {
		t.Fatal("no background fsync started")
	}
	s := a.Append(0, 0, cmd("SET", "b", "1"))
	waitT(t, a, s)
	if n := a.DelayedFsyncs(); n != 1 || a.Info().DelayedFsyncs != 1 {
		t.Fatalf("aof_delayed_fsync = %d, want 1", n)
	}
}

func TestOpenMissingIncr(t *testing.T) {
	opts := writeDir(t, setA, setB)
	os.Remove(filepath.Join(dirOf(opts), "appendonly.aof.1.incr.aof"))
	if _, err := Open(opts); err == nil || !strings.Contains(err.Error(), "doesn't exist") {
		t.Fatalf("Open = %v", err)
	}
}

// Durable answers without waiting, and OnDurable's hook runs once more is
// durable and when the file closes (event loops park replies on them).
func TestDurableAndOnDurable(t *testing.T) {
	fs := newFaultFS()
	fs.syncDelay = 20 * time.Millisecond
	a := openT(t, Options{Dir: t.TempDir(), Fsync: FsyncAlways, FS: fs})
	hooked := make(chan struct{}, 16)
	a.OnDurable(func() {
		select {
		case hooked <- struct{}{}:
		default:
		}
	})
	seq := a.Append(0, 0, cmd("SET", "k", "v"))
	if a.Durable(seq) {
		t.Fatal("Durable before the fsync could have finished")
	}
	select {
	case <-hooked:
	case <-time.After(10 * time.Second):
		t.Fatal("OnDurable's hook did not run")
	}
	if !a.Durable(seq) {
		t.Fatal("not Durable after the hook ran")
	}
	later := a.Append(0, 0, cmd("SET", "k", "w"))
	a.Close()
	if !a.Durable(later) {
		t.Fatal("a closed file must not keep callers waiting")
	}
}
