package integration

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/tests/difftest"
	"github.com/redis/go-redis/v9"
)

// Scaling out (docs/scaling.md): three cachalot instances behind Debian's
// nutcracker (twemproxy) with ketama, and behind go-redis's Ring client.
// Both tests run on 127.0.0.1 only and bound every wait.

const scalingKeys = 3000

// nutcrackerWeights are the servers' ketama weights: the third instance is
// given twice the share of the others.
var nutcrackerWeights = [3]int{1, 1, 2}

// startNutcracker writes a twemproxy configuration for backends and starts
// nutcracker on a free port of 127.0.0.1 (its stats listener too), waiting
// until a PING goes through it. It returns the proxy's address.
func startNutcracker(t *testing.T, bin string, backends []*difftest.Server) string {
	t.Helper()
	dir := t.TempDir()
	var servers strings.Builder
	for i, b := range backends {
		// The name after the weight, not the address, places the server on
		// the ketama continuum: ports change from run to run, names do not,
		// so where each key lands is the same in every run.
		fmt.Fprintf(&servers, "    - %s:%d cachalot%d\n", b.Addr, nutcrackerWeights[i], i+1)
	}
	var lastErr error
	for attempt := 1; attempt <= 3; attempt++ {
		port, statsPort := difftest.FreePort(t), difftest.FreePort(t)
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		conf := filepath.Join(dir, "nutcracker.yml")
		yml := "cachalot:\n" +
			"  listen: " + addr + "\n" +
			"  hash: fnv1a_64\n" +
			"  hash_tag: \"{}\"\n" +
			"  distribution: ketama\n" +
			"  redis: true\n" +
			"  auto_eject_hosts: false\n" +
			"  timeout: 2000\n" +
			"  server_connections: 1\n" +
			"  servers:\n" + servers.String()
		if err := os.WriteFile(conf, []byte(yml), 0o644); err != nil {
			t.Fatal(err)
		}
		logFile := filepath.Join(dir, "nutcracker.log")
		cmd := exec.Command(bin, "-c", conf, "-s", strconv.Itoa(statsPort), "-a", "127.0.0.1",
			"-o", logFile, "-p", filepath.Join(dir, "nutcracker.pid"))
		if err := cmd.Start(); err != nil {
			t.Fatalf("start nutcracker: %v", err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		if lastErr = waitProxy(addr, exited); lastErr == nil {
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
				<-exited
				if t.Failed() {
					log, _ := os.ReadFile(logFile)
					t.Logf("nutcracker configuration:\n%s\nnutcracker log:\n%s", yml, log)
				}
			})
			return addr
		}
		_ = cmd.Process.Kill()
		<-exited
		t.Logf("nutcracker on port %d did not start (attempt %d/3): %v", port, attempt, lastErr)
	}
	t.Fatalf("nutcracker did not start: %v", lastErr)
	return ""
}

// waitProxy polls addr with a PING (which twemproxy forwards to a server)
// until +PONG comes back, the process exits or 10 s pass.
func waitProxy(addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(10 * time.Second)
	last := errors.New("no attempt")
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("nutcracker exited")
		default:
		}
		if last = pingAddrOnce(addr); last == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return last
}

func pingAddrOnce(addr string) error {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(time.Second))
	if _, err := nc.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	buf := make([]byte, 7)
	n, err := nc.Read(buf)
	if err != nil {
		return err
	}
	if string(buf[:n]) != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", buf[:n])
	}
	return nil
}

// connClosed reports whether the proxy closed c instead of answering
// (twemproxy's answer to a command it does not support).
func connClosed(c *difftest.Conn, args ...string) (bool, []byte) {
	reply, err := c.DoErr(args...)
	if err == nil {
		return false, reply
	}
	return true, nil
}

func scalingKey(i int) string { return fmt.Sprintf("user:%06d", i) }

func scalingValue(i int) string { return "value-" + strconv.Itoa(i) }

// directClients opens one go-redis client per backend, bypassing the proxy.
func directClients(t *testing.T, backends []*difftest.Server) []*redis.Client {
	t.Helper()
	out := make([]*redis.Client, len(backends))
	for i, b := range backends {
		out[i] = redis.NewClient(&redis.Options{Addr: b.Addr, PoolSize: 2})
		t.Cleanup(func() { out[i].Close() })
	}
	return out
}

// holder returns, for every key, the index of the backend that holds it;
// -1 for none. A key held by two backends fails the test.
func holder(t *testing.T, direct []*redis.Client, keys []string) []int {
	t.Helper()
	ctx := context.Background()
	out := make([]int, len(keys))
	for i := range out {
		out[i] = -1
	}
	for b, rdb := range direct {
		pipe := rdb.Pipeline()
		cmds := make([]*redis.IntCmd, len(keys))
		for i, k := range keys {
			cmds[i] = pipe.Exists(ctx, k)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatalf("EXISTS on backend %d: %v", b, err)
		}
		for i, c := range cmds {
			if c.Val() == 1 {
				if out[i] >= 0 {
					t.Fatalf("key %s is on backends %d and %d", keys[i], out[i], b)
				}
				out[i] = b
			}
		}
	}
	return out
}

// TestTwemproxyKetama puts three cachalot instances behind nutcracker with
// ketama over fnv1a_64 (weights 1, 1, 2), writes keys through the proxy,
// reads them back through it, checks how they spread, then which commands
// go through the proxy and which do not, and what a dead server does with
// auto_eject_hosts false.
func TestTwemproxyKetama(t *testing.T) {
	bin, err := exec.LookPath("nutcracker")
	if err != nil {
		t.Skip("nutcracker (twemproxy) not installed: apt-get install nutcracker; twemproxy scaling test skipped")
	}
	backends := []*difftest.Server{difftest.StartCachalot(t), difftest.StartCachalot(t), difftest.StartCachalot(t)}
	proxy := startNutcracker(t, bin, backends)
	direct := directClients(t, backends)
	c := difftest.Dial(t, proxy)

	// Write through the proxy, pipelined; read back with GET and with MGET
	// (which twemproxy splits per server and reassembles in order).
	keys := make([]string, scalingKeys)
	for i := range keys {
		keys[i] = scalingKey(i)
		c.Send("SET", keys[i], scalingValue(i))
	}
	for i := range keys {
		if r := string(c.Read()); r != "+OK\r\n" {
			t.Fatalf("SET %s through the proxy: %q", keys[i], r)
		}
	}
	for i := range keys {
		c.Send("GET", keys[i])
	}
	for i := range keys {
		want := fmt.Sprintf("$%d\r\n%s\r\n", len(scalingValue(i)), scalingValue(i))
		if r := string(c.Read()); r != want {
			t.Fatalf("GET %s through the proxy: %q, want %q", keys[i], r, want)
		}
	}
	for lo := 0; lo < len(keys); lo += 100 {
		args := append([]string{"MGET"}, keys[lo:lo+100]...)
		_, elems, ok := difftest.SplitAggregate(c.Do(args...))
		if !ok || len(elems) != 100 {
			t.Fatalf("MGET of 100 keys through the proxy: %d elements", len(elems))
		}
		for j, e := range elems {
			v := scalingValue(lo + j)
			if want := fmt.Sprintf("$%d\r\n%s\r\n", len(v), v); string(e) != want {
				t.Fatalf("MGET element %d (%s): %q, want %q", j, keys[lo+j], e, want)
			}
		}
	}

	// Spread: every key on exactly one instance, each instance holding a
	// share, the weight-2 instance more than either weight-1 one.
	where := holder(t, direct, keys)
	var count [3]int
	for i, b := range where {
		if b < 0 {
			t.Fatalf("key %s is on no backend", keys[i])
		}
		count[b]++
	}
	t.Logf("ketama/fnv1a_64, weights %v: %d keys spread %v", nutcrackerWeights, len(keys), count)
	for b, n := range count {
		if n < len(keys)/10 {
			t.Errorf("backend %d holds %d of %d keys (less than 10%%)", b, n, len(keys))
		}
	}
	if count[2] <= count[0] || count[2] <= count[1] {
		t.Errorf("the weight-2 backend holds %d keys, not more than the others (%v)", count[2], count)
	}
	for b, rdb := range direct {
		if n, err := rdb.DBSize(context.Background()).Result(); err != nil || n != int64(count[b]) {
			t.Errorf("backend %d: DBSIZE %d (%v), EXISTS found %d", b, n, err, count[b])
		}
	}

	// A key on the first backend and one on the second.
	var a, b string
	for i := range keys {
		if where[i] == 0 && a == "" {
			a = keys[i]
		}
		if where[i] == 1 && b == "" {
			b = keys[i]
		}
	}

	t.Run("works", func(t *testing.T) {
		c := difftest.Dial(t, proxy)
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"PING"}, "+PONG\r\n"},
			// Fragmented across servers, reassembled by the proxy.
			{[]string{"MSET", "ms:1", "a", "ms:2", "b", "ms:3", "c", "ms:4", "d"}, "+OK\r\n"},
			{[]string{"MGET", "ms:1", "ms:2", "ms:3", "ms:4", "ms:none"}, "*5\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$-1\r\n"},
			{[]string{"EXISTS", "ms:1", "ms:2", "ms:3", "ms:4", "ms:none"}, ":4\r\n"},
			{[]string{"TOUCH", "ms:1", "ms:2", "ms:none"}, ":2\r\n"},
			{[]string{"DEL", "ms:1", "ms:2", "ms:none"}, ":2\r\n"},
			{[]string{"UNLINK", "ms:3", "ms:4"}, ":2\r\n"},
			// Single-key commands of every type.
			{[]string{"INCR", "ctr"}, ":1\r\n"},
			{[]string{"HSET", "h", "f", "v"}, ":1\r\n"},
			{[]string{"RPUSH", "l", "x", "y"}, ":2\r\n"},
			{[]string{"ZADD", "z", "1", "m"}, ":1\r\n"},
			{[]string{"EXPIRE", "ctr", "100"}, ":1\r\n"},
			// Keys with one hash tag live on one server: multi-key commands
			// and scripts over them work.
			{[]string{"SADD", "{team}:a", "x", "y"}, ":2\r\n"},
			{[]string{"SADD", "{team}:b", "y", "z"}, ":2\r\n"},
			{[]string{"SINTER", "{team}:a", "{team}:b"}, "*1\r\n$1\r\ny\r\n"},
			{[]string{"EVAL", "return redis.call('SCARD', KEYS[1]) + redis.call('SCARD', KEYS[2])", "2", "{team}:a", "{team}:b"}, ":4\r\n"},
		} {
			if got := string(c.Do(tc.args...)); got != tc.want {
				t.Errorf("%q through the proxy: %q, want %q", tc.args, got, tc.want)
			}
		}
	})

	t.Run("wrong server", func(t *testing.T) {
		// A multi-key command twemproxy does not split goes to the server
		// of its first key: keys held elsewhere read as missing, silently.
		c := difftest.Dial(t, proxy)
		// With hash_tag "{}" only the part in braces is hashed: x lives
		// with a, y with b.
		x, y := "{"+a+"}:set", "{"+b+"}:set"
		c.Do("SADD", x, "common", "x")
		c.Do("SADD", y, "common", "y")
		if at := holder(t, direct, []string{x, y}); at[0] != 0 || at[1] != 1 {
			t.Fatalf("hash-tagged sets on backends %v, want [0 1]", at)
		}
		if got := string(c.Do("SINTER", x, y)); got != "*0\r\n" {
			t.Errorf("SINTER %s %s (different servers) through the proxy: %q, want an empty set", x, y, got)
		}
	})

	t.Run("refused", func(t *testing.T) {
		// twemproxy closes the connection on a command it does not
		// support instead of answering an error.
		for _, args := range [][]string{
			{"MULTI"}, {"WATCH", a}, {"INFO"}, {"KEYS", "*"}, {"SCAN", "0"}, {"DBSIZE"},
			{"SELECT", "1"}, {"SUBSCRIBE", "ch"}, {"HELLO", "3"}, {"SCRIPT", "LOAD", "return 1"},
			{"CLIENT", "SETNAME", "x"}, {"CONFIG", "GET", "maxmemory"}, {"FLUSHALL"},
			{"BLPOP", a, "1"}, {"RENAME", a, a + ":new"}, {"PUBLISH", "ch", "x"}, {"ECHO", "x"},
			{"XADD", "stream", "*", "f", "v"}, {"SINTERCARD", "1", a},
		} {
			c := difftest.Dial(t, proxy)
			if closed, reply := connClosed(c, args...); !closed {
				t.Errorf("%q through the proxy answered %q; expected the connection to be closed", args, reply)
			}
		}
		// go-redis v9 starts every connection with HELLO: through twemproxy
		// the connection is closed before the first command.
		rdb := redis.NewClient(&redis.Options{Addr: proxy, Protocol: 2, MaxRetries: -1, DialTimeout: 2 * time.Second})
		defer rdb.Close()
		if err := rdb.Get(context.Background(), a).Err(); err == nil || errors.Is(err, redis.Nil) {
			t.Errorf("go-redis through twemproxy: %v; expected a connection error (HELLO is refused)", err)
		}
	})

	t.Run("server down", func(t *testing.T) {
		// auto_eject_hosts false: the dead server's keys answer an error,
		// the others are served as before, nothing is re-hashed.
		_ = backends[1].Cmd.Process.Kill()
		c := difftest.Dial(t, proxy)
		if got := c.Do("GET", b); !difftest.IsError(got) {
			t.Errorf("GET of a key of the stopped server: %q, want an error", got)
		} else {
			t.Logf("GET of a key of the stopped server: %q", got)
		}
		for i, k := range keys {
			if where[i] != 1 {
				if got := string(c.Do("GET", k)); !strings.HasPrefix(got, "$") || got == "$-1\r\n" {
					t.Fatalf("GET %s (backend %d) after backend 1 stopped: %q", k, where[i], got)
				}
			}
		}
	})
}

// TestGoRedisRing spreads keys over three cachalot instances with go-redis's
// Ring client (rendezvous hashing), reads them back, then stops one
// instance: once the Ring's heartbeat marks it down, its keys hash to the
// two others (reads miss, writes land there) and the other keys stay put.
func TestGoRedisRing(t *testing.T) {
	backends := []*difftest.Server{difftest.StartCachalot(t), difftest.StartCachalot(t), difftest.StartCachalot(t)}
	direct := directClients(t, backends)
	ring := redis.NewRing(&redis.RingOptions{
		Addrs: map[string]string{
			"cachalot1": backends[0].Addr,
			"cachalot2": backends[1].Addr,
			"cachalot3": backends[2].Addr,
		},
		HeartbeatFrequency: 50 * time.Millisecond,
		DialTimeout:        time.Second,
		MaxRetries:         -1,
	})
	defer ring.Close()
	ctx := context.Background()

	keys := make([]string, scalingKeys)
	pipe := ring.Pipeline()
	for i := range keys {
		keys[i] = scalingKey(i)
		pipe.Set(ctx, keys[i], scalingValue(i), 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatalf("SET through the ring: %v", err)
	}
	readBack := func(skip func(i int) bool) {
		t.Helper()
		pipe := ring.Pipeline()
		cmds := make([]*redis.StringCmd, len(keys))
		for i, k := range keys {
			cmds[i] = pipe.Get(ctx, k)
		}
		_, _ = pipe.Exec(ctx) // per-command errors are checked below
		for i, c := range cmds {
			if skip != nil && skip(i) {
				continue
			}
			if v, err := c.Result(); err != nil || v != scalingValue(i) {
				t.Fatalf("GET %s through the ring: %q, %v", keys[i], v, err)
			}
		}
	}
	readBack(nil)

	where := holder(t, direct, keys)
	var count [3]int
	for i, b := range where {
		if b < 0 {
			t.Fatalf("key %s is on no instance", keys[i])
		}
		count[b]++
	}
	t.Logf("go-redis Ring (rendezvous): %d keys spread %v", len(keys), count)
	for b, n := range count {
		if n < len(keys)/5 {
			t.Errorf("instance %d holds %d of %d keys (less than 20%%)", b, n, len(keys))
		}
	}

	// Stop the second instance and wait (bounded) for the heartbeat to
	// mark it down: three failed PINGs.
	_ = backends[1].Cmd.Process.Kill()
	deadline := time.Now().Add(10 * time.Second)
	for ring.Len() != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the ring still counts %d live shards 10 s after an instance stopped", ring.Len())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Keys of the live instances are where they were.
	readBack(func(i int) bool { return where[i] == 1 })
	// Keys of the stopped one now hash to the others: reads miss, and a
	// write lands on a live instance.
	moved := 0
	for i, k := range keys {
		if where[i] != 1 {
			continue
		}
		if err := ring.Get(ctx, k).Err(); !errors.Is(err, redis.Nil) {
			t.Fatalf("GET %s (its instance stopped): %v, want a miss", k, err)
		}
		if err := ring.Set(ctx, k, "again", 0).Err(); err != nil {
			t.Fatalf("SET %s after its instance stopped: %v", k, err)
		}
		moved++
	}
	after := holder(t, direct[:1], keys)
	after3 := holder(t, direct[2:], keys)
	landed := [3]int{}
	for i := range keys {
		if where[i] != 1 {
			continue
		}
		switch {
		case after[i] == 0:
			landed[0]++
		case after3[i] == 0:
			landed[2]++
		default:
			t.Fatalf("key %s was written after its instance stopped but is on no live instance", keys[i])
		}
	}
	t.Logf("instance 2 stopped: its %d keys re-hashed to instance 1 (%d) and instance 3 (%d)", moved, landed[0], landed[2])
	if landed[0] == 0 || landed[2] == 0 {
		t.Errorf("the stopped instance's keys all went to one instance: %v", landed)
	}
}
