package integration

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/tests/difftest"
	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
)

// goRedisLog collects what go-redis logs (handshake failures land there).
type goRedisLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *goRedisLog) Printf(_ context.Context, format string, v ...interface{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, v...))
}

func (l *goRedisLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.lines
	l.lines = nil
	return out
}

var grLog = &goRedisLog{}

func init() { redis.SetLogger(grLog) }

// doer runs one command through a client library and describes the reply
// in a form that is the same for every library.
type doer func(ctx context.Context, args ...string) string

// normalize renders a decoded reply.
func normalize(v any, err error) string {
	if err != nil {
		if err == redis.Nil || rueidis.IsRedisNil(err) {
			return "nil"
		}
		// rueidis drops the "ERR " prefix that go-redis keeps.
		return "err:" + strings.TrimPrefix(err.Error(), "ERR ")
	}
	switch x := v.(type) {
	case nil:
		return "nil"
	case string:
		return "s:" + x
	case []byte:
		return "s:" + string(x)
	case int64:
		return "i:" + strconv.FormatInt(x, 10)
	case bool:
		if x {
			return "i:1"
		}
		return "i:0"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = normalize(e, nil)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case error:
		if x == redis.Nil || rueidis.IsRedisNil(x) {
			return "nil"
		}
		return "err:" + x.Error()
	}
	return fmt.Sprintf("%T:%v", v, v)
}

func goRedisDoer(c *redis.Client) doer {
	return func(ctx context.Context, args ...string) string {
		a := make([]any, len(args))
		for i, s := range args {
			a[i] = s
		}
		return normalize(c.Do(ctx, a...).Result())
	}
}

func rueidisDoer(c rueidis.Client) doer {
	return func(ctx context.Context, args ...string) string {
		res := c.Do(ctx, c.B().Arbitrary(args[0]).Args(args[1:]...).Build())
		v, err := res.ToAny()
		if msgs, ok := v.([]any); ok {
			// rueidis leaves a nil inside an array as an error value.
			for i, m := range msgs {
				if e, isErr := m.(error); isErr && rueidis.IsRedisNil(e) {
					msgs[i] = nil
				}
			}
		}
		return normalize(v, err)
	}
}

// clientOps is the table every client runs, on a flushed database.
var clientOps = []struct {
	args []string
	want string
}{
	{[]string{"PING"}, "s:PONG"},
	{[]string{"SET", "k", "v", "EX", "100"}, "s:OK"},
	{[]string{"GET", "k"}, "s:v"},
	{[]string{"TTL", "k"}, "i:100"},
	{[]string{"MSET", "a", "1", "b", "2", "c", "3"}, "s:OK"},
	{[]string{"MGET", "a", "b", "missing", "c"}, "[s:1 s:2 nil s:3]"},
	{[]string{"INCR", "a"}, "i:2"},
	{[]string{"INCR", "counter"}, "i:1"},
	{[]string{"INCR", "k"}, "err:value is not an integer or out of range"},
	{[]string{"DEL", "a", "b", "missing"}, "i:2"},
	{[]string{"EXISTS", "a", "c"}, "i:1"},
	{[]string{"EXPIRE", "c", "50"}, "i:1"},
	{[]string{"TTL", "c"}, "i:50"},
	{[]string{"TTL", "counter"}, "i:-1"},
	{[]string{"GET", "missing"}, "nil"},
	{[]string{"SET", "k", "v2", "NX"}, "nil"},
	{[]string{"GETSET", "k", "v3"}, "s:v"},
	{[]string{"ECHO", "bin\x00\r\nary"}, "s:bin\x00\r\nary"},
	{[]string{"APPEND", "k", "!"}, "i:3"},
	{[]string{"GET", "k"}, "s:v3!"},
}

// runClientSuite runs the table, a 1000-command pipeline, a 10 MB value and
// SELECT isolation through one library.
func runClientSuite(t *testing.T, ctx context.Context, do doer, pipeline func(n int) ([]string, error), db1 doer) {
	t.Helper()
	if got := do(ctx, "FLUSHALL"); got != "s:OK" {
		t.Fatalf("FLUSHALL: %s", got)
	}
	for _, op := range clientOps {
		if got := do(ctx, op.args...); got != op.want {
			t.Errorf("%q = %.200s, want %.200s", op.args, got, op.want)
		}
	}

	// A pipeline of 1000 INCRs answers 1..1000 in order.
	results, err := pipeline(1000)
	if err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	if len(results) != 1000 {
		t.Fatalf("pipeline gave %d results", len(results))
	}
	for i, r := range results {
		if want := "i:" + strconv.Itoa(i+1); r != want {
			t.Fatalf("pipeline result %d = %s, want %s", i, r, want)
		}
	}

	// A 10 MB value round trip.
	big := make([]byte, 10<<20)
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	big[5<<20] = 0
	if got := do(ctx, "SET", "big", string(big)); got != "s:OK" {
		t.Fatalf("SET 10MB: %.100s", got)
	}
	if got := do(ctx, "STRLEN", "big"); got != "i:"+strconv.Itoa(len(big)) {
		t.Fatalf("STRLEN big = %s", got)
	}
	if got := do(ctx, "GET", "big"); got != "s:"+string(big) {
		t.Fatalf("GET 10MB differs (got %d bytes)", len(got)-2)
	}
	do(ctx, "DEL", "big")

	// SELECT: database 1 does not see database 0's keys.
	if got := db1(ctx, "SET", "iso", "one"); got != "s:OK" {
		t.Fatalf("db1 SET: %s", got)
	}
	if got := do(ctx, "GET", "iso"); got != "nil" {
		t.Errorf("db0 sees db1's key: %s", got)
	}
	if got := do(ctx, "SET", "iso", "zero"); got != "s:OK" {
		t.Fatalf("db0 SET: %s", got)
	}
	if got := db1(ctx, "GET", "iso"); got != "s:one" {
		t.Errorf("db1 GET iso = %s, want s:one", got)
	}
	if got := do(ctx, "GET", "iso"); got != "s:zero" {
		t.Errorf("db0 GET iso = %s, want s:zero", got)
	}
}

func newGoRedis(t *testing.T, addr string, proto, db int) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: proto, DB: db, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestGoRedis(t *testing.T) {
	srv := difftest.StartCachalot(t)
	for _, proto := range []int{3, 2} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			ctx := context.Background()
			grLog.take()
			c := newGoRedis(t, srv.Addr, proto, 0)
			pipeline := func(n int) ([]string, error) {
				cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
					for i := 0; i < n; i++ {
						p.Incr(ctx, "piped")
					}
					return nil
				})
				out := make([]string, len(cmds))
				for i, cmd := range cmds {
					out[i] = normalize(cmd.(*redis.IntCmd).Result())
				}
				return out, err
			}
			runClientSuite(t, ctx, goRedisDoer(c), pipeline, goRedisDoer(newGoRedis(t, srv.Addr, proto, 1)))

			// The handshake (HELLO, CLIENT SETINFO) went through: the
			// server knows the library and the protocol.
			info, err := c.ClientInfo(ctx).Result()
			if err != nil {
				t.Fatalf("CLIENT INFO: %v", err)
			}
			if !strings.HasPrefix(info.LibName, "go-redis") || info.LibVer == "" {
				t.Errorf("CLIENT SETINFO did not stick: lib-name %q lib-ver %q", info.LibName, info.LibVer)
			}
			if info.Resp != proto {
				t.Errorf("connection speaks RESP%d, want RESP%d", info.Resp, proto)
			}
			if lines := grLog.take(); len(lines) > 0 {
				t.Errorf("go-redis logged:\n%s", strings.Join(lines, "\n"))
			}
		})
	}
	if out := srv.Output(); strings.Contains(out, "level=ERROR") || strings.Contains(out, "level=WARN") {
		t.Errorf("server log has errors:\n%s", out)
	}
}

// A go-redis handshake (HELLO 3, CLIENT SETINFO, and the optional commands
// newer clients try) provokes no error Redis 7.0 would not give. Redis 7.0
// has no CLIENT SETINFO (7.2 added it) and rejects it; cachalot accepts it,
// so it may count fewer errors, never more.
func TestGoRedisHandshakeErrorsMatchRedis(t *testing.T) {
	difftest.RedisServerPath(t)
	errorCount := func(addr string) int {
		ctx := context.Background()
		c := newGoRedis(t, addr, 3, 0)
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatalf("%s: PING: %v", addr, err)
		}
		c.Close()
		raw := difftest.Dial(t, addr)
		stats := string(raw.Do("INFO", "errorstats"))
		n := 0
		for _, line := range strings.Split(stats, "\r\n") {
			if i := strings.Index(line, ":count="); i > 0 && strings.HasPrefix(line, "errorstat_") {
				k, _ := strconv.Atoi(line[i+len(":count="):])
				n += k
			}
		}
		t.Logf("%s errorstats: %q", addr, stats)
		return n
	}
	want := errorCount(difftest.StartRedis(t).Addr)
	got := errorCount(difftest.StartCachalot(t).Addr)
	if got > want {
		t.Errorf("a go-redis handshake caused %d errors on cachalot, %d on Redis 7.0", got, want)
	}
	if got > 1 {
		t.Errorf("a go-redis handshake caused %d errors on cachalot; only the optional CLIENT MAINT_NOTIFICATIONS may fail", got)
	}
}

func TestRueidis(t *testing.T) {
	srv := difftest.StartCachalot(t)
	ctx := context.Background()
	open := func(db int) rueidis.Client {
		c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{srv.Addr}, DisableCache: true, SelectDB: db})
		if err != nil {
			t.Fatalf("rueidis.NewClient: %v", err)
		}
		t.Cleanup(c.Close)
		return c
	}
	c := open(0)
	pipeline := func(n int) ([]string, error) {
		cmds := make(rueidis.Commands, n)
		for i := range cmds {
			cmds[i] = c.B().Incr().Key("piped").Build()
		}
		out := make([]string, 0, n)
		for _, r := range c.DoMulti(ctx, cmds...) {
			out = append(out, normalize(r.ToAny()))
		}
		return out, nil
	}
	runClientSuite(t, ctx, rueidisDoer(c), pipeline, rueidisDoer(open(1)))
	info, err := c.Do(ctx, c.B().ClientInfo().Build()).ToString()
	if err != nil {
		t.Fatalf("CLIENT INFO: %v", err)
	}
	if !strings.Contains(info, "lib-name=rueidis") || !strings.Contains(info, "resp=3") {
		t.Errorf("CLIENT INFO after the rueidis handshake: %q", info)
	}
}

// redisCLI runs redis-cli against addr; stdout is not a terminal, so
// replies come back raw.
func redisCLI(t *testing.T, srv *difftest.Server, args ...string) string {
	t.Helper()
	full := append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(srv.Port)}, args...)
	out, err := exec.Command("redis-cli", full...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %q: %v\n%s", args, err, out)
	}
	return string(out)
}

func TestRedisCLI(t *testing.T) {
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Skip("redis-cli not installed")
	}
	servers := []*difftest.Server{difftest.StartCachalot(t)}
	if _, err := exec.LookPath("redis-server"); err == nil {
		servers = append(servers, difftest.StartRedis(t))
	}
	ops := [][]string{
		{"set", "a", "1", "ex", "100"},
		{"ttl", "a"},
		{"get", "a"},
		{"incr", "a"},
		{"mset", "x", "1", "y", "2"},
		{"mget", "x", "nokey", "y"},
		{"del", "x", "y", "nokey"},
		{"get", "nokey"},
		{"incr", "nonnumeric-check"},
		{"set", "s", "text"},
		{"incr", "s"},
		{"-n", "1", "get", "a"},
		{"-n", "1", "set", "a", "db1"},
		{"-n", "1", "get", "a"},
		{"get", "a"},
		{"ping"},
	}
	outputs := make([][]string, len(servers))
	for i, srv := range servers {
		redisCLI(t, srv, "flushall")
		for _, op := range ops {
			outputs[i] = append(outputs[i], redisCLI(t, srv, op...))
		}
	}
	cach := outputs[0]
	if cach[0] != "OK\n" || cach[1] != "100\n" || cach[2] != "1\n" {
		t.Errorf("set a 1 ex 100 / ttl a / get a gave %q %q %q, want OK, 100, 1", cach[0], cach[1], cach[2])
	}
	if len(servers) == 2 {
		for j, op := range ops {
			if outputs[0][j] != outputs[1][j] {
				t.Errorf("redis-cli %s:\n   redis: %q\ncachalot: %q", strings.Join(op, " "), outputs[1][j], outputs[0][j])
			}
		}
	}
}

func TestRedisBenchmark(t *testing.T) {
	if _, err := exec.LookPath("redis-benchmark"); err != nil {
		t.Skip("redis-benchmark not installed")
	}
	srv := difftest.StartCachalot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "redis-benchmark", "-h", "127.0.0.1", "-p", strconv.Itoa(srv.Port),
		"-t", "ping,set,get,incr,mset", "-c", "50", "-P", "16", "-n", "200000", "-q")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("redis-benchmark: %v\n%s", err, out.String())
	}
	text := strings.ReplaceAll(out.String(), "\r", "\n")
	var done []string
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "requests per second") {
			done = append(done, strings.TrimSpace(strings.SplitN(line, ":", 2)[0]))
		}
		if strings.Contains(line, "ERR") || strings.Contains(strings.ToLower(line), "error") || strings.Contains(line, "WARNING") {
			t.Errorf("redis-benchmark: %s", line)
		}
	}
	sort.Strings(done)
	want := []string{"GET", "INCR", "MSET (10 keys)", "PING_INLINE", "PING_MBULK", "SET"}
	if strings.Join(done, ",") != strings.Join(want, ",") {
		t.Errorf("tests completed: %q, want %q\n%s", done, want, text)
	}
	// The server did the work: the counter INCR used went up 200000 times.
	c := srv.Dial(t)
	if got := string(c.Do("GET", "counter:__rand_int__")); got != "$6\r\n200000\r\n" {
		t.Errorf("GET counter:__rand_int__ = %q, want 200000", got)
	}
}
