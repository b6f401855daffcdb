package server

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/store"
)

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startTestServer runs a Server on a loopback port with cfg adjusted by
// tweak and returns it, its address and its log. setup, if any, runs on the
// Server before it accepts connections.
func startTestServer(t *testing.T, tweak func(*config.Config), setup ...func(*Server)) (*Server, string, *lockedBuffer) {
	t.Helper()
	cfg := config.Default()
	if tweak != nil {
		tweak(cfg)
	}
	st, err := store.New(store.Options{Databases: cfg.Databases, Shards: 16})
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	srv := New(Options{Config: cfg, Store: st, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	for _, f := range setup {
		f(srv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv, ln.Addr().String(), logs
}

// addTestCommand registers a row that only tests use.
func (s *Server) addTestCommand(c *command) {
	c.fullName = c.name
	s.table.byName[c.name] = c
}

type rawConn struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// do sends a command and returns the first line of its reply.
func (c *rawConn) do(args ...string) string {
	c.t.Helper()
	c.nc.SetDeadline(time.Now().Add(5 * time.Second))
	var bs [][]byte
	for _, a := range args {
		bs = append(bs, []byte(a))
	}
	if _, err := c.nc.Write(encodeRESP(bs...)); err != nil {
		c.t.Fatalf("write %q: %v", args, err)
	}
	return c.line()
}

func (c *rawConn) line() string {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := c.br.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v (got %q)", err, line)
	}
	return line
}

// closed waits up to d for the server to close the connection.
func (c *rawConn) closed(d time.Duration) bool {
	c.nc.SetReadDeadline(time.Now().Add(d))
	rest, err := io.ReadAll(c.br)
	if len(rest) > 0 {
		c.t.Errorf("unexpected bytes before close: %q", rest)
	}
	var ne net.Error
	return err == nil || !(errors.As(err, &ne) && ne.Timeout())
}

func TestHandlerPanicClosesOnlyThatConnection(t *testing.T) {
	srv, addr, logs := startTestServer(t, nil, func(s *Server) {
		s.addTestCommand(&command{name: "testpanic", arity: 1, flags: flagFast, handler: func(*client, *store.Tx, [][]byte) error {
			panic("boom from a test handler")
		}})
	})
	other := dialRaw(t, addr)
	if got := other.do("SET", "k", "v"); got != "+OK\r\n" {
		t.Fatalf("SET: %q", got)
	}
	victim := dialRaw(t, addr)
	victim.nc.SetDeadline(time.Now().Add(5 * time.Second))
	victim.nc.Write(encodeStrings("TESTPANIC"))
	if !victim.closed(5 * time.Second) {
		t.Fatal("the panicking connection stayed open")
	}
	if got := other.do("GET", "k"); got != "$1\r\n" {
		t.Fatalf("GET on the other connection after the panic: %q", got)
	}
	if got := other.line(); got != "v\r\n" {
		t.Fatalf("GET payload: %q", got)
	}
	if got := dialRaw(t, addr).do("PING"); got != "+PONG\r\n" {
		t.Fatalf("a new connection after the panic: %q", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "boom from a test handler") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	log := logs.String()
	if !strings.Contains(log, "panic") || !strings.Contains(log, "boom from a test handler") {
		t.Fatalf("no log line for the panic; log:\n%s", log)
	}
	if n := srv.stats.unexpectedErrors.Load(); n != 1 {
		t.Errorf("unexpectedErrors = %d, want 1", n)
	}
}

func TestMaxClients(t *testing.T) {
	_, addr, _ := startTestServer(t, func(c *config.Config) { c.Maxclients = 2 })
	a, b := dialRaw(t, addr), dialRaw(t, addr)
	// Make sure both are registered before the third dials.
	for _, c := range []*rawConn{a, b} {
		if got := c.do("PING"); got != "+PONG\r\n" {
			t.Fatalf("PING: %q", got)
		}
	}
	third := dialRaw(t, addr)
	if got := third.line(); got != "-ERR max number of clients reached\r\n" {
		t.Fatalf("third client got %q", got)
	}
	if !third.closed(5 * time.Second) {
		t.Fatal("refused client left open")
	}
	// The admitted clients are unaffected; once one leaves there is room.
	if got := a.do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING after refusal: %q", got)
	}
	if got := b.do("QUIT"); got != "+OK\r\n" {
		t.Fatalf("QUIT: %q", got)
	}
	b.closed(5 * time.Second)
	var got string
	for i := 0; i < 100; i++ {
		c := dialRaw(t, addr)
		c.nc.SetDeadline(time.Now().Add(5 * time.Second))
		c.nc.Write(encodeStrings("PING"))
		if got = c.line(); got == "+PONG\r\n" {
			break
		}
		time.Sleep(20 * time.Millisecond) // the quitting client is still being removed
	}
	if got != "+PONG\r\n" {
		t.Fatalf("after a client left: %q", got)
	}
}

func TestIdleTimeout(t *testing.T) {
	// Redis counts timeout in seconds; a shorter value keeps the test quick.
	_, addr, _ := startTestServer(t, func(c *config.Config) { c.Timeout = 300 * time.Millisecond })
	idle := dialRaw(t, addr)
	if got := idle.do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING: %q", got)
	}
	busy := dialRaw(t, addr)
	start := time.Now()
	for time.Since(start) < 600*time.Millisecond {
		if got := busy.do("PING"); got != "+PONG\r\n" {
			t.Fatalf("busy client: %q", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !idle.closed(5 * time.Second) {
		t.Fatal("idle connection not closed")
	}
	if got := busy.do("PING"); got != "+PONG\r\n" {
		t.Fatalf("active client closed too: %q", got)
	}
}

func TestQuit(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	c := dialRaw(t, addr)
	c.nc.SetDeadline(time.Now().Add(5 * time.Second))
	// Whatever is pipelined after QUIT is not run.
	c.nc.Write(append(encodeStrings("QUIT"), encodeStrings("SET", "after", "quit")...))
	if got := c.line(); got != "+OK\r\n" {
		t.Fatalf("QUIT: %q", got)
	}
	if !c.closed(5 * time.Second) {
		t.Fatal("connection open after QUIT")
	}
	check := dialRaw(t, addr)
	if got := check.do("EXISTS", "after"); got != ":0\r\n" {
		t.Fatalf("command pipelined after QUIT ran: EXISTS = %q", got)
	}
	// Inline QUIT with arguments is accepted too (arity -1).
	c2 := dialRaw(t, addr)
	c2.nc.SetDeadline(time.Now().Add(5 * time.Second))
	c2.nc.Write([]byte("quit now\r\n"))
	if got := c2.line(); got != "+OK\r\n" {
		t.Fatalf("inline QUIT: %q", got)
	}
	if !c2.closed(5 * time.Second) {
		t.Fatal("connection open after inline QUIT")
	}
}

func TestProtocolErrorClosesConnection(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	c := dialRaw(t, addr)
	c.nc.SetDeadline(time.Now().Add(5 * time.Second))
	c.nc.Write([]byte("PING\r\n*2\r\n+x\r\n"))
	if got := c.line(); got != "+PONG\r\n" {
		t.Fatalf("PING: %q", got)
	}
	if got := c.line(); got != "-ERR Protocol error: expected '$', got '+'\r\n" {
		t.Fatalf("protocol error: %q", got)
	}
	if !c.closed(5 * time.Second) {
		t.Fatal("connection open after a protocol error")
	}
}

func TestQueryBufferLimitClosesClient(t *testing.T) {
	_, addr, logs := startTestServer(t, func(c *config.Config) { c.ClientQueryBufferLimit = 1 << 20 })
	c := dialRaw(t, addr)
	c.nc.SetDeadline(time.Now().Add(5 * time.Second))
	go c.nc.Write(encodeRESP([]byte("SET"), []byte("k"), bytes.Repeat([]byte{'x'}, 2<<20)))
	if !c.closed(5 * time.Second) {
		t.Fatal("client over client-query-buffer-limit not closed")
	}
	if !strings.Contains(logs.String(), "query buffer") {
		t.Errorf("no log line for the closed client; log:\n%s", logs.String())
	}
	if got := dialRaw(t, addr).do("EXISTS", "k"); got != ":0\r\n" {
		t.Fatalf("the oversized SET ran: EXISTS = %q", got)
	}
}
