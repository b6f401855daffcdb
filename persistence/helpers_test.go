package persistence

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// faultFS wraps the real file system and injects faults into the files
// whose name matches.
type faultFS struct {
	OSFS
	match func(name string) bool

	mu         sync.Mutex
	writeErr   error // every matching write fails with it
	shortWrite int   // when > 0, a failing write first writes this many bytes
	syncErr    error // every matching Sync fails with it
	truncErr   error // every matching File.Truncate fails with it
	syncDelay  time.Duration
	onOp       func(op, name string) // after Rename, Remove, SyncDir

	syncs  atomic.Int64
	writes atomic.Int64
}

func newFaultFS() *faultFS {
	return &faultFS{match: func(name string) bool { return strings.HasSuffix(name, ".incr.aof") }}
}

func (fs *faultFS) set(f func(fs *faultFS)) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f(fs)
}

type faultFile struct {
	File
	fs   *faultFS
	name string
}

func (fs *faultFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	f, err := fs.OSFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: f, fs: fs, name: name}, nil
}

func (fs *faultFS) Rename(a, b string) error {
	err := fs.OSFS.Rename(a, b)
	fs.after("rename", b)
	return err
}

func (fs *faultFS) Remove(name string) error {
	err := fs.OSFS.Remove(name)
	fs.after("remove", name)
	return err
}

func (fs *faultFS) SyncDir(dir string) error {
	err := fs.OSFS.SyncDir(dir)
	fs.after("syncdir", dir)
	return err
}

func (fs *faultFS) after(op, name string) {
	fs.mu.Lock()
	f := fs.onOp
	fs.mu.Unlock()
	if f != nil {
		f(op, name)
	}
}

func (f *faultFile) Write(b []byte) (int, error) {
	if !f.fs.match(f.name) {
		return f.File.Write(b)
	}
	f.fs.writes.Add(1)
	f.fs.mu.Lock()
	werr, short := f.fs.writeErr, f.fs.shortWrite
	f.fs.mu.Unlock()
	if werr != nil {
		if short > 0 && short < len(b) {
			n, _ := f.File.Write(b[:short])
			return n, werr
		}
		return 0, werr
	}
	return f.File.Write(b)
}

func (f *faultFile) Sync() error {
	if !f.fs.match(f.name) {
		return f.File.Sync()
	}
	f.fs.syncs.Add(1)
	f.fs.mu.Lock()
	serr, d := f.fs.syncErr, f.fs.syncDelay
	f.fs.mu.Unlock()
	if d > 0 {
		time.Sleep(d)
	}
	if serr != nil {
		return serr
	}
	return f.File.Sync()
}

func (f *faultFile) Truncate(size int64) error {
	if f.fs.match(f.name) {
		f.fs.mu.Lock()
		terr := f.fs.truncErr
		f.fs.mu.Unlock()
		if terr != nil {
			return terr
		}
	}
	return f.File.Truncate(size)
}

// cmd builds an argv.
func cmd(args ...string) [][]byte {
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	return argv
}

func openT(t *testing.T, opts Options) *AOF {
	t.Helper()
	a, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func waitT(t *testing.T, a *AOF, seq uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Wait(ctx, seq); err != nil {
		t.Fatalf("Wait(%d): %v", seq, err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// loadAll opens dir read-only style (Open + Load) and returns the commands.
func loadAll(t *testing.T, opts Options) ([]string, LoadStats, error) {
	t.Helper()
	a, err := Open(opts)
	if err != nil {
		return nil, LoadStats{}, err
	}
	defer a.Close()
	var out []string
	st, err := a.Load(func(argv [][]byte) error {
		parts := make([]string, len(argv))
		for i, b := range argv {
			parts[i] = string(b)
		}
		out = append(out, strings.Join(parts, " "))
		return nil
	})
	return out, st, err
}

// model replays commands into a tiny keyspace: SELECT, SET, DEL, INCR,
// RPUSH, MULTI/EXEC (pass-through).
type model struct {
	db   string
	keys map[string]string
}

func newModel() *model { return &model{db: "0", keys: map[string]string{}} }

func (m *model) apply(argv [][]byte) error {
	name := strings.ToUpper(string(argv[0]))
	k := func(i int) string { return m.db + "/" + string(argv[i]) }
	switch name {
	case "SELECT":
		m.db = string(argv[1])
	case "SET":
		m.keys[k(1)] = string(argv[2])
	case "DEL":
		delete(m.keys, k(1))
	case "INCR":
		n := 0
		for _, c := range m.keys[k(1)] {
			n = n*10 + int(c-'0')
		}
		m.keys[k(1)] = itoa(n + 1)
	case "RPUSH":
		for _, v := range argv[2:] {
			m.keys[k(1)] += string(v) + ","
		}
	case "MULTI", "EXEC", "PEXPIREAT":
	default:
		return errors.New("unknown command '" + name + "'")
	}
	return nil
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func dirOf(opts Options) string {
	opts.normalize()
	return filepath.Join(opts.Dir, opts.DirName)
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
