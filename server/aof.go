package server

// The append-only file, server side. persistence owns the files and the
// group commit; this file loads them at start (clients meanwhile get
// -LOADING), makes each connection wait until its writes are durable before
// its replies leave, refuses writes with -MISCONF while the disk fails, runs
// rewrites through the store's snapshot epochs, and turns persistence on and
// off for CONFIG SET appendonly.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/persistence"
	"github.com/cachalotdb/cachalot/store"
)

// aofState is the server's view of persistence.
type aofState struct {
	files   atomic.Pointer[persistence.AOF] // nil while appendonly is off
	loading atomic.Bool
	// loadingFiles is the AOF being loaded, for INFO's loading_* fields.
	loadingFiles atomic.Pointer[persistence.AOF]

	rewriting atomic.Bool
	mu        sync.Mutex // start, stop and rewrite bookkeeping below
	scheduled bool       // a rewrite asked for while one ran
	last      rewriteOutcome
	rewrites  int64
	failures  int64 // consecutive
	startedAt time.Time
	baseSize  int64 // size after the last rewrite (auto-aof-rewrite-percentage)

	// fs replaces the file system (tests inject disk faults).
	fs persistence.FS

	obs aofObserver // fsync latency and group-commit sizes, for metrics

	// fnMu keeps FUNCTION LOAD/DELETE/FLUSH/RESTORE (read side, from
	// execution to propagation) out of the instant a rewrite copies the
	// libraries and turns the epoch (write side).
	fnMu sync.RWMutex
}

type rewriteOutcome struct {
	ok      bool
	seconds int64 // -1 before the first rewrite
}

var (
	errRewriteRunning = respError("ERR Background append only file rewriting already in progress")
	errRewriteFailed  = respError("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.")
)

func (a *aofState) init() { a.last = rewriteOutcome{ok: true, seconds: -1} }

// SetAOFFileSystem makes persistence use fs instead of the operating
// system's files (fault-injection tests). Call it before StartAOF.
func (s *Server) SetAOFFileSystem(fs persistence.FS) { s.aof.fs = fs }

func (s *Server) aofOptions(cfg *config.Config) persistence.Options {
	fsync, _ := persistence.ParseFsyncPolicy(cfg.Appendfsync)
	return persistence.Options{
		Dir:           cfg.Dir,
		DirName:       cfg.Appenddirname,
		FileName:      cfg.Appendfilename,
		Fsync:         fsync,
		LoadTruncated: cfg.AOFLoadTruncated,
		Logger:        s.log.With("component", "aof"),
		FS:            s.aof.fs,
	}
}

// StartAOF opens the append-only files named by the configuration, replays
// them into the (empty) store and starts logging writes. Clients that
// connect meanwhile get -LOADING. status, when not nil, hears progress lines
// (for the service manager).
func (s *Server) StartAOF(status func(string)) error {
	cfg := s.Config()
	if !cfg.Appendonly {
		return nil
	}
	opts := s.aofOptions(cfg)
	if status != nil {
		opts.OnProgress = func(p persistence.LoadProgress) {
			status(fmt.Sprintf("loading the append-only file: %.0f%% (%d commands)", p.Perc(), p.Commands))
		}
	}
	files, err := persistence.Open(opts)
	if err != nil {
		return fmt.Errorf("open the append-only file: %w", err)
	}
	s.aof.loading.Store(true)
	s.aof.loadingFiles.Store(files)
	s.store.SetLoading(true)
	defer func() {
		s.store.SetLoading(false)
		s.aof.loadingFiles.Store(nil)
	}()
	defer s.aof.loading.Store(false)
	start := time.Now()
	loader := s.newLoaderClient()
	stats, err := files.Load(func(argv [][]byte) error { return s.replay(loader, argv) })
	if err != nil {
		files.Close()
		return fmt.Errorf("load the append-only file: %w", err)
	}
	s.log.Debug("append-only file replayed", "seconds", time.Since(start).Seconds(), "files", stats.Files)
	if status != nil {
		status(fmt.Sprintf("loaded %d commands from the append-only file", stats.Commands))
	}
	s.aof.mu.Lock()
	s.aof.baseSize = files.Info().CurrentSize
	s.aof.mu.Unlock()
	s.installAOF(files)
	return nil
}

// installAOF makes files the sink of every write (nil stops logging).
func (s *Server) installAOF(files *persistence.AOF) {
	s.aof.files.Store(files)
	if files == nil {
		s.SetAOFSink(nil)
		return
	}
	files.SetObserver(&s.aof.obs)
	s.SetAOFSink(files)
}

// CloseAOF flushes, fsyncs and closes the append-only file (shutdown,
// SHUTDOWN NOSAVE included: what was acknowledged reaches the disk).
func (s *Server) CloseAOF() error {
	s.waitRewrite()
	files := s.aof.files.Swap(nil)
	if files == nil {
		return nil
	}
	s.SetAOFSink(nil)
	return files.Close()
}

// newLoaderClient is the connection-less client the loader replays with.
func (s *Server) newLoaderClient() *client {
	c := &client{srv: s, db: s.store.DB(0), authenticated: true, id: -1, fd: -1}
	c.w.proto = 2
	c.proto = 2
	return c
}

// replay applies one command read from the file, as Redis's
// loadSingleAppendOnlyFile does: SELECT switches the database, MULTI and
// EXEC are markers (the loader drops an unfinished block), an unknown
// command stops the load, and a command's error reply is ignored.
func (s *Server) replay(c *client, argv [][]byte) error {
	if len(argv) == 0 {
		return nil
	}
	switch {
	case equalFold(argv[0], "select"):
		n, ok := parseIntArg(argv, 1)
		if !ok || n < 0 || int(n) >= s.store.Databases() {
			return fmt.Errorf("bad SELECT %q in the append-only file", argvString(argv))
		}
		c.db = s.store.DB(int(n))
		return nil
	case equalFold(argv[0], "multi"), equalFold(argv[0], "exec"):
		return nil
	}
	cmd := s.table.lookup(argv[0])
	if cmd != nil && cmd.subIndex != nil && len(argv) >= 2 {
		cmd = cmd.subLookup(argv[1])
	}
	if cmd == nil {
		return fmt.Errorf("unknown command '%s' reading the append only file", argv[0])
	}
	if (cmd.arity > 0 && len(argv) != cmd.arity) || len(argv) < -cmd.arity {
		return fmt.Errorf("wrong number of arguments for '%s' reading the append only file", cmd.fullName)
	}
	err := s.execute(c, cmd, argv)
	if _, blocked := err.(*blockRequest); blocked {
		err = nil // propagation never logs a blocking form; nothing to apply
	}
	c.w.Truncate(0) // replies go nowhere
	return nil
}

func parseIntArg(argv [][]byte, i int) (int64, bool) {
	if i >= len(argv) {
		return 0, false
	}
	var n int64
	for j, ch := range argv[i] {
		if ch < '0' || ch > '9' || j > 18 {
			return 0, false
		}
		n = n*10 + int64(ch-'0')
	}
	return n, len(argv[i]) > 0
}

func argvString(argv [][]byte) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		parts[i] = string(a)
	}
	return strings.Join(parts, " ")
}

// checkLoadingAndDisk refuses, in Redis's order, commands that cannot run
// while the AOF loads and writes while the AOF cannot be written.
func (s *Server) checkLoadingAndDisk(cmd *command) error {
	if s.aof.loading.Load() && !cmd.has(flagLoading) {
		return errLoading
	}
	files := s.aof.files.Load()
	if files == nil || !(cmd.has(flagWrite) || cmd.name == "ping") {
		return nil
	}
	if err := files.WriteError(); err != nil {
		cmd.stats.rejectedCalls.Add(1)
		return respError("MISCONF Errors writing to the AOF file: " + strerror(err))
	}
	return nil
}

// strerror spells an I/O error as C's strerror does ("No space left on
// device"), which is what Redis prints.
func strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		msg := errno.Error()
		if msg != "" {
			return strings.ToUpper(msg[:1]) + msg[1:]
		}
	}
	return err.Error()
}

// awaitDurable holds c's replies until its writes are on disk as the fsync
// policy promises: with always, until fsynced. Many connections wait on
// one fsync (group commit). It runs before each flush.
func (s *Server) awaitDurable(c *client) {
	seq := c.aofSeq
	if seq == 0 || seq <= c.aofDurable {
		return
	}
	files := s.aof.files.Load()
	if files == nil {
		c.aofDurable = seq
		return
	}
	if err := files.Wait(context.Background(), seq); err == nil {
		c.aofDurable = seq
	}
}

// bgRewrite starts a rewrite in the background. It reports
// errRewriteRunning when one is running.
func (s *Server) bgRewrite() error {
	if !s.aof.rewriting.CompareAndSwap(false, true) {
		return errRewriteRunning
	}
	s.aof.mu.Lock()
	s.aof.startedAt = time.Now()
	s.aof.scheduled = false
	s.aof.mu.Unlock()
	go func() { s.finishRewrite(s.rewrite(false)) }()
	return nil
}

// waitRewrite waits for a running rewrite to end (shutdown).
func (s *Server) waitRewrite() {
	for s.aof.rewriting.Load() {
		time.Sleep(5 * time.Millisecond)
	}
}

// rewrite writes a new base from a point-in-time snapshot of the store
// while writes continue (store.Snapshot), then switches the manifest to it.
// With persistence off it writes the files once and closes them, as Redis
// writes a base on BGREWRITEAOF with appendonly no. When enable is set it
// is CONFIG SET appendonly yes: the new files become the sink of writes
// from the snapshot's instant on.
func (s *Server) rewrite(enable bool) error {
	files := s.aof.files.Load()
	var rw *persistence.Rewrite
	var fresh *persistence.AOF
	s.aof.fnMu.Lock()
	locked := true
	unlockFunctions := func() {
		if locked {
			locked = false
			s.aof.fnMu.Unlock()
		}
	}
	defer unlockFunctions()
	err := s.store.Snapshot(func(epoch uint64) error {
		var err error
		if files != nil && !enable {
			rw, err = files.StartRewrite(epoch)
		} else {
			fresh, rw, err = persistence.OpenWithRewrite(s.aofOptions(s.Config()), epoch)
			if err == nil && enable {
				s.installAOF(fresh) // before the epoch turns: later writes reach the new files
			}
		}
		if err != nil {
			return err
		}
		// The base starts with the function libraries, as Redis's.
		for _, code := range s.libraryCodes() {
			if err := rw.Append(-1, [][]byte{[]byte("FUNCTION"), []byte("LOAD"), []byte(code)}); err != nil {
				return err
			}
		}
		return nil
	}, func(db int, argv [][]byte) error {
		return rw.Append(db, argv)
	})
	unlockFunctions() // before Commit, which waits for the gate a FUNCTION command may hold
	if err == nil {
		// A transaction or script that started before the snapshot may
		// still hold changes of the old epoch in its buffer (propagate.go);
		// they must reach the old incremental file before it is retired.
		// Such a section holds the gate exclusively: wait for it.
		s.gate.mu.RLock()
		err = rw.Commit()
		s.gate.mu.RUnlock()
	} else if rw != nil {
		rw.Abort(err)
	}
	if fresh != nil && (err != nil || !enable) {
		if enable {
			s.installAOF(nil)
		}
		fresh.Close()
	}
	return err
}

func (s *Server) finishRewrite(err error) {
	s.aof.mu.Lock()
	dur := int64(time.Since(s.aof.startedAt).Seconds())
	if err != nil {
		s.aof.failures++
		s.aof.last = rewriteOutcome{ok: false, seconds: dur}
		s.log.Warn("background AOF rewrite failed", "err", err)
	} else {
		s.aof.failures = 0
		s.aof.rewrites++
		s.aof.last = rewriteOutcome{ok: true, seconds: dur}
		if files := s.aof.files.Load(); files != nil {
			s.aof.baseSize = files.Info().BaseSize
		}
	}
	again := s.aof.scheduled
	s.aof.mu.Unlock()
	s.aof.rewriting.Store(false)
	if again {
		s.bgRewrite()
	}
}

// autoRewrite starts a rewrite when the file has grown past
// auto-aof-rewrite-percentage of its size after the last rewrite, as
// Redis's serverCron does. It runs on the background tick.
func (s *Server) autoRewrite(cfg *config.Config) {
	files := s.aof.files.Load()
	if files == nil || cfg.AutoAOFRewritePercentage <= 0 || s.aof.rewriting.Load() {
		return
	}
	size := files.Info().CurrentSize
	s.aof.mu.Lock()
	base := s.aof.baseSize
	failing := s.aof.failures > 0 && time.Since(s.aof.startedAt) < time.Minute // back off after a failure
	s.aof.mu.Unlock()
	if failing || size < cfg.AutoAOFRewriteMinSize {
		return
	}
	if base <= 0 {
		base = 1
	}
	if (size-base)*100/base >= int64(cfg.AutoAOFRewritePercentage) {
		s.log.Info("starting automatic rewriting of AOF", "growth_percent", (size-base)*100/base)
		s.bgRewrite()
	}
}

// applyAppendonly turns persistence on or off for CONFIG SET appendonly
// and follows appendfsync. Turning it on writes a full base from memory
// first, in the background, as Redis's startAppendOnly: aof_enabled reads 1
// once that base is on disk.
func (s *Server) applyAppendonly(old, next *config.Config) {
	if old.Appendfsync != next.Appendfsync {
		if files := s.aof.files.Load(); files != nil {
			fsync, _ := persistence.ParseFsyncPolicy(next.Appendfsync)
			files.SetFsync(fsync)
		}
	}
	if old.Appendonly == next.Appendonly {
		return
	}
	if !next.Appendonly {
		s.log.Info("AOF turned off by CONFIG SET")
		if err := s.CloseAOF(); err != nil {
			s.log.Warn("closing the append-only file", "err", err)
		}
		return
	}
	for !s.aof.rewriting.CompareAndSwap(false, true) {
		time.Sleep(5 * time.Millisecond) // a BGREWRITEAOF is running
	}
	s.aof.mu.Lock()
	s.aof.startedAt = time.Now()
	s.aof.mu.Unlock()
	s.log.Info("AOF turned on by CONFIG SET; writing a base from memory")
	go func() { s.finishRewrite(s.rewrite(true)) }()
}

// aofInfo fills INFO persistence's AOF and loading fields.
func (s *Server) aofInfo() (fields [][2]string, extra [][2]string) {
	files := s.aof.files.Load()
	s.aof.mu.Lock()
	last, rewrites, failures, scheduled, started := s.aof.last, s.aof.rewrites, s.aof.failures, s.aof.scheduled, s.aof.startedAt
	s.aof.mu.Unlock()
	b2i := func(b bool) string {
		if b {
			return "1"
		}
		return "0"
	}
	current := "-1"
	if s.aof.rewriting.Load() {
		current = fmt.Sprint(int64(time.Since(started).Seconds()))
	}
	status := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "err"
	}
	writeOK := true
	if files != nil && files.WriteError() != nil {
		writeOK = false
	}
	fields = [][2]string{
		{"aof_enabled", b2i(files != nil && !files.Info().BootstrapInProgress)}, {"aof_rewrite_in_progress", b2i(s.aof.rewriting.Load())},
		{"aof_rewrite_scheduled", b2i(scheduled)},
		{"aof_last_rewrite_time_sec", fmt.Sprint(last.seconds)}, {"aof_current_rewrite_time_sec", current},
		{"aof_last_bgrewrite_status", status(last.ok)}, {"aof_rewrites", fmt.Sprint(rewrites)},
		{"aof_rewrites_consecutive_failures", fmt.Sprint(failures)}, {"aof_last_write_status", status(writeOK)},
	}
	if files != nil {
		in := files.Info()
		extra = append(extra, [][2]string{
			{"aof_current_size", fmt.Sprint(in.CurrentSize)}, {"aof_base_size", fmt.Sprint(in.BaseSize)},
			{"aof_pending_rewrite", b2i(scheduled)}, {"aof_buffer_length", fmt.Sprint(in.BufferLength)},
			{"aof_pending_bio_fsync", b2i(in.PendingBioFsync)}, {"aof_delayed_fsync", fmt.Sprint(in.DelayedFsyncs)},
		}...)
	}
	return fields, extra
}

// cmdBgrewriteaof is BGREWRITEAOF.
func cmdBgrewriteaof(c *client, _ *store.Tx, _ [][]byte) error {
	s := c.srv
	if err := s.bgRewrite(); err != nil {
		return err
	}
	c.w.Simple("Background append only file rewriting started")
	return nil
}

// closeAOFLogged is CloseAOF for the shutdown path, which has no caller to
// return an error to.
func (s *Server) closeAOFLogged() {
	if err := s.CloseAOF(); err != nil {
		s.log.Warn("flushing the append-only file at shutdown", "err", err)
	}
}

// aofObserver collects the group commit's figures for the metrics
// endpoint: fsync latency and commands per batch, in fixed buckets.
type aofObserver struct {
	fsync aofHistogram
	batch aofHistogram
}

var (
	fsyncBounds = []float64{0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 2.5}
	batchBounds = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}
)

// aofHistogram is a lock-free histogram over fixed bounds.
type aofHistogram struct {
	counts [16]atomic.Uint64 // per bucket; len(bounds)+1 used
	count  atomic.Uint64
	sumNs  atomic.Int64 // sum, in nanoseconds or in units for batches
}

func (h *aofHistogram) observe(bounds []float64, v float64, sum int64) {
	i := 0
	for i < len(bounds) && v > bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.count.Add(1)
	h.sumNs.Add(sum)
}

// Histogram is a cumulative histogram for the metrics endpoint.
type Histogram struct {
	Bounds     []float64
	Cumulative []uint64 // one per bound
	Count      uint64
	Sum        float64
}

func (h *aofHistogram) snapshot(bounds []float64, sumScale float64) Histogram {
	out := Histogram{Bounds: bounds, Cumulative: make([]uint64, len(bounds))}
	var cum uint64
	for i := range bounds {
		cum += h.counts[i].Load()
		out.Cumulative[i] = cum
	}
	out.Count = h.count.Load()
	out.Sum = float64(h.sumNs.Load()) * sumScale
	return out
}

// Fsync implements persistence.Observer.
func (o *aofObserver) Fsync(d time.Duration) {
	o.fsync.observe(fsyncBounds, d.Seconds(), d.Nanoseconds())
}

// Batch implements persistence.Observer.
func (o *aofObserver) Batch(cmds, _ int) {
	o.batch.observe(batchBounds, float64(cmds), int64(cmds))
}

// AOFMetrics is what the metrics endpoint exports about persistence.
type AOFMetrics struct {
	Enabled             bool
	RewriteInProgress   bool
	RewriteScheduled    bool
	LastRewriteOK       bool
	LastWriteOK         bool
	LastRewriteSeconds  int64 // -1 before the first rewrite
	CurrentRewriteSecs  int64 // -1 when none runs
	CurrentSize         int64
	BaseSize            int64
	BufferLength        int64
	Rewrites            int64
	DelayedFsyncs       int64
	WrittenBytes        int64
	Loading             bool
	FsyncSeconds        Histogram
	GroupCommitCommands Histogram
}

// AOFMetrics reads the persistence figures now.
func (s *Server) AOFMetrics() AOFMetrics {
	files := s.aof.files.Load()
	s.aof.mu.Lock()
	m := AOFMetrics{
		RewriteScheduled:   s.aof.scheduled,
		LastRewriteOK:      s.aof.last.ok,
		LastRewriteSeconds: s.aof.last.seconds,
		Rewrites:           s.aof.rewrites,
		CurrentRewriteSecs: -1,
	}
	if s.aof.rewriting.Load() {
		m.RewriteInProgress = true
		m.CurrentRewriteSecs = int64(time.Since(s.aof.startedAt).Seconds())
	}
	s.aof.mu.Unlock()
	m.Loading = s.aof.loading.Load()
	m.LastWriteOK = true
	if files != nil {
		in := files.Info()
		m.Enabled = !in.BootstrapInProgress
		m.LastWriteOK = in.LastWriteOK
		m.CurrentSize, m.BaseSize, m.BufferLength = in.CurrentSize, in.BaseSize, in.BufferLength
		m.DelayedFsyncs, m.WrittenBytes = in.DelayedFsyncs, in.WrittenBytes
	}
	m.FsyncSeconds = s.aof.obs.fsync.snapshot(fsyncBounds, 1e-9)
	m.GroupCommitCommands = s.aof.obs.batch.snapshot(batchBounds, 1)
	return m
}

// libraryCodes returns the source of every function library, by name.
func (s *Server) libraryCodes() []string {
	e := &s.lua
	e.mu.Lock()
	defer e.mu.Unlock()
	names := make([]string, 0, len(e.libs))
	for name := range e.libs {
		names = append(names, name)
	}
	slices.Sort(names)
	codes := make([]string, len(names))
	for i, name := range names {
		codes[i] = e.libs[name].code
	}
	return codes
}
