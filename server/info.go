package server

// INFO: Redis 7.0's sections, field names and layout ("# Section" headers,
// "name:value" lines, CRLF, a blank line between sections).

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cachalotdb/cachalot/store"
)

// redisVersionCompat is the Redis version INFO announces: clients gate
// features on it.
const redisVersionCompat = "7.2.4"

// baseUsedMemory is the fixed part of used_memory: what an empty Redis
// reports at startup (used_memory_startup), so the figure stays in the
// range tools expect.
const baseUsedMemory = 876_000

// metricSamples is Redis's STATS_METRIC_SAMPLES: instantaneous figures are
// the mean of the last 16 samples, taken every 100 ms.
const (
	metricSamples  = 16
	metricInterval = 100 * time.Millisecond
)

// runID is the 40-hex-digit id of this process (run_id), fixed for its life.
var runID = newHexID()

func newHexID() string {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; fall back to
		// the clock so the id is still unlikely to repeat.
		now := time.Now().UnixNano()
		for i := range b {
			b[i] = byte(now >> (8 * (i % 8)))
		}
	}
	return hex.EncodeToString(b[:])
}

// metricRing is one instantaneous metric: a rate per second sampled every
// metricInterval, as Redis's trackInstantaneousMetric.
type metricRing struct {
	samples   [metricSamples]int64
	idx       int
	lastCount int64
}

func (r *metricRing) track(count int64, elapsedMs int64) {
	rate := int64(0)
	if elapsedMs > 0 {
		rate = (count - r.lastCount) * 1000 / elapsedMs
	}
	r.samples[r.idx] = rate
	r.idx = (r.idx + 1) % metricSamples
	r.lastCount = count
}

func (r *metricRing) mean() int64 {
	var sum int64
	for _, v := range r.samples {
		sum += v
	}
	return sum / metricSamples
}

// infoState holds what INFO reports that no other part of the server keeps:
// the instantaneous-rate samples, the memory peak and the replication id.
type infoState struct {
	mu         sync.Mutex
	lastSample time.Time
	ops        metricRing
	netIn      metricRing
	netOut     metricRing

	peakMemory atomic.Int64

	replMu sync.Mutex
	replID string
}

// sampleMetrics records one sample of the instantaneous metrics when at
// least metricInterval has passed since the last, and tracks the memory
// peak. RunBackground calls it every tick.
func (s *Server) sampleMetrics(now time.Time) {
	s.trackPeakMemory()
	st := &s.info
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.lastSample.IsZero() {
		st.lastSample = now
		st.ops.lastCount = s.stats.commandsProcessed.Load()
		st.netIn.lastCount = s.stats.netInputBytes.Load()
		st.netOut.lastCount = s.stats.netOutputBytes.Load()
		return
	}
	elapsed := now.Sub(st.lastSample)
	if elapsed < metricInterval {
		return
	}
	ms := elapsed.Milliseconds()
	st.ops.track(s.stats.commandsProcessed.Load(), ms)
	st.netIn.track(s.stats.netInputBytes.Load(), ms)
	st.netOut.track(s.stats.netOutputBytes.Load(), ms)
	st.lastSample = now
}

// resetMetrics forgets the samples and the peak (CONFIG RESETSTAT).
func (s *Server) resetMetrics() {
	st := &s.info
	st.mu.Lock()
	st.ops, st.netIn, st.netOut = metricRing{}, metricRing{}, metricRing{}
	st.lastSample = time.Time{}
	st.mu.Unlock()
	st.peakMemory.Store(0)
}

func (s *Server) instantaneous() (ops, inBytes, outBytes int64) {
	st := &s.info
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.ops.mean(), st.netIn.mean(), st.netOut.mean()
}

// usedMemory is INFO's used_memory: the store's accounted bytes plus the
// fixed base.
func (s *Server) usedMemory() int64 { return baseUsedMemory + s.store.UsedBytes() }

func (s *Server) trackPeakMemory() int64 {
	used := s.usedMemory()
	for {
		peak := s.info.peakMemory.Load()
		if used <= peak {
			return peak
		}
		if s.info.peakMemory.CompareAndSwap(peak, used) {
			return used
		}
	}
}

// replicationID is master_replid; DEBUG CHANGE-REPL-ID replaces it.
func (s *Server) replicationID() string {
	st := &s.info
	st.replMu.Lock()
	defer st.replMu.Unlock()
	if st.replID == "" {
		st.replID = newHexID()
	}
	return st.replID
}

func (s *Server) changeReplicationID() {
	st := &s.info
	st.replMu.Lock()
	st.replID = newHexID()
	st.replMu.Unlock()
}

// infoSections lists every section in the order Redis prints them, and
// whether INFO / INFO default includes it.
var infoSections = []struct {
	name      string
	title     string
	isDefault bool
	gen       func(s *Server, b *infoBuilder)
}{
	{"server", "Server", true, (*Server).infoServer},
	{"clients", "Clients", true, (*Server).infoClients},
	{"memory", "Memory", true, (*Server).infoMemory},
	{"persistence", "Persistence", true, (*Server).infoPersistence},
	{"stats", "Stats", true, (*Server).infoStats},
	{"replication", "Replication", true, (*Server).infoReplication},
	{"cpu", "CPU", true, (*Server).infoCPU},
	{"modules", "Modules", true, func(*Server, *infoBuilder) {}},
	{"commandstats", "Commandstats", false, (*Server).infoCommandstats},
	{"errorstats", "Errorstats", true, (*Server).infoErrorstats},
	{"latencystats", "Latencystats", false, (*Server).infoLatencystats},
	{"cluster", "Cluster", true, func(_ *Server, b *infoBuilder) { b.field("cluster_enabled", "0") }},
	{"keyspace", "Keyspace", true, (*Server).infoKeyspace},
}

// infoBuilder accumulates "name:value\r\n" lines.
type infoBuilder struct{ strings.Builder }

func (b *infoBuilder) field(name, value string) {
	b.WriteString(name)
	b.WriteByte(':')
	b.WriteString(value)
	b.WriteString("\r\n")
}

func (b *infoBuilder) int(name string, v int64) { b.field(name, strconv.FormatInt(v, 10)) }

// selectInfoSections applies Redis 7's argument rules: no argument is
// "default"; "all" is every section; "everything" too (cachalot has no
// module sections); other names pick one section each, case-insensitively;
// unknown names add nothing.
func selectInfoSections(args [][]byte) map[string]bool {
	want := make(map[string]bool)
	addDefault := func() {
		for _, sec := range infoSections {
			if sec.isDefault {
				want[sec.name] = true
			}
		}
	}
	if len(args) == 0 {
		addDefault()
		return want
	}
	for _, a := range args {
		name := strings.ToLower(string(a))
		switch name {
		case "all", "everything":
			for _, sec := range infoSections {
				want[sec.name] = true
			}
		case "default":
			addDefault()
		default:
			want[name] = true
		}
	}
	return want
}

// infoString renders the chosen sections.
func (s *Server) infoString(want map[string]bool) string {
	var b infoBuilder
	n := 0
	for _, sec := range infoSections {
		if !want[sec.name] {
			continue
		}
		if n > 0 {
			b.WriteString("\r\n")
		}
		n++
		b.WriteString("# ")
		b.WriteString(sec.title)
		b.WriteString("\r\n")
		sec.gen(s, &b)
	}
	return b.String()
}

func cmdInfo(c *client, _ *store.Tx, argv [][]byte) error {
	text := c.srv.infoString(selectInfoSections(argv[1:]))
	c.w.Verbatim("txt", text)
	return nil
}

func (s *Server) infoServer(b *infoBuilder) {
	cfg := s.Config()
	now := time.Now()
	uptime := int64(now.Sub(s.started) / time.Second)
	b.field("redis_version", redisVersionCompat)
	b.field("cachalot_version", firstNonEmpty(s.version, "(devel)"))
	b.field("redis_git_sha1", "00000000")
	b.field("redis_git_dirty", "0")
	b.field("redis_build_id", "0")
	b.field("redis_mode", "standalone")
	b.field("os", osName())
	b.int("arch_bits", strconv.IntSize)
	b.field("monotonic_clock", "POSIX clock_gettime")
	b.field("multiplexing_api", "go netpoll")
	b.field("atomicvar_api", "c11-builtin")
	b.field("go_version", runtime.Version())
	b.int("process_id", int64(os.Getpid()))
	b.field("process_supervised", "no")
	b.field("run_id", runID)
	b.int("tcp_port", int64(cfg.Port))
	b.int("server_time_usec", now.UnixMicro())
	b.int("uptime_in_seconds", uptime)
	b.int("uptime_in_days", uptime/86400)
	b.int("hz", int64(effectiveHz(cfg.Hz)))
	b.int("configured_hz", int64(cfg.Hz))
	b.int("lru_clock", now.Unix()&lruClockMax)
	exe, _ := os.Executable()
	b.field("executable", exe)
	b.field("config_file", s.configFilePath())
	b.field("io_threads_active", "0")
}

// lruClockMax is Redis's LRU_CLOCK_MAX: the LRU clock is 24 bits of seconds.
const lruClockMax = 1<<24 - 1

// effectiveHz is the hz the background loop runs at.
func effectiveHz(hz int) int {
	if hz < 1 {
		return 10
	}
	return hz
}

// configFilePath is the absolute path of the configuration file, or "".
func (s *Server) configFilePath() string {
	if s.configFile == "" {
		return ""
	}
	if abs, err := filepath.Abs(s.configFile); err == nil {
		return abs
	}
	return s.configFile
}

// osName mirrors Redis's "sysname release machine" from uname(2).
func osName() string {
	sys := strings.ToUpper(runtime.GOOS[:1]) + runtime.GOOS[1:]
	machine := runtime.GOARCH
	switch machine {
	case "amd64":
		machine = "x86_64"
	case "arm64":
		machine = "aarch64"
	case "386":
		machine = "i686"
	}
	release := ""
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		release = strings.TrimSpace(string(data))
	}
	if release == "" {
		return sys + " " + machine
	}
	return sys + " " + release + " " + machine
}

func (s *Server) infoClients(b *infoBuilder) {
	s.clientsMu.Lock()
	n := len(s.clients)
	s.clientsMu.Unlock()
	b.int("connected_clients", int64(n))
	b.field("cluster_connections", "0")
	b.int("maxclients", int64(s.Config().Maxclients))
	b.field("client_recent_max_input_buffer", "0")
	b.field("client_recent_max_output_buffer", "0")
	blocked, inTimeout, _ := s.blocking.counts()
	b.int("blocked_clients", int64(blocked))
	b.int("tracking_clients", int64(s.tracking().n.Load()))
	b.int("clients_in_timeout_table", int64(inTimeout))
}

// bytesToHuman formats a byte count as Redis's bytesToHuman does.
func bytesToHuman(n int64) string {
	units := []struct {
		size   float64
		suffix string
	}{{1 << 50, "P"}, {1 << 40, "T"}, {1 << 30, "G"}, {1 << 20, "M"}, {1 << 10, "K"}}
	if n < 1024 {
		return strconv.FormatInt(n, 10) + "B"
	}
	for _, u := range units {
		if float64(n) >= u.size {
			return fmt.Sprintf("%.2f%s", float64(n)/u.size, u.suffix)
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// residentBytes is the process's resident set size from /proc/self/statm,
// 0 where that file does not exist.
func residentBytes() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(data))
	if len(fields) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}

// totalSystemMemory reads MemTotal from /proc/meminfo, 0 when unknown.
func totalSystemMemory() int64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				if err == nil {
					return kb * 1024
				}
			}
		}
	}
	return 0
}

// goMetrics are the Go runtime figures INFO memory appends, named go_*.
var goMetrics = []struct{ field, metric string }{
	{"go_heap_alloc_bytes", "/memory/classes/heap/objects:bytes"},
	{"go_heap_objects", "/gc/heap/objects:objects"},
	{"go_heap_goal_bytes", "/gc/heap/goal:bytes"},
	{"go_total_alloc_bytes", "/gc/heap/allocs:bytes"},
	{"go_sys_bytes", "/memory/classes/total:bytes"},
	{"go_gc_cycles", "/gc/cycles/total:gc-cycles"},
	{"go_goroutines", "/sched/goroutines:goroutines"},
}

func (s *Server) infoMemory(b *infoBuilder) {
	cfg := s.Config()
	used := s.usedMemory()
	peak := s.trackPeakMemory()
	rss := residentBytes()
	dataset := used - baseUsedMemory
	b.int("used_memory", used)
	b.field("used_memory_human", bytesToHuman(used))
	b.int("used_memory_rss", rss)
	b.field("used_memory_rss_human", bytesToHuman(rss))
	b.int("used_memory_peak", peak)
	b.field("used_memory_peak_human", bytesToHuman(peak))
	b.field("used_memory_peak_perc", fmt.Sprintf("%.2f%%", percent(used, peak)))
	b.int("used_memory_overhead", baseUsedMemory)
	b.int("used_memory_startup", baseUsedMemory)
	b.int("used_memory_dataset", dataset)
	b.field("used_memory_dataset_perc", fmt.Sprintf("%.2f%%", percent(dataset, used)))
	total := totalSystemMemory()
	b.int("total_system_memory", total)
	b.field("total_system_memory_human", bytesToHuman(total))
	b.int("maxmemory", cfg.Maxmemory)
	b.field("maxmemory_human", bytesToHuman(cfg.Maxmemory))
	b.field("maxmemory_policy", cfg.MaxmemoryPolicy)
	ratio := 0.0
	if used > 0 {
		ratio = float64(rss) / float64(used)
	}
	b.field("mem_fragmentation_ratio", fmt.Sprintf("%.2f", ratio))
	b.int("mem_fragmentation_bytes", rss-used)
	b.field("mem_not_counted_for_evict", "0")
	b.field("mem_replication_backlog", "0")
	b.field("mem_clients_slaves", "0")
	b.field("mem_clients_normal", "0")
	b.field("mem_aof_buffer", "0")
	b.field("mem_allocator", "go")
	b.field("active_defrag_running", "0")
	b.field("lazyfree_pending_objects", "0")
	b.field("lazyfreed_objects", "0")

	samples := make([]metrics.Sample, len(goMetrics))
	for i, m := range goMetrics {
		samples[i].Name = m.metric
	}
	metrics.Read(samples)
	for i, m := range goMetrics {
		switch samples[i].Value.Kind() {
		case metrics.KindUint64:
			b.field(m.field, strconv.FormatUint(samples[i].Value.Uint64(), 10))
		case metrics.KindFloat64:
			b.field(m.field, strconv.FormatFloat(samples[i].Value.Float64(), 'f', -1, 64))
		}
	}
}

func percent(part, whole int64) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part) * 100 / float64(whole)
}

func (s *Server) infoPersistence(b *infoBuilder) {
	loading := "0"
	if s.aof.loading.Load() {
		loading = "1"
	}
	aofFields, aofExtra := s.aofInfo() // aof.go
	for _, f := range [][2]string{
		{"loading", loading}, {"async_loading", "0"},
		{"current_cow_peak", "0"}, {"current_cow_size", "0"}, {"current_cow_size_age", "0"},
		{"current_fork_perc", "0.00"}, {"current_save_keys_processed", "0"}, {"current_save_keys_total", "0"},
		{"rdb_changes_since_last_save", "0"}, {"rdb_bgsave_in_progress", "0"},
		{"rdb_last_save_time", strconv.FormatInt(s.lastSave.Load(), 10)},
		{"rdb_last_bgsave_status", "ok"}, {"rdb_last_bgsave_time_sec", "-1"},
		{"rdb_current_bgsave_time_sec", "-1"}, {"rdb_saves", "0"}, {"rdb_last_cow_size", "0"},
		{"rdb_last_load_keys_expired", "0"}, {"rdb_last_load_keys_loaded", "0"},
	} {
		b.field(f[0], f[1])
	}
	for _, f := range aofFields {
		b.field(f[0], f[1])
	}
	for _, f := range [][2]string{
		{"aof_last_cow_size", "0"}, {"module_fork_in_progress", "0"}, {"module_fork_last_cow_size", "0"},
	} {
		b.field(f[0], f[1])
	}
	for _, f := range aofExtra {
		b.field(f[0], f[1])
	}
	if files := s.aof.loadingFiles.Load(); files != nil && s.aof.loading.Load() {
		p := files.LoadProgress()
		b.field("loading_start_time", strconv.FormatInt(p.StartTime.Unix(), 10))
		b.field("loading_total_bytes", strconv.FormatInt(p.TotalBytes, 10))
		b.field("loading_rdb_used_mem", "0")
		b.field("loading_loaded_bytes", strconv.FormatInt(p.LoadedBytes, 10))
		b.field("loading_loaded_perc", strconv.FormatFloat(p.Perc(), 'f', 2, 64))
		b.field("loading_eta_seconds", strconv.FormatInt(p.EtaSeconds(time.Now()), 10))
	}
}

// totalErrorReplies sums errorstats.
func (s *Server) totalErrorReplies() int64 {
	s.stats.errMu.Lock()
	defer s.stats.errMu.Unlock()
	var n int64
	for _, v := range s.stats.errorStats {
		n += v
	}
	return n
}

func (s *Server) infoStats(b *infoBuilder) {
	st := s.store.Stats()
	ops, in, out := s.instantaneous()
	b.int("total_connections_received", s.stats.connectionsReceived.Load())
	b.int("total_commands_processed", s.stats.commandsProcessed.Load())
	b.int("instantaneous_ops_per_sec", ops)
	b.int("total_net_input_bytes", s.stats.netInputBytes.Load())
	b.int("total_net_output_bytes", s.stats.netOutputBytes.Load())
	b.field("total_net_repl_input_bytes", "0")
	b.field("total_net_repl_output_bytes", "0")
	b.field("instantaneous_input_kbps", fmt.Sprintf("%.2f", float64(in)/1024))
	b.field("instantaneous_output_kbps", fmt.Sprintf("%.2f", float64(out)/1024))
	b.field("instantaneous_input_repl_kbps", "0.00")
	b.field("instantaneous_output_repl_kbps", "0.00")
	b.int("rejected_connections", s.stats.rejectedConnections.Load())
	b.field("sync_full", "0")
	b.field("sync_partial_ok", "0")
	b.field("sync_partial_err", "0")
	b.int("expired_keys", st.ExpiredKeys)
	b.field("expired_stale_perc", fmt.Sprintf("%.2f", st.ExpiredStalePerc*100))
	b.int("expired_time_cap_reached_count", st.ExpireTimeCapReached)
	b.int("expire_cycle_cpu_milliseconds", st.ExpireCycleTimeMicros/1000)
	b.int("evicted_keys", st.EvictedKeys)
	b.field("evicted_clients", "0")
	b.field("total_eviction_exceeded_time", "0")
	b.field("current_eviction_exceeded_time", "0")
	b.int("keyspace_hits", st.KeyspaceHits)
	b.int("keyspace_misses", st.KeyspaceMisses)
	pch, ppat, psh, tkeys, titems, tpfx := s.pushInfo() // pubsub.go, tracking.go
	b.int("pubsub_channels", pch)
	b.int("pubsub_patterns", ppat)
	b.int("pubsubshard_channels", psh)
	b.field("latest_fork_usec", "0")
	b.field("total_forks", "0")
	b.field("migrate_cached_sockets", "0")
	b.field("slave_expires_tracked_keys", "0")
	b.field("active_defrag_hits", "0")
	b.field("active_defrag_misses", "0")
	b.field("active_defrag_key_hits", "0")
	b.field("active_defrag_key_misses", "0")
	b.field("total_active_defrag_time", "0")
	b.field("current_active_defrag_time", "0")
	b.int("tracking_total_keys", tkeys)
	b.int("tracking_total_items", titems)
	b.int("tracking_total_prefixes", tpfx)
	b.field("unexpected_error_replies", "0")
	b.int("total_error_replies", s.totalErrorReplies())
	b.field("dump_payload_sanitizations", "0")
}

func (s *Server) infoReplication(b *infoBuilder) {
	b.field("role", "master")
	b.field("connected_slaves", "0")
	b.field("master_failover_state", "no-failover")
	b.field("master_replid", s.replicationID())
	b.field("master_replid2", strings.Repeat("0", 40))
	b.field("master_repl_offset", "0")
	b.field("second_repl_offset", "-1")
	b.field("repl_backlog_active", "0")
	b.field("repl_backlog_size", "1048576")
	b.field("repl_backlog_first_byte_offset", "0")
	b.field("repl_backlog_histlen", "0")
}

func (s *Server) infoCPU(b *infoBuilder) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		ru = syscall.Rusage{}
	}
	tv := func(t syscall.Timeval) string {
		return fmt.Sprintf("%d.%06d", int64(t.Sec), int64(t.Usec))
	}
	b.field("used_cpu_sys", tv(ru.Stime))
	b.field("used_cpu_user", tv(ru.Utime))
	b.field("used_cpu_sys_children", "0.000000")
	b.field("used_cpu_user_children", "0.000000")
}

// infoCommandstats prints every command and subcommand that was called,
// rejected or failed, by full name.
func (s *Server) infoCommandstats(b *infoBuilder) {
	var rows []*command
	for _, cmd := range s.table.sorted {
		rows = append(rows, cmd)
		rows = append(rows, cmd.subs...)
	}
	slices.SortFunc(rows, func(x, y *command) int { return strings.Compare(x.fullName, y.fullName) })
	for _, cmd := range rows {
		calls := cmd.stats.calls.Load()
		usec := cmd.stats.usec.Load()
		rejected := cmd.stats.rejectedCalls.Load()
		failed := cmd.stats.failedCalls.Load()
		if calls == 0 && rejected == 0 && failed == 0 {
			continue
		}
		perCall := 0.0
		if calls > 0 {
			perCall = float64(usec) / float64(calls)
		}
		b.field("cmdstat_"+cmd.fullName, fmt.Sprintf("calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d",
			calls, usec, perCall, rejected, failed))
	}
}

func (s *Server) infoErrorstats(b *infoBuilder) {
	s.stats.errMu.Lock()
	codes := make([]string, 0, len(s.stats.errorStats))
	counts := make(map[string]int64, len(s.stats.errorStats))
	for code, n := range s.stats.errorStats {
		codes = append(codes, code)
		counts[code] = n
	}
	s.stats.errMu.Unlock()
	slices.Sort(codes)
	for _, code := range codes {
		b.field("errorstat_"+code, "count="+strconv.FormatInt(counts[code], 10))
	}
}

func (s *Server) infoKeyspace(b *infoBuilder) {
	for i := 0; i < s.store.Databases(); i++ {
		db := s.store.DB(i)
		keys := db.Len()
		if keys == 0 {
			continue
		}
		b.field("db"+strconv.Itoa(i), fmt.Sprintf("keys=%d,expires=%d,avg_ttl=%d", keys, db.ExpiresLen(), db.AvgTTL()))
	}
}

// resetStats zeroes everything CONFIG RESETSTAT resets: the server's
// counters, every command's counters, the error counts, the store's
// counters, the instantaneous samples and the memory peak.
func (s *Server) resetStats() {
	s.stats.connectionsReceived.Store(0)
	s.stats.rejectedConnections.Store(0)
	s.stats.commandsProcessed.Store(0)
	s.stats.netInputBytes.Store(0)
	s.stats.netOutputBytes.Store(0)
	s.stats.unexpectedErrors.Store(0)
	s.stats.errMu.Lock()
	s.stats.errorStats = make(map[string]int64)
	s.stats.errMu.Unlock()
	for _, cmd := range s.table.sorted {
		resetCmdStats(cmd)
		for _, sub := range cmd.subs {
			resetCmdStats(sub)
		}
	}
	s.store.ResetStats()
	s.resetMetrics()
}

func resetCmdStats(cmd *command) {
	cmd.stats.calls.Store(0)
	cmd.stats.usec.Store(0)
	cmd.stats.rejectedCalls.Store(0)
	cmd.stats.failedCalls.Store(0)
	cmd.stats.hist.reset()
}
