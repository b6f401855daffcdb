package server

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/store"
)

func debugOn(c *config.Config) { c.EnableDebugCommand = "yes" }

func TestDebugEnableGate(t *testing.T) {
	cases := []struct {
		setting string
		want    any
	}{
		{"no", scErr(errDebugDisabled)},
		{"local", "OK"}, // the test client is on 127.0.0.1
		{"yes", "OK"},
	}
	for _, tc := range cases {
		_, addr, _ := startTestServer(t, func(c *config.Config) { c.EnableDebugCommand = tc.setting })
		if got := scDial(t, addr).do("DEBUG", "SET-ACTIVE-EXPIRE", "1"); got != tc.want {
			t.Errorf("enable-debug-command %s: %#v, want %#v", tc.setting, got, tc.want)
		}
	}
}

// TestDigestMatchesRedis uses digests that Redis 7.0 computed for the same
// data (DEBUG DIGEST / DIGEST-VALUE on redis-server).
func TestDigestMatchesRedis(t *testing.T) {
	_, addr, _ := startTestServer(t, debugOn)
	c := scDial(t, addr)
	steps := []struct {
		args []string
		want any
	}{
		{[]string{"DEBUG", "DIGEST"}, zeroDigestHex},
		{[]string{"SET", "a", "b"}, "OK"},
		{[]string{"DEBUG", "DIGEST"}, "479783d7290f02957dfbe3408a858ba13eea1709"},
		{[]string{"DEBUG", "DIGEST-VALUE", "a", "nokey"}, []any{"b78559cd22bce6e6df712eb99ce7f3b08e8f8f1f", zeroDigestHex}},
		{[]string{"DEBUG", "DIGEST-VALUE"}, []any{}},
		{[]string{"DEBUG", "digest", "x"}, scErr("ERR unknown subcommand or wrong number of arguments for 'digest'. Try DEBUG HELP.")},
		{[]string{"DEBUG", "Nope"}, scErr("ERR unknown subcommand or wrong number of arguments for 'Nope'. Try DEBUG HELP.")},
		{[]string{"DEBUG"}, scErr("ERR wrong number of arguments for 'debug' command")},
	}
	for _, st := range steps {
		got := c.do(st.args...)
		if l, ok := st.want.([]any); ok {
			if !equalAny(got, l) {
				t.Errorf("%q = %#v, want %#v", st.args, got, st.want)
			}
			continue
		}
		if got != st.want {
			t.Errorf("%q = %#v, want %#v", st.args, got, st.want)
		}
	}
}

func TestDigestStability(t *testing.T) {
	_, addr1, _ := startTestServer(t, debugOn)
	_, addr2, _ := startTestServer(t, debugOn)
	c1, c2 := scDial(t, addr1), scDial(t, addr2)
	digest := func(c *scConn) string { return c.do("DEBUG", "DIGEST").(string) }

	// The same data written in different orders and ways digests the same.
	c1.do("MSET", "a", "1", "b", "two", "c", strings.Repeat("z", 300))
	c1.do("SET", "t", "v", "PXAT", "99999999999999")
	c2.do("SET", "t", "v", "EXAT", "99999999999")
	c2.do("SET", "c", strings.Repeat("z", 300))
	c2.do("SET", "b", "tw")
	c2.do("APPEND", "b", "o")
	c2.do("SET", "a", "1")
	d := digest(c1)
	if d == zeroDigestHex || d != digest(c2) {
		t.Fatalf("digests differ for the same data: %s vs %s", d, digest(c2))
	}
	if d != digest(c1) {
		t.Error("digest changed without a write")
	}

	changes := []struct {
		name string
		args []string
		undo []string
	}{
		{"value", []string{"SET", "a", "2"}, []string{"SET", "a", "1"}},
		{"key name", []string{"RENAME", "a", "a2"}, []string{"RENAME", "a2", "a"}},
		{"ttl removed", []string{"PERSIST", "t"}, []string{"PEXPIREAT", "t", "99999999999999"}},
		{"extra key", []string{"SET", "d", ""}, []string{"DEL", "d"}},
		{"database", []string{"SWAPDB", "0", "1"}, []string{"SWAPDB", "0", "1"}},
	}
	for _, ch := range changes {
		c2.do(ch.args...)
		if digest(c2) == d {
			t.Errorf("%s: the digest did not change", ch.name)
		}
		c2.do(ch.undo...)
		if got := digest(c2); got != d {
			t.Errorf("%s undone: digest %s, want %s", ch.name, got, d)
		}
	}
	// Only the presence of a TTL counts, not its time, as in Redis.
	c2.do("PEXPIREAT", "t", "99999999999000")
	if digest(c2) != d {
		t.Error("the expire time changed the digest")
	}
	v1 := c1.do("DEBUG", "DIGEST-VALUE", "a", "b", "c", "t")
	v2 := c2.do("DEBUG", "DIGEST-VALUE", "a", "b", "c", "t")
	if !equalAny(v1, anyList(v2)) || len(anyStrings(v1)) != 4 {
		t.Errorf("DIGEST-VALUE differ: %v %v", v1, v2)
	}
	c1.do("FLUSHALL")
	if got := digest(c1); got != zeroDigestHex {
		t.Errorf("empty dataset digest %s", got)
	}
}

func anyList(v any) []any { l, _ := v.([]any); return l }

// TestDebugObject checks the encodings and RDB sizes that Redis 7.0 reports
// for the same values (serializedlength includes LZF compression).
func TestDebugObject(t *testing.T) {
	_, addr, _ := startTestServer(t, debugOn)
	c := scDial(t, addr)
	cases := []struct {
		value, enc string
		size       int
	}{
		{"b", "embstr", 2},
		{"12345", "int", 3},
		{"-7", "int", 2},
		{"100000", "int", 5},
		{"12345678901", "int", 12},
		{"hello world", "embstr", 12},
		{strings.Repeat("x", 100), "raw", 13},
		{strings.Repeat("ab", 30), "raw", 13},
		{strings.Repeat("hello world ", 10), "raw", 24},
		{"abcdefghijklmnopqrstuvwxyz", "embstr", 27},
	}
	re := regexp.MustCompile(`^Value at:0x[0-9a-f]+ refcount:1 encoding:(\S+) serializedlength:(\d+) lru:(\d+) lru_seconds_idle:(\d+)$`)
	for _, tc := range cases {
		c.do("SET", "k", tc.value)
		line, _ := c.do("DEBUG", "OBJECT", "k").(string)
		m := re.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("%q: DEBUG OBJECT = %q", tc.value, line)
			continue
		}
		if m[1] != tc.enc || m[2] != strconv.Itoa(tc.size) {
			t.Errorf("%q: encoding %s serializedlength %s, want %s %d", tc.value, m[1], m[2], tc.enc, tc.size)
		}
	}
	if got := c.do("DEBUG", "OBJECT", "nokey"); got != scErr(errNoSuchKey) {
		t.Errorf("DEBUG OBJECT nokey = %#v", got)
	}
}

func TestDebugMisc(t *testing.T) {
	srv, addr, logs := startTestServer(t, debugOn)
	c := scDial(t, addr)
	cases := []struct {
		args []string
		want any
	}{
		{[]string{"DEBUG", "SET-ACTIVE-EXPIRE", "0"}, "OK"},
		{[]string{"DEBUG", "LOG", "marker-42"}, "OK"},
		{[]string{"DEBUG", "SLEEP", "abc"}, "OK"},
		{[]string{"DEBUG", "SLEEP", "0.05"}, "OK"},
		{[]string{"DEBUG", "SLEEP"}, scErr("ERR unknown subcommand or wrong number of arguments for 'SLEEP'. Try DEBUG HELP.")},
		{[]string{"DEBUG", "CHANGE-REPL-ID", "x"}, scErr("ERR unknown subcommand or wrong number of arguments for 'CHANGE-REPL-ID'. Try DEBUG HELP.")},
		{[]string{"DEBUG", "RELOAD"}, scErr("ERR unknown subcommand or wrong number of arguments for 'RELOAD'. Try DEBUG HELP.")},
	}
	for _, tc := range cases {
		if got := c.do(tc.args...); got != tc.want {
			t.Errorf("%q = %#v, want %#v", tc.args, got, tc.want)
		}
	}
	if srv.activeExpire.Load() {
		t.Error("DEBUG SET-ACTIVE-EXPIRE 0 left active expiry on")
	}
	c.do("DEBUG", "SET-ACTIVE-EXPIRE", "2")
	if !srv.activeExpire.Load() {
		t.Error("DEBUG SET-ACTIVE-EXPIRE 2 did not turn active expiry on")
	}
	if !strings.Contains(logs.String(), "DEBUG LOG: marker-42") {
		t.Error("DEBUG LOG did not reach the log")
	}
	start := time.Now()
	c.do("DEBUG", "SLEEP", "0.1")
	if time.Since(start) < 100*time.Millisecond {
		t.Error("DEBUG SLEEP 0.1 returned early")
	}
	id := srv.replicationID()
	if got := c.do("DEBUG", "CHANGE-REPL-ID"); got != "OK" || srv.replicationID() == id {
		t.Errorf("DEBUG CHANGE-REPL-ID = %#v, id %s -> %s", got, id, srv.replicationID())
	}
	if h := anyStrings(c.do("DEBUG", "HELP")); len(h) != len(debugHelpLines) || !strings.HasPrefix(h[0], "DEBUG <subcommand>") {
		t.Errorf("DEBUG HELP = %q", h)
	}
}

func TestStrtodAndAtoi(t *testing.T) {
	floats := []struct {
		in   string
		want float64
	}{{"0.5", 0.5}, {"  2", 2}, {"1.5s", 1.5}, {"abc", 0}, {"", 0}, {"-3", -3}, {"1e-3x", 0.001}}
	for _, tc := range floats {
		if got := strtodPrefix(tc.in); got != tc.want {
			t.Errorf("strtodPrefix(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	ints := []struct {
		in   string
		want int64
	}{{"1", 1}, {"0", 0}, {"a", 0}, {" 12x", 12}, {"-4", -4}, {"+7", 7}}
	for _, tc := range ints {
		if got := atoi(tc.in); got != tc.want {
			t.Errorf("atoi(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// TestRDBStringSize covers the integer and verbatim encodings directly.
func TestRDBStringSize(t *testing.T) {
	cases := []struct {
		in   string
		want int
	}{
		{"", 1}, {"0", 2}, {"127", 2}, {"128", 3}, {"-32768", 3}, {"32768", 5},
		{"2147483647", 5}, {"2147483648", 11}, {"007", 4}, {"+1", 3},
		{strings.Repeat("q", 63), 64}, {strings.Repeat("q", 20), 21},
	}
	for _, tc := range cases {
		got := serializedLength(store.Item{Kind: store.KindString, Str: []byte(tc.in)})
		if tc.in == strings.Repeat("q", 63) {
			// Compressible: LZF must beat the verbatim 64 bytes.
			if got >= 64 {
				t.Errorf("63 identical bytes: %d, want LZF-compressed", got)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("serializedLength(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
