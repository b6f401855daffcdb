package integration

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/tests/difftest"
	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
)

// pushConn is a raw connection that reads replies with a deadline.
type pushConn struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dialPush(t *testing.T, addr string) *pushConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &pushConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (p *pushConn) send(args ...string) {
	p.t.Helper()
	if _, err := p.nc.Write(difftest.EncodeCommand(args...)); err != nil {
		p.t.Fatal(err)
	}
}

// read returns the next reply, or "" after wait without one.
func (p *pushConn) read(wait time.Duration) string {
	p.t.Helper()
	p.nc.SetReadDeadline(time.Now().Add(wait))
	b, err := difftest.ReadReply(p.br)
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return ""
		}
		p.t.Fatalf("read: %v", err)
	}
	return string(b)
}

// do sends a command and reads n replies.
func (p *pushConn) do(n int, args ...string) []string {
	p.t.Helper()
	p.send(args...)
	out := make([]string, n)
	for i := range out {
		out[i] = p.read(10 * time.Second)
		if out[i] == "" {
			p.t.Fatalf("%q: reply %d of %d did not arrive", args, i+1, n)
		}
	}
	return out
}

// pubsubSession runs the same conversation against one server and returns
// every reply, in order, each prefixed by the connection that read it.
func pubsubSession(t *testing.T, addr string, proto int) []string {
	var log []string
	a, b := dialPush(t, addr), dialPush(t, addr)
	add := func(who string, rs ...string) {
		for _, r := range rs {
			log = append(log, who+" "+r)
		}
	}
	if proto == 3 {
		a.do(1, "HELLO", "3")
	}
	add("b", b.do(1, "FLUSHALL")...)
	add("b", b.do(1, "CONFIG", "SET", "notify-keyspace-events", "KEA")...)
	add("a", a.do(3, "SUBSCRIBE", "c1", "c2", "c3")...)
	add("a", a.do(2, "PSUBSCRIBE", "c*", "x?z")...)
	add("a", a.do(1, "SSUBSCRIBE", "s1")...)
	add("b", b.do(1, "PUBSUB", "NUMSUB", "c1", "c2", "nope")...)
	add("b", b.do(1, "PUBSUB", "NUMPAT")...)
	add("b", b.do(1, "PUBLISH", "c1", "hello")...)
	add("a", a.read(10*time.Second), a.read(10*time.Second))
	add("b", b.do(1, "PUBLISH", "xyz", "bin\x00ary\r\n")...)
	add("a", a.read(10*time.Second))
	add("b", b.do(1, "SPUBLISH", "s1", "shard")...)
	add("a", a.read(10*time.Second))
	add("b", b.do(1, "PUBLISH", "other", "x")...)
	if proto == 3 {
		// RESP3 keeps serving commands; a client's own publication comes
		// before the PUBLISH reply.
		add("a", a.do(1, "SET", "own", "1")...)
		add("a", a.do(3, "PUBLISH", "c2", "self")...)
	}
	// Keyspace notifications, through a pattern subscription.
	add("a", a.do(1, "PSUBSCRIBE", "__key*@0__:*")...)
	steps := []struct {
		args   []string
		events int
	}{
		{[]string{"SET", "foo", "bar"}, 2},
		{[]string{"SET", "foo", "bar", "EX", "100"}, 4},
		{[]string{"SET", "foo", "baz", "NX"}, 0},
		{[]string{"APPEND", "foo", "x"}, 2},
		{[]string{"INCR", "n"}, 2},
		{[]string{"DECRBY", "n", "5"}, 2},
		{[]string{"RENAME", "foo", "foo2"}, 4},
		{[]string{"DEL", "foo2", "missing", "n"}, 4},
		{[]string{"LPUSH", "l", "a", "b"}, 2},
		{[]string{"RPOP", "l"}, 2},
		{[]string{"LPOP", "l"}, 4}, // lpop, then del: the list is empty
		{[]string{"HSET", "h", "f", "v"}, 2},
		{[]string{"SADD", "s", "m"}, 2},
		{[]string{"SADD", "s", "m"}, 0},
		{[]string{"ZADD", "z", "1", "m"}, 2},
		{[]string{"EXPIRE", "h", "100"}, 2},
		{[]string{"PERSIST", "h"}, 2},
		{[]string{"EXPIRE", "s", "-1"}, 2},
	}
	for _, st := range steps {
		add("b", b.do(1, st.args...)...)
		for i := 0; i < st.events; i++ {
			add("a", a.read(10*time.Second))
		}
	}
	// A key nobody reads expires: active expiry reports it.
	add("b", b.do(1, "SET", "short", "v", "PX", "30")...)
	add("a", a.read(10*time.Second), a.read(10*time.Second), a.read(10*time.Second), a.read(10*time.Second))
	add("a", a.read(10*time.Second), a.read(10*time.Second))
	add("b", b.do(1, "CONFIG", "SET", "notify-keyspace-events", "")...)
	// Nothing else may have arrived.
	if extra := a.read(200 * time.Millisecond); extra != "" {
		add("a-extra", extra)
	}
	// Unsubscribing from everything lists the channels in the server's
	// dictionary order: compare those replies as a multiset.
	add("a", unorderedReplies(t, a.do(3, "UNSUBSCRIBE"))...)
	add("a", unorderedReplies(t, a.do(3, "PUNSUBSCRIBE"))...)
	add("a", a.do(1, "SUNSUBSCRIBE")...)
	add("a", a.do(1, "PING")...)
	return log
}

// unorderedReplies renders (un)subscribe confirmations that come in
// dictionary order: their headers, names and counts, each sorted.
func unorderedReplies(t *testing.T, rs []string) []string {
	var heads, names, counts []string
	for _, r := range rs {
		h, el, ok := difftest.SplitAggregate([]byte(r))
		if !ok || len(el) != 3 {
			t.Fatalf("not a 3-element reply: %q", r)
		}
		heads = append(heads, string(h)+string(el[0]))
		names = append(names, string(el[1]))
		counts = append(counts, string(el[2]))
	}
	sort.Strings(heads)
	sort.Strings(names)
	sort.Strings(counts)
	return []string{strings.Join(heads, ","), strings.Join(names, ","), strings.Join(counts, ",")}
}

func TestPubsubFramingMatchesRedis(t *testing.T) {
	difftest.RedisServerPath(t)
	r := difftest.StartRedis(t)
	c := difftest.StartSubject(t)
	for _, proto := range []int{2, 3} {
		t.Run("RESP"+strconv.Itoa(proto), func(t *testing.T) {
			want := pubsubSession(t, r.Addr, proto)
			got := pubsubSession(t, c.Addr, proto)
			for i := 0; i < max(len(want), len(got)); i++ {
				var w, g string
				if i < len(want) {
					w = want[i]
				}
				if i < len(got) {
					g = got[i]
				}
				if w != g {
					t.Errorf("reply %d differs:\n   redis: %q\ncachalot: %q", i, w, g)
				}
			}
		})
	}
}

func TestGoRedisPubSubRoundTrip(t *testing.T) {
	srv := difftest.StartCachalot(t)
	for _, proto := range []int{2, 3} {
		t.Run("RESP"+strconv.Itoa(proto), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, Protocol: proto})
			defer rdb.Close()
			news, sport := "news"+strconv.Itoa(proto), "sport"+strconv.Itoa(proto)
			ps := rdb.Subscribe(ctx, news)
			defer ps.Close()
			if _, err := ps.Receive(ctx); err != nil { // the subscription confirmation
				t.Fatal(err)
			}
			if err := ps.PSubscribe(ctx, sport+".*"); err != nil {
				t.Fatal(err)
			}
			if _, err := ps.Receive(ctx); err != nil {
				t.Fatal(err)
			}
			pub := redis.NewClient(&redis.Options{Addr: srv.Addr, Protocol: proto})
			defer pub.Close()
			const n = 200
			for i := 0; i < n; i++ {
				ch := news
				if i%2 == 1 {
					ch = sport + ".tennis"
				}
				got, err := pub.Publish(ctx, ch, fmt.Sprintf("m%d", i)).Result()
				if err != nil || got != 1 {
					t.Fatalf("PUBLISH = %d, %v; want 1", got, err)
				}
			}
			// One publisher: the messages arrive in publication order.
			for i := 0; i < n; i++ {
				msg, err := ps.ReceiveMessage(ctx)
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if msg.Payload != fmt.Sprintf("m%d", i) {
					t.Fatalf("message %d = %q on %q, want m%d", i, msg.Payload, msg.Channel, i)
				}
				if i%2 == 1 && (msg.Pattern != sport+".*" || msg.Channel != sport+".tennis") {
					t.Fatalf("message %d: pattern %q channel %q", i, msg.Pattern, msg.Channel)
				}
			}
			num, err := pub.PubSubNumSub(ctx, news).Result()
			if err != nil || num[news] != 1 {
				t.Fatalf("PUBSUB NUMSUB = %v, %v", num, err)
			}
		})
	}
}

func TestKeyspaceExpiredWithoutReads(t *testing.T) {
	srv := difftest.StartCachalot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	if err := rdb.ConfigSet(ctx, "notify-keyspace-events", "Ex").Err(); err != nil {
		t.Fatal(err)
	}
	if got := rdb.ConfigGet(ctx, "notify-keyspace-events").Val()["notify-keyspace-events"]; got != "xE" {
		t.Fatalf("CONFIG GET notify-keyspace-events = %q, want xE", got)
	}
	ps := rdb.Subscribe(ctx, "__keyevent@0__:expired")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "c"} {
		if err := rdb.Set(ctx, "ttl:"+k, "v", 50*time.Millisecond).Err(); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for len(seen) < 3 {
		msg, err := ps.ReceiveMessage(ctx)
		if err != nil {
			t.Fatalf("after %v: %v", seen, err)
		}
		seen[msg.Payload] = true
	}
	for _, k := range []string{"a", "b", "c"} {
		if !seen["ttl:"+k] {
			t.Fatalf("expired events %v miss ttl:%s", seen, k)
		}
	}
}

// rssKB reads a process's resident set size.
func rssKB(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	t.Skip("no VmRSS")
	return 0
}

func TestSlowSubscriberDisconnected(t *testing.T) {
	srv := difftest.StartCachalot(t, "--client-output-buffer-limit", "pubsub 16mb 0 0")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pub := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer pub.Close()
	pub.Ping(ctx)
	start := rssKB(t, srv.PID())

	slow := dialPush(t, srv.Addr)
	slow.do(1, "SUBSCRIBE", "firehose")
	// The subscriber never reads again: its socket buffers fill, then the
	// server's queue, until the limit cuts it off.
	payload := strings.Repeat("x", 64<<10)
	sent := 0
	cut := false
	for i := 0; i < 4000 && !cut; i++ {
		n, err := pub.Publish(ctx, "firehose", payload).Result()
		if err != nil {
			t.Fatal(err)
		}
		sent++
		cut = n == 0
	}
	if !cut {
		t.Fatalf("subscriber still connected after %d MB published", sent*64>>10)
	}
	// RSS must come back near its start: within 20 % plus 8 MB of slack for
	// the Go heap's own growth, which on a 14 MB base is more than 20 %.
	// A leaked queue would keep the 16 MB or more that was cut off.
	limit := start*120/100 + 8<<10
	var end int64
	deadline := time.Now().Add(20 * time.Second)
	for {
		end = rssKB(t, srv.PID())
		if end <= limit || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("slow subscriber cut after %d messages (%d KB); RSS start %d KB, end %d KB", sent, sent*64, start, end)
	if end > limit {
		t.Errorf("RSS %d KB did not return to within 20%% + 8 MB of its start %d KB", end, start)
	}
	if n := pub.PubSubNumSub(ctx, "firehose").Val()["firehose"]; n != 0 {
		t.Errorf("PUBSUB NUMSUB firehose = %d after the cut", n)
	}
}

// trackingSession runs one client-side-caching conversation and returns
// every reply in order. Client ids differ between servers, so replies that
// carry them are replaced by how they relate to the ids the test knows.
func trackingSession(t *testing.T, addr string) []string {
	var log []string
	t0 := time.Now()
	add := func(who string, rs ...string) {
		if os.Getenv("PSDEBUG") != "" {
			t.Logf("%v %s %q", time.Since(t0), who, rs)
		}
		for _, r := range rs {
			log = append(log, who+" "+r)
		}
	}
	a, b := dialPush(t, addr), dialPush(t, addr)
	b.do(1, "FLUSHALL")
	a.do(1, "HELLO", "3")
	// Errors before tracking is on.
	add("a", a.do(1, "CLIENT", "CACHING", "YES")...)
	add("a", a.do(1, "CLIENT", "TRACKING", "ON", "PREFIX", "x")...)
	add("a", a.do(1, "CLIENT", "TRACKING", "ON", "BCAST", "OPTIN")...)
	add("a", a.do(1, "CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT")...)
	add("a", a.do(1, "CLIENT", "TRACKING", "ON", "REDIRECT", "999999")...)
	add("a", a.do(1, "CLIENT", "TRACKING", "ON", "REDIRECT", "x")...)
	add("a", a.do(1, "CLIENT", "TRACKING", "MAYBE")...)
	add("a", a.do(1, "CLIENT", "TRACKING", "ON", "FOO")...)
	add("a", a.do(1, "CLIENT", "TRACKINGINFO")...)
	add("a", a.do(1, "CLIENT", "GETREDIR")...)
	// Default mode: a read is remembered, another client's write invalidates.
	add("a", a.do(1, "CLIENT", "TRACKING", "ON")...)
	add("a", a.do(1, "CLIENT", "TRACKINGINFO")...)
	add("a", a.do(1, "CLIENT", "GETREDIR")...)
	add("a", a.do(1, "CLIENT", "TRACKING", "ON", "BCAST")...)
	add("a", a.do(1, "GET", "k")...)
	add("a", a.do(1, "MGET", "m1", "m2")...)
	add("b", b.do(1, "SET", "k", "v")...)
	add("a", a.read(10*time.Second))
	add("b", b.do(1, "SET", "k", "v2")...)       // no longer tracked: nothing
	add("b", b.do(1, "DEL", "m1", "missing")...) // deleted nothing: no invalidation
	add("b", b.do(1, "SET", "m2", "x", "XX")...) // changed nothing
	add("b", b.do(1, "SET", "m2", "x", "NX", "GET")...)
	add("a", a.read(10*time.Second))
	// A client's own write: the reply, then the invalidation.
	add("a", a.do(1, "GET", "k")...)
	add("a", a.do(2, "SET", "k", "mine")...)
	// Expiry invalidates.
	add("b", b.do(1, "SET", "e", "v", "PX", "30")...)
	add("a", a.do(1, "GET", "e")...)
	add("a", a.read(10*time.Second))
	// FLUSHALL: the null invalidation.
	add("b", b.do(1, "FLUSHALL")...)
	add("a", a.read(10*time.Second))
	// OPTIN: only reads after CLIENT CACHING YES are remembered.
	add("a", a.do(1, "CLIENT", "TRACKING", "OFF")...)
	add("a", a.do(1, "CLIENT", "TRACKING", "ON", "OPTIN")...)
	add("a", a.do(1, "CLIENT", "CACHING", "NO")...)
	add("a", a.do(1, "GET", "o1")...)
	add("a", a.do(1, "CLIENT", "CACHING", "YES")...)
	add("a", a.do(1, "CLIENT", "TRACKINGINFO")...)
	add("a", a.do(1, "GET", "o2")...)
	add("a", a.do(1, "CLIENT", "TRACKINGINFO")...)
	add("b", b.do(1, "MSET", "o1", "1", "o2", "2")...)
	add("a", a.read(10*time.Second))
	add("a", a.do(1, "CLIENT", "TRACKING", "ON", "OPTOUT")...)
	// BCAST with prefixes and NOLOOP.
	add("a", a.do(1, "CLIENT", "TRACKING", "OFF")...)
	add("a", a.do(1, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "NOLOOP")...)
	add("a", a.do(1, "CLIENT", "TRACKINGINFO")...)
	add("b", b.do(1, "SET", "other", "x")...)
	add("b", b.do(1, "SET", "user:1", "x")...)
	add("a", a.read(10*time.Second))
	add("a", a.do(1, "SET", "user:2", "x")...) // NOLOOP: nothing for a
	add("a", a.do(1, "CLIENT", "TRACKING", "OFF")...)
	// RESP2 through a redirect connection subscribed to __redis__:invalidate.
	r := dialPush(t, addr)
	rid := r.do(1, "CLIENT", "ID")[0]
	add("r", r.do(1, "SUBSCRIBE", "__redis__:invalidate")...)
	d := dialPush(t, addr)
	add("d", d.do(1, "CLIENT", "TRACKING", "ON", "REDIRECT", strings.Trim(rid, ":\r\n"))...)
	if got := d.do(1, "CLIENT", "GETREDIR")[0]; got != rid {
		add("d", "GETREDIR "+got+" is not the redirect id "+rid)
	}
	add("d", d.do(1, "GET", "rk")...)
	add("b", b.do(1, "SET", "rk", "1")...)
	add("r", r.read(10*time.Second))
	add("b", b.do(1, "FLUSHDB")...)
	add("r", r.read(10*time.Second))
	// A RESP3 redirect target gets push frames without subscribing.
	r3 := dialPush(t, addr)
	r3.do(1, "HELLO", "3")
	r3id := strings.Trim(r3.do(1, "CLIENT", "ID")[0], ":\r\n")
	d3 := dialPush(t, addr)
	add("d3", d3.do(1, "CLIENT", "TRACKING", "ON", "REDIRECT", r3id)...)
	add("d3", d3.do(1, "GET", "r3k")...)
	add("b", b.do(1, "SET", "r3k", "1")...)
	add("r3", r3.read(10*time.Second))
	// Nothing else may have arrived anywhere.
	for who, c := range map[string]*pushConn{"a": a, "r": r, "d": d, "r3": r3} {
		if extra := c.read(200 * time.Millisecond); extra != "" {
			add(who+"-extra", extra)
		}
	}
	return log
}

func TestTrackingMatchesRedis(t *testing.T) {
	compareSessions(t, trackingSession) // push_obs_test.go
}

func TestRueidisClientSideCaching(t *testing.T) {
	srv := difftest.StartCachalot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The default client: RESP3 with client-side caching (CLIENT TRACKING
	// ON OPTIN at connect).
	client, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{srv.Addr}})
	if err != nil {
		t.Fatalf("rueidis default client refused to connect: %v", err)
	}
	defer client.Close()
	other := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer other.Close()
	if err := other.Set(ctx, "cached", "v1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	get := func() (string, bool) {
		t.Helper()
		res := client.DoCache(ctx, client.B().Get().Key("cached").Cache(), time.Minute)
		v, err := res.ToString()
		if err != nil {
			t.Fatal(err)
		}
		return v, res.IsCacheHit()
	}
	if v, hit := get(); v != "v1" || hit {
		t.Fatalf("first DoCache = %q hit=%v, want v1 from the server", v, hit)
	}
	if v, hit := get(); v != "v1" || !hit {
		t.Fatalf("second DoCache = %q hit=%v, want v1 from the local cache", v, hit)
	}
	if err := other.Set(ctx, "cached", "v2", 0).Err(); err != nil {
		t.Fatal(err)
	}
	setAt := time.Now()
	for {
		v, hit := get()
		if v == "v2" && !hit {
			t.Logf("invalidation observed %v after the SET", time.Since(setAt))
			break
		}
		if time.Since(setAt) > 10*time.Second {
			t.Fatalf("cached entry still %q (hit=%v) 10s after another connection's SET", v, hit)
		}
		time.Sleep(time.Millisecond)
	}
	if v, hit := get(); v != "v2" || !hit {
		t.Fatalf("DoCache after refetch = %q hit=%v, want v2 cached", v, hit)
	}
}

func TestTrackingBcastPrefix(t *testing.T) {
	srv := difftest.StartCachalot(t)
	a, b := dialPush(t, srv.Addr), dialPush(t, srv.Addr)
	a.do(1, "HELLO", "3")
	if r := a.do(1, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "cfg:")[0]; r != "+OK\r\n" {
		t.Fatalf("CLIENT TRACKING = %q", r)
	}
	for _, k := range []string{"other", "user:1", "session:9", "cfg:x"} {
		b.do(1, "SET", k, "v")
	}
	want := []string{"user:1", "cfg:x"}
	for _, k := range want {
		got := a.read(10 * time.Second)
		exp := ">2\r\n$10\r\ninvalidate\r\n*1\r\n$" + strconv.Itoa(len(k)) + "\r\n" + k + "\r\n"
		if got != exp {
			t.Fatalf("invalidation = %q, want %q", got, exp)
		}
	}
	if extra := a.read(300 * time.Millisecond); extra != "" {
		t.Fatalf("unexpected message for a key outside the prefixes: %q", extra)
	}
}

func TestKeyspaceEvicted(t *testing.T) {
	srv := difftest.StartCachalot(t, "--maxmemory", "4mb", "--maxmemory-policy", "allkeys-random",
		"--notify-keyspace-events", "Ee")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	ps := rdb.Subscribe(ctx, "__keyevent@0__:evicted")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	val := strings.Repeat("v", 1024)
	for i := 0; i < 20000; i++ {
		if err := rdb.Set(ctx, "fill:"+strconv.Itoa(i), val, 0).Err(); err != nil {
			t.Fatalf("SET %d: %v", i, err)
		}
		if i%500 != 499 {
			continue
		}
		if info, _ := rdb.Info(ctx, "stats").Result(); strings.Contains(info, "evicted_keys:") && !strings.Contains(info, "evicted_keys:0\r") {
			break
		}
	}
	msg, err := ps.ReceiveMessage(ctx)
	if err != nil {
		t.Fatalf("no evicted event: %v", err)
	}
	if !strings.HasPrefix(msg.Payload, "fill:") {
		t.Fatalf("evicted event for %q", msg.Payload)
	}
}
