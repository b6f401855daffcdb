package server

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/persistence"
)

// fullDisk is the real file system until full is set; then every write
// fails with ENOSPC, as on a full disk.
type fullDisk struct {
	persistence.OSFS
	full atomic.Bool
}

type fullDiskFile struct {
	persistence.File
	disk *fullDisk
}

func (d *fullDisk) OpenFile(name string, flag int, perm os.FileMode) (persistence.File, error) {
	f, err := d.OSFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return fullDiskFile{f, d}, nil
}

func (f fullDiskFile) Write(p []byte) (int, error) {
	if f.disk.full.Load() {
		return 0, &os.PathError{Op: "write", Path: "aof", Err: syscall.ENOSPC}
	}
	return f.File.Write(p)
}

// startAOFServer starts a test server with appendonly yes in dir.
func startAOFServer(t *testing.T, dir, fsync string, fs persistence.FS) (*Server, string) {
	t.Helper()
	srv, addr, _ := startTestServer(t, func(c *config.Config) {
		c.Appendonly, c.Appendfsync, c.Dir = true, fsync, dir
	}, func(s *Server) {
		if fs != nil {
			s.SetAOFFileSystem(fs)
		}
		if err := s.StartAOF(nil); err != nil {
			t.Fatalf("StartAOF: %v", err)
		}
	})
	t.Cleanup(func() { srv.CloseAOF() })
	return srv, addr
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAOFDiskFull: with the disk full, a write in flight is not
// acknowledged, new writes (and PING, as Redis) get -MISCONF, reads go on;
// when space returns the write in flight is acknowledged, writes resume,
// and after a restart nothing acknowledged is missing.
func TestAOFDiskFull(t *testing.T) {
	dir := t.TempDir()
	disk := &fullDisk{}
	srv, addr := startAOFServer(t, dir, "always", disk)
	a, b := dialRaw(t, addr), dialRaw(t, addr)
	if got := a.do("SET", "k1", "v1"); got != "+OK\r\n" {
		t.Fatalf("SET k1: %q", got)
	}
	disk.full.Store(true)
	a.nc.Write(encodeRESP([]byte("SET"), []byte("k2"), []byte("v2")))
	waitFor(t, "the write error", func() bool { return srv.aof.files.Load().WriteError() != nil })
	if got := b.do("SET", "k3", "v3"); got != "-MISCONF Errors writing to the AOF file: No space left on device\r\n" {
		t.Fatalf("SET on a full disk: %q", got)
	}
	if got := b.do("PING"); !strings.HasPrefix(got, "-MISCONF") {
		t.Fatalf("PING on a full disk: %q", got)
	}
	if got := b.do("GET", "k1"); got != "$2\r\n" || b.line() != "v1\r\n" {
		t.Fatalf("GET on a full disk: %q", got)
	}
	if info := infoBody(t, b); !strings.Contains(info, "aof_last_write_status:err") {
		t.Fatalf("INFO on a full disk:\n%s", info)
	}
	// The SET in flight has no reply yet: it is not durable.
	a.nc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if line, err := a.br.ReadString('\n'); err == nil {
		t.Fatalf("SET k2 acknowledged while the disk is full: %q", line)
	}
	disk.full.Store(false)
	if got := a.line(); got != "+OK\r\n" {
		t.Fatalf("SET k2 after space returned: %q", got)
	}
	waitFor(t, "writes to resume", func() bool { return srv.aof.files.Load().WriteError() == nil })
	if got := b.do("SET", "k3", "v3"); got != "+OK\r\n" {
		t.Fatalf("SET k3 after recovery: %q", got)
	}
	srv.CloseAOF()

	_, addr2 := startAOFServer(t, dir, "always", nil)
	c := dialRaw(t, addr2)
	for _, kv := range [][2]string{{"k1", "v1"}, {"k2", "v2"}, {"k3", "v3"}} {
		if got := c.do("GET", kv[0]); got != "$2\r\n" || c.line() != kv[1]+"\r\n" {
			t.Errorf("after restart GET %s: %q", kv[0], got)
		}
	}
}

// TestAOFLoadKeepsExpiredKeysUntilReplayed: a key whose TTL passed while
// the server was down is still there for the commands after it in the file
// (PERSIST here), as Redis's loading does.
func TestAOFLoadKeepsExpiredKeysUntilReplayed(t *testing.T) {
	dir := t.TempDir()
	aofDir := filepath.Join(dir, "appendonlydir")
	if err := os.MkdirAll(aofDir, 0o755); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Hour).UnixMilli()
	incr := string(encodeRESP([]byte("SELECT"), []byte("0"))) +
		string(encodeRESP([]byte("SET"), []byte("kept"), []byte("v"), []byte("PXAT"), []byte(fmt.Sprint(past)))) +
		string(encodeRESP([]byte("PERSIST"), []byte("kept"))) +
		string(encodeRESP([]byte("SET"), []byte("gone"), []byte("v"), []byte("PXAT"), []byte(fmt.Sprint(past))))
	files := map[string]string{
		"appendonly.aof.1.incr.aof": incr,
		"appendonly.aof.manifest":   "file appendonly.aof.1.incr.aof seq 1 type i\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(aofDir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, addr := startAOFServer(t, dir, "everysec", nil)
	c := dialRaw(t, addr)
	if got := c.do("GET", "kept"); got != "$1\r\n" {
		t.Fatalf("GET kept: %q", got)
	}
	c.line()
	if got := c.do("TTL", "kept"); got != ":-1\r\n" {
		t.Errorf("TTL kept: %q", got)
	}
	if got := c.do("EXISTS", "gone"); got != ":0\r\n" {
		t.Errorf("EXISTS gone: %q", got)
	}
}

// TestAOFLoadingRefusesCommands: while loading, commands without the
// loading flag get -LOADING and INFO still answers.
func TestAOFLoadingRefusesCommands(t *testing.T) {
	srv, addr, _ := startTestServer(t, nil)
	srv.aof.loading.Store(true)
	c := dialRaw(t, addr)
	if got := c.do("GET", "k"); got != "-LOADING Redis is loading the dataset in memory\r\n" {
		t.Errorf("GET while loading: %q", got)
	}
	if info := infoBody(t, c); !strings.Contains(info, "loading:1") {
		t.Errorf("INFO while loading:\n%s", info)
	}
	srv.aof.loading.Store(false)
	if got := c.do("GET", "k"); got != "$-1\r\n" {
		t.Errorf("GET after loading: %q", got)
	}
}

// TestAOFConfigSetAppendonly turns persistence on at run time (a base is
// written from memory), writes more, and restarts from the files.
func TestAOFConfigSetAppendonly(t *testing.T) {
	dir := t.TempDir()
	srv, addr, _ := startTestServer(t, func(c *config.Config) { c.Dir = dir })
	c := dialRaw(t, addr)
	c.do("SET", "before", "1")
	c.do("RPUSH", "list", "a", "b")
	if got := c.do("CONFIG", "SET", "appendonly", "yes"); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET appendonly yes: %q", got)
	}
	waitFor(t, "the first base", func() bool {
		f := srv.aof.files.Load()
		return f != nil && !srv.aof.rewriting.Load() && !f.Info().BootstrapInProgress
	})
	c.do("SET", "after", "2")
	if got := c.do("BGREWRITEAOF"); got != "+Background append only file rewriting started\r\n" {
		t.Fatalf("BGREWRITEAOF: %q", got)
	}
	waitFor(t, "the rewrite", func() bool { return !srv.aof.rewriting.Load() })
	c.do("INCR", "n")
	srv.CloseAOF()

	_, addr2 := startAOFServer(t, dir, "everysec", nil)
	d := dialRaw(t, addr2)
	for _, k := range []string{"before", "after", "list", "n"} {
		if got := d.do("EXISTS", k); got != ":1\r\n" {
			t.Errorf("after restart EXISTS %s: %q", k, got)
		}
	}
}

// infoBody sends INFO persistence and returns the whole bulk reply.
func infoBody(t *testing.T, c *rawConn) string {
	t.Helper()
	head := c.do("INFO", "persistence")
	var n int
	if _, err := fmt.Sscanf(head, "$%d\r\n", &n); err != nil {
		t.Fatalf("INFO: %q", head)
	}
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(c.br, buf); err != nil {
		t.Fatal(err)
	}
	return string(buf)
}

// TestAOFRewriteKeepsFunctions: a rewrite's base starts with the function
// libraries, so they survive BGREWRITEAOF and a restart.
func TestAOFRewriteKeepsFunctions(t *testing.T) {
	dir := t.TempDir()
	srv, addr := startAOFServer(t, dir, "everysec", nil)
	c := dialRaw(t, addr)
	lib := "#!lua name=keep\nredis.register_function('echo1', function(keys, args) return args[1] end)"
	if got := c.do("FUNCTION", "LOAD", lib); got != "$4\r\n" {
		t.Fatalf("FUNCTION LOAD: %q", got)
	}
	c.line()
	if got := c.do("BGREWRITEAOF"); !strings.HasPrefix(got, "+Background") {
		t.Fatalf("BGREWRITEAOF: %q", got)
	}
	waitFor(t, "the rewrite", func() bool { return !srv.aof.rewriting.Load() })
	srv.CloseAOF()
	base, err := filepath.Glob(filepath.Join(dir, "appendonlydir", "*.base.aof"))
	if err != nil || len(base) != 1 {
		t.Fatalf("base files %v, %v", base, err)
	}
	if b, _ := os.ReadFile(base[0]); !strings.HasPrefix(string(b), "*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n") {
		t.Fatalf("base does not start with FUNCTION LOAD: %q", b)
	}
	_, addr2 := startAOFServer(t, dir, "everysec", nil)
	d := dialRaw(t, addr2)
	if got := d.do("FCALL", "echo1", "0", "hi"); got != "$2\r\n" {
		t.Fatalf("FCALL after restart: %q", got)
	}
}
