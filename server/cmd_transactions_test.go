package server

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"
)

// txDo sends one command and returns its whole reply, rendered with %v
// (errors as their text, nil as <nil>).
func txDo(c *rawConn, args ...string) string {
	c.t.Helper()
	c.nc.SetDeadline(time.Now().Add(10 * time.Second))
	var bs [][]byte
	for _, a := range args {
		bs = append(bs, []byte(a))
	}
	if _, err := c.nc.Write(encodeRESP(bs...)); err != nil {
		c.t.Fatalf("write %q: %v", args, err)
	}
	v, err := readRESP(c.br)
	if err != nil {
		c.t.Fatalf("read reply to %q: %v", args, err)
	}
	return fmt.Sprint(v)
}

func TestMultiExecSequences(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	type step struct {
		args []string
		want string
	}
	s := func(want string, args ...string) step { return step{args, want} }
	tests := []struct {
		name  string
		steps []step
	}{
		{"plain", []step{
			s("OK", "MULTI"), s("QUEUED", "SET", "a", "1"), s("QUEUED", "INCR", "a"),
			s("[OK 2]", "EXEC"), s("2", "GET", "a")}},
		{"errors outside MULTI", []step{
			s("ERR EXEC without MULTI", "EXEC"), s("ERR DISCARD without MULTI", "DISCARD")}},
		{"nested MULTI and WATCH keep the transaction", []step{
			s("OK", "MULTI"), s("ERR MULTI calls can not be nested", "MULTI"),
			s("ERR WATCH inside MULTI is not allowed", "WATCH", "a"),
			s("QUEUED", "PING"), s("[PONG]", "EXEC")}},
		{"queue-time error aborts", []step{
			s("OK", "MULTI"), s("QUEUED", "SET", "b", "1"),
			s("ERR unknown command 'NOPE', with args beginning with: ", "NOPE"),
			s("EXECABORT Transaction discarded because of previous errors.", "EXEC"),
			s("<nil>", "GET", "b")}},
		{"run-time error is per command", []step{
			s("OK", "SET", "str", "x"), s("OK", "MULTI"), s("QUEUED", "INCR", "str"), s("QUEUED", "SET", "c", "1"),
			s("[ERR value is not an integer or out of range OK]", "EXEC"), s("1", "GET", "c")}},
		{"EXEC arity aborts", []step{
			s("OK", "MULTI"), s("QUEUED", "SET", "d", "1"),
			s("EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command", "EXEC", "x"),
			s("ERR EXEC without MULTI", "EXEC")}},
		{"discard", []step{
			s("OK", "MULTI"), s("QUEUED", "SET", "e", "1"), s("OK", "DISCARD"), s("<nil>", "GET", "e")}},
		{"blocking commands do not block", []step{
			s("OK", "MULTI"), s("QUEUED", "BLPOP", "nolist", "0"), s("QUEUED", "BLMOVE", "nolist", "x", "LEFT", "LEFT", "0"),
			s("[<nil> <nil>]", "EXEC")}},
		{"own write invalidates WATCH", []step{
			s("OK", "WATCH", "w"), s("OK", "SET", "w", "1"), s("OK", "MULTI"), s("QUEUED", "PING"),
			s("<nil>", "EXEC"), s("OK", "MULTI"), s("QUEUED", "GET", "w"), s("[1]", "EXEC")}},
		{"unrelated write does not", []step{
			s("OK", "WATCH", "w"), s("OK", "SET", "unrelated", "1"), s("OK", "MULTI"), s("QUEUED", "INCR", "w"),
			s("[2]", "EXEC")}},
		{"UNWATCH", []step{
			s("OK", "WATCH", "w"), s("OK", "SET", "w", "5"), s("OK", "UNWATCH"), s("OK", "MULTI"), s("QUEUED", "GET", "w"),
			s("[5]", "EXEC")}},
		{"FLUSHDB invalidates an existing watched key only", []step{
			s("OK", "WATCH", "w"), s("OK", "FLUSHDB"), s("OK", "MULTI"), s("QUEUED", "PING"), s("<nil>", "EXEC"),
			s("OK", "WATCH", "w"), s("OK", "FLUSHDB"), s("OK", "MULTI"), s("QUEUED", "PING"), s("[PONG]", "EXEC")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialRaw(t, addr)
			for i, st := range tt.steps {
				if got := txDo(c, st.args...); got != st.want {
					t.Fatalf("step %d %q = %q, want %q", i, st.args, got, st.want)
				}
			}
		})
	}
}

func TestWatchOtherClientAndExpiry(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	a, b := dialRaw(t, addr), dialRaw(t, addr)
	cases := []struct {
		name   string
		setup  []string
		change func()
		want   string
	}{
		{"other client writes", []string{"SET", "k", "1"}, func() { txDo(b, "APPEND", "k", "x") }, "<nil>"},
		{"other client deletes", []string{"SET", "k", "1"}, func() { txDo(b, "DEL", "k") }, "<nil>"},
		{"other client swaps databases", []string{"SET", "k", "1"}, func() { txDo(b, "SWAPDB", "0", "1"); txDo(b, "SWAPDB", "0", "1") }, "<nil>"},
		{"other client reads", []string{"SET", "k", "1"}, func() { txDo(b, "GET", "k") }, "[PONG]"},
		{"key expires", []string{"SET", "k", "1", "PX", "30"}, func() { time.Sleep(150 * time.Millisecond) }, "<nil>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			txDo(a, tc.setup...)
			if got := txDo(a, "WATCH", "k"); got != "OK" {
				t.Fatal(got)
			}
			tc.change()
			txDo(a, "MULTI")
			txDo(a, "PING")
			if got := txDo(a, "EXEC"); got != tc.want {
				t.Fatalf("EXEC = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestExecIsAtomic checks that no reader sees a transaction half done,
// although its keys live in different shards.
func TestExecIsAtomic(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	w := dialRaw(t, addr)
	r := dialRaw(t, addr)
	const rounds = 300
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < rounds; i++ {
			txDo(w, "MULTI")
			for _, k := range []string{"a", "b", "c", "d"} {
				txDo(w, "INCR", k)
			}
			txDo(w, "EXEC")
		}
	}()
	checks := 0
	for done := false; !done; {
		got := txDo(r, "MGET", "a", "b", "c", "d")
		var vals [4]string
		fmt.Sscanf(got, "[%s %s %s %s]", &vals[0], &vals[1], &vals[2], &vals[3])
		if vals[0] != vals[1] || vals[1] != vals[2] || vals[2] != strings4(vals[3]) {
			t.Fatalf("MGET saw a partial transaction: %s", got)
		}
		checks++
		done = vals[0] == strconv.Itoa(rounds)
	}
	wg.Wait()
	if checks == 0 {
		t.Fatal("no reads")
	}
}

// strings4 strips the closing bracket Sscanf leaves on the last value.
func strings4(s string) string {
	if n := len(s); n > 0 && s[n-1] == ']' {
		return s[:n-1]
	}
	return s
}

// TestExecServesBlockedClientsAfterwards: a BLPOP waiting on a list gets
// the element only after the transaction, so the transaction sees its own
// push.
func TestExecServesBlockedClientsAfterwards(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	blocked, tx, probe := dialRaw(t, addr), dialRaw(t, addr), dialRaw(t, addr)
	blocked.nc.Write(encodeRESP([]byte("BLPOP"), []byte("q"), []byte("0")))
	deadline := time.Now().Add(10 * time.Second)
	for txDo(probe, "INFO", "clients") == "" || !containsLine(txDo(probe, "INFO", "clients"), "blocked_clients:1") {
		if time.Now().After(deadline) {
			t.Fatal("the client never blocked")
		}
		time.Sleep(10 * time.Millisecond)
	}
	txDo(tx, "MULTI")
	txDo(tx, "RPUSH", "q", "x")
	txDo(tx, "LLEN", "q")
	if got := txDo(tx, "EXEC"); got != "[1 1]" {
		t.Fatalf("EXEC = %q, want [1 1]", got)
	}
	blocked.nc.SetDeadline(time.Now().Add(10 * time.Second))
	v, err := readRESP(blocked.br)
	if err != nil || fmt.Sprint(v) != "[q x]" {
		t.Fatalf("BLPOP = %v, %v", v, err)
	}
}

func containsLine(s, line string) bool {
	for i := 0; i+len(line) <= len(s); i++ {
		if s[i:i+len(line)] == line {
			return true
		}
	}
	return false
}
