package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/config"
)

// TestZsetUsageMatchesRedis renders every sorted-set row's usage as COMMAND
// DOCS would and compares the argument tree with Redis 7.0's.
func TestZsetUsageMatchesRedis(t *testing.T) {
	golden := loadCommandGolden(t)
	n := 0
	for _, c := range zsetCommands() {
		want, ok := golden[c.name]
		if !ok {
			t.Errorf("%s: not in the golden file", c.name)
			continue
		}
		n++
		gj, _ := json.Marshal(renderArgs(t, c.usage))
		wj, _ := json.Marshal(want.Arguments)
		if string(gj) != string(wj) {
			t.Errorf("%s %q:\n got %s\nwant %s", c.name, c.usage, gj, wj)
		}
	}
	if n != 35 {
		t.Errorf("checked %d sorted-set rows, want 35", n)
	}
}

func TestZsetStrtodFull(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"1.5", 1.5, true},
		{"", 0, true},
		{" 2", 2, true},
		{"\t-3e2", -300, true},
		{"2 ", 0, false},
		{"   ", 0, false},
		{"+inf", math.Inf(1), true},
		{"-Infinity", math.Inf(-1), true},
		{"nan", 0, false},
		{"0x10", 16, true},
		{"0x1p4", 16, true},
		{"0x", 0, false},
		{"1e", 0, false},
		{"1e400", math.Inf(1), true},
		{"1e-400", 0, true},
		{".5", 0.5, true},
		{"5.", 5, true},
		{".", 0, false},
		{"1_0", 0, false},
		{"7\x00junk", 7, true},
		{"abc", 0, false},
	}
	for _, tc := range tests {
		got, ok := strtodFull([]byte(tc.in))
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("strtodFull(%q) = %v %v, want %v %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestZsetNumkeysKeys(t *testing.T) {
	tests := []struct {
		name string
		fn   func([][]byte) []int
		argv string
		want []int
	}{
		{"zunion", numkeysKeys(1), "zunion 2 a b WITHSCORES", []int{2, 3}},
		{"zunionstore", numkeysKeys(2, 1), "zunionstore d 2 a b", []int{1, 3, 4}},
		{"bzmpop", numkeysKeys(2), "bzmpop 0 1 a MIN", []int{3}},
		{"zero", numkeysKeys(1), "zunion 0 a", nil},
		{"negative", numkeysKeys(1), "zunion -1 a", nil},
		{"too many", numkeysKeys(1), "zunion 3 a b", nil},
		{"not a number", numkeysKeys(1), "zunion x a", nil},
		{"store with bad numkeys", numkeysKeys(2, 1), "zunionstore d 5 a", nil},
	}
	for _, tc := range tests {
		var argv [][]byte
		for _, f := range strings.Fields(tc.argv) {
			argv = append(argv, []byte(f))
		}
		if got := tc.fn(argv); !slices.Equal(got, tc.want) {
			t.Errorf("%s: keys %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestZsetEncodingThresholds(t *testing.T) {
	e := newStrEnv(t, func(c *config.Config) {
		c.ZsetMaxListpackEntries = 3
		c.ZsetMaxListpackValue = 5
	})
	steps := []struct {
		cmd, key, enc string
	}{
		{"ZADD z 1 a 2 b 3 c", "z", "listpack"},
		{"ZADD z 4 d", "z", "skiplist"},
		{"ZREM z a b c", "z", "skiplist"},
		{"ZADD long 1 abcdef", "long", "skiplist"},
		{"ZADD short 1 abcde", "short", "listpack"},
		{"ZADD short 1 abcdef", "short", "skiplist"},
		{"ZUNIONSTORE u 1 z", "u", "listpack"},
		{"ZADD big 1 a 2 b 3 c 4 d", "big", "skiplist"},
		{"ZRANGESTORE r big 0 2", "r", "listpack"},
		{"ZRANGESTORE r big 0 -1", "r", "skiplist"},
		{"ZINTERSTORE i 2 big big", "i", "skiplist"},
		{"ZDIFFSTORE d 2 big z", "d", "listpack"},
		{"ZINCRBY inc 1 abcdefg", "inc", "skiplist"},
	}
	for _, st := range steps {
		if r := e.do(strings.Fields(st.cmd)...); strings.HasPrefix(r, "-") {
			t.Fatalf("%s: %q", st.cmd, r)
		}
		if got := e.encoding(st.key); got != st.enc {
			t.Errorf("after %s: %s is %q, want %q", st.cmd, st.key, got, st.enc)
		}
	}
	e2 := newStrEnv(t, func(c *config.Config) { c.ZsetMaxListpackEntries = 0 })
	e2.do("ZADD", "z", "1", "a")
	if got := e2.encoding("z"); got != "skiplist" {
		t.Errorf("zset-max-listpack-entries 0: %q, want skiplist", got)
	}
}

func TestZsetScanAndRandomOnLargeSet(t *testing.T) {
	e := newStrEnv(t, nil)
	const n = 300
	args := []string{"ZADD", "big"}
	for i := 0; i < n; i++ {
		args = append(args, strconv.Itoa(i%13), "m"+strconv.Itoa(i))
	}
	if got := e.do(args...); got != strInt(n) {
		t.Fatalf("ZADD: %q", got)
	}
	if got := e.encoding("big"); got != "skiplist" {
		t.Fatalf("encoding %q", got)
	}
	seen := map[string]bool{}
	cursor := "0"
	for calls := 0; ; calls++ {
		if calls > n {
			t.Fatal("ZSCAN does not terminate")
		}
		raw := e.do("ZSCAN", "big", cursor, "COUNT", "20")
		lines := strings.Split(raw, "\r\n")
		// *2, $len, cursor, *k, then member/score bulk pairs.
		cursor = lines[2]
		for i := 5; i+3 < len(lines); i += 4 {
			seen[lines[i]] = true
		}
		if cursor == "0" {
			break
		}
	}
	if len(seen) != n {
		t.Fatalf("ZSCAN returned %d distinct members, want %d", len(seen), n)
	}
	// Distinct random members: positive count below the size.
	got := setBulks(t, e.do("ZRANDMEMBER", "big", "50"))
	uniq := map[string]bool{}
	for _, m := range got {
		if !seen[m] || uniq[m] {
			t.Fatalf("ZRANDMEMBER 50 returned %q twice or not a member", m)
		}
		uniq[m] = true
	}
	if len(uniq) != 50 {
		t.Fatalf("ZRANDMEMBER 50 returned %d members", len(uniq))
	}
	// Negative count: exactly that many, repeats allowed.
	got = setBulks(t, e.do("ZRANDMEMBER", "big", "-500"))
	if len(got) != 500 {
		t.Fatalf("ZRANDMEMBER -500 returned %d", len(got))
	}
	for _, m := range got {
		if !seen[m] {
			t.Fatalf("ZRANDMEMBER -500 returned non-member %q", m)
		}
	}
	// Ranks over a big skiplist agree with ZRANGE.
	members := setBulks(t, e.do("ZRANGE", "big", "0", "-1"))
	for _, i := range []int{0, 1, 150, n - 1} {
		if r := e.do("ZRANK", "big", members[i]); r != strInt(int64(i)) {
			t.Errorf("ZRANK %s = %q, want %d", members[i], r, i)
		}
		if r := e.do("ZREVRANK", "big", members[i]); r != strInt(int64(n-1-i)) {
			t.Errorf("ZREVRANK %s = %q, want %d", members[i], r, n-1-i)
		}
	}
	if r := e.do("ZCOUNT", "big", "(3", "5"); r != strInt(int64(len(setBulks(t, e.do("ZRANGEBYSCORE", "big", "(3", "5"))))) {
		t.Errorf("ZCOUNT (3 5 = %q disagrees with ZRANGEBYSCORE", r)
	}
}

// zsetOtherConn opens a second connection to e's server.
func zsetOtherConn(t *testing.T, e *strEnv) *strEnv {
	t.Helper()
	conn, err := net.Dial("tcp", e.conn.RemoteAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &strEnv{t: t, clock: e.clock, st: e.st, conn: conn, r: bufio.NewReader(conn)}
}

func TestZsetBlockingPops(t *testing.T) {
	tests := []struct {
		name    string
		block   []string // run on the blocked connection
		writers [][]string
		want    string
	}{
		{"bzpopmin woken by zadd", []string{"BZPOPMIN", "a", "b", "0"},
			[][]string{{"ZADD", "b", "2", "x", "1", "y"}},
			"*3\r\n$1\r\nb\r\n$1\r\ny\r\n$1\r\n1\r\n"},
		{"bzpopmax woken by zincrby", []string{"BZPOPMAX", "k", "5"},
			[][]string{{"ZINCRBY", "k", "2.5", "m"}},
			"*3\r\n$1\r\nk\r\n$1\r\nm\r\n$3\r\n2.5\r\n"},
		{"bzmpop woken by zunionstore", []string{"BZMPOP", "0", "2", "d", "e", "MAX", "COUNT", "5"},
			[][]string{{"ZADD", "src", "1", "p", "2", "q"}, {"ZUNIONSTORE", "e", "1", "src"}},
			"*2\r\n$1\r\ne\r\n*2\r\n*2\r\n$1\r\nq\r\n$1\r\n2\r\n*2\r\n$1\r\np\r\n$1\r\n1\r\n"},
		{"bzpopmin woken by zrangestore", []string{"BZPOPMIN", "dst", "0"},
			[][]string{{"ZADD", "s2", "3", "r"}, {"ZRANGESTORE", "dst", "s2", "0", "-1"}},
			"*3\r\n$3\r\ndst\r\n$1\r\nr\r\n$1\r\n3\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newStrEnv(t, nil)
			other := zsetOtherConn(t, e)
			got := make(chan string, 1)
			go func() {
				var b strings.Builder
				fmt.Fprintf(&b, "*%d\r\n", len(tc.block))
				for _, a := range tc.block {
					fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
				}
				e.conn.Write([]byte(b.String()))
				e.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				var out strings.Builder
				if err := strReadRaw(e.r, &out); err != nil {
					got <- "read error: " + err.Error()
					return
				}
				got <- out.String()
			}()
			time.Sleep(50 * time.Millisecond)
			select {
			case r := <-got:
				t.Fatalf("did not block: %q", r)
			default:
			}
			for _, w := range tc.writers {
				if r := other.do(w...); strings.HasPrefix(r, "-") {
					t.Fatalf("%q: %q", w, r)
				}
			}
			select {
			case r := <-got:
				if r != tc.want {
					t.Fatalf("woke with %q, want %q", r, tc.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("never woke")
			}
		})
	}
}

func TestZsetBlockingTimeout(t *testing.T) {
	e := newStrEnv(t, nil)
	start := time.Now()
	if got := e.do("BZPOPMIN", "nothing", "0.05"); got != "*-1\r\n" {
		t.Fatalf("BZPOPMIN timeout: %q", got)
	}
	if time.Since(start) < 40*time.Millisecond {
		t.Fatal("returned before the timeout")
	}
	if got := e.do("BZMPOP", "0.05", "1", "nothing", "MIN"); got != "*-1\r\n" {
		t.Fatalf("BZMPOP timeout: %q", got)
	}
}

// TestZsetParseScoreMatchesParseFloat holds ZADD's integer shortcut to
// parseFloat: the same value, bit for bit, and the same errors.
func TestZsetParseScoreMatchesParseFloat(t *testing.T) {
	inputs := []string{
		"0", "-0", "00", "-000", "1", "-1", "000000054321", "99999",
		"123456789012345", "-123456789012345", "1234567890123456", "9007199254740993",
		"", "-", "--1", "+1", "1.5", "1e3", " 1", "1 ", "0x10", "1_000", "inf", "-inf", "nan", "12a",
	}
	for _, s := range inputs {
		got, gerr := parseScore([]byte(s))
		want, werr := parseFloat([]byte(s))
		if (gerr == nil) != (werr == nil) || math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("parseScore(%q) = %v, %v; parseFloat %v, %v", s, got, gerr, want, werr)
		}
	}
}
