package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachalotdb/cachalot/tests/difftest"
)

// aofDaemon starts cachalot with its files in dir (kept across restarts).
func aofDaemon(t *testing.T, dir string, args ...string) *daemon {
	t.Helper()
	return startDaemonIn(t, dir, 60*time.Second, nil, append([]string{"--enable-debug-command", "yes"}, args...)...)
}

func (d *daemon) kill9(t *testing.T) {
	t.Helper()
	d.cmd.Process.Kill() // SIGKILL: no flush, no goodbye
	<-d.exited
}

func aofClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, PoolSize: 1, Protocol: 2,
		DialTimeout: 2 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
}

// writerLog is what one crash-test client saw acknowledged: for each kind of
// write the highest sequence number acknowledged and the one in flight when
// the server died (0 when none).
type writerLog struct {
	acked, inFlight map[string]int
	lastStrOp       string // "set" or "expire": the last acknowledged write on the string key
	strInFlight     bool
}

// crashWriter writes until its connection fails, cycling through SET, INCR,
// RPUSH, HSET, EXPIRE and ZADD on its own keys, numbering each write.
func crashWriter(ctx context.Context, addr string, id int) writerLog {
	rdb := aofClient(addr)
	defer rdb.Close()
	lg := writerLog{acked: map[string]int{}, inFlight: map[string]int{}}
	p := fmt.Sprintf("w%d:", id)
	kinds := []string{"set", "incr", "rpush", "hset", "expire", "zadd"}
	for n := 1; ctx.Err() == nil; n++ {
		kind := kinds[n%len(kinds)]
		seq := n
		lg.inFlight[kind] = seq
		lg.strInFlight = kind == "set" || kind == "expire"
		var err error
		switch kind {
		case "set":
			err = rdb.Set(ctx, p+"str", seq, 0).Err()
		case "incr":
			err = rdb.Incr(ctx, p+"ctr").Err()
		case "rpush":
			err = rdb.RPush(ctx, p+"list", seq).Err()
		case "hset":
			err = rdb.HSet(ctx, p+"hash", "f"+strconv.Itoa(seq), seq).Err()
		case "expire":
			err = rdb.Expire(ctx, p+"str", time.Hour).Err()
		case "zadd":
			err = rdb.ZAdd(ctx, p+"zset", redis.Z{Score: float64(seq), Member: seq}).Err()
		}
		if err != nil {
			return lg // the server is gone: this write is in flight
		}
		lg.inFlight[kind] = 0
		lg.strInFlight = false
		if kind == "incr" {
			lg.acked[kind]++ // counts, not sequence numbers
		} else {
			lg.acked[kind] = seq
		}
		if kind == "set" || kind == "expire" {
			lg.lastStrOp = kind
		}
	}
	return lg
}

// checkWriter verifies that every acknowledged write of one client survived
// and that an unacknowledged one is either wholly there or wholly absent.
func checkWriter(ctx context.Context, t *testing.T, rdb *redis.Client, id int, lg writerLog) {
	t.Helper()
	p := fmt.Sprintf("w%d:", id)
	inc := func(kind string) int { // 1 when a write of that kind was in flight
		if lg.inFlight[kind] != 0 {
			return 1
		}
		return 0
	}
	// INCR: the counter is the acknowledged count, plus one if in flight.
	ctr, err := rdb.Get(ctx, p+"ctr").Int()
	if err != nil && !errors.Is(err, redis.Nil) {
		t.Fatalf("%sctr: %v", p, err)
	}
	if ctr < lg.acked["incr"] || ctr > lg.acked["incr"]+inc("incr") {
		t.Errorf("%sctr = %d, acknowledged %d increments (in flight %d)", p, ctr, lg.acked["incr"], inc("incr"))
	}
	// RPUSH: the acknowledged sequence numbers, in order, plus at most the
	// one in flight at the end. Sequence numbers of rpush are n ≡ 2 (mod 6).
	items, err := rdb.LRange(ctx, p+"list", 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for n := 2; n <= lg.acked["rpush"]; n += 6 {
		want = append(want, strconv.Itoa(n))
	}
	if f := lg.inFlight["rpush"]; f != 0 && len(items) == len(want)+1 {
		want = append(want, strconv.Itoa(f))
	}
	if !slices.Equal(items, want) {
		t.Errorf("%slist has %d items (last %v), want %d (last %v)", p, len(items), tail(items), len(want), tail(want))
	}
	// HSET and ZADD: every acknowledged field or member present, at most one more.
	fields, err := rdb.HLen(ctx, p+"hash").Result()
	if err != nil {
		t.Fatal(err)
	}
	wantFields := int64(lg.acked["hset"]+3) / 6 // n ≡ 3 (mod 6)
	if fields < wantFields || fields > wantFields+int64(inc("hset")) {
		t.Errorf("%shash has %d fields, acknowledged %d", p, fields, wantFields)
	}
	if lg.acked["hset"] > 0 {
		if v, err := rdb.HGet(ctx, p+"hash", "f"+strconv.Itoa(lg.acked["hset"])).Result(); err != nil || v != strconv.Itoa(lg.acked["hset"]) {
			t.Errorf("%shash: last acknowledged field: %q, %v", p, v, err)
		}
	}
	members, err := rdb.ZCard(ctx, p+"zset").Result()
	if err != nil {
		t.Fatal(err)
	}
	wantMembers := int64(lg.acked["zadd"]+1) / 6 // n ≡ 5 (mod 6)
	if members < wantMembers || members > wantMembers+int64(inc("zadd")) {
		t.Errorf("%szset has %d members, acknowledged %d", p, members, wantMembers)
	}
	// SET then EXPIRE on the string: the value is the last acknowledged SET
	// (or the one in flight); the TTL is there when EXPIRE came last.
	if lg.acked["set"] > 0 {
		v, err := rdb.Get(ctx, p+"str").Result()
		if err != nil {
			t.Fatalf("%sstr: %v", p, err)
		}
		if v != strconv.Itoa(lg.acked["set"]) && v != strconv.Itoa(lg.inFlight["set"]) {
			t.Errorf("%sstr = %s, last acknowledged SET %d (in flight %d)", p, v, lg.acked["set"], lg.inFlight["set"])
		}
		ttl, err := rdb.TTL(ctx, p+"str").Result()
		if err != nil {
			t.Fatal(err)
		}
		if lg.lastStrOp == "expire" && !lg.strInFlight && ttl <= 0 {
			t.Errorf("%sstr: acknowledged EXPIRE lost (TTL %v)", p, ttl)
		}
	}
}

func tail(s []string) []string {
	if len(s) > 3 {
		return s[len(s)-3:]
	}
	return s
}

// TestAOFCrashLosesNoAcknowledgedWrite is issue 6's crash test: 50 clients
// write under appendfsync always, the server is SIGKILLed at a random
// moment, and after a restart every acknowledged write is there and nothing
// unacknowledged is half-applied. Every fourth round kills it while a
// rewrite is running.
func TestAOFCrashLosesNoAcknowledgedWrite(t *testing.T) {
	rounds := 20
	if testing.Short() {
		rounds = 4
	}
	const writers = 50
	for round := 0; round < rounds; round++ {
		dir := t.TempDir()
		withRewrite := round%4 == 3
		d := aofDaemon(t, dir, "--appendonly", "yes", "--appendfsync", "always")
		ctx, cancel := context.WithCancel(context.Background())
		if withRewrite { // enough data that a rewrite takes a while
			preload(t, d.addr, 50_000)
		}
		logs := make([]writerLog, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Add(1)
			go func() { defer wg.Done(); logs[i] = crashWriter(ctx, d.addr, i) }()
		}
		time.Sleep(time.Duration(150+rand.IntN(500)) * time.Millisecond)
		if withRewrite {
			rdb := aofClient(d.addr)
			if err := rdb.BgRewriteAOF(ctx).Err(); err != nil {
				t.Fatalf("BGREWRITEAOF: %v", err)
			}
			rdb.Close()
			time.Sleep(time.Duration(rand.IntN(40)) * time.Millisecond)
		}
		d.kill9(t)
		wg.Wait()
		cancel()

		d2 := aofDaemon(t, dir, "--appendonly", "yes", "--appendfsync", "always")
		rdb := aofClient(d2.addr)
		total := 0
		for i, lg := range logs {
			checkWriter(context.Background(), t, rdb, i, lg)
			for _, n := range lg.acked {
				total += min(n, 1)
			}
		}
		rdb.Close()
		d2.kill9(t)
		t.Logf("round %d (rewrite %v): writers saw %d kinds of write acknowledged", round, withRewrite, total)
		if t.Failed() {
			t.Fatalf("round %d failed; files in %s", round, dir)
		}
	}
}

// preload writes n keys through one pipelined connection.
func preload(t *testing.T, addr string, n int) {
	t.Helper()
	rdb := aofClient(addr)
	defer rdb.Close()
	ctx := context.Background()
	for i := 0; i < n; i += 1000 {
		pipe := rdb.Pipeline()
		for j := i; j < i+1000 && j < n; j++ {
			pipe.Set(ctx, "pre:"+strconv.Itoa(j), "value-"+strconv.Itoa(j), 0)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatalf("preload: %v", err)
		}
	}
}

// debugDigest returns DEBUG DIGEST's reply.
func debugDigest(t *testing.T, addr string) string {
	t.Helper()
	rdb := aofClient(addr)
	defer rdb.Close()
	v, err := rdb.Do(context.Background(), "DEBUG", "DIGEST").Text()
	if err != nil {
		t.Fatalf("DEBUG DIGEST: %v", err)
	}
	return v
}

// aofWorkload writes one of every kind of value, with the commands whose
// effect must be rewritten before it is logged (relative TTLs, randomness,
// floats, blocking pops), and a rewrite in the middle.
func aofWorkload(t *testing.T, addr string, rewrite bool) {
	t.Helper()
	ctx := context.Background()
	rdb := aofClient(addr)
	defer rdb.Close()
	cmds := [][]any{
		{"SET", "s1", "v1"}, {"SET", "s2", "v2", "EX", "1000"}, {"SETEX", "s3", "500", "v3"},
		{"INCRBYFLOAT", "f", "1.5"}, {"INCRBYFLOAT", "f", "0.25"}, {"INCR", "n"}, {"APPEND", "s1", "+"},
		{"RPUSH", "l", "a", "b", "c", "d"}, {"LPOP", "l"}, {"BLPOP", "l", "1"}, {"EXPIRE", "l", "2000"},
		{"HSET", "h", "f1", "1", "f2", "2"}, {"HINCRBYFLOAT", "h", "f1", "0.5"},
		{"SADD", "set", "a", "b", "c", "d", "e", "f"}, {"SPOP", "set"}, {"SPOP", "set", "2"},
		{"ZADD", "z", "1.5", "a", "2", "b", "-inf", "c"}, {"ZINCRBY", "z", "3", "a"}, {"ZPOPMIN", "z"},
		{"SELECT", "3"}, {"SET", "db3", "x"}, {"SELECT", "0"},
		{"PEXPIRE", "s1", "900000"}, {"SET", "gone", "x", "PX", "1"},
	}
	for i, c := range cmds {
		if rewrite && i == len(cmds)/2 {
			if err := rdb.BgRewriteAOF(ctx).Err(); err != nil {
				t.Fatalf("BGREWRITEAOF: %v", err)
			}
			waitRewrite(t, rdb)
		}
		if err := rdb.Do(ctx, c...).Err(); err != nil && !errors.Is(err, redis.Nil) {
			t.Fatalf("%v: %v", c, err)
		}
	}
	time.Sleep(20 * time.Millisecond) // let "gone" expire, then read it so the expiry is logged as a DEL
	if err := rdb.Get(ctx, "gone").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("GET gone after its expiry: %v", err)
	}
}

func waitRewrite(t *testing.T, rdb *redis.Client) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		info, err := rdb.Info(context.Background(), "persistence").Result()
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains([]byte(info), []byte("aof_rewrite_in_progress:0")) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("rewrite did not finish")
}

// TestAOFRestartRestoresData restarts cachalot on its own AOF (with and
// without a rewrite in between) and compares DEBUG DIGEST before and after.
func TestAOFRestartRestoresData(t *testing.T) {
	for _, rewrite := range []bool{false, true} {
		t.Run(fmt.Sprintf("rewrite=%v", rewrite), func(t *testing.T) {
			dir := t.TempDir()
			d := aofDaemon(t, dir, "--appendonly", "yes", "--appendfsync", "everysec")
			aofWorkload(t, d.addr, rewrite)
			before := debugDigest(t, d.addr)
			d.signal(t, os.Interrupt)
			if code := d.waitExit(t, 20*time.Second); code != 0 {
				t.Fatalf("exit code %d", code)
			}
			d2 := aofDaemon(t, dir, "--appendonly", "yes")
			if after := debugDigest(t, d2.addr); after != before {
				t.Fatalf("digest after restart %s, before %s", after, before)
			}
		})
	}
}

// TestAOFLoadsInRedis places an AOF directory written by cachalot where a
// real redis-server 7 loads it, and compares the data.
func TestAOFLoadsInRedis(t *testing.T) {
	redisBin := difftest.RedisServerPath(t) // skips without redis-server
	for _, rewrite := range []bool{false, true} {
		t.Run(fmt.Sprintf("rewrite=%v", rewrite), func(t *testing.T) {
			dir := t.TempDir()
			d := aofDaemon(t, dir, "--appendonly", "yes", "--appendfsync", "always")
			aofWorkload(t, d.addr, rewrite)
			want := debugDigest(t, d.addr)
			d.signal(t, os.Interrupt)
			if code := d.waitExit(t, 20*time.Second); code != 0 {
				t.Fatalf("exit code %d", code)
			}
			port := difftest.FreePort(t)
			cmd := exec.Command(redisBin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
				"--appendonly", "yes", "--save", "", "--daemonize", "no", "--enable-debug-command", "yes")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan struct{})
			go func() { cmd.Wait(); close(exited) }()
			defer func() { cmd.Process.Kill(); <-exited }()
			addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			if !waitForPing(addr, exited, 30*time.Second) {
				t.Fatalf("redis-server did not load cachalot's AOF:\n%s", out.String())
			}
			if got := debugDigest(t, addr); got != want {
				rdb := aofClient(addr)
				keys, _ := rdb.Keys(context.Background(), "*").Result()
				rdb.Close()
				t.Fatalf("redis-server digest %s, cachalot %s; redis has keys %v\n%s", got, want, keys, out.String())
			}
			files, _ := filepath.Glob(filepath.Join(dir, "appendonlydir", "*"))
			t.Logf("redis-server loaded %v with the same digest", files)
		})
	}
}
