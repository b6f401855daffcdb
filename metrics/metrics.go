// Package metrics publishes cachalot's counters to Prometheus under the names
// redis_exporter uses for the same facts, plus cachalot_* series of its own.
// The collector reads the server's counters at scrape time; nothing here
// runs per command.
package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cachalotdb/cachalot/server"
	"github.com/cachalotdb/cachalot/store"
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

var (
	descUp            = desc("redis_up", "1 when the server answers.")
	descUptime        = desc("redis_uptime_in_seconds", "Seconds since the server started.")
	descClients       = desc("redis_connected_clients", "Client connections open now.")
	descBlocked       = desc("redis_blocked_clients", "Clients waiting in a blocking command.")
	descLoopClients   = desc("cachalot_event_loop_clients", "Clients an event loop serves now; the others have a goroutine each (TLS, unix socket, blocking, pub/sub, tracking, scripts).")
	descMemUsed       = desc("redis_memory_used_bytes", "Memory the keyspace accounts for, as INFO used_memory.")
	descMemMax        = desc("redis_memory_max_bytes", "The maxmemory setting; 0 means no limit.")
	descCmdsProcessed = desc("redis_commands_processed_total", "Commands received, as INFO total_commands_processed.")
	descCmdCalls      = desc("redis_commands_total", "Calls per command, as INFO commandstats calls.", "cmd")
	descCmdDuration   = desc("redis_commands_duration_seconds_total", "Time spent per command, as INFO commandstats usec.", "cmd")
	descCmdRejected   = desc("redis_commands_rejected_calls_total", "Calls refused before running, per command.", "cmd")
	descCmdFailed     = desc("redis_commands_failed_calls_total", "Calls that ran and failed, per command.", "cmd")
	descHits          = desc("redis_keyspace_hits_total", "Successful key lookups.")
	descMisses        = desc("redis_keyspace_misses_total", "Failed key lookups.")
	descEvicted       = desc("redis_evicted_keys_total", "Keys evicted because of maxmemory.")
	descExpired       = desc("redis_expired_keys_total", "Keys removed because their TTL passed.")
	descDBKeys        = desc("redis_db_keys", "Keys per database.", "db")
	descDBExpiring    = desc("redis_db_keys_expiring", "Keys with a TTL per database.", "db")
	descNetIn         = desc("redis_net_input_bytes_total", "Bytes read from clients.")
	descNetOut        = desc("redis_net_output_bytes_total", "Bytes written to clients.")
	descConnsReceived = desc("redis_connections_received_total", "Connections accepted.")
	descConnsRejected = desc("redis_rejected_connections_total", "Connections refused because of maxclients.")
	descErrors        = desc("redis_errors_total", "Error replies by error code, as INFO errorstats.", "err")
	descSlowlogLen    = desc("redis_slowlog_length", "Entries in the slow log.")
	descSlowlogLastID = desc("redis_slowlog_last_id", "Id the next slow log entry gets.")
	descCmdHistogram  = desc("cachalot_command_duration_seconds", "Call durations per command.", "cmd")
	descRatelimit     = desc("cachalot_ratelimit_decisions_total", "Rate-limit decisions per command and result.", "cmd", "result")
	descPrefixHits    = desc("cachalot_keyspace_prefix_hits_total", "Successful key lookups per configured key prefix (metrics-key-prefixes).", "prefix")
	descPrefixMisses  = desc("cachalot_keyspace_prefix_misses_total", "Failed key lookups per configured key prefix (metrics-key-prefixes).", "prefix")
	descPrefixEvicted = desc("cachalot_evicted_keys_prefix_total", "Keys evicted because of maxmemory per configured key prefix (metrics-key-prefixes).", "prefix")
	descLockWait      = desc("cachalot_shard_lock_wait_seconds", "Time commands waited for a shard lock that was held when they asked (uncontended acquisitions are not observed).")
)

// Collector turns a server's counters into const metrics at scrape time.
type Collector struct {
	srv    *server.Server
	bounds []float64
}

// NewCollector collects srv's metrics.
func NewCollector(srv *server.Server) *Collector {
	return &Collector{srv: srv, bounds: server.MetricsBounds()}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUp, descUptime, descClients, descBlocked, descLoopClients, descMemUsed, descMemMax,
		descCmdsProcessed, descCmdCalls, descCmdDuration, descCmdRejected, descCmdFailed, descHits, descMisses,
		descEvicted, descExpired, descDBKeys, descDBExpiring, descNetIn, descNetOut, descConnsReceived,
		descConnsRejected, descErrors, descSlowlogLen, descSlowlogLastID, descCmdHistogram, descRatelimit,
		descPrefixHits, descPrefixMisses, descPrefixEvicted, descLockWait} {
		ch <- d
	}
	for _, d := range aofDescs { // aof.go
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	m := c.srv.Metrics()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge(descUp, 1)
	collectAOF(ch, c.srv.AOFMetrics()) // aof.go
	gauge(descUptime, m.UptimeSeconds)
	gauge(descClients, float64(m.ConnectedClients))
	gauge(descBlocked, float64(m.BlockedClients))
	gauge(descLoopClients, float64(m.LoopClients))
	gauge(descMemUsed, float64(m.UsedMemory))
	gauge(descMemMax, float64(m.MaxMemory))
	counter(descCmdsProcessed, float64(m.CommandsProcessed))
	counter(descHits, float64(m.KeyspaceHits))
	counter(descMisses, float64(m.KeyspaceMisses))
	counter(descEvicted, float64(m.EvictedKeys))
	counter(descExpired, float64(m.ExpiredKeys))
	counter(descNetIn, float64(m.NetInputBytes))
	counter(descNetOut, float64(m.NetOutputBytes))
	counter(descConnsReceived, float64(m.ConnectionsReceived))
	counter(descConnsRejected, float64(m.RejectedConnections))
	gauge(descSlowlogLen, float64(m.SlowlogLength))
	gauge(descSlowlogLastID, float64(m.SlowlogLastID))
	for _, cm := range m.Commands {
		counter(descCmdCalls, float64(cm.Calls), cm.Name)
		counter(descCmdDuration, float64(cm.Usec)/1e6, cm.Name)
		counter(descCmdRejected, float64(cm.RejectedCalls), cm.Name)
		counter(descCmdFailed, float64(cm.FailedCalls), cm.Name)
		if cm.Count > 0 {
			buckets := make(map[float64]uint64, len(c.bounds))
			for i, b := range c.bounds {
				buckets[b] = cm.Buckets[i]
			}
			ch <- prometheus.MustNewConstHistogram(descCmdHistogram, cm.Count, cm.SumSeconds, buckets, cm.Name)
		}
	}
	for _, rl := range m.RateLimit {
		counter(descRatelimit, float64(rl.Count), rl.Cmd, rl.Result)
	}
	for _, p := range m.KeyPrefixes {
		counter(descPrefixHits, float64(p.Hits), p.Prefix)
		counter(descPrefixMisses, float64(p.Misses), p.Prefix)
		counter(descPrefixEvicted, float64(p.Evicted), p.Prefix)
	}
	lockBuckets := make(map[float64]uint64, store.LockWaitBuckets)
	var lockCount uint64
	for i, n := range m.LockWaits.Counts {
		lockCount += n
		if i < store.LockWaitBuckets {
			lockBuckets[store.LockWaitBound(i).Seconds()] = lockCount
		}
	}
	ch <- prometheus.MustNewConstHistogram(descLockWait, lockCount, m.LockWaits.Sum.Seconds(), lockBuckets)
	for code, n := range m.Errors {
		counter(descErrors, float64(n), code)
	}
	for _, db := range m.DBs {
		name := "db" + strconv.Itoa(db.Index)
		gauge(descDBKeys, float64(db.Keys), name)
		gauge(descDBExpiring, float64(db.Expires), name)
	}
}

// NewRegistry is a private registry with the Go runtime and process
// collectors and srv's collector.
func NewRegistry(srv *server.Server) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		NewCollector(srv),
	)
	return reg
}

// Handler serves reg in the Prometheus text (or negotiated) format.
func Handler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}

// Serve serves /metrics for srv on addr until ctx ends, then shuts the
// listener down gracefully. A listener that can't be opened is logged and
// the server runs without metrics: the endpoint is an aid, not a
// dependency. It returns when the endpoint has stopped.
func Serve(ctx context.Context, addr string, srv *server.Server, log *slog.Logger) {
	serve(ctx, addr, Handler(NewRegistry(srv)), log)
}

// ServeWithProfiles is Serve plus Go's /debug/pprof/ handlers
// (metrics-pprof yes).
func ServeWithProfiles(ctx context.Context, addr string, srv *server.Server, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", Handler(NewRegistry(srv)))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	serve(ctx, addr, mux, log)
}

func serve(ctx context.Context, addr string, handler http.Handler, log *slog.Logger) {
	if addr == "" {
		return
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Error("metrics endpoint disabled: cannot listen", "addr", addr, "err", err)
		return
	}
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	log.Info("serving metrics", "addr", ln.Addr().String())
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("metrics endpoint failed", "err", err)
	}
	<-done
}
