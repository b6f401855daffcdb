package metrics

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/server"
	"github.com/cachalotdb/cachalot/store"
)

// startServer runs an in-process server on a free loopback port.
func startServer(t *testing.T, tweak ...func(*config.Config)) (*server.Server, string) {
	t.Helper()
	cfg := config.Default()
	for _, f := range tweak {
		f(cfg)
	}
	st, err := store.New(store.Options{Databases: cfg.Databases, Shards: cfg.Shards})
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Options{Config: cfg, Store: st, Version: "test"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return srv, ln.Addr().String()
}

// conn is a minimal RESP client: it sends one command and reads one reply
// line (and a bulk payload).
type conn struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func dial(t *testing.T, addr string) *conn {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &conn{t: t, nc: nc, r: bufio.NewReader(nc)}
}

func (c *conn) do(args ...string) string {
	c.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	c.nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c.nc, b.String()); err != nil {
		c.t.Fatal(err)
	}
	return c.next()
}

// next reads one reply line, with its payload when it is a bulk string.
func (c *conn) next() string {
	c.t.Helper()
	line, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatal(err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line[0] == '$' {
		n, _ := strconv.Atoi(line[1:])
		if n >= 0 {
			buf := make([]byte, n+2)
			if _, err := io.ReadFull(c.r, buf); err != nil {
				c.t.Fatal(err)
			}
			return string(buf[:n])
		}
	}
	return line
}

// scrape fetches /metrics over HTTP and returns the sample lines by series.
func scrape(t *testing.T, url string) (map[string]float64, string) {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("scrape: status %d, err %v", resp.StatusCode, err)
	}
	out := make(map[string]float64)
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample line %q", line)
		}
		out[line[:i]] = v
	}
	return out, string(body)
}

func TestScrapeAfterWorkload(t *testing.T) {
	srv, addr := startServer(t)
	c := dial(t, addr)
	const sets, hitGets, missGets, expiring = 7, 5, 3, 2
	for i := 0; i < sets; i++ {
		if r := c.do("SET", "k"+strconv.Itoa(i), "v"); r != "+OK" {
			t.Fatalf("SET: %q", r)
		}
	}
	for i := 0; i < expiring; i++ {
		c.do("EXPIRE", "k"+strconv.Itoa(i), "1000")
	}
	for i := 0; i < hitGets; i++ {
		if r := c.do("GET", "k"+strconv.Itoa(i)); r != "v" {
			t.Fatalf("GET hit: %q", r)
		}
	}
	for i := 0; i < missGets; i++ {
		if r := c.do("GET", "missing"+strconv.Itoa(i)); r != "$-1" {
			t.Fatalf("GET miss: %q", r)
		}
	}
	c.do("SELECT", "3")
	c.do("SET", "other", "v")
	c.do("LPUSH", "other", "x") // WRONGTYPE
	c.do("NOSUCHCOMMAND")       // unknown: errorstats only

	hs := httptest.NewServer(Handler(NewRegistry(srv)))
	defer hs.Close()
	got, body := scrape(t, hs.URL)
	want := map[string]float64{
		`redis_up`:                                                        1,
		`redis_commands_total{cmd="set"}`:                                 sets + 1,
		`redis_commands_total{cmd="get"}`:                                 hitGets + missGets,
		`redis_commands_total{cmd="expire"}`:                              expiring,
		`redis_commands_failed_calls_total{cmd="lpush"}`:                  1,
		`redis_keyspace_hits_total`:                                       hitGets,
		`redis_keyspace_misses_total`:                                     missGets,
		`redis_db_keys{db="db0"}`:                                         sets,
		`redis_db_keys_expiring{db="db0"}`:                                expiring,
		`redis_db_keys{db="db3"}`:                                         1,
		`redis_db_keys{db="db15"}`:                                        0,
		`redis_connected_clients`:                                         1,
		`redis_connections_received_total`:                                1,
		`cachalot_event_loop_clients`:                                     1,
		`redis_errors_total{err="WRONGTYPE"}`:                             1,
		`redis_errors_total{err="ERR"}`:                                   1,
		`redis_commands_processed_total`:                                  sets + expiring + hitGets + missGets + 4,
		`cachalot_command_duration_seconds_count{cmd="set"}`:              sets + 1,
		`cachalot_command_duration_seconds_bucket{cmd="get",le="+Inf"}`:   hitGets + missGets,
		`cachalot_ratelimit_decisions_total{cmd="gcra",result="limited"}`: 0,
	}
	for series, v := range want {
		if g, ok := got[series]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", series, g, ok, v)
		}
	}
	for _, series := range []string{"redis_uptime_in_seconds", "redis_memory_used_bytes", "redis_memory_max_bytes",
		"redis_net_input_bytes_total", "redis_net_output_bytes_total", "redis_rejected_connections_total",
		"redis_blocked_clients", "redis_evicted_keys_total", "redis_expired_keys_total", "go_goroutines"} {
		if _, ok := got[series]; !ok {
			t.Errorf("series %s missing", series)
		}
	}
	if got["redis_net_input_bytes_total"] <= 0 {
		t.Errorf("redis_net_input_bytes_total = %v, want > 0", got["redis_net_input_bytes_total"])
	}
	if strings.Contains(body, `cmd="nosuchcommand"`) {
		t.Error("an unknown command created a series")
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", body)
	}

	// In-process lint (the same checks promtool check metrics makes).
	probs, err := testutil.CollectAndLint(NewCollector(srv))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}

	// promtool, when installed (Debian's prometheus package).
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Log("promtool not installed: skipping `promtool check metrics` (testutil.CollectAndLint ran instead)")
		return
	}
	path := filepath.Join(t.TempDir(), "scrape.txt")
	os.WriteFile(path, []byte(body), 0o600)
	f, _ := os.Open(path)
	defer f.Close()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = f
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestServeShutsDown(t *testing.T) {
	srv, _ := startServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { Serve(ctx, addr, srv, discardLogger()); close(done) }()
	var resp *http.Response
	for i := 0; i < 100; i++ {
		if resp, err = http.Get("http://" + addr + "/metrics"); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("endpoint never answered: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
