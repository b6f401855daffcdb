package server

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// bconn is a test client that reads whole RESP replies and can be used
// from any goroutine (its methods return errors rather than failing t).
type bconn struct {
	nc net.Conn
	br *bufio.Reader
}

func dialB(t *testing.T, addr string) *bconn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &bconn{nc: nc, br: bufio.NewReader(nc)}
}

func (c *bconn) send(args ...string) error {
	c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := c.nc.Write(encodeStrings(args...))
	return err
}

// read waits up to d for one reply.
func (c *bconn) read(d time.Duration) (any, error) {
	c.nc.SetReadDeadline(time.Now().Add(d))
	return readRESP(c.br)
}

// do sends a command and reads its reply, failing t on I/O errors.
func (c *bconn) do(t *testing.T, args ...string) any {
	t.Helper()
	if err := c.send(args...); err != nil {
		t.Fatalf("send %q: %v", args, err)
	}
	v, err := c.read(5 * time.Second)
	if err != nil {
		t.Fatalf("read reply to %q: %v", args, err)
	}
	return v
}

func (c *bconn) id(t *testing.T) int64 {
	t.Helper()
	n, ok := c.do(t, "CLIENT", "ID").(int64)
	if !ok {
		t.Fatal("CLIENT ID did not answer an integer")
	}
	return n
}

// waitParked waits until exactly n clients are parked.
func waitParked(t *testing.T, srv *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _, _ := srv.blocking.counts()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d clients parked, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func pair(v any) (string, string, bool) {
	l, ok := v.([]any)
	if !ok || len(l) != 2 {
		return "", "", false
	}
	k, ok1 := l[0].(string)
	e, ok2 := l[1].(string)
	return k, e, ok1 && ok2
}

// TestBlockingFIFOManyClients is the acceptance test: 200 clients block
// on BLPOP across 20 keys; pushers on other connections feed the keys; every
// element reaches exactly one client, each key's waiters are served in the
// order they blocked, and it all finishes in bounded time.
func TestBlockingFIFOManyClients(t *testing.T) {
	const keys, perKey = 20, 10
	srv, addr, _ := startTestServer(t, nil)
	done := make(chan struct{})
	timer := time.AfterFunc(60*time.Second, func() { close(done) })
	defer timer.Stop()

	type waiterConn struct {
		c        *bconn
		key      string
		position int
	}
	var ws []waiterConn
	// Block round-robin over the keys, one client at a time, so each key's
	// blocking order is known.
	for j := 0; j < perKey; j++ {
		for i := 0; i < keys; i++ {
			c := dialB(t, addr)
			key := "q" + strconv.Itoa(i)
			if err := c.send("BLPOP", key, "0"); err != nil {
				t.Fatal(err)
			}
			ws = append(ws, waiterConn{c, key, j})
			waitParked(t, srv, len(ws))
		}
	}
	if _, _, nkeys := srv.blocking.counts(); nkeys != keys {
		t.Fatalf("%d keys with waiters, want %d", nkeys, keys)
	}

	// Read every waiter's reply concurrently.
	type got struct {
		w       waiterConn
		key, el string
		err     error
	}
	results := make(chan got, len(ws))
	for _, w := range ws {
		go func() {
			v, err := w.c.read(60 * time.Second)
			k, e, ok := pair(v)
			if err == nil && !ok {
				err = fmt.Errorf("reply %v is not [key, element]", v)
			}
			results <- got{w, k, e, err}
		}()
	}

	// Four pushers, each feeding five keys, interleaving single-element
	// RPUSHes and LPUSHes of several elements.
	var wg sync.WaitGroup
	pushErr := make(chan error, 4)
	for p := 0; p < 4; p++ {
		pc := dialB(t, addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < perKey; j += 2 {
				for i := p; i < keys; i += 4 {
					key := "q" + strconv.Itoa(i)
					var err error
					if j%4 == 0 {
						// Two elements at once: the older waiter gets the head.
						err = pc.send("RPUSH", key, fmt.Sprintf("%s:%d", key, j), fmt.Sprintf("%s:%d", key, j+1))
					} else {
						// LPUSH b a leaves a at the head.
						err = pc.send("LPUSH", key, fmt.Sprintf("%s:%d", key, j+1), fmt.Sprintf("%s:%d", key, j))
					}
					if err == nil {
						var v any
						v, err = pc.read(10 * time.Second)
						if _, isInt := v.(int64); err == nil && !isInt {
							err = fmt.Errorf("push replied %v", v)
						}
					}
					if err != nil {
						pushErr <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(pushErr)
	for err := range pushErr {
		t.Fatal(err)
	}

	seen := make(map[string]bool)
	for range ws {
		select {
		case r := <-results:
			if r.err != nil {
				t.Fatalf("waiter on %s #%d: %v", r.w.key, r.w.position, r.err)
			}
			if seen[r.el] {
				t.Errorf("element %s delivered twice", r.el)
			}
			seen[r.el] = true
			want := fmt.Sprintf("%s:%d", r.w.key, r.w.position)
			if r.key != r.w.key || r.el != want {
				t.Errorf("waiter %d on %s got [%s %s], want [%s %s] (FIFO)", r.w.position, r.w.key, r.key, r.el, r.w.key, want)
			}
		case <-done:
			t.Fatal("not done within 60 s")
		}
	}
	if len(seen) != keys*perKey {
		t.Fatalf("%d distinct elements delivered, want %d", len(seen), keys*perKey)
	}
	c := dialB(t, addr)
	for i := 0; i < keys; i++ {
		if n := c.do(t, "LLEN", "q"+strconv.Itoa(i)); n != int64(0) {
			t.Errorf("q%d keeps %v elements", i, n)
		}
	}
	if n, _, k := srv.blocking.counts(); n != 0 || k != 0 {
		t.Errorf("registry keeps %d clients on %d keys", n, k)
	}
}

func TestBlockingTimeouts(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	c := dialB(t, addr)
	cases := []struct {
		args []string
		min  time.Duration
	}{
		{[]string{"BLPOP", "nokey", "0.05"}, 50 * time.Millisecond},
		{[]string{"BRPOP", "a", "b", "0.02"}, 20 * time.Millisecond},
		{[]string{"BLMOVE", "nokey", "dst", "LEFT", "RIGHT", "0.03"}, 30 * time.Millisecond},
		{[]string{"BRPOPLPUSH", "nokey", "dst", ".01"}, 10 * time.Millisecond},
		{[]string{"BLMPOP", "0.04", "2", "a", "b", "LEFT", "COUNT", "3"}, 40 * time.Millisecond},
	}
	for _, proto := range []string{"2", "3"} {
		c.do(t, "HELLO", proto)
		for _, tc := range cases {
			start := time.Now()
			if err := c.send(tc.args...); err != nil {
				t.Fatal(err)
			}
			c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			line, err := c.br.ReadString('\n')
			took := time.Since(start)
			if err != nil {
				t.Fatalf("%v: %v", tc.args, err)
			}
			want := "*-1\r\n"
			if proto == "3" {
				want = "_\r\n"
			}
			if line != want {
				t.Errorf("RESP%s %v: reply %q, want %q", proto, tc.args, line, want)
			}
			if took < tc.min || took > 3*time.Second {
				t.Errorf("%v: timed out after %v", tc.args, took)
			}
		}
	}
	if v := c.do(t, "EXISTS", "dst"); v != int64(0) {
		t.Errorf("a timed-out BLMOVE created its destination: %v", v)
	}
}

func TestParseTimeout(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		err  respError
	}{
		{"0", 0, ""},
		{"1", time.Second, ""},
		{"0.5", 500 * time.Millisecond, ""},
		{".25", 250 * time.Millisecond, ""},
		{"5.", 5 * time.Second, ""},
		{"+1", time.Second, ""},
		{"0x10", 16 * time.Second, ""},
		{"0.0001", time.Millisecond, ""}, // rounded up to whole ms
		{"1e-300", time.Millisecond, ""},
		{"1e-400", time.Millisecond, ""}, // a long double holds it
		{"-0.0001", 0, ""},               // rounds to 0: forever
		{"-0", 0, ""},
		{"1e15", 0, ""}, // beyond time.Duration: forever
		{"-1", 0, errTimeoutNegative},
		{"-0.5", 0, errTimeoutNegative},
		{"9.3e15", 0, errTimeoutNegative}, // overflows long long
		{"inf", 0, errTimeoutNegative},
		{"-inf", 0, errTimeoutNegative},
		{"1e400", 0, errTimeoutNegative},
		{"nan", 0, errTimeoutNotFloat},
		{"abc", 0, errTimeoutNotFloat},
		{"", 0, errTimeoutNotFloat},
		{" 1", 0, errTimeoutNotFloat},
		{"1 ", 0, errTimeoutNotFloat},
		{"1e", 0, errTimeoutNotFloat},
	}
	for _, tc := range cases {
		got, err := parseTimeout([]byte(tc.in))
		if tc.err != "" {
			if err != tc.err {
				t.Errorf("parseTimeout(%q) error %v, want %v", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseTimeout(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestClientUnblock(t *testing.T) {
	srv, addr, _ := startTestServer(t, nil)
	a, ctl := dialB(t, addr), dialB(t, addr)
	aid := strconv.FormatInt(a.id(t), 10)

	if v := ctl.do(t, "CLIENT", "UNBLOCK", aid); v != int64(0) {
		t.Errorf("unblocking an idle client: %v, want 0", v)
	}
	for _, tc := range []struct {
		mode []string
		want any
	}{
		{nil, nil},
		{[]string{"TIMEOUT"}, nil},
		{[]string{"error"}, errors.New(string(errUnblocked))},
	} {
		a.send("BLPOP", "k1", "k2", "0")
		waitParked(t, srv, 1)
		if list := ctl.do(t, "CLIENT", "LIST", "ID", aid).(string); !strings.Contains(list, " flags=b ") {
			t.Errorf("CLIENT LIST of a blocked client: %q", list)
		}
		args := append([]string{"CLIENT", "UNBLOCK", aid}, tc.mode...)
		if v := ctl.do(t, args...); v != int64(1) {
			t.Errorf("%v: %v, want 1", args, v)
		}
		v, err := a.read(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(v) != fmt.Sprint(tc.want) {
			t.Errorf("%v: blocked client got %v, want %v", args, v, tc.want)
		}
		waitParked(t, srv, 0)
	}
	if v := a.do(t, "PING"); v != "PONG" {
		t.Errorf("client after unblock: %v", v)
	}
	// A later push is not taken by the unblocked client.
	ctl.do(t, "RPUSH", "k1", "x")
	if v := ctl.do(t, "LLEN", "k1"); v != int64(1) {
		t.Errorf("LLEN after unblock and push: %v", v)
	}
	for _, tc := range []struct {
		args []string
		want respError
	}{
		{[]string{"CLIENT", "UNBLOCK", aid, "foo"}, errUnblockReason},
		{[]string{"CLIENT", "UNBLOCK", "abc"}, errNotInteger},
		{[]string{"CLIENT", "UNBLOCK", aid, "timeout", "x"}, errSubcommandSyntax("CLIENT", []byte("UNBLOCK"))},
	} {
		v := ctl.do(t, tc.args...)
		if e, ok := v.(error); !ok || e.Error() != string(tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, v, tc.want)
		}
	}
}

func TestClientKillReleasesBlocked(t *testing.T) {
	srv, addr, _ := startTestServer(t, nil)
	a, b, ctl := dialB(t, addr), dialB(t, addr), dialB(t, addr)
	aid := strconv.FormatInt(a.id(t), 10)
	a.send("BLPOP", "k", "0")
	waitParked(t, srv, 1)
	if v := ctl.do(t, "INFO", "clients").(string); !strings.Contains(v, "blocked_clients:1\r\n") {
		t.Errorf("INFO clients with one blocked client:\n%s", v)
	}
	if v := ctl.do(t, "CLIENT", "KILL", "ID", aid); v != int64(1) {
		t.Fatalf("CLIENT KILL: %v", v)
	}
	if _, err := a.read(5 * time.Second); err == nil {
		t.Error("killed client got a reply")
	}
	waitParked(t, srv, 0)

	// A client that hangs up while blocked is released too.
	b.send("BRPOP", "k", "0")
	waitParked(t, srv, 1)
	b.nc.Close()
	waitParked(t, srv, 0)

	ctl.do(t, "RPUSH", "k", "v")
	if v := ctl.do(t, "LRANGE", "k", "0", "-1"); fmt.Sprint(v) != "[v]" {
		t.Errorf("element taken by a dead client: %v", v)
	}
	if v := ctl.do(t, "INFO", "clients").(string); !strings.Contains(v, "blocked_clients:0\r\n") {
		t.Errorf("INFO clients after the kill:\n%s", v)
	}
}

func TestBlockedServedAfterRecreateAndRename(t *testing.T) {
	srv, addr, _ := startTestServer(t, nil)
	a, ctl := dialB(t, addr), dialB(t, addr)

	// Deleted and recreated under another type, then as a list again.
	a.send("BLPOP", "k", "0")
	waitParked(t, srv, 1)
	ctl.do(t, "RPUSH", "k", "old")
	if v, _ := a.read(5 * time.Second); fmt.Sprint(v) != "[k old]" {
		t.Fatalf("first serve: %v", v)
	}
	a.send("BLPOP", "k", "0")
	waitParked(t, srv, 1)
	ctl.do(t, "SET", "k", "string")
	ctl.do(t, "DEL", "k")
	ctl.do(t, "RPUSH", "k", "new")
	if v, _ := a.read(5 * time.Second); fmt.Sprint(v) != "[k new]" {
		t.Fatalf("after delete and recreate: %v", v)
	}

	// RENAME, COPY and MOVE onto the key wake it.
	steps := []struct {
		setup [][]string
		want  string
	}{
		{[][]string{{"RPUSH", "src", "renamed"}, {"RENAME", "src", "k"}}, "[k renamed]"},
		{[][]string{{"RPUSH", "src2", "copied"}, {"COPY", "src2", "k"}}, "[k copied]"},
		{[][]string{{"SELECT", "1"}, {"RPUSH", "k", "moved"}, {"MOVE", "k", "0"}, {"SELECT", "0"}}, "[k moved]"},
	}
	for _, st := range steps {
		a.send("BRPOP", "k", "0")
		waitParked(t, srv, 1)
		for _, cmd := range st.setup {
			ctl.do(t, cmd...)
		}
		if v, _ := a.read(5 * time.Second); fmt.Sprint(v) != st.want {
			t.Errorf("after %v: %v, want %v", st.setup, v, st.want)
		}
	}

	// SWAPDB brings a list into the waiter's database.
	a.send("BLPOP", "w", "0")
	waitParked(t, srv, 1)
	ctl.do(t, "SELECT", "2")
	ctl.do(t, "RPUSH", "w", "swapped")
	ctl.do(t, "SWAPDB", "0", "2")
	if v, _ := a.read(5 * time.Second); fmt.Sprint(v) != "[w swapped]" {
		t.Errorf("after SWAPDB: %v", v)
	}
	ctl.do(t, "SELECT", "0")

	// A blocked BLPOP on a key that becomes a string is not woken by it.
	a.send("BLPOP", "s", "0.2")
	waitParked(t, srv, 1)
	ctl.do(t, "SET", "s", "x")
	if v, err := a.read(5 * time.Second); err != nil || v != nil {
		t.Errorf("BLPOP on a key set to a string: %v, %v (want the timeout reply)", v, err)
	}
}

func TestBlmoveChain(t *testing.T) {
	srv, addr, _ := startTestServer(t, nil)
	a, b, c, ctl := dialB(t, addr), dialB(t, addr), dialB(t, addr), dialB(t, addr)

	// a moves k1 → k2, b moves k2 → k3, c pops k3: one push travels the chain.
	a.send("BLMOVE", "k1", "k2", "LEFT", "RIGHT", "0")
	waitParked(t, srv, 1)
	b.send("BRPOPLPUSH", "k2", "k3", "0")
	waitParked(t, srv, 2)
	c.send("BLPOP", "k3", "0")
	waitParked(t, srv, 3)
	ctl.do(t, "RPUSH", "k1", "x")
	for name, cl := range map[string]*bconn{"a": a, "b": b} {
		if v, err := cl.read(5 * time.Second); err != nil || v != "x" {
			t.Errorf("%s got %v, %v", name, v, err)
		}
	}
	if v, err := c.read(5 * time.Second); err != nil || fmt.Sprint(v) != "[k3 x]" {
		t.Errorf("c got %v, %v", v, err)
	}
	waitParked(t, srv, 0)

	// A cycle: a moves p → q, b moves q → p; the element ends in p.
	a.send("BLMOVE", "p", "q", "RIGHT", "LEFT", "0")
	waitParked(t, srv, 1)
	b.send("BLMOVE", "q", "p", "RIGHT", "LEFT", "0")
	waitParked(t, srv, 2)
	ctl.do(t, "LPUSH", "p", "y")
	for _, cl := range []*bconn{a, b} {
		if v, err := cl.read(5 * time.Second); err != nil || v != "y" {
			t.Errorf("cycle: got %v, %v", v, err)
		}
	}
	if v := ctl.do(t, "LRANGE", "p", "0", "-1"); fmt.Sprint(v) != "[y]" {
		t.Errorf("cycle left p = %v", v)
	}

	// A blocked BLMOVE whose destination became a string gets WRONGTYPE and
	// leaves the element in the source.
	ctl.do(t, "SET", "dst", "str")
	a.send("BLMOVE", "src", "dst", "LEFT", "LEFT", "0")
	waitParked(t, srv, 1)
	ctl.do(t, "RPUSH", "src", "z")
	if v, _ := a.read(5 * time.Second); fmt.Sprint(v) != string(errWrongType) {
		t.Errorf("BLMOVE onto a string: %v", v)
	}
	if v := ctl.do(t, "LRANGE", "src", "0", "-1"); fmt.Sprint(v) != "[z]" {
		t.Errorf("source after the failed move: %v", v)
	}
}

func TestBlockedPipelineResumes(t *testing.T) {
	srv, addr, _ := startTestServer(t, nil)
	a, ctl := dialB(t, addr), dialB(t, addr)
	// The PING sent right behind the BLPOP waits for it.
	a.nc.Write(append(encodeStrings("BLPOP", "k", "0"), encodeStrings("PING")...))
	waitParked(t, srv, 1)
	if _, err := a.read(100 * time.Millisecond); err == nil {
		t.Fatal("a blocked client answered")
	}
	ctl.do(t, "LPUSH", "k", "v1", "v2")
	if v, err := a.read(5 * time.Second); err != nil || fmt.Sprint(v) != "[k v2]" {
		t.Errorf("BLPOP: %v, %v", v, err)
	}
	if v, err := a.read(5 * time.Second); err != nil || v != "PONG" {
		t.Errorf("PING after BLPOP: %v, %v", v, err)
	}
	// Two waiters, one push of two elements: both served, in order.
	b := dialB(t, addr)
	a.send("BRPOP", "m", "0")
	waitParked(t, srv, 1)
	b.send("BLMPOP", "0", "1", "m", "RIGHT", "COUNT", "5")
	waitParked(t, srv, 2)
	ctl.do(t, "RPUSH", "m", "1", "2", "3")
	if v, _ := a.read(5 * time.Second); fmt.Sprint(v) != "[m 3]" {
		t.Errorf("first waiter: %v", v)
	}
	if v, _ := b.read(5 * time.Second); fmt.Sprint(v) != "[m [2 1]]" {
		t.Errorf("second waiter: %v", v)
	}
}

// TestBlockPushRace issues BLPOP and RPUSH at the same moment, many times:
// a push landing between the handler's look and the registration must
// still reach the blocked client (no lost wake-up), exactly once.
func TestBlockPushRace(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	a, b, ctl := dialB(t, addr), dialB(t, addr), dialB(t, addr)
	for i := 0; i < 200; i++ {
		el := strconv.Itoa(i)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.send("RPUSH", "race", el)
			b.read(5 * time.Second)
		}()
		if err := a.send("BLPOP", "race", "5"); err != nil {
			t.Fatal(err)
		}
		v, err := a.read(6 * time.Second)
		wg.Wait()
		if err != nil || fmt.Sprint(v) != "[race "+el+"]" {
			t.Fatalf("round %d: BLPOP got %v, %v", i, v, err)
		}
	}
	if v := ctl.do(t, "EXISTS", "race"); v != int64(0) {
		t.Errorf("elements left over: EXISTS = %v", v)
	}
}
