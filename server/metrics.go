package server

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cachalotdb/cachalot/store"
)

// Per-command latency histograms, the per-call observation hook, INFO
// latencystats and the scrape-time snapshot the Prometheus collector
// (package metrics) turns into series. Nothing here runs on the hot path
// except observe: one atomic add into the row's histogram, one atomic load
// for MONITOR and two comparisons for the slow log and the latency monitor.

// latHistBuckets is the number of log-linear buckets: bucket 0 holds calls
// under 1024 ns, then each power of two of nanoseconds from 2^10 to 2^36
// (about 69 s) is split in four; the last bucket also takes everything
// slower.
const latHistBuckets = 1 + 4*26

// latencyHist counts a row's calls by duration.
type latencyHist struct {
	b [latHistBuckets]atomic.Uint64
}

func latBucket(ns int64) int {
	if ns < 1024 {
		return 0
	}
	n := bits.Len64(uint64(ns)) // 11 for [1024, 2048)
	sub := int(ns>>(n-3)) & 3
	i := (n-11)*4 + sub + 1
	if i >= latHistBuckets {
		i = latHistBuckets - 1
	}
	return i
}

// latBucketUpper is bucket i's exclusive upper bound in nanoseconds.
func latBucketUpper(i int) int64 {
	if i == 0 {
		return 1024
	}
	n := (i-1)/4 + 11
	sub := int64((i - 1) % 4)
	return (5 + sub) << (n - 3)
}

func (h *latencyHist) observe(d time.Duration) { h.b[latBucket(int64(d))].Add(1) }

func (h *latencyHist) reset() {
	for i := range h.b {
		h.b[i].Store(0)
	}
}

// counts copies the buckets and returns their total.
func (h *latencyHist) counts() (c [latHistBuckets]uint64, total uint64) {
	for i := range h.b {
		c[i] = h.b[i].Load()
		total += c[i]
	}
	return c, total
}

// percentileUsec is the upper bound, in microseconds, of the bucket holding
// the p-th percentile call (HdrHistogram's "highest equivalent value").
func percentileUsec(c *[latHistBuckets]uint64, total uint64, p float64) float64 {
	if total == 0 {
		return 0
	}
	rank := uint64(p/100*float64(total) + 0.5)
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, n := range c {
		seen += n
		if seen >= rank {
			return float64(latBucketUpper(i)) / 1000
		}
	}
	return float64(latBucketUpper(latHistBuckets-1)) / 1000
}

// observe records one executed call. It runs after every handler, so it
// stays cheap: the slow log, the latency monitor and MONITOR cost only a
// comparison or an atomic load unless they have something to do.
func (s *Server) observe(c *client, cmd *command, argv [][]byte, d time.Duration) {
	cmd.stats.hist.observe(d)
	if s.monitors.n.Load() != 0 && !cmd.has(flagSkipMonitor|flagAdmin) {
		s.monitors.feed(c, argv)
	}
	cfg := s.Config()
	us := d.Microseconds()
	if t := cfg.SlowlogLogSlowerThan; t >= 0 && us >= t && !cmd.has(flagSkipSlowlog) {
		s.slowlog.push(c, argv, us, cfg.SlowlogMaxLen)
	}
	if t := cfg.LatencyMonitorThreshold; t > 0 && us/1000 >= t {
		event := "command"
		if cmd.has(flagFast) {
			event = "fast-command"
		}
		s.latency.add(event, us/1000)
	}
}

// infoLatencystats is INFO latencystats:
// latency_percentiles_usec_<cmd>:p50=…,p99=…,p99.9=… for every row that ran.
func (s *Server) infoLatencystats(b *infoBuilder) {
	if !s.Config().LatencyTracking {
		return
	}
	for _, cmd := range s.allRowsSorted() {
		c, total := cmd.stats.hist.counts()
		if total == 0 {
			continue
		}
		b.field("latency_percentiles_usec_"+cmd.fullName, fmt.Sprintf("p50=%.3f,p99=%.3f,p99.9=%.3f",
			percentileUsec(&c, total, 50), percentileUsec(&c, total, 99), percentileUsec(&c, total, 99.9)))
	}
}

// allRowsSorted is every row and subcommand row, by full name.
func (s *Server) allRowsSorted() []*command {
	var rows []*command
	for _, cmd := range s.table.sorted {
		rows = append(rows, cmd)
		rows = append(rows, cmd.subs...)
	}
	slices.SortFunc(rows, func(x, y *command) int { return strings.Compare(x.fullName, y.fullName) })
	return rows
}

// MetricsBounds are the upper bounds, in seconds, of the buckets Prometheus
// sees: every fourth internal boundary, 2^10 ns … 2^36 ns.
func MetricsBounds() []float64 {
	var out []float64
	for i := 0; i < latHistBuckets-1; i += 4 {
		out = append(out, float64(latBucketUpper(i))/1e9)
	}
	return out
}

// CommandMetrics are one command row's counters.
type CommandMetrics struct {
	Name          string // Redis's full name: "get", "config|get"
	Calls         int64
	Usec          int64
	RejectedCalls int64
	FailedCalls   int64
	// Buckets are cumulative counts at MetricsBounds; Count is the number
	// of observations (the +Inf bucket) and SumSeconds their total.
	Buckets    []uint64
	Count      uint64
	SumSeconds float64
}

// DBMetrics are one database's sizes.
type DBMetrics struct {
	Index   int
	Keys    int64
	Expires int64
}

// MetricsSnapshot is every counter the metrics endpoint exports, read at
// scrape time.
type MetricsSnapshot struct {
	UptimeSeconds       float64
	ConnectedClients    int64
	BlockedClients      int64
	LoopClients         int64 // clients an event loop serves now (netloop_linux.go)
	UsedMemory          int64
	MaxMemory           int64
	CommandsProcessed   int64
	ConnectionsReceived int64
	RejectedConnections int64
	NetInputBytes       int64
	NetOutputBytes      int64
	KeyspaceHits        int64
	KeyspaceMisses      int64
	ExpiredKeys         int64
	EvictedKeys         int64
	SlowlogLength       int64
	SlowlogLastID       int64
	Commands            []CommandMetrics // rows that have run, by name
	Errors              map[string]int64 // errorstats: error code → count
	DBs                 []DBMetrics      // every database, empty ones too
	// RateLimit are the rate-limit decisions per command and result
	// ("allowed", "limited"), zeros included.
	RateLimit []RateLimitMetrics
	// KeyPrefixes are the metrics-key-prefixes counters, in configured
	// order (observe.go).
	KeyPrefixes []store.PrefixStats
	// LockWaits is the histogram of waits for shard locks found held.
	LockWaits store.LockWaits
}

// RateLimitMetrics is one rate-limit decision counter.
type RateLimitMetrics struct {
	Cmd, Result string
	Count       int64
}

// Metrics reads the counters now. It takes no lock a command holds for
// long: the client map and error map briefly, nothing else.
func (s *Server) Metrics() MetricsSnapshot {
	st := s.store.Stats()
	s.clientsMu.Lock()
	nClients := len(s.clients)
	nLoop := 0
	for _, c := range s.clients {
		if c.loopServed() {
			nLoop++
		}
	}
	s.clientsMu.Unlock()
	blocked, _, _ := s.blocking.counts()
	m := MetricsSnapshot{
		UptimeSeconds:       time.Since(s.started).Seconds(),
		ConnectedClients:    int64(nClients),
		BlockedClients:      int64(blocked),
		LoopClients:         int64(nLoop),
		UsedMemory:          s.usedMemory(),
		MaxMemory:           s.Config().Maxmemory,
		CommandsProcessed:   s.stats.commandsProcessed.Load(),
		ConnectionsReceived: s.stats.connectionsReceived.Load(),
		RejectedConnections: s.stats.rejectedConnections.Load(),
		NetInputBytes:       s.stats.netInputBytes.Load(),
		NetOutputBytes:      s.stats.netOutputBytes.Load(),
		KeyspaceHits:        st.KeyspaceHits,
		KeyspaceMisses:      st.KeyspaceMisses,
		ExpiredKeys:         st.ExpiredKeys,
		EvictedKeys:         st.EvictedKeys,
		Errors:              make(map[string]int64),
	}
	m.SlowlogLength, m.SlowlogLastID = s.slowlog.stats()
	m.KeyPrefixes = s.store.KeyPrefixStats()
	m.LockWaits = s.store.LockWaits()
	for _, d := range s.rlStats.Decisions() {
		m.RateLimit = append(m.RateLimit, RateLimitMetrics{Cmd: d.Cmd, Result: d.Result, Count: d.Count})
	}
	for _, cmd := range s.allRowsSorted() {
		cm := CommandMetrics{
			Name:          cmd.fullName,
			Calls:         cmd.stats.calls.Load(),
			Usec:          cmd.stats.usec.Load(),
			RejectedCalls: cmd.stats.rejectedCalls.Load(),
			FailedCalls:   cmd.stats.failedCalls.Load(),
		}
		c, total := cmd.stats.hist.counts()
		if cm.Calls == 0 && cm.RejectedCalls == 0 && cm.FailedCalls == 0 && total == 0 {
			continue
		}
		cm.Count = total
		cm.SumSeconds = float64(cm.Usec) / 1e6
		var cum uint64
		for i, n := range c {
			cum += n
			if i%4 == 0 && i < latHistBuckets-1 {
				cm.Buckets = append(cm.Buckets, cum)
			}
		}
		m.Commands = append(m.Commands, cm)
	}
	s.stats.errMu.Lock()
	for code, n := range s.stats.errorStats {
		m.Errors[code] = n
	}
	s.stats.errMu.Unlock()
	for i := 0; i < s.store.Databases(); i++ {
		db := s.store.DB(i)
		m.DBs = append(m.DBs, DBMetrics{Index: i, Keys: int64(db.Len()), Expires: int64(db.ExpiresLen())})
	}
	return m
}
