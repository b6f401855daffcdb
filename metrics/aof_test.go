package metrics

import (
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/config"
)

// TestScrapeAOF turns persistence on at run time, writes under
// appendfsync always and checks the persistence series.
func TestScrapeAOF(t *testing.T) {
	dir := t.TempDir()
	srv, addr := startServer(t, func(c *config.Config) { c.Dir = dir })
	c := dial(t, addr)
	hs := httptest.NewServer(Handler(NewRegistry(srv)))
	defer hs.Close()
	got, _ := scrape(t, hs.URL)
	if got["redis_aof_enabled"] != 0 || got["redis_aof_last_write_status"] != 1 {
		t.Fatalf("before: enabled %v, write status %v", got["redis_aof_enabled"], got["redis_aof_last_write_status"])
	}
	for _, kv := range [][2]string{{"appendfsync", "always"}, {"appendonly", "yes"}} {
		if r := c.do("CONFIG", "SET", kv[0], kv[1]); r != "+OK" {
			t.Fatalf("CONFIG SET %s: %q", kv[0], r)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for got, _ = scrape(t, hs.URL); got["redis_aof_enabled"] != 1; got, _ = scrape(t, hs.URL) {
		if time.Now().After(deadline) {
			t.Fatal("redis_aof_enabled never became 1")
		}
		time.Sleep(10 * time.Millisecond)
	}
	const sets = 20
	for i := 0; i < sets; i++ {
		if r := c.do("SET", "k"+strconv.Itoa(i), "v"); r != "+OK" {
			t.Fatalf("SET: %q", r)
		}
	}
	got, _ = scrape(t, hs.URL)
	// Each SET waited for its own fsync (one client, one command at a time).
	if n := got["cachalot_aof_group_commit_commands_count"]; n < sets {
		t.Errorf("group commits: %v, want at least %d", n, sets)
	}
	if n := got["cachalot_aof_fsync_duration_seconds_count"]; n < sets {
		t.Errorf("fsyncs: %v, want at least %d", n, sets)
	}
	if got["redis_aof_current_size_bytes"] <= 0 || got["cachalot_aof_written_bytes_total"] <= 0 {
		t.Errorf("size %v, written %v", got["redis_aof_current_size_bytes"], got["cachalot_aof_written_bytes_total"])
	}
	if got["redis_aof_rewrite_in_progress"] != 0 || got["redis_aof_last_bgrewrite_status"] != 1 {
		t.Errorf("rewrite: in progress %v, status %v", got["redis_aof_rewrite_in_progress"], got["redis_aof_last_bgrewrite_status"])
	}
	srv.CloseAOF()
}
