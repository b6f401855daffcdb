package server

import (
	"bufio"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cachalotdb/cachalot/config"
)

// setBulks parses a flat RESP2 array of bulk strings (as strReadRaw
// returns it) into its elements.
func setBulks(t *testing.T, raw string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(raw, "\r\n"), "\r\n")
	if len(lines) == 0 || (lines[0][0] != '*' && lines[0][0] != '~') {
		t.Fatalf("not an array: %q", raw)
	}
	n, _ := strconv.Atoi(lines[0][1:])
	var out []string
	for i := 1; i+1 < len(lines); i += 2 {
		out = append(out, lines[i+1])
	}
	if len(out) != n {
		t.Fatalf("array of %d, parsed %d: %q", n, len(out), raw)
	}
	return out
}

func TestSetCommandReplies(t *testing.T) {
	e := newStrEnv(t, func(c *config.Config) { c.SetMaxIntsetEntries = 3 })
	e.run([]strStep{
		strS("SADD s 3 1 2", strInt(3)),
		strS("SMEMBERS s", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
		strS("OBJECT ENCODING s", strBulk("intset")),
		strS("SADD s 4", strOne),
		strS("OBJECT ENCODING s", strBulk("hashtable")),
		strS("SREM s 4", strOne),
		strS("OBJECT ENCODING s", strBulk("hashtable")),
		strS("SCARD s", strInt(3)),
		strS("SISMEMBER s 1", strOne),
		strS("SISMEMBER s 01", strZero),
		strS("SMISMEMBER s 1 9", "*2\r\n:1\r\n:0\r\n"),
		strS("SPOP s -1", strErr(errCountPositive)),
		strS("SPOP s x", strErr(errCountPositive)),
		strS("SRANDMEMBER s x", strErr(errNotInteger)),
		strS("SRANDMEMBER s -9223372036854775808", strErr(errHrandCountRange)),
		strS("SINTERCARD 0 s", strErr(errNumkeysPositive)),
		strS("SINTERCARD x s", strErr(errNumkeysPositive)),
		strS("SINTERCARD 2 s", strErr(errNumkeysTooMany)),
		strS("SINTERCARD 1 s LIMIT -1", strErr(errLimitNegative)),
		strS("SINTERCARD 1 s LIMIT 2", strInt(2)),
		strS("SINTERCARD 1 s LIMIT 0", strInt(3)),
		strS("SINTERCARD 1 s BAD 0", strErr(errSyntax)),
		// The union of a hashtable holding only integers is a sorted intset.
		strS("SUNION s", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
		strS("SUNIONSTORE d s", strInt(3)),
		strS("OBJECT ENCODING d", strBulk("intset")),
		strS("SINTERSTORE d s missing", strZero),
		strS("EXISTS d", strZero),
		strS("SET str v", strOK),
		strS("SADD str a", strErr(errWrongType)),
		strS("SMOVE missing str a", strZero),
		strS("SMOVE s str 1", strErr(errWrongType)),
		strS("SSCAN missing 0 COUNT x", "*2\r\n$1\r\n0\r\n*0\r\n"),
		strS("SSCAN s x", strErr(errInvalidCursor)),
		strS("SSCAN s 0 TYPE set", strErr(errSyntax)),
		strS("SPOP s 10", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
		strS("EXISTS s", strZero),
	})
}

func TestSetResp3Replies(t *testing.T) {
	e := newStrEnv(t, nil)
	e.do("HELLO", "3")
	e.run([]strStep{
		strS("SADD s 2 1", strInt(2)),
		strS("SMEMBERS s", "~2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
		strS("SMEMBERS nope", "~0\r\n"),
		strS("SPOP nope", strNil3),
		strS("SPOP nope 1", "~0\r\n"),
		strS("SRANDMEMBER nope 1", "*0\r\n"),
		strS("SRANDMEMBER s 5", "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
		strS("SDIFF s nope", "~2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
	})
}

// TestSscanWalksHashtable iterates a big set with small counts: every
// member comes back, MATCH filters, and the walk ends at cursor 0.
func TestSscanWalksHashtable(t *testing.T) {
	e := newStrEnv(t, nil)
	args := []string{"SADD", "big"}
	for i := range 300 {
		args = append(args, "m"+strconv.Itoa(i))
	}
	if got := e.do(args...); got != strInt(300) {
		t.Fatalf("SADD: %q", got)
	}
	for _, tc := range []struct {
		match string
		want  int
	}{{"", 300}, {"m1*", 111}, {"x*", 0}} {
		seen := map[string]bool{}
		cursor, calls := "0", 0
		for {
			cmd := []string{"SSCAN", "big", cursor, "COUNT", "7"}
			if tc.match != "" {
				cmd = append(cmd, "MATCH", tc.match)
			}
			raw := e.do(cmd...)
			// *2 / $n / cursor / *k / elements…
			parts := strings.SplitN(raw, "\r\n", 4)
			cursor = parts[2]
			for _, m := range setBulks(t, parts[3]) {
				seen[m] = true
			}
			calls++
			if cursor == "0" || calls > 1000 {
				break
			}
		}
		if cursor != "0" {
			t.Fatalf("match %q: walk did not end", tc.match)
		}
		if len(seen) != tc.want {
			t.Errorf("match %q: saw %d members, want %d", tc.match, len(seen), tc.want)
		}
		if calls < 300/7 && tc.match == "" {
			t.Errorf("walk took %d calls for 300 members at COUNT 7", calls)
		}
	}
}

func TestSpopAndSrandmemberCounts(t *testing.T) {
	e := newStrEnv(t, nil)
	members := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	e.do(append([]string{"SADD", "s"}, members...)...)
	isMember := func(m string) bool { return slices.Contains(members, m) }

	for _, count := range []int{1, 2, 5, 9, 10, 20} {
		got := setBulks(t, e.do("SRANDMEMBER", "s", strconv.Itoa(count)))
		want := min(count, len(members))
		distinct := map[string]bool{}
		for _, m := range got {
			if !isMember(m) {
				t.Errorf("SRANDMEMBER %d gave non-member %q", count, m)
			}
			distinct[m] = true
		}
		if len(got) != want || len(distinct) != want {
			t.Errorf("SRANDMEMBER %d: %d replies, %d distinct, want %d", count, len(got), len(distinct), want)
		}
	}
	got := setBulks(t, e.do("SRANDMEMBER", "s", "-25"))
	if len(got) != 25 {
		t.Errorf("SRANDMEMBER -25: %d replies", len(got))
	}
	for _, m := range got {
		if !isMember(m) {
			t.Errorf("SRANDMEMBER -25 gave non-member %q", m)
		}
	}

	left := map[string]bool{}
	for _, m := range members {
		left[m] = true
	}
	for _, count := range []int{1, 3, 4} {
		popped := setBulks(t, e.do("SPOP", "s", strconv.Itoa(count)))
		if len(popped) != count {
			t.Fatalf("SPOP %d popped %d", count, len(popped))
		}
		for _, m := range popped {
			if !left[m] {
				t.Errorf("SPOP %d gave %q, not (or no longer) a member", count, m)
			}
			delete(left, m)
		}
		if got := e.do("SCARD", "s"); got != strInt(int64(len(left))) {
			t.Errorf("SCARD after SPOP %d: %q, want %d", count, got, len(left))
		}
	}
	rest := setBulks(t, e.do("SPOP", "s", "100"))
	slices.Sort(rest)
	var want []string
	for m := range left {
		want = append(want, m)
	}
	slices.Sort(want)
	if !slices.Equal(rest, want) {
		t.Errorf("final SPOP %q, want %q", rest, want)
	}
	if got := e.do("EXISTS", "s"); got != strZero {
		t.Errorf("set still exists after popping everything: %q", got)
	}
}

func TestSintercardKeys(t *testing.T) {
	tests := []struct {
		args string
		want []int
	}{
		{"SINTERCARD 1 a", []int{2}},
		{"SINTERCARD 2 a b LIMIT 1", []int{2, 3}},
		{"SINTERCARD 3 a b c", []int{2, 3, 4}},
		{"SINTERCARD 3 a b", nil},
		{"SINTERCARD 0 a", nil},
		{"SINTERCARD -1 a", nil},
		{"SINTERCARD x a", nil},
		{"SINTERCARD 1", nil},
	}
	for _, tt := range tests {
		var argv [][]byte
		for _, f := range strings.Fields(tt.args) {
			argv = append(argv, []byte(f))
		}
		if got := sintercardKeys(argv); !slices.Equal(got, tt.want) {
			t.Errorf("%s: keys %v, want %v", tt.args, got, tt.want)
		}
	}
}

// TestSetDigestIgnoresEncodingAndOrder: the same members digest the same
// whatever the encoding and insertion order, as Redis's xor of member
// hashes does.
func TestSetDigestIgnoresEncodingAndOrder(t *testing.T) {
	e := newStrEnv(t, nil)
	e.do("SADD", "a", "1", "2", "3")
	e.do("SADD", "b", "x", "3", "2", "1")
	e.do("SREM", "b", "x")
	if e.do("OBJECT", "ENCODING", "a") == e.do("OBJECT", "ENCODING", "b") {
		t.Fatal("test needs two encodings")
	}
	da, db := e.do("DEBUG", "DIGEST-VALUE", "a"), e.do("DEBUG", "DIGEST-VALUE", "b")
	if da != db || da == strBulk(zeroDigestHex) {
		t.Errorf("digests %q and %q", da, db)
	}
}

// TestSmoveConcurrent moves members back and forth between two sets from
// several connections; none may be lost or duplicated.
func TestSmoveConcurrent(t *testing.T) {
	e := newStrEnv(t, nil)
	const n = 40
	args := []string{"SADD", "left"}
	for i := range n {
		args = append(args, strconv.Itoa(i))
	}
	e.do(args...)
	addr := e.conn.RemoteAddr().String()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			r := bufio.NewReader(conn)
			for i := range 100 {
				src, dst := "left", "right"
				if (i+w)%2 == 1 {
					src, dst = dst, src
				}
				m := strconv.Itoa((i * 7) % n)
				fmt.Fprintf(conn, "*4\r\n$5\r\nSMOVE\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(src), src, len(dst), dst, len(m), m)
				var out strings.Builder
				if err := strReadRaw(r, &out); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	all := append(setBulks(t, e.do("SMEMBERS", "left")), setBulks(t, e.do("SMEMBERS", "right"))...)
	if len(all) != n {
		t.Errorf("%d members after the moves, want %d", len(all), n)
	}
	if got := e.do("SINTERCARD", "2", "left", "right"); got != strZero {
		t.Errorf("a member is in both sets: %q", got)
	}
}

// TestSetSerializedLength checks DEBUG OBJECT's serializedlength against
// values read from Redis 7.0.15 for the same commands: intsets are saved as
// their blob (whose width never shrinks), hashtables member by member.
func TestSetSerializedLength(t *testing.T) {
	e := newStrEnv(t, func(c *config.Config) { c.EnableDebugCommand = "yes" })
	e.do("SADD", "a", "1", "2", "3")
	e.do("SADD", "b", "1", "100000")
	e.do("SREM", "b", "100000")
	e.do("SADD", "c", "1", "9999999999")
	e.do("SADD", "d", "x", "y", strings.Repeat("z", 54), "12", "-5")
	ints, names := []string{"SADD", "e"}, []string{"SADD", "f"}
	for i := range 200 {
		ints = append(ints, strconv.Itoa(i))
		if i < 100 {
			names = append(names, "member"+strconv.Itoa(i))
		}
	}
	e.do(ints...)
	e.do(names...)
	for _, tc := range []struct {
		key  string
		want int
	}{{"a", 15}, {"b", 13}, {"c", 25}, {"d", 21}, {"e", 410}, {"f", 892}} {
		got := e.do("DEBUG", "OBJECT", tc.key)
		if !strings.Contains(got, " serializedlength:"+strconv.Itoa(tc.want)+" ") {
			t.Errorf("DEBUG OBJECT %s: %q, want serializedlength:%d", tc.key, got, tc.want)
		}
	}
}
