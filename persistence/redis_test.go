package persistence

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawClient is a minimal RESP client for the compatibility test.
type rawClient struct {
	c net.Conn
	r *bufio.Reader
}

func (rc *rawClient) do(args ...string) (string, error) {
	rc.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := rc.c.Write(appendCommand(nil, cmd(args...))); err != nil {
		return "", err
	}
	return rc.read()
}

// read renders a reply as text: arrays joined with ",", nil as "(nil)".
func (rc *rawClient) read() (string, error) {
	line, err := rc.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", fmt.Errorf("%s", line[1:])
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "(nil)", nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(rc.r, b); err != nil {
			return "", err
		}
		return string(b[:n]), nil
	case '*':
		n, _ := strconv.Atoi(line[1:])
		var parts []string
		for i := 0; i < n; i++ {
			p, err := rc.read()
			if err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, ","), nil
	}
	return "", fmt.Errorf("unexpected reply %q", line)
}

func startRedis(t *testing.T, dir string) (*rawClient, func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed: skipping the compatibility test")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	p := exec.CommandContext(ctx, bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--save", "", "--daemonize", "no")
	var logs strings.Builder
	p.Stdout, p.Stderr = &logs, &logs
	if err := p.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	stop := func() { cancel(); p.Wait() }
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			rc := &rawClient{c: c, r: bufio.NewReader(c)}
			if r, err := rc.do("PING"); err == nil && r == "PONG" {
				return rc, func() { c.Close(); stop() }
			}
			c.Close()
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("redis-server did not start:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRedisLoadsOurAOF writes a directory with a base (from a rewrite) and
// an incremental file, and has a real redis-server load it.
func TestRedisLoadsOurAOF(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed: skipping the compatibility test")
	}
	dir := t.TempDir()
	opts := Options{Dir: dir, Fsync: FsyncAlways}
	a := openT(t, opts)
	expireAt := strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)
	a.Append(0, 0, cmd("SET", "gone", "x"))
	r, err := a.StartRewrite(1)
	if err != nil {
		t.Fatal(err)
	}
	r.Append(0, cmd("SET", "str", "hello world"))
	r.Append(0, cmd("RPUSH", "list", "a", "b", "c"))
	r.Append(0, cmd("PEXPIREAT", "list", expireAt))
	r.Append(3, cmd("SET", "in3", "three"))
	if err := r.Commit(); err != nil {
		t.Fatal(err)
	}
	a.Append(1, 0, cmd("RPUSH", "list", "d"))
	a.Append(1, 2, cmd("MULTI"), cmd("SET", "bin", "a\r\nb\x00c"), cmd("INCR", "ctr"), cmd("EXEC"))
	waitT(t, a, a.Append(1, 0, cmd("SET", "ttl", "v", "PXAT", expireAt)))
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	rc, stop := startRedis(t, dir)
	defer stop()
	checks := []struct {
		args []string
		want string
	}{
		{[]string{"GET", "str"}, "hello world"},
		{[]string{"LRANGE", "list", "0", "-1"}, "a,b,c,d"},
		{[]string{"PEXPIRETIME", "list"}, expireAt},
		{[]string{"PEXPIRETIME", "ttl"}, expireAt},
		{[]string{"EXISTS", "gone"}, "0"},
		{[]string{"SELECT", "2"}, "OK"},
		{[]string{"GET", "bin"}, "a\r\nb\x00c"},
		{[]string{"GET", "ctr"}, "1"},
		{[]string{"SELECT", "3"}, "OK"},
		{[]string{"GET", "in3"}, "three"},
		{[]string{"DBSIZE"}, "1"},
	}
	for _, c := range checks {
		got, err := rc.do(c.args...)
		if err != nil || got != c.want {
			t.Errorf("%v = %q, %v; want %q", c.args, got, err, c.want)
		}
	}
	// And the other way: what Redis appends and rewrites, we load.
	rc.do("SELECT", "0")
	rc.do("SET", "fromredis", "1")
	if _, err := rc.do("BGREWRITEAOF"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, _ := rc.do("INFO", "persistence")
		if strings.Contains(info, "aof_rewrite_in_progress:0") && strings.Contains(info, "aof_rewrite_scheduled:0") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("BGREWRITEAOF did not finish")
		}
		time.Sleep(50 * time.Millisecond)
	}
	rc.do("SET", "after", "rewrite")
	rc.do("SHUTDOWN", "NOSAVE")
	stop()
	b := openT(t, Options{Dir: dir})
	m := newModel()
	m2 := map[string]bool{}
	if _, err := b.Load(func(argv [][]byte) error {
		m2[strings.ToUpper(string(argv[0]))] = true
		if m.apply(argv) != nil {
			return nil // HMSET/other rewrite forms: not modelled
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if m.keys["0/fromredis"] != "1" || m.keys["0/after"] != "rewrite" || m.keys["0/str"] != "hello world" {
		t.Fatalf("loaded from Redis's files: %v", m.keys)
	}
}
