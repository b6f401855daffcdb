package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/store"
)

// connTestServer starts a server on a loopback port with cfg changed by
// tweak, and returns its address.
func connTestServer(t *testing.T, tweak func(*config.Config)) string {
	t.Helper()
	cfg := config.Default()
	if tweak != nil {
		tweak(cfg)
	}
	st, err := store.New(store.Options{Databases: cfg.Databases, Shards: 16})
	if err != nil {
		t.Fatal(err)
	}
	srv := New(Options{Config: cfg, Store: st})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// connTestClient is a raw RESP connection.
type connTestClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func connTestDial(t *testing.T, addr string) *connTestClient {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &connTestClient{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// send writes one command as a RESP array of bulk strings.
func (tc *connTestClient) send(args ...string) {
	tc.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	tc.sendRaw(b.String())
}

func (tc *connTestClient) sendRaw(s string) {
	tc.t.Helper()
	if _, err := tc.conn.Write([]byte(s)); err != nil {
		tc.t.Fatal(err)
	}
}

// reply reads one complete reply and returns its raw bytes.
func (tc *connTestClient) reply() string {
	tc.t.Helper()
	tc.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	s, err := connTestReadReply(tc.r)
	if err != nil {
		tc.t.Fatalf("reading reply: %v (got %q)", err, s)
	}
	return s
}

// do sends a command and returns its raw reply.
func (tc *connTestClient) do(args ...string) string {
	tc.t.Helper()
	tc.send(args...)
	return tc.reply()
}

// expect sends a command and checks the raw reply.
func (tc *connTestClient) expect(want string, args ...string) {
	tc.t.Helper()
	if got := tc.do(args...); got != want {
		tc.t.Errorf("%q: got %q, want %q", args, got, want)
	}
}

// expectClosed checks that the server closes the connection with no more
// data. A reset counts as closed: the server closed with our request bytes
// still unread.
func (tc *connTestClient) expectClosed() {
	tc.t.Helper()
	tc.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	rest, err := io.ReadAll(tc.r)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		tc.t.Fatalf("connection not closed: %v", err)
	}
	if len(rest) != 0 {
		tc.t.Errorf("unexpected data before close: %q", rest)
	}
}

func connTestReadReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return line, err
	}
	if len(line) < 3 || !strings.HasSuffix(line, "\r\n") {
		return line, fmt.Errorf("bad line %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+', '-', ':', '_', '#', ',', '(':
		return line, nil
	case '$', '=', '!':
		n, err := strconv.Atoi(body)
		if err != nil {
			return line, err
		}
		if n < 0 {
			return line, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return line, err
		}
		return line + string(buf), nil
	case '*', '~', '>', '%':
		n, err := strconv.Atoi(body)
		if err != nil {
			return line, err
		}
		if line[0] == '%' {
			n *= 2
		}
		out := line
		for i := 0; i < n; i++ {
			s, err := connTestReadReply(r)
			out += s
			if err != nil {
				return out, err
			}
		}
		return out, nil
	}
	return line, fmt.Errorf("unknown reply type %q", line)
}

func bulk(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }

func TestConnectionBasics(t *testing.T) {
	tc := connTestDial(t, connTestServer(t, nil))
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"PING"}, "+PONG\r\n"},
		{[]string{"ping", "hello"}, bulk("hello")},
		{[]string{"PING", "a", "b"}, "-ERR wrong number of arguments for 'ping' command\r\n"},
		{[]string{"ECHO", "x y"}, bulk("x y")},
		{[]string{"ECHO"}, "-ERR wrong number of arguments for 'echo' command\r\n"},
		{[]string{"SELECT", "15"}, "+OK\r\n"},
		{[]string{"SELECT", "16"}, "-ERR DB index is out of range\r\n"},
		{[]string{"SELECT", "-1"}, "-ERR DB index is out of range\r\n"},
		{[]string{"SELECT", "1.5"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"SELECT", "99999999999"}, "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"},
		{[]string{"AUTH", "x"}, "-" + string(errAuthNotSet) + "\r\n"},
		{[]string{"AUTH", "default", "anything"}, "+OK\r\n"},
		{[]string{"AUTH", "bob", "x"}, "-" + string(errWrongPass) + "\r\n"},
		{[]string{"AUTH", "a", "b", "c"}, "-ERR syntax error\r\n"},
		{[]string{"HELLO", "4"}, "-NOPROTO unsupported protocol version\r\n"},
		{[]string{"HELLO", "1"}, "-NOPROTO unsupported protocol version\r\n"},
		{[]string{"HELLO", "x"}, "-ERR Protocol version is not an integer or out of range\r\n"},
		{[]string{"HELLO", "3", "AUTH", "default"}, "-ERR Syntax error in HELLO option 'AUTH'\r\n"},
		{[]string{"HELLO", "3", "setname"}, "-ERR Syntax error in HELLO option 'setname'\r\n"},
		{[]string{"HELLO", "3", "SETNAME", "a b"}, "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
		{[]string{"HELLO", "3", "AUTH", "bob", "x"}, "-" + string(errWrongPass) + "\r\n"},
		{[]string{"CLIENT", "GETNAME"}, "$-1\r\n"},
		{[]string{"CLIENT", "SETNAME", "a b"}, "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
		{[]string{"CLIENT", "SETNAME", "caf\xc3\xa9"}, "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
		{[]string{"CLIENT", "SETNAME", "worker-1"}, "+OK\r\n"},
		{[]string{"CLIENT", "GETNAME"}, bulk("worker-1")},
		{[]string{"CLIENT", "SETNAME", ""}, "+OK\r\n"},
		{[]string{"CLIENT", "GETNAME"}, "$-1\r\n"},
		{[]string{"CLIENT"}, "-ERR wrong number of arguments for 'client' command\r\n"},
		{[]string{"CLIENT", "FOO"}, "-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n"},
		{[]string{"CLIENT", "ID", "x"}, "-ERR wrong number of arguments for 'client|id' command\r\n"},
		{[]string{"CLIENT", "KILL"}, "-ERR wrong number of arguments for 'client|kill' command\r\n"},
		{[]string{"CLIENT", "KILL", "1.2.3.4:5"}, "-ERR No such client\r\n"},
		{[]string{"CLIENT", "KILL", "ID", "0"}, "-ERR client-id should be greater than 0\r\n"},
		{[]string{"CLIENT", "KILL", "ID", "x"}, "-ERR client-id should be greater than 0\r\n"},
		{[]string{"CLIENT", "KILL", "ID", "99999"}, ":0\r\n"},
		{[]string{"CLIENT", "KILL", "USER", "bob"}, "-ERR No such user 'bob'\r\n"},
		{[]string{"CLIENT", "KILL", "TYPE", "bogus"}, "-ERR Unknown client type 'bogus'\r\n"},
		{[]string{"CLIENT", "KILL", "SKIPME", "maybe"}, "-ERR syntax error\r\n"},
		{[]string{"CLIENT", "KILL", "ID", "5", "SKIPME"}, "-ERR syntax error\r\n"},
		{[]string{"CLIENT", "LIST", "TYPE", "bogus"}, "-ERR Unknown client type 'bogus'\r\n"},
		{[]string{"CLIENT", "LIST", "TYPE", "master"}, bulk("")},
		{[]string{"CLIENT", "LIST", "ID", "x"}, "-ERR Invalid client ID\r\n"},
		{[]string{"CLIENT", "LIST", "ID", "99999"}, bulk("")},
		{[]string{"CLIENT", "LIST", "foo"}, "-ERR syntax error\r\n"},
		{[]string{"CLIENT", "NO-EVICT", "on"}, "+OK\r\n"},
		{[]string{"CLIENT", "NO-EVICT", "maybe"}, "-ERR syntax error\r\n"},
		{[]string{"CLIENT", "NO-TOUCH", "ON"}, "+OK\r\n"},
		{[]string{"CLIENT", "NO-TOUCH", "x"}, "-ERR syntax error\r\n"},
		{[]string{"CLIENT", "SETINFO", "LIB-NAME", "go-redis"}, "+OK\r\n"},
		{[]string{"CLIENT", "SETINFO", "lib-ver", "9.0.0"}, "+OK\r\n"},
		{[]string{"CLIENT", "SETINFO", "lib-ver", "9 0"}, "-ERR lib-ver cannot contain spaces, newlines or special characters.\r\n"},
		{[]string{"CLIENT", "SETINFO", "lib-os", "x"}, "-ERR Unrecognized option 'lib-os'\r\n"},
		{[]string{"CLIENT", "REPLY", "maybe"}, "-ERR syntax error\r\n"},
		{[]string{"CLIENT", "REPLY", "ON"}, "+OK\r\n"},
		{[]string{"CLIENT", "CACHING", "yes"}, "-" + string(errCachingNoTracking) + "\r\n"},
		{[]string{"CLIENT", "GETREDIR"}, ":-1\r\n"},
		{[]string{"CLIENT", "TRACKINGINFO"}, "*6\r\n" + bulk("flags") + "*1\r\n" + bulk("off") + bulk("redirect") + ":-1\r\n" + bulk("prefixes") + "*0\r\n"},
	}
	for _, tt := range cases {
		tc.expect(tt.want, tt.args...)
	}
}

func TestConnectionClientHelp(t *testing.T) {
	tc := connTestDial(t, connTestServer(t, nil))
	got := tc.do("CLIENT", "HELP")
	lines := strings.Split(strings.TrimSuffix(got, "\r\n"), "\r\n")
	if lines[0] != "*"+strconv.Itoa(len(clientHelp)) {
		t.Fatalf("header %q, want %d lines", lines[0], len(clientHelp))
	}
	for i, l := range lines[1:] {
		if l != "+"+clientHelp[i] {
			t.Errorf("line %d: %q", i, l)
		}
	}
	if first := lines[1]; first != "+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" {
		t.Errorf("first line %q", first)
	}
	tc.expect("-ERR wrong number of arguments for 'client|help' command\r\n", "CLIENT", "HELP", "x")
}

// connTestField returns the value of key in a CLIENT LIST line.
func connTestField(line, key string) (string, bool) {
	for _, f := range strings.Fields(line) {
		if k, v, ok := strings.Cut(f, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// connTestBulkText unwraps a bulk or verbatim reply.
func connTestBulkText(t *testing.T, raw string) string {
	t.Helper()
	_, rest, ok := strings.Cut(raw, "\r\n")
	if !ok || (raw[0] != '$' && raw[0] != '=') {
		t.Fatalf("not a bulk string: %q", raw)
	}
	text := strings.TrimSuffix(rest, "\r\n")
	if raw[0] == '=' {
		if !strings.HasPrefix(text, "txt:") {
			t.Fatalf("verbatim without txt: %q", raw)
		}
		text = text[4:]
	}
	return text
}

func TestConnectionClientInfoAndList(t *testing.T) {
	addr := connTestServer(t, nil)
	a := connTestDial(t, addr)
	b := connTestDial(t, addr)
	idA := strings.TrimSuffix(strings.TrimPrefix(a.do("CLIENT", "ID"), ":"), "\r\n")
	idB := strings.TrimSuffix(strings.TrimPrefix(b.do("CLIENT", "ID"), ":"), "\r\n")
	if idA == idB {
		t.Fatalf("two clients share id %s", idA)
	}
	a.expect("+OK\r\n", "CLIENT", "SETNAME", "alpha")
	a.expect("+OK\r\n", "SELECT", "3")
	a.expect("+OK\r\n", "CLIENT", "NO-EVICT", "on")
	a.expect("+OK\r\n", "CLIENT", "SETINFO", "lib-name", "mylib")

	info := connTestBulkText(t, a.do("CLIENT", "INFO"))
	if !strings.HasSuffix(info, "\n") || strings.Count(info, "\n") != 1 {
		t.Fatalf("CLIENT INFO is not one line: %q", info)
	}
	wantKeys := []string{"id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub", "psub", "ssub",
		"multi", "qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp", "obl", "oll", "omem", "tot-mem",
		"events", "cmd", "user", "redir", "resp", "lib-name", "lib-ver"}
	fields := strings.Fields(info)
	if len(fields) != len(wantKeys) {
		t.Fatalf("CLIENT INFO has %d fields, want %d: %q", len(fields), len(wantKeys), info)
	}
	for i, f := range fields {
		if k, _, _ := strings.Cut(f, "="); k != wantKeys[i] {
			t.Errorf("field %d is %q, want %q", i, k, wantKeys[i])
		}
	}
	checks := map[string]string{
		"id": idA, "name": "alpha", "db": "3", "flags": "e", "cmd": "client|info", "user": "default",
		"resp": "2", "multi": "-1", "redir": "-1", "lib-name": "mylib", "lib-ver": "", "argv-mem": "10",
		"laddr": addr, "addr": a.conn.LocalAddr().String(),
	}
	for k, want := range checks {
		if got, _ := connTestField(info, k); got != want {
			t.Errorf("CLIENT INFO %s=%q, want %q", k, got, want)
		}
	}
	if fd, _ := connTestField(info, "fd"); fd == "-1" || fd == "" {
		t.Errorf("fd=%q", fd)
	}

	list := connTestBulkText(t, b.do("CLIENT", "LIST"))
	lines := strings.Split(strings.TrimSuffix(list, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("CLIENT LIST has %d lines: %q", len(lines), list)
	}
	if id, _ := connTestField(lines[0], "id"); id != idA {
		t.Errorf("first line id %s, want %s (ordered by id)", id, idA)
	}
	if name, _ := connTestField(lines[0], "name"); name != "alpha" {
		t.Errorf("other client's name %q", name)
	}
	if cmd, _ := connTestField(lines[1], "cmd"); cmd != "client|list" {
		t.Errorf("own cmd %q", cmd)
	}
	normal := connTestBulkText(t, b.do("CLIENT", "LIST", "TYPE", "NORMAL"))
	if strings.Count(normal, "\n") != 2 {
		t.Errorf("TYPE normal: %q", normal)
	}
	byID := connTestBulkText(t, b.do("CLIENT", "LIST", "ID", idB, "424242", idA))
	got := strings.Split(strings.TrimSuffix(byID, "\n"), "\n")
	if len(got) != 2 {
		t.Fatalf("CLIENT LIST ID: %q", byID)
	}
	if id, _ := connTestField(got[0], "id"); id != idB {
		t.Errorf("CLIENT LIST ID keeps argument order: first id %s, want %s", id, idB)
	}

	// In RESP3 the text comes as a verbatim string.
	b.do("HELLO", "3")
	if raw := b.do("CLIENT", "INFO"); !strings.HasPrefix(raw, "=") {
		t.Errorf("RESP3 CLIENT INFO: %q", raw)
	}
}

func TestConnectionHello(t *testing.T) {
	tc := connTestDial(t, connTestServer(t, nil))
	id := strings.TrimSuffix(strings.TrimPrefix(tc.do("CLIENT", "ID"), ":"), "\r\n")
	body := func(proto string) string {
		return bulk("server") + bulk("redis") + bulk("version") + bulk(helloVersion) +
			bulk("proto") + ":" + proto + "\r\n" + bulk("id") + ":" + id + "\r\n" +
			bulk("mode") + bulk("standalone") + bulk("role") + bulk("master") + bulk("modules") + "*0\r\n"
	}
	tc.expect("*14\r\n"+body("2"), "HELLO")
	tc.expect("%7\r\n"+body("3"), "HELLO", "3", "SETNAME", "h3")
	tc.expect(bulk("h3"), "CLIENT", "GETNAME")
	// Now in RESP3: nulls and maps change shape.
	tc.expect("+OK\r\n", "CLIENT", "SETNAME", "")
	tc.expect("_\r\n", "CLIENT", "GETNAME")
	tc.expect("+PONG\r\n", "PING")
	tc.expect("%3\r\n"+bulk("flags")+"~1\r\n"+bulk("off")+bulk("redirect")+":-1\r\n"+bulk("prefixes")+"*0\r\n", "CLIENT", "TRACKINGINFO")
	tc.expect("%7\r\n"+body("3"), "HELLO")
	// A failed HELLO changes nothing.
	tc.expect("-ERR Syntax error in HELLO option 'foo'\r\n", "HELLO", "2", "SETNAME", "x", "foo")
	tc.expect("_\r\n", "CLIENT", "GETNAME")
	tc.expect("*14\r\n"+body("2"), "HELLO", "2", "AUTH", "default", "whatever")
	tc.expect("$-1\r\n", "CLIENT", "GETNAME")
	// RESET goes back to RESP2.
	tc.expect("%7\r\n"+body("3"), "HELLO", "3")
	tc.expect("+RESET\r\n", "RESET")
	tc.expect("$-1\r\n", "CLIENT", "GETNAME")
}

func TestConnectionRequirepass(t *testing.T) {
	addr := connTestServer(t, func(c *config.Config) { c.Requirepass = "s3cret" })
	tc := connTestDial(t, addr)
	tc.expect("-NOAUTH Authentication required.\r\n", "PING")
	tc.expect("-NOAUTH Authentication required.\r\n", "CLIENT", "ID")
	tc.expect("-ERR unknown command 'nosuch', with args beginning with: \r\n", "nosuch")
	tc.expect("-ERR wrong number of arguments for 'get' command\r\n", "GET")
	tc.expect("-"+string(errHelloNoAuth)+"\r\n", "HELLO", "3")
	tc.expect("-ERR Client names cannot contain spaces, newlines or special characters.\r\n", "HELLO", "3", "SETNAME", "a b")
	tc.expect("-"+string(errWrongPass)+"\r\n", "AUTH", "wrong")
	tc.expect("-"+string(errWrongPass)+"\r\n", "AUTH", "default", "wrong")
	tc.expect("-"+string(errWrongPass)+"\r\n", "AUTH", "other", "s3cret")
	tc.expect("-"+string(errWrongPass)+"\r\n", "HELLO", "2", "AUTH", "default", "nope")
	tc.expect("-NOAUTH Authentication required.\r\n", "PING")
	tc.expect("+OK\r\n", "AUTH", "s3cret")
	tc.expect("+PONG\r\n", "PING")
	// A wrong password later does not log the client out.
	tc.expect("-"+string(errWrongPass)+"\r\n", "AUTH", "wrong")
	tc.expect("+PONG\r\n", "PING")
	tc.expect("+OK\r\n", "SELECT", "2")
	tc.expect("+OK\r\n", "CLIENT", "SETNAME", "n")
	// RESET logs out, back to db 0, no name.
	tc.expect("+RESET\r\n", "RESET")
	tc.expect("-NOAUTH Authentication required.\r\n", "PING")
	tc.expect("+OK\r\n", "AUTH", "default", "s3cret")
	tc.expect("$-1\r\n", "CLIENT", "GETNAME")
	info := connTestBulkText(t, tc.do("CLIENT", "INFO"))
	if db, _ := connTestField(info, "db"); db != "0" {
		t.Errorf("db after RESET = %s", db)
	}

	// HELLO AUTH authenticates and switches protocol in one step.
	h := connTestDial(t, addr)
	if got := h.do("HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "hh"); !strings.HasPrefix(got, "%7\r\n") {
		t.Fatalf("HELLO 3 AUTH: %q", got)
	}
	h.expect(bulk("hh"), "CLIENT", "GETNAME")
	h.expect("+PONG\r\n", "PING")

	// QUIT works before authenticating.
	q := connTestDial(t, addr)
	q.expect("+OK\r\n", "QUIT")
	q.expectClosed()
}

func TestConnectionUnauthenticatedLimits(t *testing.T) {
	addr := connTestServer(t, func(c *config.Config) { c.Requirepass = "pw" })

	// More than 10 arguments before AUTH is a protocol error.
	tc := connTestDial(t, addr)
	args := make([]string, 11)
	for i := range args {
		args[i] = "x"
	}
	tc.expect("-ERR Protocol error: unauthenticated multibulk length\r\n", args...)
	tc.expectClosed()

	// Large bulks too.
	tc = connTestDial(t, addr)
	tc.expect("-ERR Protocol error: unauthenticated bulk length\r\n", "ECHO", strings.Repeat("x", 16385))
	tc.expectClosed()

	// After AUTH the limits lift; after RESET they are back.
	tc = connTestDial(t, addr)
	tc.expect("+OK\r\n", "AUTH", "pw")
	tc.expect("-ERR wrong number of arguments for 'echo' command\r\n", append([]string{"ECHO"}, args...)...)
	tc.expect(bulk(strings.Repeat("y", 20000)), "ECHO", strings.Repeat("y", 20000))
	tc.expect("+RESET\r\n", "RESET")
	tc.expect("-ERR Protocol error: unauthenticated multibulk length\r\n", append([]string{"ECHO"}, args...)...)
	tc.expectClosed()

	// HELLO AUTH lifts them too.
	tc = connTestDial(t, addr)
	if got := tc.do("HELLO", "2", "AUTH", "default", "pw"); !strings.HasPrefix(got, "*14\r\n") {
		t.Fatalf("HELLO AUTH: %q", got)
	}
	tc.expect(bulk(strings.Repeat("z", 20000)), "ECHO", strings.Repeat("z", 20000))
}

func TestConnectionClientKill(t *testing.T) {
	addr := connTestServer(t, nil)
	killer := connTestDial(t, addr)
	victim := connTestDial(t, addr)
	victim.expect("+OK\r\n", "CLIENT", "SETNAME", "victim")
	victimID := strings.TrimSuffix(strings.TrimPrefix(victim.do("CLIENT", "ID"), ":"), "\r\n")

	// New form by id: count of killed clients; the victim's socket closes.
	killer.expect(":1\r\n", "CLIENT", "KILL", "ID", victimID)
	victim.expectClosed()
	list := connTestBulkText(t, killer.do("CLIENT", "LIST"))
	if strings.Contains(list, "name=victim") {
		t.Errorf("killed client still listed: %q", list)
	}
	killer.expect(":0\r\n", "CLIENT", "KILL", "ID", victimID)

	// Old form by address.
	v2 := connTestDial(t, addr)
	v2.expect("+PONG\r\n", "PING")
	killer.expect("+OK\r\n", "CLIENT", "KILL", v2.conn.LocalAddr().String())
	v2.expectClosed()
	killer.expect("-ERR No such client\r\n", "CLIENT", "KILL", v2.conn.LocalAddr().String())

	// By ADDR and LADDR; SKIPME yes (the default) spares the caller.
	v3 := connTestDial(t, addr)
	v3.expect("+PONG\r\n", "PING")
	killer.expect(":0\r\n", "CLIENT", "KILL", "ADDR", killer.conn.LocalAddr().String())
	killer.expect(":1\r\n", "CLIENT", "KILL", "LADDR", addr, "USER", "default", "TYPE", "normal")
	v3.expectClosed()

	// Killing itself: the reply comes first, then the close.
	killer.expect(":1\r\n", "CLIENT", "KILL", "ADDR", killer.conn.LocalAddr().String(), "SKIPME", "no")
	killer.expectClosed()

	self := connTestDial(t, addr)
	self.expect("+OK\r\n", "CLIENT", "KILL", self.conn.LocalAddr().String())
	self.expectClosed()
}

func TestConnectionClientReply(t *testing.T) {
	tc := connTestDial(t, connTestServer(t, nil))
	// Pipeline everything, then check exactly which replies arrive.
	tc.send("CLIENT", "REPLY", "OFF")
	tc.send("PING", "a")
	tc.send("CLIENT", "REPLY", "bogus") // swallowed, like any reply under OFF
	tc.send("GET")                      // error swallowed too
	tc.send("CLIENT", "REPLY", "ON")    // +OK
	tc.send("PING", "b")                // b
	tc.send("CLIENT", "REPLY", "SKIP")
	tc.send("PING", "c") // skipped
	tc.send("PING", "d") // d
	tc.send("CLIENT", "REPLY", "SKIP")
	tc.send("CLIENT", "REPLY", "bogus") // skipped
	tc.send("PING", "e")                // e
	tc.send("CLIENT", "REPLY", "SKIP")
	tc.send("CLIENT", "REPLY", "ON") // ON cancels the skip: +OK
	tc.send("PING", "f")             // f
	tc.send("CLIENT", "REPLY", "OFF")
	tc.send("RESET") // RESET turns replies back on and answers
	tc.send("PING", "g")
	tc.send("CLIENT", "REPLY", "SKIP")
	tc.send("RESET")     // skipped: SKIP outlives RESET's own reply
	tc.send("PING", "h") // h
	want := []string{"+OK\r\n", bulk("b"), bulk("d"), bulk("e"), "+OK\r\n", bulk("f"), "+RESET\r\n", bulk("g"), bulk("h")}
	for i, w := range want {
		if got := tc.reply(); got != w {
			t.Fatalf("reply %d: got %q, want %q", i, got, w)
		}
	}
	tc.conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if extra, err := tc.r.ReadByte(); err == nil {
		t.Errorf("unexpected extra reply starting with %q", extra)
	}
}

func TestConnectionReset(t *testing.T) {
	tc := connTestDial(t, connTestServer(t, nil))
	tc.expect("+OK\r\n", "SELECT", "5")
	tc.expect("+OK\r\n", "CLIENT", "SETNAME", "r")
	tc.expect("+OK\r\n", "CLIENT", "NO-EVICT", "on")
	tc.expect("+OK\r\n", "CLIENT", "NO-TOUCH", "on")
	tc.expect("+OK\r\n", "CLIENT", "SETINFO", "lib-name", "keep")
	info := connTestBulkText(t, tc.do("CLIENT", "INFO"))
	if flags, _ := connTestField(info, "flags"); flags != "eT" {
		t.Errorf("flags before RESET %q, want eT", flags)
	}
	tc.expect("+RESET\r\n", "RESET")
	tc.expect("-ERR wrong number of arguments for 'reset' command\r\n", "RESET", "x")
	info = connTestBulkText(t, tc.do("CLIENT", "INFO"))
	for k, want := range map[string]string{"db": "0", "name": "", "flags": "N", "resp": "2", "lib-name": "keep"} {
		if got, _ := connTestField(info, k); got != want {
			t.Errorf("after RESET %s=%q, want %q", k, got, want)
		}
	}
}

func TestConnectionQuit(t *testing.T) {
	tc := connTestDial(t, connTestServer(t, nil))
	tc.sendRaw("*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nQUIT\r\n$1\r\nx\r\n*1\r\n$4\r\nPING\r\n")
	if got := tc.reply(); got != "+PONG\r\n" {
		t.Fatalf("got %q", got)
	}
	if got := tc.reply(); got != "+OK\r\n" {
		t.Fatalf("QUIT replied %q", got)
	}
	tc.expectClosed()
}

func TestConnectionRows(t *testing.T) {
	tab := buildTable(connectionCommands())
	cases := []struct {
		name  string
		arity int
		flags cmdFlags
	}{
		{"ping", -1, flagFast},
		{"auth", -2, connFlags},
		{"hello", -1, connFlags},
		{"reset", 1, connFlags},
		{"client", -2, 0},
	}
	for _, tt := range cases {
		c := tab.byName[tt.name]
		if c == nil || c.arity != tt.arity || c.flags != tt.flags {
			t.Errorf("%s: row %+v", tt.name, c)
		}
	}
	client := tab.byName["client"]
	subs := map[string]int{"kill": -3, "list": -2, "reply": 3, "setinfo": 4, "no-evict": 3, "help": 2}
	for name, arity := range subs {
		sc := client.subIndex[name]
		if sc == nil || sc.arity != arity || sc.fullName != "client|"+name {
			t.Errorf("client|%s: %+v", name, sc)
		}
	}
	if !client.subIndex["kill"].has(flagAdmin) || client.subIndex["id"].has(flagAdmin) {
		t.Error("client|kill must be admin, client|id must not")
	}
}
