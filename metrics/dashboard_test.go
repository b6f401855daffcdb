package metrics

import (
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDashboardQueriesKnownSeries keeps deploy/grafana/cachalot.json in step
// with what /metrics publishes: every series a panel queries must appear in
// a scrape after a small workload.
func TestDashboardQueriesKnownSeries(t *testing.T) {
	raw, err := os.ReadFile("../deploy/grafana/cachalot.json")
	if err != nil {
		t.Fatal(err)
	}
	srv, addr := startServer(t)
	c := dial(t, addr)
	c.do("SET", "k", "v")
	c.do("GET", "k")
	c.do("CL.THROTTLE", "rl", "5", "10", "60")
	c.do("GET") // an error reply, so redis_errors_total has a sample
	hs := httptest.NewServer(Handler(NewRegistry(srv)))
	defer hs.Close()
	_, body := scrape(t, hs.URL)
	published := map[string]bool{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name := line
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name = line[:i]
		}
		published[name] = true
	}
	queried := regexp.MustCompile(`\b(?:redis|cachalot|go|process)_[a-z_]+\b`).FindAllString(string(raw), -1)
	if len(queried) == 0 {
		t.Fatal("the dashboard queries no series")
	}
	for _, name := range queried {
		if !published[name] {
			t.Errorf("dashboard queries %s, which /metrics does not publish", name)
		}
	}
}
