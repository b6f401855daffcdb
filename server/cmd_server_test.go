package server

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/config"
)

// scErr is an error reply read by scConn.
type scErr string

// scConn is a minimal RESP2/RESP3 client for the server-group tests.
type scConn struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func scDial(t *testing.T, addr string) *scConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &scConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// do sends args and returns the reply: string (simple, bulk, verbatim
// without its format), int64, nil, scErr, []any, or map[string]any.
func (c *scConn) do(args ...string) any {
	c.t.Helper()
	var bs [][]byte
	for _, a := range args {
		bs = append(bs, []byte(a))
	}
	c.nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Write(encodeRESP(bs...)); err != nil {
		c.t.Fatalf("write %q: %v", args, err)
	}
	v, err := scRead(c.br)
	if err != nil {
		c.t.Fatalf("%q: read: %v", args, err)
	}
	return v
}

func scRead(br *bufio.Reader) (any, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || !strings.HasSuffix(line, "\r\n") {
		return nil, errors.New("bad line " + strconv.Quote(line))
	}
	kind, body := line[0], line[1:len(line)-2]
	switch kind {
	case '+':
		return body, nil
	case '-':
		return scErr(body), nil
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '_':
		return nil, nil
	case '$', '=':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, err
		}
		s := string(buf[:n])
		if kind == '=' {
			s = s[4:] // "txt:"
		}
		return s, nil
	case '*', '~', '>':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil, nil
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = scRead(br); err != nil {
				return nil, err
			}
		}
		return out, nil
	case '%':
		n, _ := strconv.Atoi(body)
		out := make(map[string]any, n)
		for i := 0; i < n; i++ {
			k, err := scRead(br)
			if err != nil {
				return nil, err
			}
			v, err := scRead(br)
			if err != nil {
				return nil, err
			}
			out[k.(string)] = v
		}
		return out, nil
	}
	return nil, errors.New("unknown reply type " + strconv.Quote(line))
}

func TestFlushAndSwapdb(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	c := scDial(t, addr)
	steps := []struct {
		args []string
		want any
	}{
		{[]string{"SET", "a", "1"}, "OK"},
		{[]string{"SELECT", "1"}, "OK"},
		{[]string{"SET", "b", "2"}, "OK"},
		{[]string{"SET", "c", "3"}, "OK"},
		{[]string{"SWAPDB", "0", "1"}, "OK"},
		{[]string{"DBSIZE"}, int64(1)}, // db 1 now holds what db 0 had
		{[]string{"GET", "a"}, "1"},
		{[]string{"SELECT", "0"}, "OK"},
		{[]string{"DBSIZE"}, int64(2)},
		{[]string{"SWAPDB", "1", "1"}, "OK"},
		{[]string{"SWAPDB", "a", "1"}, scErr("ERR invalid first DB index")},
		{[]string{"SWAPDB", "0", "x"}, scErr("ERR invalid second DB index")},
		{[]string{"SWAPDB", "0", "16"}, scErr("ERR DB index is out of range")},
		{[]string{"SWAPDB", "-1", "0"}, scErr("ERR DB index is out of range")},
		{[]string{"SWAPDB", "4294967296", "0"}, scErr("ERR invalid first DB index")},
		{[]string{"FLUSHDB", "ASYNC"}, "OK"},
		{[]string{"DBSIZE"}, int64(0)},
		{[]string{"SELECT", "1"}, "OK"},
		{[]string{"DBSIZE"}, int64(1)},
		{[]string{"FLUSHALL", "BADARG"}, scErr("ERR syntax error")},
		{[]string{"FLUSHDB", "SYNC", "ASYNC"}, scErr("ERR syntax error")},
		{[]string{"FLUSHALL", "sync"}, "OK"},
		{[]string{"DBSIZE"}, int64(0)},
	}
	for _, st := range steps {
		if got := c.do(st.args...); got != st.want {
			t.Fatalf("%q = %#v, want %#v", st.args, got, st.want)
		}
	}
}

func TestTimeLastsaveWait(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	c := scDial(t, addr)
	before := time.Now().Unix()
	tm, ok := c.do("TIME").([]any)
	if !ok || len(tm) != 2 {
		t.Fatalf("TIME = %#v", tm)
	}
	sec, _ := strconv.ParseInt(tm[0].(string), 10, 64)
	usec, _ := strconv.ParseInt(tm[1].(string), 10, 64)
	if sec < before || sec > time.Now().Unix() || usec < 0 || usec >= 1e6 {
		t.Errorf("TIME = %v %v", sec, usec)
	}
	if ls, ok := c.do("LASTSAVE").(int64); !ok || ls > time.Now().Unix() || ls < before-60 {
		t.Errorf("LASTSAVE = %v", ls)
	}
	cases := []struct {
		args    []string
		want    any
		atLeast time.Duration
	}{
		{[]string{"WAIT", "0", "0"}, int64(0), 0},
		{[]string{"WAIT", "-1", "0"}, int64(0), 0},
		{[]string{"WAIT", "2147483648", "0"}, int64(0), 0}, // wraps to a negative C int
		{[]string{"WAIT", "1", "80"}, int64(0), 80 * time.Millisecond},
		{[]string{"WAIT", "a", "0"}, scErr("ERR value is not an integer or out of range"), 0},
		{[]string{"WAIT", "0", "a"}, scErr("ERR timeout is not an integer or out of range"), 0},
		{[]string{"WAIT", "0", "-1"}, scErr("ERR timeout is negative"), 0},
	}
	for _, tc := range cases {
		start := time.Now()
		if got := c.do(tc.args...); got != tc.want {
			t.Errorf("%q = %#v, want %#v", tc.args, got, tc.want)
		}
		if el := time.Since(start); el < tc.atLeast {
			t.Errorf("%q returned after %v, want at least %v", tc.args, el, tc.atLeast)
		}
	}
}

func TestClusterDisabledAndShutdownRefusals(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	c := scDial(t, addr)
	cases := []struct {
		args []string
		want scErr
	}{
		{[]string{"CLUSTER", "SLOTS"}, scErr(errClusterDisabled)},
		{[]string{"CLUSTER", "INFO"}, scErr(errClusterDisabled)},
		{[]string{"CLUSTER", "help"}, scErr(errClusterDisabled)},
		{[]string{"CLUSTER", "KEYSLOT", "x"}, scErr(errClusterDisabled)},
		{[]string{"READONLY"}, scErr(errClusterDisabled)},
		{[]string{"READWRITE"}, scErr(errClusterDisabled)},
		{[]string{"CLUSTER", "nope"}, "ERR unknown subcommand 'nope'. Try CLUSTER HELP."},
		{[]string{"CLUSTER", "INFO", "x"}, "ERR wrong number of arguments for 'cluster|info' command"},
		{[]string{"SHUTDOWN", "ABORT"}, scErr(errNoShutdown)},
		{[]string{"SHUTDOWN", "BADARG"}, scErr(errSyntax)},
		{[]string{"SHUTDOWN", "NOW", "ABORT"}, scErr(errSyntax)},
		{[]string{"SHUTDOWN", "SAVE", "NOSAVE"}, scErr(errSyntax)},
	}
	for _, tc := range cases {
		if got := c.do(tc.args...); got != tc.want {
			t.Errorf("%q = %#v, want %#v", tc.args, got, tc.want)
		}
	}
}

func TestShutdownCallsHookAndCloses(t *testing.T) {
	var called atomic.Int32
	_, addr, _ := startTestServer(t, nil, func(s *Server) {
		s.shutdown = func() { called.Add(1) }
	})
	c := scDial(t, addr)
	if _, err := c.nc.Write(encodeRESP([]byte("SHUTDOWN"), []byte("NOSAVE"), []byte("NOW"))); err != nil {
		t.Fatal(err)
	}
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	rest, err := io.ReadAll(c.br)
	if err != nil || len(rest) != 0 {
		t.Errorf("after SHUTDOWN read %q, %v; want the connection closed without a reply", rest, err)
	}
	if called.Load() != 1 {
		t.Errorf("Shutdown hook called %d times, want 1", called.Load())
	}
}

func TestConfigSetIsAllOrNothing(t *testing.T) {
	srv, addr, _ := startTestServer(t, nil)
	c := scDial(t, addr)
	cases := []struct {
		name string
		args []string
		want any
		hz   int
		max  int64
	}{
		{"bad second value", []string{"hz", "20", "maxmemory", "abc"},
			scErr("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"), 10, 0},
		{"bad first value", []string{"maxmemory", "1mb", "hz", "x"},
			scErr("ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"), 10, 0},
		{"unknown", []string{"hz", "20", "foo", "bar"},
			scErr("ERR Unknown option or number of arguments for CONFIG SET - 'foo'"), 10, 0},
		{"immutable", []string{"hz", "20", "databases", "3"},
			scErr("ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"), 10, 0},
		{"duplicate keeps the spelling", []string{"hz", "20", "HZ", "30"},
			scErr("ERR CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter"), 10, 0},
		{"first problem wins", []string{"foo", "bar", "databases", "3"},
			scErr("ERR Unknown option or number of arguments for CONFIG SET - 'foo'"), 10, 0},
		{"odd count", []string{"hz", "20", "maxmemory"}, scErr(errSyntax), 10, 0},
		{"both applied", []string{"hz", "20", "maxmemory", "1mb"}, "OK", 20, 1 << 20},
		{"hz is clamped like Redis", []string{"hz", "0"}, "OK", 1, 1 << 20},
		{"hz is clamped above", []string{"hz", "600", "maxmemory", "0"}, "OK", 500, 0},
		{"hz range", []string{"hz", "-1"},
			scErr("ERR CONFIG SET failed (possibly related to argument 'hz') - argument must be between 0 and 2147483647 inclusive"), 500, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := srv.Config()
			got := c.do(append([]string{"CONFIG", "SET"}, tc.args...)...)
			if got != tc.want {
				t.Fatalf("CONFIG SET %q = %#v, want %#v", tc.args, got, tc.want)
			}
			cfg := srv.Config()
			if cfg.Hz != tc.hz || cfg.Maxmemory != tc.max {
				t.Errorf("hz %d maxmemory %d, want %d %d", cfg.Hz, cfg.Maxmemory, tc.hz, tc.max)
			}
			if _, failed := got.(scErr); failed && cfg != before {
				t.Error("a failed CONFIG SET replaced the configuration")
			}
			if hz := c.do("CONFIG", "GET", "hz"); !equalAny(hz, []any{"hz", strconv.Itoa(tc.hz)}) {
				t.Errorf("CONFIG GET hz = %#v", hz)
			}
		})
	}
}

func equalAny(a any, b []any) bool {
	return strings.Join(anyStrings(a), "\x00") == strings.Join(anyStrings(b), "\x00")
}

func anyStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, len(list))
	for i, x := range list {
		out[i], _ = x.(string)
	}
	return out
}

func TestConfigGetPatterns(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	c := scDial(t, addr)
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"hz"}, []string{"hz", "10"}},
		{[]string{"HZ"}, []string{"HZ", "10"}}, // an exact name is echoed as given
		{[]string{"hz", "hz", "h?"}, []string{"hz", "10"}},
		{[]string{"maxmemory-policy", "hz"}, []string{"maxmemory-policy", "noeviction", "hz", "10"}},
		{[]string{"LFU-*"}, []string{"lfu-log-factor", "10", "lfu-decay-time", "1"}},
		{[]string{"nosuch"}, []string{}},
		{[]string{"nothing*"}, []string{}},
	}
	for _, tc := range cases {
		got := anyStrings(c.do(append([]string{"CONFIG", "GET"}, tc.args...)...))
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("CONFIG GET %q = %q, want %q", tc.args, got, tc.want)
		}
	}
	c.do("HELLO", "3")
	m, ok := c.do("CONFIG", "GET", "hz", "maxmemory").(map[string]any)
	if !ok || m["hz"] != "10" || m["maxmemory"] != "0" || len(m) != 2 {
		t.Errorf("RESP3 CONFIG GET = %#v, want a map", m)
	}
	if h, ok := c.do("CONFIG", "HELP").([]any); !ok || len(h) != len(configHelpLines) {
		t.Errorf("CONFIG HELP = %#v", h)
	}
}

func TestConfigRewrite(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	if got := scDial(t, addr).do("CONFIG", "REWRITE"); got != scErr(errNoConfigFile) {
		t.Errorf("CONFIG REWRITE without a file = %#v", got)
	}

	path := filepath.Join(t.TempDir(), "cachalot.toml")
	orig := "# my settings\nhz = 15 # fast\nrequirepass = \"\"\nmaxmemory = \"10mb\"\n"
	if err := os.WriteFile(path, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := config.Load([]string{"--config", path}, "test", io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	srv, addr2, _ := startTestServer(t, func(c *config.Config) { *c = *cfg.Clone() }, func(s *Server) { s.configFile = path })
	c := scDial(t, addr2)
	for _, args := range [][]string{
		{"CONFIG", "SET", "hz", "25", "maxmemory-policy", "allkeys-lru"},
		{"CONFIG", "SET", "requirepass", `se"cret`, "lazyfree-lazy-user-flush", "yes"},
		{"CONFIG", "REWRITE"},
	} {
		if got := c.do(args...); got != "OK" {
			t.Fatalf("%q = %#v", args, got)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, want := range []string{"# my settings\n", "hz = 25\n", "maxmemory = 10485760\n", rewriteMarker + "\n",
		"maxmemory-policy = \"allkeys-lru\"\n", "lazyfree-lazy-user-flush = true\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("rewritten file lacks %q:\n%s", want, text)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode changed: %v %v", fi.Mode(), err)
	}
	again, _, err := config.Load([]string{"--config", path}, "test", io.Discard, io.Discard)
	if err != nil {
		t.Fatalf("rewritten file does not load: %v\n%s", err, text)
	}
	now := srv.Config()
	for _, p := range config.Params() {
		a, _ := again.Get(p.Name)
		b, _ := now.Get(p.Name)
		if a != b {
			t.Errorf("%s: file has %q, server %q", p.Name, a, b)
		}
	}
}

func TestRequirepassChangeKeepsConnections(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	c := scDial(t, addr)
	if got := c.do("CONFIG", "SET", "requirepass", "pw"); got != "OK" {
		t.Fatalf("CONFIG SET requirepass = %#v", got)
	}
	if got := c.do("PING"); got != "PONG" {
		t.Errorf("existing connection after requirepass: %#v", got)
	}
	if got := scDial(t, addr).do("PING"); got != scErr(errNoAuth) {
		t.Errorf("new connection after requirepass: %#v", got)
	}
	c.do("CONFIG", "SET", "requirepass", "")
}
