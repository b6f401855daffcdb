package server

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/store"
)

// genEnv runs commands through the dispatcher on an in-memory client, with
// the store on a fake clock.
type genEnv struct {
	t   *testing.T
	srv *Server
	clk *store.FakeClock
	c   *client
}

const genEpoch = int64(1_700_000_000_000)

func newGenEnv(t *testing.T, tweak func(*config.Config)) *genEnv {
	t.Helper()
	cfg := config.Default()
	if tweak != nil {
		tweak(cfg)
	}
	clk := store.NewFakeClock(genEpoch)
	st, err := store.New(store.Options{Databases: cfg.Databases, Shards: 16, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	srv := New(Options{Config: cfg, Store: st})
	c := &client{srv: srv, authenticated: true, db: st.DB(0)}
	c.w.proto = 2
	return &genEnv{t: t, srv: srv, clk: clk, c: c}
}

// do runs one command and returns its raw reply.
func (e *genEnv) do(args ...string) string {
	e.t.Helper()
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	e.c.w.Reset()
	e.srv.dispatch(e.c, argv)
	return string(e.c.w.Bytes())
}

func (e *genEnv) line(cmd string) string {
	e.t.Helper()
	return e.do(strings.Fields(cmd)...)
}

func rInt(n int64) string { return ":" + strconv.FormatInt(n, 10) + "\r\n" }
func rBulk(s string) string {
	return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n"
}

const (
	rOK   = "+OK\r\n"
	rNull = "$-1\r\n"
)

func rErr(e respError) string { return "-" + string(e) + "\r\n" }

type genStep struct {
	cmd  string
	want string
}

func runSteps(t *testing.T, e *genEnv, steps []genStep) {
	t.Helper()
	for _, s := range steps {
		if s.cmd == "" {
			continue
		}
		if got := e.line(s.cmd); got != s.want {
			t.Errorf("%s = %q, want %q", s.cmd, got, s.want)
		}
	}
}

func TestGenericExpireOptions(t *testing.T) {
	e := newGenEnv(t, nil)
	now := genEpoch
	runSteps(t, e, []genStep{
		{"SET k v", rOK},
		{"EXPIRE k 100 XX", rInt(0)}, // no TTL: XX fails
		{"EXPIRE k 100 GT", rInt(0)}, // no TTL counts as infinite
		{"EXPIRE k 100 LT", rInt(1)},
		{"PTTL k", rInt(100_000)},
		{"EXPIRE k 50 NX", rInt(0)},
		{"EXPIRE k 100 GT", rInt(0)}, // equal is not greater
		{"EXPIRE k 101 GT", rInt(1)},
		{"EXPIRE k 101 LT", rInt(0)},
		{"PEXPIRE k 100999 LT", rInt(1)},
		{"PTTL k", rInt(100_999)},
		{"TTL k", rInt(101)}, // rounded to the nearest second
		{"EXPIRETIME k", rInt((now + 100_999 + 500) / 1000)},
		{"PEXPIRETIME k", rInt(now + 100_999)},
		{"EXPIRE k 5 xx lt", rInt(1)},
		{"PERSIST k", rInt(1)},
		{"PERSIST k", rInt(0)},
		{"TTL k", rInt(-1)},
		{"PTTL k", rInt(-1)},
		{"EXPIRETIME k", rInt(-1)},
		{"TTL nokey", rInt(-2)},
		{"PEXPIRETIME nokey", rInt(-2)},
		{"EXPIRE nokey 10", rInt(0)},
		{"EXPIRE k 10 NX XX", rErr(errExpireNXCompat)},
		{"EXPIRE k 10 NX GT", rErr(errExpireNXCompat)},
		{"EXPIRE k 10 LT NX", rErr(errExpireNXCompat)},
		{"EXPIRE k 10 GT LT", rErr(errExpireGTLT)},
		{"EXPIRE k abc NX XX", rErr(errExpireNXCompat)}, // options are parsed first
		{"EXPIRE k 10 bogus", "-ERR Unsupported option bogus\r\n"},
		{"EXPIRE k abc", rErr(errNotInteger)},
		{"EXPIRE k 9223372036854775807", rErr(errInvalidExpireIn("expire"))},
		{"EXPIRE k -9223372036854775808", rErr(errInvalidExpireIn("expire"))},
		{"PEXPIRE k 9223372036854775807", rErr(errInvalidExpireIn("pexpire"))},
		{"EXPIREAT k 9223372036854776", rErr(errInvalidExpireIn("expireat"))},
		{"PEXPIREAT k 9223372036854775807", rInt(1)},
		{"PEXPIRETIME k", rInt(math.MaxInt64)},
		{"EXPIRE k", rErr(errArity("expire"))},
	})
}

func TestGenericExpireInPastDeletes(t *testing.T) {
	for _, cmd := range []string{"EXPIRE k -1", "EXPIRE k 0", "PEXPIRE k 0", "EXPIREAT k 1", "PEXPIREAT k 0",
		fmt.Sprintf("PEXPIREAT k %d", genEpoch), "EXPIRE k -10 LT"} {
		e := newGenEnv(t, nil)
		e.line("SET k v")
		if got := e.line(cmd); got != rInt(1) {
			t.Errorf("%s = %q", cmd, got)
		}
		if got := e.line("EXISTS k"); got != rInt(0) {
			t.Errorf("after %s: EXISTS = %q", cmd, got)
		}
	}
}

// TestGenericLazyExpiry: a key past its TTL reads as missing everywhere.
func TestGenericLazyExpiry(t *testing.T) {
	e := newGenEnv(t, nil)
	e.line("SET k v")
	e.line("SET other v")
	e.line("PEXPIRE k 100")
	e.clk.Advance(100 * time.Millisecond)
	runSteps(t, e, []genStep{
		{"EXISTS k k", rInt(0)},
		{"TYPE k", "+none\r\n"},
		{"TTL k", rInt(-2)},
		{"PTTL k", rInt(-2)},
		{"EXPIRETIME k", rInt(-2)},
		{"OBJECT ENCODING k", rNull},
		{"MEMORY USAGE k", rNull},
		{"TOUCH k", rInt(0)},
		{"PERSIST k", rInt(0)},
		{"EXPIRE k 100", rInt(0)},
		{"RENAME k x", rErr(errNoSuchKey)},
		{"COPY k x", rInt(0)},
		{"MOVE k 1", rInt(0)},
		{"KEYS *", "*1\r\n" + rBulk("other")},
		{"SCAN 0", "*2\r\n" + rBulk("0") + "*1\r\n" + rBulk("other")},
		{"RANDOMKEY", rBulk("other")},
		{"DEL k", rInt(0)},
	})
}

func TestGenericKeyspace(t *testing.T) {
	e := newGenEnv(t, nil)
	runSteps(t, e, []genStep{
		{"SET a 1", rOK},
		{"SET b 2", rOK},
		{"EXISTS a a b nokey", rInt(3)},
		{"TOUCH a b nokey", rInt(2)},
		{"TYPE a", "+string\r\n"},
		{"TYPE nokey", "+none\r\n"},
		{"RENAME a a", rOK},
		{"RENAMENX a a", rInt(0)},
		{"RENAMENX a b", rInt(0)},
		{"RENAME nokey nokey", rErr(errNoSuchKey)},
		{"RENAMENX nokey x", rErr(errNoSuchKey)},
		{"RENAME a c", rOK},
		{"RENAMENX c d", rInt(1)},
		{"GET d", rBulk("1")},
		{"COPY d e", rInt(1)},
		{"COPY d e", rInt(0)},
		{"COPY d e REPLACE", rInt(1)},
		{"COPY d d", rErr(errSameObject)},
		{"COPY d d DB 0", rErr(errSameObject)},
		{"COPY d d DB 1", rInt(1)},
		{"COPY d x DB 16", rErr(errDBIndex)},
		{"COPY d x DB -1", rErr(errDBIndex)},
		{"COPY d x DB 4294967296", rErr(errIntRange)},
		{"COPY d x DB x", rErr(errNotInteger)},
		{"COPY d x DB", rErr(errSyntax)},
		{"COPY d x BOGUS", rErr(errSyntax)},
		{"MOVE d 0", rErr(errSameObject)},
		{"MOVE d 16", rErr(errDBIndex)},
		{"MOVE d 4294967296", rErr(errIntRange)},
		{"MOVE d 1", rInt(0)}, // exists there (COPY … DB 1)
		{"MOVE e 1", rInt(1)},
		{"MOVE nokey 1", rInt(0)},
		{"DEL b d nokey", rInt(2)},
		{"UNLINK e", rInt(0)},
		{"DBSIZE", rInt(0)},
		{"RANDOMKEY", rNull},
		{"SELECT 1", rOK},
		{"DBSIZE", rInt(2)},
	})
}

func TestGenericKeysAndScan(t *testing.T) {
	e := newGenEnv(t, nil)
	names := []string{"hello", "hallo", "hxllo", "hllo", "h*llo", "", "x"}
	for _, k := range names {
		e.do("SET", k, "v")
	}
	keys := func(args ...string) []string {
		out := parseBulkArray(t, e.do(args...))
		sort.Strings(out)
		return out
	}
	for _, tc := range []struct {
		pattern string
		want    []string
	}{
		{"*", []string{"", "h*llo", "hallo", "hello", "hllo", "hxllo", "x"}},
		{"**", []string{"h*llo", "hallo", "hello", "hllo", "hxllo", "x"}}, // Redis never matches "" here
		{"", []string{""}},
		{"h?llo", []string{"h*llo", "hallo", "hello", "hxllo"}},
		{"h[^e]llo", []string{"h*llo", "hallo", "hxllo"}},
		{"h[a-e]llo", []string{"hallo", "hello"}},
		{`h\*llo`, []string{"h*llo"}},
		{"[", nil},
	} {
		got := keys("KEYS", tc.pattern)
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("KEYS %q = %q, want %q", tc.pattern, got, tc.want)
		}
		// A full SCAN with the same MATCH returns the same keys.
		var all []string
		cursor := "0"
		for i := 0; ; i++ {
			reply := e.do("SCAN", cursor, "MATCH", tc.pattern, "COUNT", "2")
			next, ks := parseScanReply(t, reply)
			all = append(all, ks...)
			if cursor = next; cursor == "0" || i > 100 {
				break
			}
		}
		sort.Strings(all)
		if strings.Join(all, ",") != strings.Join(tc.want, ",") {
			t.Errorf("SCAN MATCH %q = %q, want %q", tc.pattern, all, tc.want)
		}
	}
	runSteps(t, e, []genStep{
		{"SCAN 0 COUNT 100 TYPE hash", "*2\r\n" + rBulk("0") + "*0\r\n"},
		{"SCAN 0 MATCH x COUNT 100 TYPE STRING", "*2\r\n" + rBulk("0") + "*1\r\n" + rBulk("x")},
		{"SCAN abc", rErr(errInvalidCursor)},
		{"SCAN 18446744073709551616", rErr(errInvalidCursor)},
		{"SCAN 0 COUNT 0", rErr(errSyntax)},
		{"SCAN 0 COUNT -1", rErr(errSyntax)},
		{"SCAN 0 COUNT x", rErr(errNotInteger)},
		{"SCAN 0 MATCH", rErr(errSyntax)},
		{"SCAN 0 BOGUS x", rErr(errSyntax)},
		{"KEYS", rErr(errArity("keys"))},
	})
}

func TestParseCursor(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"", 0, true}, {"007", 7, true}, {"+3", 3, true}, {"-0", 0, true},
		{"-1", math.MaxUint64, true}, {"18446744073709551615", math.MaxUint64, true},
		{"-18446744073709551615", 1, true}, {"5\x00junk", 5, true},
		{"18446744073709551616", 0, false}, {"-18446744073709551616", 0, false},
		{" 1", 0, false}, {"1 ", 0, false}, {"+", 0, false}, {"-", 0, false}, {"abc", 0, false},
		{"0x10", 0, false}, {"1.5", 0, false}, {"\t1", 0, false},
	} {
		got, ok := parseCursor([]byte(tc.in))
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("parseCursor(%q) = %d %v, want %d %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestGenericObject(t *testing.T) {
	e := newGenEnv(t, nil)
	runSteps(t, e, []genStep{
		{"SET small 42", rOK},
		{"SET big 10000", rOK},
		{"SET neg -1", rOK},
		{"SET s hello", rOK},
		{"OBJECT ENCODING small", rBulk("int")},
		{"OBJECT ENCODING s", rBulk("embstr")},
		{"OBJECT REFCOUNT small", rInt(math.MaxInt32)},
		{"OBJECT REFCOUNT big", rInt(1)},
		{"OBJECT REFCOUNT neg", rInt(1)},
		{"OBJECT REFCOUNT s", rInt(1)},
		{"OBJECT REFCOUNT nokey", rNull},
		{"OBJECT FREQ s", rErr(errLFUNotSelected)},
		{"OBJECT FREQ nokey", rNull},
		{"OBJECT IDLETIME s", rInt(0)},
		{"OBJECT", rErr(errArity("object"))},
		{"OBJECT ENCODING", rErr(errArity("object|encoding"))},
		{"OBJECT bogus", "-ERR unknown subcommand 'bogus'. Try OBJECT HELP.\r\n"},
	})
	e.clk.Advance(90 * time.Second)
	if got := e.line("OBJECT IDLETIME s"); got != rInt(90) {
		t.Errorf("IDLETIME after 90 s = %q", got)
	}
	e.line("GET s")
	if got := e.line("OBJECT IDLETIME s"); got != rInt(0) {
		t.Errorf("IDLETIME after GET = %q", got)
	}
	help := e.line("OBJECT HELP")
	if !strings.HasPrefix(help, "*15\r\n+OBJECT <subcommand>") || !strings.HasSuffix(help, "+    Prints this help.\r\n") {
		t.Errorf("OBJECT HELP = %q", help)
	}

	lfu := newGenEnv(t, func(c *config.Config) {
		c.MaxmemoryPolicy = "allkeys-lfu"
		c.Maxmemory = 1 << 30
	})
	lfu.line("SET small 42")
	runSteps(t, lfu, []genStep{
		{"OBJECT FREQ small", rInt(5)},
		{"OBJECT IDLETIME small", rErr(errLFUSelected)},
		{"OBJECT REFCOUNT small", rInt(1)}, // no shared integers under LFU with maxmemory
	})
	lfu.clk.Advance(3 * time.Minute)
	if got := lfu.line("OBJECT FREQ small"); got != rInt(2) {
		t.Errorf("FREQ after 3 idle minutes = %q, want decayed to 2", got)
	}
}

func TestGenericMemory(t *testing.T) {
	e := newGenEnv(t, nil)
	e.line("SET k v")
	e.line("SET n 5")
	e.do("SET", strings.Repeat("k", 42), "123456")
	e.do("SET", "r", strings.Repeat("x", 71))
	// Figures Redis 7.0 with jemalloc reports for the same keys.
	for _, tc := range []struct {
		key  string
		want int64
	}{{"k", 64}, {"n", 48}, {strings.Repeat("k", 42), 88}, {"r", 128}} {
		if got := e.do("MEMORY", "USAGE", tc.key); got != rInt(tc.want) {
			t.Errorf("MEMORY USAGE %s = %q, want %d", tc.key[:1], got, tc.want)
		}
	}
	runSteps(t, e, []genStep{
		{"MEMORY USAGE k SAMPLES 0", rInt(64)},
		{"MEMORY USAGE nokey", rNull},
		{"MEMORY USAGE k SAMPLES -1", rErr(errSyntax)},
		{"MEMORY USAGE k SAMPLES", rErr(errSyntax)},
		{"MEMORY USAGE nokey SAMPLES x", rErr(errNotInteger)},
		{"MEMORY USAGE k BOGUS", rErr(errSyntax)},
		{"MEMORY PURGE", rOK},
		{"MEMORY MALLOC-STATS", "+Stats not supported for the current allocator\r\n"},
		{"MEMORY DOCTOR", rBulk(doctorEmpty)},
		{"MEMORY bogus", "-ERR unknown subcommand 'bogus'. Try MEMORY HELP.\r\n"},
	})
	if help := e.line("MEMORY HELP"); !strings.HasPrefix(help, "*14\r\n+MEMORY <subcommand>") {
		t.Errorf("MEMORY HELP = %q", help)
	}
	stats := e.line("MEMORY STATS")
	for _, field := range []string{"peak.allocated", "db.0", "keys.count", "fragmentation.bytes"} {
		if !strings.Contains(stats, rBulk(field)) {
			t.Errorf("MEMORY STATS lacks %s", field)
		}
	}
	if !strings.Contains(stats, rBulk("keys.count")+rInt(4)) {
		t.Errorf("MEMORY STATS keys.count is not 4: %q", stats)
	}
}

func TestJemallocSize(t *testing.T) {
	for _, tc := range [][2]int{{1, 8}, {8, 8}, {9, 16}, {21, 32}, {46, 48}, {75, 80}, {128, 128},
		{129, 160}, {160, 160}, {161, 192}, {257, 320}, {1025, 1280}, {14337, 16384}} {
		if got := jemallocSize(tc[0]); got != tc[1] {
			t.Errorf("jemallocSize(%d) = %d, want %d", tc[0], got, tc[1])
		}
	}
}

// parseBulkArray decodes a RESP2 array of bulk strings.
func parseBulkArray(t *testing.T, s string) []string {
	t.Helper()
	out, rest := parseBulks(t, s)
	if rest != "" {
		t.Fatalf("trailing bytes after array: %q", rest)
	}
	return out
}

func parseBulks(t *testing.T, s string) ([]string, string) {
	t.Helper()
	if !strings.HasPrefix(s, "*") {
		t.Fatalf("not an array: %q", s)
	}
	i := strings.Index(s, "\r\n")
	n, _ := strconv.Atoi(s[1:i])
	s = s[i+2:]
	out := make([]string, 0, n)
	for j := 0; j < n; j++ {
		i = strings.Index(s, "\r\n")
		l, _ := strconv.Atoi(s[1:i])
		out = append(out, s[i+2:i+2+l])
		s = s[i+2+l+2:]
	}
	return out, s
}

func parseScanReply(t *testing.T, s string) (string, []string) {
	t.Helper()
	if !strings.HasPrefix(s, "*2\r\n$") {
		t.Fatalf("not a SCAN reply: %q", s)
	}
	s = s[len("*2\r\n"):]
	i := strings.Index(s, "\r\n")
	l, _ := strconv.Atoi(s[1:i])
	cursor := s[i+2 : i+2+l]
	keys, rest := parseBulks(t, s[i+2+l+2:])
	if rest != "" {
		t.Fatalf("trailing bytes after SCAN reply: %q", rest)
	}
	return cursor, keys
}
