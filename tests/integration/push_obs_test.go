package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/tests/difftest"
)

// readUntil reads replies until one equals marker and returns those before
// it.
func (p *pushConn) readUntil(marker string) []string {
	p.t.Helper()
	var out []string
	for {
		r := p.read(10 * time.Second)
		if r == "" {
			p.t.Fatalf("marker %q did not arrive; got %q", marker, out)
		}
		if r == marker {
			return out
		}
		out = append(out, r)
	}
}

// compareSessions runs session against real Redis and cachalot and reports
// every line that differs.
func compareSessions(t *testing.T, session func(t *testing.T, addr string) []string) {
	t.Helper()
	difftest.RedisServerPath(t)
	r := difftest.StartRedis(t)
	c := difftest.StartSubject(t)
	want := session(t, r.Addr)
	got := session(t, c.Addr)
	for i := 0; i < max(len(want), len(got)); i++ {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			t.Errorf("line %d differs:\n   redis: %q\ncachalot: %q", i, w, g)
		}
	}
}

// keymissSession: a subscriber sees the keymiss events of another
// connection's commands. After each command the other connection publishes
// a marker, which reaches the subscriber after the command's events.
func keymissSession(t *testing.T, addr string) []string {
	a, b := dialPush(t, addr), dialPush(t, addr)
	var log []string
	b.do(1, "FLUSHALL")
	b.do(1, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
	defer b.do(1, "DEBUG", "SET-ACTIVE-EXPIRE", "1")
	a.do(1, "PSUBSCRIBE", "__key*@*__:*")
	a.do(1, "SUBSCRIBE", "marker")
	const marker = "*3\r\n$7\r\nmessage\r\n$6\r\nmarker\r\n$1\r\nx\r\n"
	// One log line per step: the command, its reply, then its events.
	step := func(args ...string) {
		line := []string{strings.Join(args, " ")}
		line = append(line, b.do(1, args...)...)
		b.do(1, "PUBLISH", "marker", "x")
		line = append(line, a.readUntil(marker)...)
		log = append(log, strings.Join(line, " | "))
	}
	// Without the m class nothing is reported for misses.
	step("CONFIG", "SET", "notify-keyspace-events", "KEA")
	step("GET", "nosuch")
	step("CONFIG", "SET", "notify-keyspace-events", "m")
	step("GET", "nosuch") // m without K or E: nothing
	step("CONFIG", "SET", "notify-keyspace-events", "KEmx")
	for _, cmd := range [][]string{
		{"GET", "nosuch"},
		{"SET", "k", "v"},
		{"GET", "k"},
		{"MGET", "m1", "k", "m2"},
		{"EXISTS", "m1", "k"},
		{"TYPE", "m1"},
		{"TTL", "m1"},
		{"PTTL", "m1"},
		{"OBJECT", "ENCODING", "m1"},
		{"STRLEN", "m1"},
		{"GETRANGE", "m1", "0", "1"},
		{"HGET", "h", "f"},
		{"HGETALL", "h"},
		{"LRANGE", "l", "0", "-1"},
		{"LINDEX", "l", "0"},
		{"SMEMBERS", "s"},
		{"SISMEMBER", "s", "x"},
		{"ZSCORE", "z", "m"},
		{"ZRANGE", "z", "0", "-1"},
		{"PFCOUNT", "hll"},
		// Writes look keys up for writing: no keymiss.
		{"INCR", "counter"},
		{"GETDEL", "m1"},
		{"DEL", "m1"},
		{"APPEND", "m3", "x"},
		// A write command that reads its sources as a read does.
		{"SUNIONSTORE", "dst", "s1", "s2"},
		{"SELECT", "1"},
		{"GET", "other-db"},
		{"SELECT", "0"},
		// An expired key: "expired" first, then "keymiss".
		{"SET", "e", "v", "PX", "1"},
	} {
		step(cmd...)
	}
	time.Sleep(20 * time.Millisecond)
	step("GET", "e")
	// A transaction: the marker goes after EXEC.
	b.do(1, "MULTI")
	b.do(1, "GET", "q1")
	b.do(1, "MGET", "q2", "q3")
	step("EXEC")
	step("EVAL", "return redis.call('GET', KEYS[1])", "1", "inscript")
	step("CONFIG", "SET", "notify-keyspace-events", "Em")
	step("GET", "nosuch")
	step("CONFIG", "SET", "notify-keyspace-events", "")
	step("GET", "nosuch")
	return log
}

func TestKeymissEventsMatchRedis(t *testing.T) {
	compareSessions(t, keymissSession)
}

// sendPipeline writes several commands in one write, so the server reads
// them as one batch.
func (p *pushConn) sendPipeline(cmds ...[]string) {
	p.t.Helper()
	var buf []byte
	for _, c := range cmds {
		buf = append(buf, difftest.EncodeCommand(c...)...)
	}
	if _, err := p.nc.Write(buf); err != nil {
		p.t.Fatal(err)
	}
}

// bcastSession: BCAST invalidations are collected per prefix over a batch
// of commands and sent as one message per prefix, keys in byte order.
func bcastSession(t *testing.T, addr string) []string {
	a, b := dialPush(t, addr), dialPush(t, addr)
	var log []string
	const marker = ">3\r\n$7\r\nmessage\r\n$6\r\nmarker\r\n$1\r\nx\r\n"
	a.do(1, "HELLO", "3")
	log = append(log, a.do(1, "SUBSCRIBE", "marker")...)
	log = append(log, a.do(1, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "cfg:")...)
	events := func(what string) {
		b.do(1, "PUBLISH", "marker", "x")
		log = append(log, what+": "+strings.Join(a.readUntil(marker), " | "))
	}
	b.sendPipeline([]string{"MSET", "user:2", "x", "user:1", "y", "other", "z", "cfg:a", "w"},
		[]string{"SET", "user:3", "v"}, []string{"DEL", "user:1"}, []string{"SET", "session:1", "v"})
	for i := 0; i < 4; i++ {
		log = append(log, b.read(10*time.Second))
	}
	events("pipeline")
	log = append(log, b.do(1, "SET", "user:9", "v")...)
	events("single")
	log = append(log, b.do(1, "SET", "nobody", "v")...)
	events("outside the prefixes")
	// NOLOOP: the client's own writes are left out of its messages.
	log = append(log, a.do(1, "CLIENT", "TRACKING", "OFF")...)
	log = append(log, a.do(1, "CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP", "PREFIX", "n:")...)
	log = append(log, a.do(1, "SET", "n:own", "1")...)
	events("own write")
	b.sendPipeline([]string{"SET", "n:b", "1"}, []string{"SET", "n:a", "1"})
	log = append(log, b.read(10*time.Second), b.read(10*time.Second))
	events("other's writes")
	log = append(log, a.do(1, "CLIENT", "TRACKING", "OFF")...)
	return log
}

func TestTrackingBcastBatchesMatchRedis(t *testing.T) {
	compareSessions(t, bcastSession)
}

// redirBrokenSession: a RESP3 client whose REDIRECT target disconnected is
// told so when an invalidation is due; CLIENT TRACKINGINFO reports the
// broken redirect only from then on. Client ids are replaced by <id>.
func redirBrokenSession(t *testing.T, addr string) []string {
	a, b, c := dialPush(t, addr), dialPush(t, addr), dialPush(t, addr)
	var log []string
	bid := strings.TrimSuffix(strings.TrimPrefix(b.do(1, "CLIENT", "ID")[0], ":"), "\r\n")
	norm := func(rs ...string) {
		for _, r := range rs {
			log = append(log, strings.ReplaceAll(r, ":"+bid+"\r\n", ":<id>\r\n"))
		}
	}
	a.do(1, "HELLO", "3")
	norm(a.do(1, "CLIENT", "TRACKING", "ON", "REDIRECT", bid)...)
	norm(a.do(1, "GET", "k")...)
	norm(c.do(1, "CLIENT", "KILL", "ID", bid)...)
	deadline := time.Now().Add(10 * time.Second)
	for strings.Contains(c.do(1, "CLIENT", "LIST")[0], "id="+bid+" ") {
		if time.Now().After(deadline) {
			t.Fatal("killed client still listed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	norm(a.do(1, "CLIENT", "TRACKINGINFO")...)
	norm(c.do(1, "SET", "k", "1")...)
	norm(a.read(10 * time.Second))
	norm(a.do(1, "CLIENT", "TRACKINGINFO")...)
	norm(a.do(1, "GET", "k")...)
	norm(a.do(1, "SET", "k", "2")...) // the tracker's own write: reply, then the notice
	norm(a.read(10 * time.Second))
	if extra := a.read(200 * time.Millisecond); extra != "" {
		norm("extra: " + extra)
	}
	norm(a.do(1, "CLIENT", "TRACKING", "ON")...) // re-enabling clears the broken flag
	norm(a.do(1, "CLIENT", "TRACKINGINFO")...)
	return log
}

func TestTrackingRedirBrokenMatchesRedis(t *testing.T) {
	compareSessions(t, redirBrokenSession)
}

// blockedPushSession: a RESP3 client blocked in BLPOP receives
// invalidations and pub/sub messages while it stays blocked.
func blockedPushSession(t *testing.T, addr string) []string {
	a, b := dialPush(t, addr), dialPush(t, addr)
	var log []string
	a.do(1, "HELLO", "3")
	log = append(log, a.do(1, "CLIENT", "TRACKING", "ON")...)
	log = append(log, a.do(1, "GET", "k")...)
	log = append(log, a.do(1, "SUBSCRIBE", "ch")...)
	b.do(1, "DEL", "list")
	a.send("BLPOP", "list", "10")
	// Wait until a is blocked.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(b.do(1, "INFO", "clients")[0], "blocked_clients:1") {
		if time.Now().After(deadline) {
			t.Fatal("BLPOP did not block")
		}
		time.Sleep(5 * time.Millisecond)
	}
	log = append(log, b.do(1, "SET", "k", "1")...)
	log = append(log, "while blocked: "+a.read(10*time.Second))
	log = append(log, b.do(1, "PUBLISH", "ch", "hello")...)
	log = append(log, "while blocked: "+a.read(10*time.Second))
	log = append(log, b.do(1, "RPUSH", "list", "x")...)
	log = append(log, "served: "+a.read(10*time.Second))
	log = append(log, a.do(1, "PING")...)
	return log
}

func TestPushesReachBlockedClientMatchesRedis(t *testing.T) {
	compareSessions(t, blockedPushSession)
}

// outputLimitSession: client-output-buffer-limit normal cuts a client whose
// reply exceeds the hard limit; smaller replies pass.
func outputLimitSession(t *testing.T, addr string) []string {
	a, b := dialPush(t, addr), dialPush(t, addr)
	var log []string
	big := strings.Repeat("x", 300<<10)
	log = append(log, b.do(1, "SET", "big", big)...)
	log = append(log, b.do(1, "CONFIG", "SET", "client-output-buffer-limit", "normal 256kb 0 0")...)
	defer b.do(1, "CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0")
	log = append(log, b.do(1, "CONFIG", "GET", "client-output-buffer-limit")...)
	log = append(log, a.do(1, "STRLEN", "big")...)
	a.send("GET", "big")
	a.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := difftest.ReadReply(a.br); err != nil {
		log = append(log, "GET big: connection closed")
	} else {
		log = append(log, "GET big: reply arrived")
	}
	log = append(log, b.do(1, "SET", "small", "v")...)
	log = append(log, b.do(1, "GET", "small")...)
	return log
}

func TestOutputBufferLimitNormalMatchesRedis(t *testing.T) {
	compareSessions(t, outputLimitSession)
}
