package server

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/store"
)

// strEnv is an in-process server on a loopback port with a fake clock, and
// one raw RESP connection to it.
type strEnv struct {
	t     *testing.T
	clock *store.FakeClock
	st    *store.Store
	conn  net.Conn
	r     *bufio.Reader
}

const strTestNow = 1_700_000_000_000 // the fake clock's start, Unix ms

func newStrEnv(t *testing.T, tweak func(*config.Config)) *strEnv {
	t.Helper()
	cfg := config.Default()
	if tweak != nil {
		tweak(cfg)
	}
	clock := store.NewFakeClock(strTestNow)
	st, err := store.New(store.Options{Databases: cfg.Databases, Shards: 16, Clock: clock})
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
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &strEnv{t: t, clock: clock, st: st, conn: conn, r: bufio.NewReader(conn)}
}

// do sends one command and returns its raw reply.
func (e *strEnv) do(args ...string) string {
	e.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := e.conn.Write([]byte(b.String())); err != nil {
		e.t.Fatal(err)
	}
	e.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var out strings.Builder
	if err := strReadRaw(e.r, &out); err != nil {
		e.t.Fatalf("%q: reading reply: %v", args, err)
	}
	return out.String()
}

// run sends each step and checks its raw reply.
func (e *strEnv) run(steps []strStep) {
	e.t.Helper()
	for _, st := range steps {
		if got := e.do(st.args...); got != st.want {
			e.t.Errorf("%q: got %q, want %q", st.args, got, st.want)
		}
	}
}

// ttl is the key's remaining time to live in ms, -1 without one, -2 when
// the key is missing.
func (e *strEnv) ttl(key string) int64 {
	e.t.Helper()
	var ttl int64
	e.st.DB(0).View([][]byte{[]byte(key)}, func(tx *store.Tx) error {
		at, ok := tx.ExpireAt([]byte(key))
		switch {
		case !ok:
			ttl = -2
		case at == 0:
			ttl = -1
		default:
			ttl = at - tx.NowMs()
		}
		return nil
	})
	return ttl
}

// encoding is what OBJECT ENCODING would say, "" for a missing key.
func (e *strEnv) encoding(key string) string {
	e.t.Helper()
	var enc string
	e.st.DB(0).View([][]byte{[]byte(key)}, func(tx *store.Tx) error {
		if info, ok := tx.Object([]byte(key)); ok {
			enc = info.Encoding
		}
		return nil
	})
	return enc
}

// strReadRaw copies one complete RESP2/RESP3 reply from r to out.
func strReadRaw(r *bufio.Reader, out *strings.Builder) error {
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	out.WriteString(line)
	if len(line) < 3 {
		return fmt.Errorf("short line %q", line)
	}
	body := strings.TrimSuffix(line[1:], "\r\n")
	switch line[0] {
	case '$', '=', '!':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return err
		}
		out.Write(buf)
	case '*', '~', '>', '%', '|':
		n, _ := strconv.Atoi(body)
		if line[0] == '%' || line[0] == '|' {
			n *= 2
		}
		for i := 0; i < n; i++ {
			if err := strReadRaw(r, out); err != nil {
				return err
			}
		}
	}
	return nil
}

type strStep struct {
	args []string
	want string
}

// st builds a step from a space-separated command (no quoting needed in
// these tests; binary values use sta).
func strS(cmd, want string) strStep { return strStep{strings.Fields(cmd), want} }

func strA(args []string, want string) strStep { return strStep{args, want} }

const (
	strOK    = "+OK\r\n"
	strNil   = "$-1\r\n"
	strNil3  = "_\r\n"
	strZero  = ":0\r\n"
	strOne   = ":1\r\n"
	strEmpty = "$0\r\n\r\n"
)

func strBulk(s string) string   { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }
func strInt(n int64) string     { return ":" + strconv.FormatInt(n, 10) + "\r\n" }
func strErr(e respError) string { return "-" + string(e) + "\r\n" }
func strArity(cmd string) string {
	return strErr(errArity(cmd))
}

func TestStringArity(t *testing.T) {
	e := newStrEnv(t, nil)
	cases := []struct {
		cmd  string
		args []string
	}{
		{"get", nil}, {"get", []string{"a", "b"}},
		{"set", []string{"k"}},
		{"setnx", []string{"k"}}, {"setnx", []string{"k", "v", "x"}},
		{"setex", []string{"k", "10"}}, {"psetex", []string{"k", "10", "v", "x"}},
		{"getset", []string{"k"}}, {"getdel", nil}, {"getdel", []string{"a", "b"}},
		{"getex", nil}, {"mget", nil}, {"mset", []string{"k"}}, {"msetnx", []string{"k"}},
		{"mset", []string{"a", "1", "b"}}, {"msetnx", []string{"a", "1", "b"}},
		{"append", []string{"k"}}, {"strlen", nil}, {"getrange", []string{"k", "0"}},
		{"substr", []string{"k", "0", "1", "2"}}, {"setrange", []string{"k", "0"}},
		{"incr", nil}, {"incrby", []string{"k"}}, {"decr", []string{"a", "b"}}, {"decrby", []string{"k"}},
		{"incrbyfloat", []string{"k"}}, {"lcs", []string{"a"}},
	}
	for _, tc := range cases {
		args := append([]string{strings.ToUpper(tc.cmd)}, tc.args...)
		if got, want := e.do(args...), strArity(tc.cmd); got != want {
			t.Errorf("%q: got %q, want %q", args, got, want)
		}
	}
}

func TestStringGetSetBasics(t *testing.T) {
	e := newStrEnv(t, nil)
	bin := "a\x00b\r\nc\xff"
	e.run([]strStep{
		strS("GET k", strNil),
		strS("SET k v", strOK),
		strS("GET k", strBulk("v")),
		strA([]string{"SET", bin, bin}, strOK),
		strA([]string{"GET", bin}, strBulk(bin)),
		strS("SET e", strArity("set")),
		strA([]string{"SET", "e", ""}, strOK),
		strS("GET e", strEmpty),
		strS("set K lower", strOK),
		strS("GET K", strBulk("lower")),
		strS("GET k", strBulk("v")),
	})
}

func TestStringSetOptions(t *testing.T) {
	e := newStrEnv(t, nil)
	invalid := strErr(errInvalidExpireIn("set"))
	e.run([]strStep{
		// NX / XX and their combination with GET
		strS("SET k v1 XX", strNil),
		strS("GET k", strNil),
		strS("SET k v1 NX", strOK),
		strS("SET k v2 NX", strNil),
		strS("GET k", strBulk("v1")),
		strS("SET k v2 XX", strOK),
		strS("SET k v3 nx GET", strBulk("v2")), // NX+GET: allowed in 7.0, not set
		strS("GET k", strBulk("v2")),
		strS("SET k v3 GET", strBulk("v2")),
		strS("SET missing v XX GET", strNil),
		strS("GET missing", strNil),
		strS("SET fresh v NX GET", strNil),
		strS("GET fresh", strBulk("v")),
		strS("SET k v4 NX NX", strNil), // a repeated option is accepted
		strS("SET k v4 GET GET", strBulk("v3")),
		// syntax errors
		strS("SET k v NX XX", strErr(errSyntax)),
		strS("SET k v XX NX", strErr(errSyntax)),
		strS("SET k v EX 10 PX 100", strErr(errSyntax)),
		strS("SET k v PX 100 EX 10", strErr(errSyntax)),
		strS("SET k v EX 10 KEEPTTL", strErr(errSyntax)),
		strS("SET k v KEEPTTL EXAT 10", strErr(errSyntax)),
		strS("SET k v EXAT 10 PXAT 10", strErr(errSyntax)),
		strS("SET k v EX", strErr(errSyntax)),
		strS("SET k v PXAT", strErr(errSyntax)),
		strS("SET k v PERSIST", strErr(errSyntax)),
		strS("SET k v foo", strErr(errSyntax)),
		strS("SET k v EX 10 foo", strErr(errSyntax)),
		strS("SET k v EX abc NX XX", strErr(errSyntax)), // the option loop runs first
		// expire values
		strS("SET k v EX abc", strErr(errNotInteger)),
		strS("SET k v EX 1.5", strErr(errNotInteger)),
		strS("SET k v EX 0", invalid),
		strS("SET k v PX -1", invalid),
		strS("SET k v EXAT 0", invalid),
		strS("SET k v EX 9223372036854775", invalid), // × 1000 + now overflows
		strS("SET k v EX 9223372036854776", invalid), // × 1000 overflows
		strS("SET k v PX 9223372036854775807", invalid),
		strS("SET k v EXAT 9223372036854775807", invalid),
		strS("SET k v EX 9223372036854775808", strErr(errNotInteger)),
		strS("GET k", strBulk("v4")), // none of the failures wrote
	})

	ttlCases := []struct {
		cmd  string
		want int64
	}{
		{"SET t v EX 100", 100_000},
		{"SET t v PX 1500", 1500},
		{"SET t v EX 10 EX 20", 20_000}, // the last repeat wins
		{"SET t v EXAT " + strconv.FormatInt(strTestNow/1000+50, 10), 50_000},
		{"SET t v PXAT " + strconv.FormatInt(strTestNow+1234, 10), 1234},
		{"SET t v2 KEEPTTL", 1234},
		{"SET t v3 GET KEEPTTL", 1234},
		{"SET t v", -1},
		{"SET t v PXAT 9223372036854775807", math.MaxInt64 - strTestNow},
	}
	for _, tc := range ttlCases {
		e.do(strings.Fields(tc.cmd)...)
		if got := e.ttl("t"); got != tc.want {
			t.Errorf("%s: ttl %d ms, want %d", tc.cmd, got, tc.want)
		}
	}
	// An absolute time in the past stores a key that is already gone.
	e.run([]strStep{
		strS("SET past v PXAT 1", strOK),
		strS("GET past", strNil),
		strS("SET past v EXAT 1 GET", strNil),
	})
	// The expiry is checked before GET reads the key.
	e.run([]strStep{
		strS("SET g old", strOK),
		strS("SET g new EX 0 GET", invalid),
		strS("GET g", strBulk("old")),
	})
	// TTLs run out on the store's clock.
	e.run([]strStep{strS("SET soon v PX 100", strOK)})
	e.clock.Advance(99 * time.Millisecond)
	e.run([]strStep{strS("GET soon", strBulk("v"))})
	e.clock.Advance(time.Millisecond)
	e.run([]strStep{strS("GET soon", strNil)})
}

func TestStringSetnxSetexPsetex(t *testing.T) {
	e := newStrEnv(t, nil)
	e.run([]strStep{
		strS("SETNX k v", strOne),
		strS("SETNX k w", strZero),
		strS("GET k", strBulk("v")),
		strS("SETEX k 0 v", strErr(errInvalidExpireIn("setex"))),
		strS("SETEX k -5 v", strErr(errInvalidExpireIn("setex"))),
		strS("SETEX k x v", strErr(errNotInteger)),
		strS("SETEX k 9223372036854776 v", strErr(errInvalidExpireIn("setex"))),
		strS("PSETEX k 0 v", strErr(errInvalidExpireIn("psetex"))),
		strS("PSETEX k 9223372036854775807 v", strErr(errInvalidExpireIn("psetex"))),
		strS("PSETEX k 1e3 v", strErr(errNotInteger)),
		strS("SETEX k 100 w", strOK),
	})
	if got := e.ttl("k"); got != 100_000 {
		t.Errorf("SETEX 100: ttl %d, want 100000", got)
	}
	e.run([]strStep{
		strS("GET k", strBulk("w")),
		strS("PSETEX k 2500 x", strOK),
	})
	if got := e.ttl("k"); got != 2500 {
		t.Errorf("PSETEX 2500: ttl %d, want 2500", got)
	}
	e.run([]strStep{strS("SETNX k y", strZero)}) // SETNX leaves the TTL alone
	if got := e.ttl("k"); got != 2500 {
		t.Errorf("after SETNX: ttl %d, want 2500", got)
	}
}

func TestStringGetsetGetdelGetex(t *testing.T) {
	e := newStrEnv(t, nil)
	e.run([]strStep{
		strS("GETSET k v1", strNil),
		strS("GETSET k v2", strBulk("v1")),
		strS("SET k v3 EX 100", strOK),
		strS("GETSET k v4", strBulk("v3")),
	})
	if got := e.ttl("k"); got != -1 {
		t.Errorf("GETSET must clear the TTL, ttl %d", got)
	}
	e.run([]strStep{
		strS("GETDEL k", strBulk("v4")),
		strS("GETDEL k", strNil),
		strS("GET k", strNil),
		// GETEX
		strS("GETEX k", strNil),
		strS("GETEX k EX -1", strNil), // a missing key is answered before the expiry is checked
		strS("SET k v", strOK),
		strS("GETEX k EX 100", strBulk("v")),
	})
	if got := e.ttl("k"); got != 100_000 {
		t.Errorf("GETEX EX 100: ttl %d", got)
	}
	e.run([]strStep{strS("GETEX k", strBulk("v"))})
	if got := e.ttl("k"); got != 100_000 {
		t.Errorf("bare GETEX must keep the TTL, ttl %d", got)
	}
	e.run([]strStep{strS("GETEX k PX 1500", strBulk("v"))})
	if got := e.ttl("k"); got != 1500 {
		t.Errorf("GETEX PX 1500: ttl %d", got)
	}
	e.run([]strStep{strS("GETEX k PXAT "+strconv.FormatInt(strTestNow+777, 10), strBulk("v"))})
	if got := e.ttl("k"); got != 777 {
		t.Errorf("GETEX PXAT: ttl %d", got)
	}
	e.run([]strStep{strS("GETEX k persist", strBulk("v"))})
	if got := e.ttl("k"); got != -1 {
		t.Errorf("GETEX PERSIST: ttl %d", got)
	}
	invalid := strErr(errInvalidExpireIn("getex"))
	e.run([]strStep{
		strS("GETEX k EX 0", invalid),
		strS("GETEX k EX 9223372036854776", invalid),
		strS("GETEX k PX 9223372036854775807", invalid),
		strS("GETEX k EX x", strErr(errNotInteger)),
		strS("GETEX k PERSIST EX 10", strErr(errSyntax)),
		strS("GETEX k EX 10 PERSIST", strErr(errSyntax)),
		strS("GETEX k EX 10 PX 10", strErr(errSyntax)),
		strS("GETEX k EX", strErr(errSyntax)),
		strS("GETEX k NX", strErr(errSyntax)),
		strS("GETEX k KEEPTTL", strErr(errSyntax)),
		strS("GETEX k GET", strErr(errSyntax)),
		strS("GETEX missing NX", strErr(errSyntax)), // syntax first, even for a missing key
		strS("GET k", strBulk("v")),
		// an absolute time in the past deletes the key after replying
		strS("GETEX k EXAT 1", strBulk("v")),
		strS("GET k", strNil),
	})
	if got := e.ttl("k"); got != -2 {
		t.Errorf("GETEX EXAT in the past must delete the key, ttl %d", got)
	}
}

func TestStringMulti(t *testing.T) {
	e := newStrEnv(t, nil)
	e.run([]strStep{
		strS("MSET a 1 b 2 a 3", strOK), // the later pair wins
		strS("MGET a b c", "*3\r\n"+strBulk("3")+strBulk("2")+strNil),
		strS("MSETNX c 1 a 1", strZero),
		strS("GET c", strNil),
		strS("MSETNX c 1 d 2", strOne),
		strS("MGET c d", "*2\r\n"+strBulk("1")+strBulk("2")),
		strS("MSET a", strArity("mset")),
		strS("MSET a 1 b", strArity("mset")),
		strS("MSETNX a 1 b", strArity("msetnx")),
		strS("MGET", strArity("mget")),
	})
	if enc := e.encoding("c"); enc != "int" {
		t.Errorf("MSETNX c 1: encoding %s, want int", enc)
	}
	e.do("HELLO", "3")
	e.run([]strStep{
		strS("MGET a nokey", "*2\r\n"+strBulk("3")+strNil3),
		strS("GET nokey", strNil3),
	})
}

func TestStringAppendStrlen(t *testing.T) {
	e := newStrEnv(t, func(c *config.Config) { c.ProtoMaxBulkLen = 10 })
	e.run([]strStep{
		strS("STRLEN k", strZero),
		strS("APPEND k 123", strInt(3)),
	})
	if enc := e.encoding("k"); enc != "int" {
		t.Errorf("APPEND to a missing key: encoding %s, want int", enc)
	}
	e.run([]strStep{
		strS("APPEND k 4", strInt(4)),
		strS("GET k", strBulk("1234")),
		strA([]string{"APPEND", "k", "\x00\n"}, strInt(6)),
		strS("STRLEN k", strInt(6)),
		strS("APPEND k 56789", strErr(errStringTooLong)), // 11 > proto-max-bulk-len
		strS("APPEND k 5678", strInt(10)),
		strA([]string{"APPEND", "k", ""}, strInt(10)),
		strS("APPEND new 0123456789", strInt(10)),
	})
	if enc := e.encoding("k"); enc != "raw" {
		t.Errorf("after APPEND: encoding %s, want raw", enc)
	}
}

func TestStringGetrange(t *testing.T) {
	e := newStrEnv(t, nil)
	e.do("SET", "s", "Hello")
	e.do("SET", "empty", "")
	cases := []struct {
		key, start, end, want string
	}{
		{"s", "0", "-1", "Hello"},
		{"s", "0", "2", "Hel"},
		{"s", "-3", "-1", "llo"},
		{"s", "-1", "-5", ""},
		{"s", "3", "1", ""},
		{"s", "5", "10", ""},
		{"s", "-100", "100", "Hello"},
		{"s", "0", "-100", "H"}, // Redis 7.0 clamps the end to 0
		{"s", "4", "9223372036854775807", "o"},
		{"s", "-9223372036854775808", "0", "H"},
		{"empty", "0", "-1", ""},
		{"nokey", "0", "-1", ""},
	}
	for _, cmd := range []string{"GETRANGE", "SUBSTR"} {
		for _, tc := range cases {
			got := e.do(cmd, tc.key, tc.start, tc.end)
			if want := strBulk(tc.want); got != want {
				t.Errorf("%s %s %s %s: got %q, want %q", cmd, tc.key, tc.start, tc.end, got, want)
			}
		}
	}
	e.run([]strStep{
		strS("GETRANGE s a 1", strErr(errNotInteger)),
		strS("GETRANGE s 0 1.5", strErr(errNotInteger)),
		strS("GETRANGE nokey x 1", strErr(errNotInteger)),
	})
}

func TestStringSetrange(t *testing.T) {
	e := newStrEnv(t, func(c *config.Config) { c.ProtoMaxBulkLen = 100 })
	e.run([]strStep{
		strS("SETRANGE k 0 Hello", strInt(5)),
		strS("SETRANGE k 6 World", strInt(11)),
		strS("GET k", strBulk("Hello\x00World")),
		strS("SETRANGE k 5 _", strInt(11)),
		strS("GET k", strBulk("Hello_World")),
		strA([]string{"SETRANGE", "k", "1000", ""}, strInt(11)), // nothing to write: no limit check
		strA([]string{"SETRANGE", "nokey", "5", ""}, strZero),
		strS("GET nokey", strNil),
		strS("SETRANGE pad 3 x", strInt(4)),
		strS("GET pad", strBulk("\x00\x00\x00x")),
		strS("SETRANGE k -1 x", strErr(errOffsetRange)),
		strS("SETRANGE nokey -1 x", strErr(errOffsetRange)),
		strS("SETRANGE k x x", strErr(errNotInteger)),
		strS("SETRANGE k 100 x", strErr(errStringTooLong)),
		strS("SETRANGE k 99 x", strInt(100)),
		strS("SETRANGE k 9223372036854775807 x", strErr(errStringTooLong)),
		strS("SETRANGE n 0 12", strInt(2)),
	})
	if enc := e.encoding("n"); enc != "raw" {
		t.Errorf("SETRANGE on a new key: encoding %s, want raw", enc)
	}
}

func TestStringIncrDecr(t *testing.T) {
	e := newStrEnv(t, nil)
	e.run([]strStep{
		strS("INCR n", strOne),
		strS("INCRBY n 10", strInt(11)),
		strS("DECR n", strInt(10)),
		strS("DECRBY n 20", strInt(-10)),
		strS("INCRBY n -5", strInt(-15)),
		strS("DECRBY n -15", strZero),
		strS("SET max 9223372036854775807", strOK),
		strS("INCR max", strErr(errOverflow)),
		strS("INCRBY max 1", strErr(errOverflow)),
		strS("DECRBY max -1", strErr(errOverflow)),
		strS("DECR max", strInt(math.MaxInt64-1)),
		strS("SET min -9223372036854775808", strOK),
		strS("DECR min", strErr(errOverflow)),
		strS("INCRBY min -1", strErr(errOverflow)),
		strS("INCRBY min 9223372036854775807", strInt(-1)),
		strS("DECRBY n -9223372036854775808", strErr(errDecrOverflow)),
		strS("DECRBY nokey -9223372036854775808", strErr(errDecrOverflow)),
		strS("INCRBY n 9223372036854775808", strErr(errNotInteger)),
		strS("INCRBY n 1.0", strErr(errNotInteger)),
		strS("INCRBY n +1", strErr(errNotInteger)),
		strS("SET s abc", strOK),
		strS("INCR s", strErr(errNotInteger)),
		strA([]string{"SET", "sp", " 1"}, strOK),
		strS("INCR sp", strErr(errNotInteger)),
		strS("SET z 007", strOK),
		strS("INCR z", strErr(errNotInteger)),
		strS("SET f 1.5", strOK),
		strS("DECR f", strErr(errNotInteger)),
		strS("SETRANGE r 0 41", strInt(2)),
		strS("INCR r", strInt(42)),
	})
	for _, k := range []string{"n", "r", "max"} {
		if enc := e.encoding(k); enc != "int" {
			t.Errorf("%s after INCR family: encoding %s, want int", k, enc)
		}
	}
	e.do("SET", "t", "5", "EX", "100")
	e.run([]strStep{strS("INCR t", strInt(6))})
	if got := e.ttl("t"); got != 100_000 {
		t.Errorf("INCR must keep the TTL, ttl %d", got)
	}
}

func TestStringIncrbyfloat(t *testing.T) {
	e := newStrEnv(t, nil)
	// Expected replies recorded from redis-server 7.0 (x86-64 long double).
	cases := []struct {
		initial, incr, want string
	}{
		{"", "0.1", "0.1"},
		{"0.1", "0.2", "0.3"},
		{"10.5", "0.1", "10.6"},
		{"1", "-1", "0"},
		{"-0", "-0", "0"},
		{"5", "-5.0000000000000001", "-0.0000000000000001"},
		{"3.0", "1.1", "4.1"},
		{"1e-10", "0", "0.0000000001"},
		{"1.5", "1.5", "3"},
		{"9223372036854775807", "1", "9223372036854775808"},
		{"-9223372036854775808", "-1", "-9223372036854775809"},
		{"1", "1e-17", "1.00000000000000001"},
		{"1", "5e-18", "1"},
		{"0", "0.000000000000000005", "0"},
		{"0", "0.000000000000000015", "0.00000000000000002"},
		{"0", "0.000000000000000025", "0.00000000000000002"},
		{"100", "-0.00000001", "99.99999999"},
		{"0x10", "0", "16"},
		{"0X1.8P1", "0", "3"},
		{"0x.8", "0", "0.5"},
		{"+.5", "0", "0.5"},
		{"5.", "0", "5"},
		{"1e-4945", "0", "0"},
		{"1e-4950", "0", "0"},
		{"3.14159265358979323846264338327950288", "0", "3.14159265358979324"},
		{"17", "0.3", "17.3"},
		{"1e40", "0", "9999999999999999999783686092270256259072"},
		{"123456789012345678901234567890", "0", "123456789012345678899921813504"},
	}
	for i, tc := range cases {
		key := "f" + strconv.Itoa(i)
		if tc.initial != "" {
			e.do("SET", key, tc.initial)
		}
		if got, want := e.do("INCRBYFLOAT", key, tc.incr), strBulk(tc.want); got != want {
			t.Errorf("%q + %q: got %q, want %q", tc.initial, tc.incr, got, want)
		}
		if got, want := e.do("GET", key), strBulk(tc.want); got != want {
			t.Errorf("%q + %q stored %q, want %q", tc.initial, tc.incr, got, want)
		}
	}
	errCases := []struct {
		initial, incr string
		want          respError
	}{
		{"", "abc", errNotFloat},
		{"", "", errNotFloat},
		{"", " 1", errNotFloat},
		{"", "1 ", errNotFloat},
		{"", ".", errNotFloat},
		{"", "1e", errNotFloat},
		{"", "0x", errNotFloat},
		{"", "nan", errNotFloat},
		{"", "1e5000", errNotFloat},
		{"", "1e-4960", errNotFloat},
		{"", "1\x002", errNotFloat},
		{"", "1_000", errNotFloat},
		{"abc", "1", errNotFloat},
		{"\x00", "1", errNotFloat},
		{"", "inf", errFloatNaNOrInf},
		{"", "-Infinity", errFloatNaNOrInf},
		{"1e4932", "1e4932", errFloatNaNOrInf},
		{"inf", "-inf", errFloatNaNOrInf},
	}
	for i, tc := range errCases {
		key := "e" + strconv.Itoa(i)
		if tc.initial != "" {
			e.do("SET", key, tc.initial)
		}
		if got, want := e.do("INCRBYFLOAT", key, tc.incr), strErr(tc.want); got != want {
			t.Errorf("%q + %q: got %q, want %q", tc.initial, tc.incr, got, want)
		}
	}
	e.do("SET", "t", "1", "EX", "100")
	e.run([]strStep{strS("INCRBYFLOAT t 1.5", strBulk("2.5"))})
	if got := e.ttl("t"); got != 100_000 {
		t.Errorf("INCRBYFLOAT must keep the TTL, ttl %d", got)
	}
	if enc := e.encoding("t"); enc != "embstr" {
		t.Errorf("INCRBYFLOAT result: encoding %s, want embstr", enc)
	}
	e.run([]strStep{strS("INCRBYFLOAT t 1", strBulk("3.5"))})
	if enc := e.encoding("t"); enc != "embstr" {
		t.Errorf("INCRBYFLOAT integral result: encoding %s, want embstr", enc)
	}
}

func TestLongDoubleFormat(t *testing.T) {
	cases := []struct{ in, want string }{
		{"0", "0"},
		{"-0", "0"},
		{"1", "1"},
		{"-2.5", "-2.5"},
		{"0.1", "0.1"},
		{"1e-18", "0"},
		{"-1e-18", "0"},
		{"123.000000000000000001", "123"},
		{"0.30000000000000000001", "0.3"},
	}
	for _, tc := range cases {
		f, ok := parseLongDouble([]byte(tc.in))
		if !ok {
			t.Errorf("parseLongDouble(%q) failed", tc.in)
			continue
		}
		if got := string(formatLongDouble(f)); got != tc.want {
			t.Errorf("format(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestStringLcs(t *testing.T) {
	e := newStrEnv(t, func(c *config.Config) { c.ProtoMaxBulkLen = 4000 })
	e.do("MSET", "key1", "ohmytext", "key2", "mynewtext")
	idx := "*4\r\n" + strBulk("matches") +
		"*2\r\n" +
		"*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n" +
		"*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n" +
		strBulk("len") + ":6\r\n"
	idxMin := "*4\r\n" + strBulk("matches") +
		"*1\r\n" +
		"*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n" +
		strBulk("len") + ":6\r\n"
	e.run([]strStep{
		strS("LCS key1 key2", strBulk("mytext")),
		strS("LCS key1 key2 LEN", strInt(6)),
		strS("LCS key1 key2 IDX", idx),
		strS("LCS key1 key2 idx minmatchlen 4 withmatchlen", idxMin),
		strS("LCS key1 key2 IDX MINMATCHLEN -5", idx), // negative means 0
		strS("LCS key1 key2 LEN LEN", strInt(6)),
		strS("LCS key1 nokey", strEmpty),
		strS("LCS nokey1 nokey2 IDX", "*4\r\n"+strBulk("matches")+"*0\r\n"+strBulk("len")+":0\r\n"),
		strS("LCS key1 key2 IDX LEN", strErr(errLCSIdxAndLen)),
		strS("LCS key1 key2 MINMATCHLEN", strErr(errSyntax)),
		strS("LCS key1 key2 MINMATCHLEN x", strErr(errNotInteger)),
		strS("LCS key1 key2 foo", strErr(errSyntax)),
	})
	e.do("SET", "a40", strings.Repeat("a", 40))
	e.do("SET", "b40", strings.Repeat("b", 40))
	e.run([]strStep{strS("LCS a40 b40", strErr(errLCSTooBig))}) // 41*41*4 > 4000
	e.do("HELLO", "3")
	idx3 := "%2\r\n" + strBulk("matches") +
		"*2\r\n" +
		"*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n" +
		"*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n" +
		strBulk("len") + ":6\r\n"
	e.run([]strStep{strS("LCS key1 key2 IDX", idx3)})
}

func TestLcsAgainstBruteForce(t *testing.T) {
	// The length must be the longest common subsequence's and the string
	// one of them; check against a brute-force search on small inputs.
	inputs := []struct{ a, b string }{
		{"", ""}, {"a", ""}, {"abc", "abc"}, {"abcbdab", "bdcaba"}, {"aaaa", "aa"},
		{"xyz", "abc"}, {"ohmytext", "mynewtext"}, {"abab", "baba"},
	}
	for _, in := range inputs {
		res := lcs([]byte(in.a), []byte(in.b), true, 0)
		want := bruteLCSLen(in.a, in.b)
		if int(res.length) != want || len(res.text) != want {
			t.Errorf("lcs(%q, %q): len %d text %q, want length %d", in.a, in.b, res.length, res.text, want)
		}
		if !isSubsequence(string(res.text), in.a) || !isSubsequence(string(res.text), in.b) {
			t.Errorf("lcs(%q, %q) = %q is not common to both", in.a, in.b, res.text)
		}
		total := 0
		for _, m := range res.matches {
			if in.a[m.aStart:m.aEnd+1] != in.b[m.bStart:m.bEnd+1] {
				t.Errorf("lcs(%q, %q): range %+v does not match", in.a, in.b, m)
			}
			total += int(m.aEnd - m.aStart + 1)
		}
		if total != want {
			t.Errorf("lcs(%q, %q): ranges cover %d bytes, want %d", in.a, in.b, total, want)
		}
	}
}

func bruteLCSLen(a, b string) int {
	if a == "" || b == "" {
		return 0
	}
	if a[0] == b[0] {
		return 1 + bruteLCSLen(a[1:], b[1:])
	}
	return max(bruteLCSLen(a[1:], b), bruteLCSLen(a, b[1:]))
}

func isSubsequence(s, of string) bool {
	i := 0
	for j := 0; j < len(of) && i < len(s); j++ {
		if of[j] == s[i] {
			i++
		}
	}
	return i == len(s)
}

func TestStringKeyspaceStats(t *testing.T) {
	e := newStrEnv(t, nil)
	e.do("SET", "k", "v")
	cases := []struct {
		cmd        string
		hits, miss int64
	}{
		{"GET k", 1, 0},
		{"GET nokey", 0, 1},
		{"SET k v GET", 1, 0},
		{"SET nokey2 v GET", 0, 1},
		{"GETSET k v", 1, 0},
		{"GETEX k", 1, 0},
		{"GETEX nokey3", 0, 1},
		{"GETDEL nokey3", 0, 1},
		{"MGET k nokey3", 1, 1},
		{"STRLEN k", 1, 0},
		{"GETRANGE k 0 1", 1, 0},
		{"LCS k nokey3", 1, 1},
		{"SET k v", 0, 0},
		{"SETNX k v", 0, 0},
		{"INCR cnt", 0, 0},
		{"APPEND k x", 0, 0},
		{"SETRANGE k 0 x", 0, 0},
		{"INCRBYFLOAT fl 1", 0, 0},
		{"GETDEL k", 1, 0},
	}
	for _, tc := range cases {
		before := e.st.Stats()
		e.do(strings.Fields(tc.cmd)...)
		after := e.st.Stats()
		if h, m := after.KeyspaceHits-before.KeyspaceHits, after.KeyspaceMisses-before.KeyspaceMisses; h != tc.hits || m != tc.miss {
			t.Errorf("%s: hits +%d misses +%d, want +%d +%d", tc.cmd, h, m, tc.hits, tc.miss)
		}
	}
}

func TestStringSetEncodings(t *testing.T) {
	e := newStrEnv(t, nil)
	long := strings.Repeat("x", 45)
	cases := []struct {
		args []string
		key  string
		want string
	}{
		{[]string{"SET", "a", "123"}, "a", "int"},
		{[]string{"SET", "a", "abc"}, "a", "embstr"},
		{[]string{"SET", "a", long}, "a", "raw"},
		{[]string{"SETNX", "b", "-7"}, "b", "int"},
		{[]string{"GETSET", "b", "12a"}, "b", "embstr"},
		{[]string{"MSET", "c", "99", "d", long}, "c", "int"},
		{[]string{"SETEX", "e", "100", "5"}, "e", "int"},
		{[]string{"APPEND", "e", "5"}, "e", "raw"},
		{[]string{"INCR", "e"}, "e", "int"},
		{[]string{"SETRANGE", "e", "0", "1"}, "e", "raw"},
		{[]string{"INCRBYFLOAT", "e", "1"}, "e", "embstr"},
	}
	for _, tc := range cases {
		e.do(tc.args...)
		if got := e.encoding(tc.key); got != tc.want {
			t.Errorf("%q: encoding %s, want %s", tc.args, got, tc.want)
		}
	}
}

func TestParseSetOpts(t *testing.T) {
	cases := []struct {
		opts  string
		isSet bool
		ok    bool
		want  setOpts
	}{
		{"", true, true, setOpts{}},
		{"nx get", true, true, setOpts{nx: true, get: true}},
		{"xx keepttl", true, true, setOpts{xx: true, keepTTL: true}},
		{"ex 1 ex 2", true, true, setOpts{expKind: expEX, expire: []byte("2")}},
		{"pxat 5", true, true, setOpts{expKind: expPXAT, expire: []byte("5")}},
		{"persist", false, true, setOpts{persist: true}},
		{"persist", true, false, setOpts{}},
		{"keepttl", false, false, setOpts{}},
		{"exat 1 keepttl", true, false, setOpts{}},
		{"ex", true, false, setOpts{}},
		{"ex 1 exat 2", true, false, setOpts{}},
	}
	for _, tc := range cases {
		var args [][]byte
		for _, f := range strings.Fields(tc.opts) {
			args = append(args, []byte(f))
		}
		got, err := parseSetOpts(args, tc.isSet)
		if (err == nil) != tc.ok {
			t.Errorf("%q (set %v): err %v, want ok %v", tc.opts, tc.isSet, err, tc.ok)
			continue
		}
		if tc.ok && fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%q (set %v): %+v, want %+v", tc.opts, tc.isSet, got, tc.want)
		}
	}
	// Options are C strings to Redis: "NX\0junk" is NX.
	if o, err := parseSetOpts([][]byte{[]byte("NX\x00junk")}, true); err != nil || !o.nx {
		t.Errorf("NX followed by NUL: %+v, %v", o, err)
	}
}
