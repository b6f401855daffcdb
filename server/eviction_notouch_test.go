package server

import (
	"strconv"
	"testing"

	"github.com/cachalotdb/cachalot/config"
)

// TestClientNoTouchEverywhere checks that CLIENT NO-TOUCH covers every way a
// client's command reaches a key: write commands that read the key first,
// commands queued in MULTI, commands run by its scripts, and the handlers
// that open their own transactions (SORT, PFCOUNT, COPY). Under allkeys-lfu
// a fresh key's counter is LFU_INIT_VAL and every touching access adds
// exactly one (the increment's probability is 1 at that value), so OBJECT
// FREQ shows whether an access touched the key.
func TestClientNoTouchEverywhere(t *testing.T) {
	_, addr, _ := startTestServer(t, func(c *config.Config) { c.MaxmemoryPolicy = "allkeys-lfu" })
	c := dialRaw(t, addr)
	admin := dialRaw(t, addr)

	type access struct {
		name  string
		setup [][]string // run by admin before, to create the key
		run   func()     // the access, on c
		key   string
	}
	eval := func(script string, keys ...string) func() {
		return func() {
			args := append([]string{"EVAL", script, strconv.Itoa(len(keys))}, keys...)
			c.do(args...)
		}
	}
	exec := func(cmd ...string) func() {
		return func() {
			c.do("MULTI")
			c.do(cmd...)
			if got := c.do("EXEC"); got != "*1\r\n" {
				t.Fatalf("EXEC of %q: %q", cmd, got)
			}
			if first := c.line(); first[0] == '$' {
				c.line()
			}
		}
	}
	cmd := func(args ...string) func() { return func() { c.do(args...) } }
	accesses := []access{
		{"APPEND", [][]string{{"SET", "s", "v"}}, cmd("APPEND", "s", "x"), "s"},
		{"SETRANGE", [][]string{{"SET", "s", "v"}}, cmd("SETRANGE", "s", "0", "x"), "s"},
		{"HSET on a hash", [][]string{{"HSET", "h", "f", "v"}}, cmd("HSET", "h", "g", "w"), "h"},
		{"RPUSH on a list", [][]string{{"RPUSH", "l", "a"}}, cmd("RPUSH", "l", "b"), "l"},
		{"GET in MULTI", [][]string{{"SET", "s", "v"}}, exec("GET", "s"), "s"},
		{"GET from EVAL", [][]string{{"SET", "s", "v"}}, eval("return #redis.call('GET', KEYS[1])", "s"), "s"},
		{"APPEND from EVAL", [][]string{{"SET", "s", "v"}}, eval("return redis.call('APPEND', KEYS[1], 'x')", "s"), "s"},
		{"SORT", [][]string{{"RPUSH", "l", "2", "1"}}, func() { c.do("SORT", "l"); c.line(); c.line(); c.line(); c.line() }, "l"},
		{"SORT from EVAL", [][]string{{"RPUSH", "l", "1"}}, eval("return #redis.call('SORT', KEYS[1])", "l"), "l"},
		{"PFCOUNT", [][]string{{"PFADD", "p", "a"}}, cmd("PFCOUNT", "p"), "p"},
		{"PFCOUNT of two", [][]string{{"PFADD", "p", "a"}, {"PFADD", "q", "b"}}, cmd("PFCOUNT", "p", "q"), "p"},
		{"COPY source", [][]string{{"SET", "s", "v"}}, cmd("COPY", "s", "s2", "REPLACE"), "s"},
	}
	freq := func(key string) string { return admin.do("OBJECT", "FREQ", key) }
	for _, noTouch := range []bool{true, false} {
		mode := "off"
		if noTouch {
			mode = "on"
		}
		if got := c.do("CLIENT", "NO-TOUCH", mode); got != "+OK\r\n" {
			t.Fatalf("CLIENT NO-TOUCH %s: %q", mode, got)
		}
		for _, a := range accesses {
			admin.do("FLUSHALL")
			for _, s := range a.setup {
				admin.do(s...)
			}
			before := freq(a.key)
			if before != ":5\r\n" {
				t.Fatalf("%s: fresh key freq %q, want :5", a.name, before)
			}
			a.run()
			got := freq(a.key)
			if noTouch && got != before {
				t.Errorf("%s under NO-TOUCH: freq %q → %q, want unchanged", a.name, before, got)
			}
			if !noTouch && got != ":6\r\n" {
				t.Errorf("%s without NO-TOUCH: freq %q → %q, want :6", a.name, before, got)
			}
		}
	}

	// TOUCH touches even under NO-TOUCH when the client sends it, also
	// queued in MULTI; not when a script calls it (Redis checks the command
	// the client sent: EVAL).
	c.do("CLIENT", "NO-TOUCH", "on")
	admin.do("SET", "t", "v")
	exec("TOUCH", "t")()
	if got := freq("t"); got != ":6\r\n" {
		t.Errorf("TOUCH in MULTI under NO-TOUCH: freq %q, want :6", got)
	}
	eval("return redis.call('TOUCH', KEYS[1])", "t")()
	if got := freq("t"); got != ":6\r\n" {
		t.Errorf("TOUCH from EVAL under NO-TOUCH: freq %q, want :6 (unchanged)", got)
	}
}
