package metrics

import (
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestScrapeKeyPrefixes checks the per-prefix series after a scripted
// workload, with exact values, and the lock-wait histogram's presence.
func TestScrapeKeyPrefixes(t *testing.T) {
	srv, addr := startServer(t)
	c := dial(t, addr)
	if r := c.do("CONFIG", "SET", "metrics-key-prefixes", "user:,user:admin:,session:"); r != "+OK" {
		t.Fatalf("CONFIG SET: %q", r)
	}
	if r := c.do("CONFIG", "GET", "metrics-key-prefixes"); r != "*2" {
		t.Fatalf("CONFIG GET: %q", r)
	}
	// Read the rest of the CONFIG GET reply: the name and the value.
	if name, value := c.next(), c.next(); name != "metrics-key-prefixes" || value != "user:,user:admin:,session:" {
		t.Fatalf("CONFIG GET: %q %q", name, value)
	}
	c.do("MSET", "user:1", "a", "user:admin:1", "b", "session:1", "c", "plain", "d")
	for _, k := range []string{"user:1", "user:1", "user:2", "user:admin:1", "user:admin:2", "session:1", "session:2", "session:3", "plain", "nope"} {
		c.do("GET", k)
	}
	c.do("EXISTS", "user:1")                                 // a hit
	if r := c.do("MGET", "session:1", "user:3"); r != "*2" { // a hit and a miss
		t.Fatalf("MGET: %q", r)
	}
	c.next()
	c.next()
	hs := httptest.NewServer(Handler(NewRegistry(srv)))
	defer hs.Close()
	got, body := scrape(t, hs.URL)
	want := map[string]float64{
		// user:1 ×2, user:admin:1, EXISTS user:1 | user:2, user:admin:2, user:3
		`cachalot_keyspace_prefix_hits_total{prefix="user:"}`:         4,
		`cachalot_keyspace_prefix_misses_total{prefix="user:"}`:       3,
		`cachalot_keyspace_prefix_hits_total{prefix="user:admin:"}`:   1,
		`cachalot_keyspace_prefix_misses_total{prefix="user:admin:"}`: 1,
		`cachalot_keyspace_prefix_hits_total{prefix="session:"}`:      2,
		`cachalot_keyspace_prefix_misses_total{prefix="session:"}`:    2,
		`cachalot_evicted_keys_prefix_total{prefix="session:"}`:       0,
		`redis_keyspace_hits_total`:                                   7,
		`redis_keyspace_misses_total`:                                 6,
	}
	for series, v := range want {
		if g, ok := got[series]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", series, g, ok, v)
		}
	}
	for _, series := range []string{`cachalot_shard_lock_wait_seconds_count`, `cachalot_shard_lock_wait_seconds_sum`,
		`cachalot_shard_lock_wait_seconds_bucket{le="+Inf"}`, `cachalot_shard_lock_wait_seconds_bucket{le="1e-06"}`} {
		if _, ok := got[series]; !ok {
			t.Errorf("series %s missing", series)
		}
	}
	probs, err := testutil.CollectAndLint(NewCollector(srv))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	// Dropping the list drops the series.
	if r := c.do("CONFIG", "SET", "metrics-key-prefixes", ""); r != "+OK" {
		t.Fatalf("CONFIG SET: %q", r)
	}
	got, _ = scrape(t, hs.URL)
	if _, ok := got[`cachalot_keyspace_prefix_hits_total{prefix="user:"}`]; ok {
		t.Error("prefix series still published with no prefixes configured")
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", body)
	}
}

// TestScrapeKeyPrefixEvictions: with every key under one prefix, that
// prefix's evictions equal redis_evicted_keys_total.
func TestScrapeKeyPrefixEvictions(t *testing.T) {
	srv, addr := startServer(t)
	c := dial(t, addr)
	c.do("CONFIG", "SET", "metrics-key-prefixes", "ev:")
	c.do("CONFIG", "SET", "maxmemory-policy", "allkeys-random")
	val := string(make([]byte, 1000))
	for i := 0; i < 500; i++ {
		c.do("SET", "ev:"+strconv.Itoa(i), val)
	}
	hs := httptest.NewServer(Handler(NewRegistry(srv)))
	defer hs.Close()
	got, _ := scrape(t, hs.URL)
	used := got["redis_memory_used_bytes"]
	if r := c.do("CONFIG", "SET", "maxmemory", strconv.Itoa(int(used*3/4))); r != "+OK" {
		t.Fatalf("CONFIG SET maxmemory: %q", r)
	}
	got, body := scrape(t, hs.URL)
	ev := got["redis_evicted_keys_total"]
	if ev == 0 || got[`cachalot_evicted_keys_prefix_total{prefix="ev:"}`] != ev {
		t.Errorf("evicted %v in total, %v under ev:\n%s", ev, got[`cachalot_evicted_keys_prefix_total{prefix="ev:"}`], body)
	}
}
