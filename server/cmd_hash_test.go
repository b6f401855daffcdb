package server

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cachalotdb/cachalot/config"
)

// hashBulks decodes a flat RESP2 array of bulk strings from a raw reply.
func hashBulks(t *testing.T, raw string) []string {
	t.Helper()
	r := bufio.NewReader(strings.NewReader(raw))
	head, _ := r.ReadString('\n')
	if !strings.HasPrefix(head, "*") {
		t.Fatalf("not an array: %q", raw)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(head[1:]))
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		h, _ := r.ReadString('\n')
		l, err := strconv.Atoi(strings.TrimSpace(h[1:]))
		if err != nil || h[0] != '$' {
			t.Fatalf("element %d: %q in %q", i, h, raw)
		}
		b := make([]byte, l+2)
		if _, err := r.Read(b); err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b[:l]))
	}
	return out
}

// hscanReply splits an HSCAN reply into its cursor and flat pairs.
func hscanReply(t *testing.T, raw string) (string, []string) {
	t.Helper()
	// *2\r\n$N\r\ncursor\r\n then the array.
	rest := strings.TrimPrefix(raw, "*2\r\n")
	i := strings.Index(rest, "\r\n")
	n, _ := strconv.Atoi(rest[1:i])
	cursor := rest[i+2 : i+2+n]
	return cursor, hashBulks(t, rest[i+2+n+2:])
}

func TestHashScanWalksHashtable(t *testing.T) {
	e := newStrEnv(t, nil)
	const n = 300
	args := []string{"HSET", "h"}
	for i := 0; i < n; i++ {
		args = append(args, fmt.Sprintf("f%d", i), strconv.Itoa(i))
	}
	if got := e.do(args...); got != ":300\r\n" {
		t.Fatalf("HSET: %q", got)
	}
	if got := e.do("OBJECT", "ENCODING", "h"); got != "$9\r\nhashtable\r\n" {
		t.Fatalf("encoding %q", got)
	}
	seen := map[string]string{}
	cursor, calls := "0", 0
	for {
		next, pairs := hscanReply(t, e.do("HSCAN", "h", cursor, "COUNT", "17"))
		calls++
		if len(pairs) > 2*17 {
			t.Fatalf("COUNT 17 returned %d pairs", len(pairs)/2)
		}
		for i := 0; i < len(pairs); i += 2 {
			seen[pairs[i]] = pairs[i+1]
		}
		// Deleting fields already returned must not hide the others.
		if calls == 3 {
			e.do("HDEL", "h", pairs[0], pairs[2])
		}
		if next == "0" {
			break
		}
		cursor = next
		if calls > n {
			t.Fatal("HSCAN never returns cursor 0")
		}
	}
	if len(seen) != n {
		t.Errorf("HSCAN returned %d distinct fields, want %d", len(seen), n)
	}
	for f, v := range seen {
		if "f"+v != f {
			t.Errorf("field %s came with value %s", f, v)
		}
	}
	_, pairs := hscanReply(t, e.do("HSCAN", "h", "0", "MATCH", "f1?", "COUNT", "1000"))
	if len(pairs) != 2*10 {
		t.Errorf("MATCH f1? returned %d pairs, want 10", len(pairs)/2)
	}
}

func TestHashRandfieldRandomCases(t *testing.T) {
	e := newStrEnv(t, nil)
	for _, entries := range []string{"128", "2"} { // listpack, then hashtable
		key := "h" + entries
		e.do("CONFIG", "SET", "hash-max-listpack-entries", entries)
		e.do("HSET", key, "a", "1", "b", "2", "c", "3", "d", "4", "e", "5")
		valid := map[string]string{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5"}
		for i := 0; i < 30; i++ {
			// Distinct fields for a positive count below the size.
			got := hashBulks(t, e.do("HRANDFIELD", key, "3"))
			if len(got) != 3 {
				t.Fatalf("%s: HRANDFIELD 3 gave %q", key, got)
			}
			uniq := map[string]bool{}
			for _, f := range got {
				if _, ok := valid[f]; !ok || uniq[f] {
					t.Fatalf("%s: HRANDFIELD 3 gave %q", key, got)
				}
				uniq[f] = true
			}
			// Repetition allowed for a negative count, with matching values.
			got = hashBulks(t, e.do("HRANDFIELD", key, "-7", "WITHVALUES"))
			if len(got) != 14 {
				t.Fatalf("%s: HRANDFIELD -7 WITHVALUES gave %q", key, got)
			}
			for j := 0; j < len(got); j += 2 {
				if valid[got[j]] != got[j+1] {
					t.Fatalf("%s: pair %q %q", key, got[j], got[j+1])
				}
			}
			one := e.do("HRANDFIELD", key)
			if f := strings.Split(one, "\r\n")[1]; valid[f] == "" {
				t.Fatalf("%s: HRANDFIELD gave %q", key, one)
			}
		}
	}
	e.do("HELLO", "3")
	got := e.do("HRANDFIELD", "h128", "-2", "WITHVALUES")
	if !strings.HasPrefix(got, "*2\r\n*2\r\n$1\r\n") {
		t.Errorf("RESP3 HRANDFIELD -2 WITHVALUES: %q, want an array of pairs", got)
	}
}

func TestHashConfigThresholdsApplyToNewWrites(t *testing.T) {
	e := newStrEnv(t, func(c *config.Config) { c.HashMaxListpackEntries = 2 })
	e.run([]strStep{
		{[]string{"HSET", "a", "x", "1", "y", "2"}, ":2\r\n"},
		{[]string{"OBJECT", "ENCODING", "a"}, "$8\r\nlistpack\r\n"},
		{[]string{"CONFIG", "SET", "hash-max-listpack-entries", "1"}, "+OK\r\n"},
		// Existing values keep their encoding until written again.
		{[]string{"OBJECT", "ENCODING", "a"}, "$8\r\nlistpack\r\n"},
		{[]string{"HSET", "a", "x", "3"}, ":0\r\n"},
		{[]string{"OBJECT", "ENCODING", "a"}, "$8\r\nlistpack\r\n"},
		{[]string{"HSET", "a", "z", "3"}, ":1\r\n"},
		{[]string{"OBJECT", "ENCODING", "a"}, "$9\r\nhashtable\r\n"},
		{[]string{"CONFIG", "SET", "hash-max-listpack-value", "2"}, "+OK\r\n"},
		{[]string{"HSET", "b", "k", "abc"}, ":1\r\n"},
		{[]string{"OBJECT", "ENCODING", "b"}, "$9\r\nhashtable\r\n"},
	})
}

func TestHashCopyAndDigest(t *testing.T) {
	e := newStrEnv(t, debugOn)
	e.do("HSET", "src", "a", "1", "b", "2")
	e.run([]strStep{
		{[]string{"COPY", "src", "dst"}, ":1\r\n"},
		{[]string{"HSET", "src", "a", "changed"}, ":0\r\n"},
		{[]string{"HGET", "dst", "a"}, "$1\r\n1\r\n"},
		{[]string{"HGETALL", "dst"}, "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"},
		{[]string{"TYPE", "dst"}, "+hash\r\n"},
	})
	// Same contents, different order and encoding: same digest.
	e.do("HSET", "p", "x", "1", "y", "2")
	e.do("CONFIG", "SET", "hash-max-listpack-entries", "0")
	e.do("HSET", "q", "y", "2", "x", "1")
	if got := e.do("OBJECT", "ENCODING", "q"); got != "$9\r\nhashtable\r\n" {
		t.Fatalf("q encoding %q", got)
	}
	dp, dq := e.do("DEBUG", "DIGEST-VALUE", "p"), e.do("DEBUG", "DIGEST-VALUE", "q")
	if !strings.HasPrefix(dp, "*1\r\n+") || dp != dq || strings.Contains(dp, zeroDigestHex) {
		t.Errorf("digests of equal hashes: %q vs %q", dp, dq)
	}
	e.do("HSET", "q", "x", "2")
	if e.do("DEBUG", "DIGEST-VALUE", "q") == dp {
		t.Error("digest did not change with a value")
	}
}

func TestHashMemoryAccounting(t *testing.T) {
	e := newStrEnv(t, nil)
	before := e.st.UsedBytes()
	e.do("HSET", "h", "field", strings.Repeat("v", 1000))
	grown := e.st.UsedBytes()
	if grown-before < 1000 {
		t.Errorf("used bytes grew by %d for a 1000-byte value", grown-before)
	}
	e.do("HSET", "h", "field", "v")
	if shrunk := e.st.UsedBytes(); grown-shrunk != 999 {
		t.Errorf("shrinking the value by 999 bytes freed %d", grown-shrunk)
	}
	e.do("HDEL", "h", "field")
	if after := e.st.UsedBytes(); after != before {
		t.Errorf("used bytes after the hash is gone: %d, want %d", after, before)
	}
	if got := e.do("EXISTS", "h"); got != ":0\r\n" {
		t.Errorf("emptied hash still exists: %q", got)
	}
}
