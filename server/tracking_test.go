package server

import (
	"strings"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/config"
)

func TestTrackingInvalidation(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	a, b := connTestDial(t, addr), connTestDial(t, addr)
	a.do("HELLO", "3")
	inv := func(key string) string {
		return ">2\r\n$10\r\ninvalidate\r\n*1\r\n$" + itoa(len(key)) + "\r\n" + key + "\r\n"
	}
	steps := []struct {
		who  *connTestClient
		args []string
		want []string // replies, then pushes, in order
	}{
		{a, []string{"CLIENT", "TRACKING", "ON"}, []string{"+OK\r\n"}},
		{a, []string{"GET", "k"}, []string{"_\r\n"}},
		{b, []string{"SET", "k", "1"}, []string{"+OK\r\n"}},
		{a, nil, []string{inv("k")}},
		{a, []string{"GET", "k"}, []string{"$1\r\n1\r\n"}},
		// A client's own write: reply first, then its invalidation.
		{a, []string{"INCR", "k"}, []string{":2\r\n", inv("k")}},
		{a, []string{"CLIENT", "TRACKING", "ON", "NOLOOP"}, []string{"+OK\r\n"}},
		{a, []string{"GET", "k"}, []string{"$1\r\n2\r\n"}},
		{a, []string{"INCR", "k"}, []string{":3\r\n"}}, // NOLOOP: nothing
		{a, []string{"CLIENT", "GETREDIR"}, []string{":0\r\n"}},
		{a, []string{"CLIENT", "TRACKING", "OFF"}, []string{"+OK\r\n"}},
		{a, []string{"CLIENT", "GETREDIR"}, []string{":-1\r\n"}},
		{a, []string{"CLIENT", "TRACKING", "ON", "OPTOUT"}, []string{"+OK\r\n"}},
		{a, []string{"CLIENT", "CACHING", "NO"}, []string{"+OK\r\n"}},
		{a, []string{"GET", "skipped"}, []string{"_\r\n"}},
		{a, []string{"GET", "kept"}, []string{"_\r\n"}},
		{b, []string{"MSET", "skipped", "1", "kept", "1"}, []string{"+OK\r\n"}},
		{a, nil, []string{inv("kept")}},
		{b, []string{"FLUSHDB"}, []string{"+OK\r\n"}},
		{a, nil, []string{">2\r\n$10\r\ninvalidate\r\n_\r\n"}},
	}
	for i, st := range steps {
		if st.args != nil {
			st.who.send(st.args...)
		}
		for _, w := range st.want {
			if got := st.who.reply(); got != w {
				t.Fatalf("step %d %q: got %q, want %q", i, st.args, got, w)
			}
		}
	}
	// Nothing else is pending for a.
	a.conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if b, err := a.r.Peek(1); err == nil {
		t.Fatalf("unexpected pending data %q", b)
	}
}

func TestTrackingInfoFlags(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	a := connTestDial(t, addr)
	a.do("HELLO", "3")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"CLIENT", "TRACKINGINFO"}, "%3\r\n$5\r\nflags\r\n~1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n$8\r\nprefixes\r\n*0\r\n"},
		{[]string{"CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a", "PREFIX", "b"}, "+OK\r\n"},
		{[]string{"CLIENT", "TRACKINGINFO"}, "%3\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$5\r\nbcast\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{[]string{"CLIENT", "TRACKING", "ON"}, "-ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.\r\n"},
		{[]string{"CLIENT", "CACHING", "YES"}, "-" + string(errCachingNoTracking) + "\r\n"},
		{[]string{"CLIENT", "TRACKING", "OFF"}, "+OK\r\n"},
		{[]string{"CLIENT", "TRACKING", "ON", "OPTIN"}, "+OK\r\n"},
		{[]string{"CLIENT", "CACHING", "NO"}, "-ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.\r\n"},
		{[]string{"CLIENT", "CACHING", "MAYBE"}, "-ERR syntax error\r\n"},
		{[]string{"RESET"}, "+RESET\r\n"},
		{[]string{"CLIENT", "GETREDIR"}, ":-1\r\n"},
	}
	for _, tt := range tests {
		a.expect(tt.want, tt.args...)
	}
}

func itoa(n int) string {
	const digits = "0123456789"
	if n < 10 {
		return digits[n : n+1]
	}
	return itoa(n/10) + digits[n%10:n%10+1]
}

func TestTrackingClientList(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	a, b := connTestDial(t, addr), connTestDial(t, addr)
	a.do("HELLO", "3")
	tests := []struct {
		args []string
		want []string // substrings of a's CLIENT LIST line, read by b
	}{
		{nil, []string{" flags=N ", " redir=-1 "}},
		{[]string{"CLIENT", "TRACKING", "ON"}, []string{" flags=t ", " redir=0 "}},
		{[]string{"CLIENT", "TRACKING", "OFF"}, []string{" flags=N ", " redir=-1 "}},
		{[]string{"CLIENT", "TRACKING", "ON", "BCAST"}, []string{" flags=tB ", " redir=0 "}},
	}
	id := strings.TrimSuffix(strings.TrimPrefix(a.do("CLIENT", "ID"), ":"), "\r\n")
	for _, tt := range tests {
		if tt.args != nil {
			a.expect("+OK\r\n", tt.args...)
		}
		line := b.do("CLIENT", "LIST", "ID", id)
		for _, w := range tt.want {
			if !strings.Contains(line, w) {
				t.Errorf("after %q: CLIENT LIST %q lacks %q", tt.args, line, w)
			}
		}
	}
}

func TestTrackingTableMaxKeys(t *testing.T) {
	srv, addr, _ := startTestServer(t, func(c *config.Config) { c.TrackingTableMaxKeys = 3 })
	a := connTestDial(t, addr)
	a.do("HELLO", "3")
	a.expect("+OK\r\n", "CLIENT", "TRACKING", "ON")
	for _, k := range []string{"k1", "k2", "k3"} {
		a.expect("_\r\n", "GET", k)
	}
	// The fourth key pushes one of the others out, with its invalidation.
	a.send("GET", "k4")
	if got := a.reply(); got != "_\r\n" {
		t.Fatalf("GET k4 = %q", got)
	}
	got := a.reply()
	if !strings.HasPrefix(got, ">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nk") {
		t.Fatalf("expected an invalidation for a forgotten key, got %q", got)
	}
	srv.tracking().mu.Lock()
	n := len(srv.tracking().keys)
	srv.tracking().mu.Unlock()
	if n != 3 {
		t.Fatalf("tracking table holds %d keys, want 3", n)
	}
}
