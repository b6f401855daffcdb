package server

import (
	"fmt"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/config"
)

func TestGoMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		maxmemory, want int64
	}{
		{0, math.MaxInt64},
		{-1, math.MaxInt64},
		{100 << 20, 150<<20 + memoryLimitBase},
		{1 << 30, 3<<29 + memoryLimitBase},
		{math.MaxInt64, math.MaxInt64},
	} {
		if got := goMemoryLimit(tc.maxmemory); got != tc.want {
			t.Errorf("goMemoryLimit(%d) = %d, want %d", tc.maxmemory, got, tc.want)
		}
	}
}

// restoreMemoryLimit undoes the soft limit a server with maxmemory sets in
// the test process.
func restoreMemoryLimit(t *testing.T) {
	t.Cleanup(func() { debug.SetMemoryLimit(math.MaxInt64) })
}

func infoValue(t *testing.T, c *rawConn, section, field string) string {
	t.Helper()
	head := c.do("INFO", section)
	n, err := strconv.Atoi(strings.TrimSpace(head[1:]))
	if err != nil || head[0] != '$' {
		t.Fatalf("INFO reply %q", head)
	}
	var body strings.Builder
	for body.Len() < n+2 {
		body.WriteString(c.line())
	}
	for _, line := range strings.Split(body.String(), "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return v
		}
	}
	t.Fatalf("INFO %s has no %s", section, field)
	return ""
}

func TestEvictionThroughCommands(t *testing.T) {
	restoreMemoryLimit(t)
	srv, addr, _ := startTestServer(t, nil)
	c := dialRaw(t, addr)
	val := strings.Repeat("x", 200)
	for i := range 2000 {
		if got := c.do("SET", fmt.Sprintf("key:%d", i), val); got != "+OK\r\n" {
			t.Fatalf("SET: %q", got)
		}
	}
	limit := baseUsedMemory + (srv.usedMemory()-baseUsedMemory)/2

	// noeviction: denyoom writes fail, reads and deletes go on, and the
	// refusal counts as a rejected call.
	c.do("CONFIG", "SET", "maxmemory", strconv.FormatInt(limit, 10))
	if got, want := c.do("SET", "new", "v"), "-"+string(errOOM)+"\r\n"; got != want {
		t.Errorf("SET under noeviction = %q, want %q", got, want)
	}
	if got := c.do("DEL", "key:1"); got != ":1\r\n" {
		t.Errorf("DEL under noeviction = %q", got)
	}
	if got := c.do("GET", "key:2"); !strings.HasPrefix(got, "$200") {
		t.Errorf("GET under noeviction = %q", got)
	}
	c.line()
	if got := infoValue(t, c, "commandstats", "cmdstat_set"); !strings.Contains(got, "rejected_calls=1,") {
		t.Errorf("cmdstat_set = %q, want rejected_calls=1", got)
	}

	// Switching to allkeys-lru evicts down to the limit: CONFIG SET and
	// every later command evict what maxmemory-eviction-tenacity allows
	// (this test server runs no background cycle), and writes succeed again.
	c.do("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
	deadline := time.Now().Add(20 * time.Second)
	for srv.usedMemory() > limit {
		if time.Now().After(deadline) {
			t.Fatalf("used %d still over %d", srv.usedMemory(), limit)
		}
		c.do("PING")
	}
	if got := c.do("SET", "new", "v"); got != "+OK\r\n" {
		t.Errorf("SET under allkeys-lru = %q", got)
	}
	ev, _ := strconv.Atoi(infoValue(t, c, "stats", "evicted_keys"))
	if ev < 500 {
		t.Errorf("evicted_keys = %d after halving the limit", ev)
	}
	if got := srv.Metrics().EvictedKeys; got < int64(ev) {
		t.Errorf("metrics EvictedKeys = %d, INFO says %d", got, ev)
	}
	c.do("CONFIG", "SET", "maxmemory", "0")
}

func TestClientNoTouch(t *testing.T) {
	if testing.Short() {
		t.Skip("needs OBJECT IDLETIME to reach 1 second")
	}
	_, addr, _ := startTestServer(t, func(c *config.Config) { c.MaxmemoryPolicy = "allkeys-lru" })
	c := dialRaw(t, addr)
	c.do("SET", "k", "v")
	time.Sleep(1100 * time.Millisecond)
	c.do("CLIENT", "NO-TOUCH", "on")
	c.do("GET", "k")
	c.line()
	if got := c.do("OBJECT", "IDLETIME", "k"); got == ":0\r\n" {
		t.Errorf("a NO-TOUCH GET touched the key: IDLETIME %q", got)
	}
	c.do("TOUCH", "k") // TOUCH touches even with NO-TOUCH, as Redis 7.2
	if got := c.do("OBJECT", "IDLETIME", "k"); got != ":0\r\n" {
		t.Errorf("TOUCH under NO-TOUCH: IDLETIME %q, want 0", got)
	}
}
