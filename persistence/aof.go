// Package persistence writes and reads Redis 7's multi-part append-only
// files: a manifest naming one base file and incremental files of RESP
// commands, in <dir>/<appenddirname>/. A real redis-server 7 loads what this
// package writes and this package loads what Redis writes (AOF bases; not RDB
// preambles).
//
// The package speaks RESP bytes and files only; it knows nothing of the
// store or the server. The server hands it the effective commands (Append),
// waits for them to be durable before replying (Wait), and drives rewrites
// (StartRewrite, Rewrite.Append, Commit). See docs/persistence.md.
package persistence

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// FsyncPolicy is Redis's appendfsync.
type FsyncPolicy int

// The appendfsync policies. The zero value is everysec, Redis's default.
const (
	FsyncEverySec FsyncPolicy = iota
	FsyncAlways
	FsyncNo
)

// ParseFsyncPolicy parses always, everysec or no (any case).
func ParseFsyncPolicy(s string) (FsyncPolicy, bool) {
	switch {
	case equalFold(s, "always"):
		return FsyncAlways, true
	case equalFold(s, "everysec"):
		return FsyncEverySec, true
	case equalFold(s, "no"):
		return FsyncNo, true
	}
	return FsyncEverySec, false
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != b[i] {
			return false
		}
	}
	return true
}

// String is the policy's config value.
func (p FsyncPolicy) String() string {
	switch p {
	case FsyncAlways:
		return "always"
	case FsyncNo:
		return "no"
	}
	return "everysec"
}

// Options configure an AOF.
type Options struct {
	Dir           string      // Redis `dir`
	DirName       string      // `appenddirname`, default "appendonlydir"
	FileName      string      // `appendfilename`, default "appendonly.aof"
	Fsync         FsyncPolicy // `appendfsync`
	LoadTruncated bool        // `aof-load-truncated`
	Logger        *slog.Logger
	FS            FS               // nil: the real OS (OSFS)
	Now           func() time.Time // nil: time.Now
	// OnProgress, when set, is called about once a second while loading.
	OnProgress func(LoadProgress)
}

func (o *Options) normalize() {
	if o.DirName == "" {
		o.DirName = "appendonlydir"
	}
	if o.FileName == "" {
		o.FileName = "appendonly.aof"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.FS == nil {
		o.FS = OSFS{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Errors.
var (
	ErrClosed            = errors.New("persistence: AOF closed")
	ErrRewriteInProgress = errors.New("Background append only file rewriting already in progress")
)

// Observer receives metrics from the writer goroutine. Its methods must be
// cheap and must not call back into the AOF.
type Observer interface {
	Fsync(d time.Duration) // one fsync of an incremental file and how long it took
	Batch(cmds, bytes int) // one group commit: commands and bytes written together
}

// Retry backoff after a failed write or fsync.
const (
	retryMin = 100 * time.Millisecond
	retryMax = time.Second
)

// target is one incremental file being appended to.
type target struct {
	name string
	f    File

	// Guarded by AOF.mu.
	pending []byte      // appended, not yet taken by the writer
	selDB   int         // db of the last SELECT in pending's stream (-1: none yet)
	dropped atomic.Bool // its data is in a committed base: discard, close

	// Owned by the writer goroutine.
	inflight []byte // taken by the writer; kept until written (and fsynced under always)
	wOff     int    // bytes of inflight already written
	base     int64  // file offset where inflight[0] belongs
	resync   bool   // an fsync failed: cut the file back to base before writing again

	size   atomic.Int64 // bytes written to the file
	synced atomic.Int64 // bytes known durable

	ioMu   sync.Mutex // closing vs a background fsync
	closed bool       // under ioMu
}

func newTarget(name string, f File, size int64) *target {
	t := &target{name: name, f: f, selDB: -1, base: size}
	t.size.Store(size)
	t.synced.Store(size)
	return t
}

// close fsyncs (when asked) and closes the file once.
func (t *target) close(sync bool) error {
	t.ioMu.Lock()
	defer t.ioMu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	var err error
	if sync && t.size.Load() > t.synced.Load() {
		err = t.f.Sync()
		if err == nil {
			t.synced.Store(t.size.Load())
		}
	}
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// AOF is an open append-only file set: the manifest, the incremental file
// being appended to and, during a rewrite, the previous one.
type AOF struct {
	flushMu sync.Mutex // one flush at a time: the writer goroutine or a leading waiter
	opts    Options
	fs      FS
	dir     string
	log     *slog.Logger
	fsync   atomic.Int32 // FsyncPolicy

	// mu guards the appending state; it is held only for memory copies.
	mu          sync.Mutex
	cur         *target   // receives epochs >= switchEpoch (all, outside a rewrite)
	old         *target   // during a rewrite: receives epochs < switchEpoch
	retiring    []*target // previous files still being flushed after an aborted rewrite
	switchEpoch uint64
	bootstrap   bool // OpenWithRewrite: nothing is valid until Commit
	seq         uint64
	cmds        int // commands appended since the writer last took them
	closing     bool
	staticSize  int64 // manifest files no target is writing: base and closed incrs

	kick       chan struct{}
	stop       chan struct{}
	writerDone chan struct{}
	closeOnce  sync.Once
	closeErr   error

	done      atomic.Uint64 // highest seq written (and fsynced under always)
	synced    atomic.Uint64 // highest seq written and fsynced, whatever the policy
	syncWant  atomic.Uint64 // Sync asked for this seq to be fsynced
	nmu       sync.Mutex
	notify    chan struct{} // closed and replaced whenever done or synced moves
	writeErr  atomic.Pointer[error]
	fsyncErr  atomic.Pointer[error]
	fsyncing  atomic.Bool // an everysec background fsync is running
	postponed time.Time   // writer: everysec write postponed behind an fsync since
	batchCmds int         // writer: commands in the batch being written

	// manMu serialises manifest changes and rewrites.
	manMu sync.Mutex
	man   *manifest
	rw    *Rewrite

	durableHooks []func() // OnDurable's, under nmu
	obs          atomic.Pointer[observerBox]

	// Statistics.
	delayedFsyncs   atomic.Int64
	fsyncs          atomic.Int64
	writtenBytes    atomic.Int64
	baseSize        atomic.Int64
	rewrites        atomic.Int64
	rewriteFailures atomic.Int64 // consecutive
	lastRewriteOK   atomic.Bool
	lastRewriteDur  atomic.Int64 // ns, -1 none
	rewriteStart    atomic.Int64 // unix ns, 0 none
	bufferLen       atomic.Int64

	load loadState
}

type observerBox struct{ o Observer }

// Open opens the AOF directory <Dir>/<DirName>, creating it when needed. A
// directory without a manifest gets, as Redis 7 does when it starts with
// appendonly yes and no data, an empty base file <name>.1.base.aof, a first
// incremental file <name>.1.incr.aof and a manifest naming both. Otherwise
// the manifest is read, history files it lists are deleted, and the last
// incremental file is opened for appending (a new one is created when the
// manifest has none). Call Load before the first Append.
func Open(opts Options) (*AOF, error) {
	opts.normalize()
	a := newAOF(opts)
	if err := a.fs.MkdirAll(a.dir, 0o755); err != nil {
		return nil, fmt.Errorf("Can't open or create append-only dir %s: %w", a.dir, err)
	}
	m, err := a.readManifest()
	if err != nil {
		return nil, err
	}
	dirty := false
	if m == nil {
		m = &manifest{}
		m.baseSeq = 1
		b := aofFile{name: a.baseName(1), seq: 1, typ: typeBase}
		if err := a.createEmpty(b.name); err != nil {
			return nil, err
		}
		m.base = &b
		dirty = true
		a.log.Info("Creating AOF base file on server start", "file", b.name)
	}
	if len(m.hist) > 0 {
		a.removeFiles(m.hist)
		m.hist = nil
		dirty = true
	}
	var last aofFile
	flag := os.O_WRONLY | os.O_APPEND // a listed file must exist, as for Redis's loader
	if len(m.incr) == 0 {
		m.incrSeq++
		last = aofFile{name: a.incrName(m.incrSeq), seq: m.incrSeq, typ: typeIncr}
		m.incr = append(m.incr, last)
		flag |= os.O_CREATE | os.O_TRUNC
		dirty = true
		a.log.Info("Creating AOF incr file on server start", "file", last.name)
	} else {
		last = m.incr[len(m.incr)-1]
	}
	f, err := a.fs.OpenFile(a.path(last.name), flag, 0o644)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("The append log file %s doesn't exist: %w", last.name, err)
	}
	if err != nil {
		return nil, fmt.Errorf("Can't open the append-only file %s: %w", last.name, err)
	}
	size, err := fileSize(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	if dirty {
		if err := a.persistManifest(m); err != nil {
			f.Close()
			return nil, err
		}
	}
	a.man = m
	a.cur = newTarget(last.name, f, size)
	a.recountStatic()
	a.baseSize.Store(a.fileSizeOr0(m.base))
	go a.run()
	return a, nil
}

func newAOF(opts Options) *AOF {
	a := &AOF{
		opts:       opts,
		fs:         opts.FS,
		dir:        filepath.Join(opts.Dir, opts.DirName),
		log:        opts.Logger,
		kick:       make(chan struct{}, 1),
		stop:       make(chan struct{}),
		writerDone: make(chan struct{}),
		notify:     make(chan struct{}),
	}
	a.fsync.Store(int32(opts.Fsync))
	a.lastRewriteOK.Store(true)
	a.lastRewriteDur.Store(-1)
	return a
}

func (a *AOF) path(name string) string { return filepath.Join(a.dir, name) }

func (a *AOF) baseName(seq int64) string {
	return fmt.Sprintf("%s.%d.base.aof", a.opts.FileName, seq)
}

func (a *AOF) incrName(seq int64) string {
	return fmt.Sprintf("%s.%d.incr.aof", a.opts.FileName, seq)
}

// ManifestPath is the manifest's path, the file to give check-aof.
func (a *AOF) ManifestPath() string { return a.path(a.opts.FileName + ".manifest") }

// readManifest returns nil, nil when there is no manifest.
func (a *AOF) readManifest() (*manifest, error) {
	data, err := a.fs.ReadFile(a.ManifestPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("Fatal error: can't open the AOF manifest file %s for reading: %w", a.ManifestPath(), err)
	}
	m, err := parseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.ManifestPath(), err)
	}
	return m, nil
}

// persistManifest writes m durably: temp file, fsync, rename, fsync dir.
func (a *AOF) persistManifest(m *manifest) error {
	tmp := a.path("temp-" + a.opts.FileName + ".manifest")
	f, err := a.fs.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("Can't open the AOF manifest file %s: %w", tmp, err)
	}
	data := m.format()
	if err := writeAll(f, data); err != nil {
		f.Close()
		return fmt.Errorf("Error trying to write the temporary AOF manifest file %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("Fail to fsync the temp AOF file %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := a.fs.Rename(tmp, a.ManifestPath()); err != nil {
		return fmt.Errorf("Error trying to rename the temporary AOF manifest file %s into %s: %w", tmp, a.ManifestPath(), err)
	}
	if err := a.fs.SyncDir(a.dir); err != nil {
		return fmt.Errorf("Fail to fsync AOF directory %s: %w", a.dir, err)
	}
	return nil
}

func writeAll(f File, b []byte) error {
	for len(b) > 0 {
		n, err := f.Write(b)
		b = b[n:]
		if err != nil {
			return err
		}
		if n == 0 {
			return errors.New("short write")
		}
	}
	return nil
}

// createEmpty creates (or empties) a file durably.
func (a *AOF) createEmpty(name string) error {
	f, err := a.fs.OpenFile(a.path(name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (a *AOF) removeFiles(files []aofFile) {
	for _, f := range files {
		a.log.Info("Removing the history file", "file", f.name)
		if err := a.fs.Remove(a.path(f.name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			a.log.Warn("Can't remove the history AOF file", "file", f.name, "err", err)
		}
	}
}

func fileSize(f File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func (a *AOF) fileSizeOr0(f *aofFile) int64 {
	if f == nil {
		return 0
	}
	st, err := a.fs.Stat(a.path(f.name))
	if err != nil {
		return 0
	}
	return st.Size()
}

// recountStatic sums the manifest files no target writes. Caller holds
// manMu or is single-threaded; it takes mu.
func (a *AOF) recountStatic() {
	var n int64
	if a.man.base != nil {
		n += a.fileSizeOr0(a.man.base)
	}
	a.mu.Lock()
	open := map[string]bool{}
	for _, t := range a.targetsLocked(nil) {
		open[t.name] = true
	}
	a.mu.Unlock()
	for i := range a.man.incr {
		if !open[a.man.incr[i].name] {
			n += a.fileSizeOr0(&a.man.incr[i])
		}
	}
	a.mu.Lock()
	a.staticSize = n
	a.mu.Unlock()
}

// targetsLocked appends every open target, oldest first.
func (a *AOF) targetsLocked(ts []*target) []*target {
	ts = append(ts, a.retiring...)
	if a.old != nil {
		ts = append(ts, a.old)
	}
	if a.cur != nil {
		ts = append(ts, a.cur)
	}
	return ts
}

// SetFsync changes the appendfsync policy at run time.
func (a *AOF) SetFsync(p FsyncPolicy) {
	a.fsync.Store(int32(p))
	a.kickWriter()
}

// Fsync is the current policy.
func (a *AOF) Fsync() FsyncPolicy { return FsyncPolicy(a.fsync.Load()) }

// SetObserver installs o (nil removes it).
func (a *AOF) SetObserver(o Observer) {
	if o == nil {
		a.obs.Store(nil)
		return
	}
	a.obs.Store(&observerBox{o})
}

func (a *AOF) observer() Observer {
	if b := a.obs.Load(); b != nil {
		return b.o
	}
	return nil
}

func (a *AOF) kickWriter() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// Append queues commands executed in database db as part of snapshot epoch
// epoch and returns their sequence number for Wait. It encodes each argv as
// RESP, preceded by SELECT db when the file's last selected database differs
// (db < 0 never selects). The argvs of one call are contiguous in the file:
// pass MULTI, the commands and EXEC in one call. An argv that is itself
// SELECT n updates the file's selected database. During a rewrite, epochs
// older than the rewrite's go to the previous incremental file, the others to
// the new one. Append copies what it needs, never blocks on I/O and does not
// allocate once its buffer has grown; it may be called with store locks held.
func (a *AOF) Append(epoch uint64, db int, argvs ...[][]byte) uint64 {
	a.mu.Lock()
	t := a.cur
	if epoch < a.switchEpoch {
		switch {
		case a.old != nil:
			t = a.old
		case a.bootstrap:
			t = nil // in the base being written
		}
	}
	if a.closing {
		t = nil
	}
	if t != nil {
		if db >= 0 && db != t.selDB {
			t.pending = appendSelect(t.pending, db)
			t.selDB = db
		}
		for _, argv := range argvs {
			t.pending = appendCommand(t.pending, argv)
			if n, ok := selectDB(argv); ok {
				t.selDB = n
			}
		}
	}
	a.seq++
	s := a.seq
	a.cmds += len(argvs)
	a.mu.Unlock()
	a.kickWriter()
	return s
}

// Seq is the sequence number of the last Append.
func (a *AOF) Seq() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seq
}

// Wait blocks until the commands of Append's seq are durable for the
// policy: under always written and fsynced, under everysec and no written
// to the OS. Wait(ctx, 0) returns at once. A failing disk does not make Wait
// fail: the writer keeps the data and retries, and Wait keeps waiting until
// the data is safe or ctx is done (WriteError reports the failure meanwhile).
// After Close, Wait returns ErrClosed for data Close could not save.
func (a *AOF) Wait(ctx context.Context, seq uint64) error {
	return a.waitFor(ctx, &a.done, seq)
}

// Sync waits until everything appended so far is written and fsynced,
// whatever the policy (SHUTDOWN, CONFIG SET appendonly no).
func (a *AOF) Sync(ctx context.Context) error {
	s := a.Seq()
	for {
		w := a.syncWant.Load()
		if w >= s || a.syncWant.CompareAndSwap(w, s) {
			break
		}
	}
	a.kickWriter()
	return a.waitFor(ctx, &a.synced, s)
}

func (a *AOF) waitFor(ctx context.Context, v *atomic.Uint64, seq uint64) error {
	if seq == 0 || v.Load() >= seq {
		return nil
	}
	for {
		a.nmu.Lock()
		ch := a.notify
		a.nmu.Unlock()
		if v.Load() >= seq {
			return nil
		}
		// Leader (everysec, no): when nobody is flushing and the disk is
		// healthy, the waiting goroutine writes the batch itself, for every
		// waiter, instead of handing it to the writer goroutine and back:
		// two scheduler hand-offs fewer per batch. Under always the writer
		// goroutine keeps the fsync: there the fsync, not the hand-off,
		// sets the pace, and the leader variant showed no gain within this
		// machine's disk noise (BenchmarkAppendWaitAlways). The writer still
		// handles retries, everysec postponing and ticks.
		if v == &a.done && a.canLead() && a.flushMu.TryLock() {
			ok, again := a.flushLocked(false)
			a.flushMu.Unlock()
			if ok && !again {
				continue
			}
			a.kickWriter() // let the writer arm its retry
		}
		select {
		case <-a.writerDone:
			if v.Load() >= seq {
				return nil
			}
			return ErrClosed
		default:
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// canLead reports whether a waiter may flush in the writer's place: not
// under always, not while the disk fails, not once the writer has stopped.
func (a *AOF) canLead() bool {
	select {
	case <-a.writerDone:
		return false
	default:
	}
	return FsyncPolicy(a.fsync.Load()) != FsyncAlways && a.WriteError() == nil
}

func (a *AOF) wake() {
	a.nmu.Lock()
	ch := a.notify
	a.notify = make(chan struct{})
	hooks := a.durableHooks
	a.nmu.Unlock()
	close(ch)
	for _, h := range hooks {
		h()
	}
}

// Durable reports whether the commands of Append's seq are durable for the
// policy, or the file is closed: whether Wait would return, without
// waiting.
func (a *AOF) Durable(seq uint64) bool {
	if a.done.Load() >= seq {
		return true
	}
	select {
	case <-a.writerDone:
		return true // closed: Wait would return too
	default:
		return false
	}
}

// OnDurable registers fn, called (from the goroutine that made them
// durable, which must not be held up) each time more commands become
// durable: an event loop waits for its batches this way instead of
// blocking in Wait.
func (a *AOF) OnDurable(fn func()) {
	a.nmu.Lock()
	a.durableHooks = append(a.durableHooks, fn)
	a.nmu.Unlock()
}

// WriteError is the last write or fsync error, nil once a retry succeeded
// (INFO's aof_last_write_status). While it is set the server refuses new
// writes with -MISCONF.
func (a *AOF) WriteError() error {
	if e := a.writeErr.Load(); e != nil {
		return *e
	}
	if e := a.fsyncErr.Load(); e != nil {
		return *e
	}
	return nil
}

func (a *AOF) setWriteErr(err error) {
	if a.writeErr.Load() == nil {
		a.log.Warn("Error writing to the AOF file", "err", err)
	}
	a.writeErr.Store(&err)
}

func (a *AOF) clearWriteErr() {
	if a.writeErr.Load() != nil {
		a.log.Warn("AOF write error looks solved, cachalot can write again.")
		a.writeErr.Store(nil)
	}
}

// DelayedFsyncs counts writes that waited more than 2 s for an everysec
// background fsync (aof_delayed_fsync).
func (a *AOF) DelayedFsyncs() int64 { return a.delayedFsyncs.Load() }

// run is the writer goroutine: it takes what accumulated, writes it with one
// write per file, fsyncs once under always, and wakes the waiters.
func (a *AOF) run() {
	defer func() {
		close(a.writerDone)
		a.wake() // Durable now answers true: OnDurable's callers look again
	}()
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	armed := false
	backoff := time.Duration(0) // > 0 while the disk is failing
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-a.kick:
			if backoff > 0 {
				continue // failing disk: wait for the retry timer
			}
		case <-retry.C:
			armed = false
		case <-tick.C:
			a.everysecTick()
		case <-a.stop:
			retry.Stop()
			a.shutdown()
			return
		}
		ok, again := a.flush(false)
		var delay time.Duration
		switch {
		case !ok:
			backoff = min(max(2*backoff, retryMin), retryMax)
			delay = backoff
		case again:
			backoff = 0
			delay = retryMin
		default:
			backoff = 0
		}
		if delay > 0 && !armed {
			retry.Reset(delay)
			armed = true
		}
	}
}

// flush writes everything appended so far. ok is false after an I/O error
// (retry with backoff); again asks for a prompt retry (postponed write).
func (a *AOF) flush(force bool) (ok, again bool) {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	return a.flushLocked(force)
}

// flushLocked is flush with flushMu held: one flusher at a time, the writer
// goroutine or a waiting client acting as leader (waitFor).
func (a *AOF) flushLocked(force bool) (ok, again bool) {
	policy := FsyncPolicy(a.fsync.Load())
	a.mu.Lock()
	var closeNow []*target
	// Targets whose data a commit made useless, and retired ones done.
	keep := a.retiring[:0]
	for _, t := range a.retiring {
		if t.dropped.Load() || (len(t.pending) == 0 && len(t.inflight) == 0) {
			closeNow = append(closeNow, t)
			if !t.dropped.Load() {
				a.staticSize += t.size.Load()
			}
			continue
		}
		keep = append(keep, t)
	}
	a.retiring = keep
	ts := a.targetsLocked(nil)
	var n int
	for _, t := range ts {
		if len(t.pending) == 0 {
			continue
		}
		if len(t.inflight) == 0 {
			t.inflight, t.pending = t.pending, t.inflight[:0]
		} else {
			t.inflight = append(t.inflight, t.pending...)
			t.pending = t.pending[:0]
		}
	}
	for _, t := range ts {
		n += len(t.inflight) - t.wOff
	}
	a.bufferLen.Store(int64(n))
	batchSeq := a.seq
	a.batchCmds += a.cmds
	a.cmds = 0
	a.mu.Unlock()
	for _, t := range closeNow {
		if err := t.close(!t.dropped.Load()); err != nil {
			a.log.Warn("Error closing an AOF file", "file", t.name, "err", err)
		}
	}

	// everysec: a write behind a running fsync would block in the kernel
	// anyway; wait for it up to 2 s, then write and count a delayed fsync.
	if policy == FsyncEverySec && !force && n > 0 && a.fsyncing.Load() {
		now := time.Now()
		if a.postponed.IsZero() {
			a.postponed = now
			return true, true
		}
		if now.Sub(a.postponed) < 2*time.Second {
			return true, true
		}
		a.delayedFsyncs.Add(1)
		a.log.Info("Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down cachalot.")
	}
	a.postponed = time.Time{}

	written := 0
	for _, t := range ts {
		w, err := a.writeTarget(t)
		written += w
		if err != nil {
			a.setWriteErr(err)
			return false, false
		}
	}
	wantSync := a.syncWant.Load() > a.synced.Load()
	if policy == FsyncAlways || wantSync || force {
		for _, t := range ts {
			if err := a.syncTarget(t); err != nil {
				a.setWriteErr(err)
				return false, false
			}
		}
	}
	for _, t := range ts {
		t.inflight = t.inflight[:0]
		t.wOff = 0
		t.base = t.size.Load()
	}
	a.bufferLen.Store(0)
	a.clearWriteErr()
	if o := a.observer(); o != nil && written > 0 {
		o.Batch(a.batchCmds, written)
	}
	a.batchCmds = 0
	a.writtenBytes.Add(int64(written))
	moved := false
	if a.done.Load() < batchSeq {
		a.done.Store(batchSeq)
		moved = true
	}
	if (policy == FsyncAlways || wantSync || force) && a.synced.Load() < batchSeq {
		a.synced.Store(batchSeq)
		moved = true
	}
	if moved {
		a.wake()
	}
	return true, false
}

// writeTarget writes t's inflight bytes. A short or failed write is undone
// by truncating the file back to the start of the batch, so the file never
// ends in half a command that was also kept for retry; when the truncation
// fails too, the next attempt continues from the exact byte reached.
func (a *AOF) writeTarget(t *target) (int, error) {
	if t.dropped.Load() {
		return 0, nil
	}
	if t.resync {
		if err := t.f.Truncate(t.base); err != nil {
			return 0, err
		}
		t.size.Store(t.base)
		if t.synced.Load() > t.base {
			t.synced.Store(t.base)
		}
		t.wOff = 0
		t.resync = false
	}
	total := 0
	for t.wOff < len(t.inflight) {
		n, err := t.f.Write(t.inflight[t.wOff:])
		if n < 0 {
			n = 0
		}
		t.wOff += n
		total += n
		t.size.Add(int64(n))
		if err == nil && n == 0 {
			err = errors.New("short write")
		}
		if err != nil {
			if t.wOff > 0 {
				if terr := t.f.Truncate(t.base); terr == nil {
					total -= t.wOff
					t.size.Store(t.base)
					t.wOff = 0
				} else {
					a.log.Warn("Could not remove short write from the append-only file", "file", t.name, "err", terr)
				}
			}
			return total, fmt.Errorf("%s: %w", t.name, err)
		}
	}
	return total, nil
}

// syncTarget fsyncs t when it has unsynced bytes. A failed fsync may have
// dropped the dirty pages (Linux marks them clean), so the bytes since the
// batch start are written again: the file is cut back first.
func (a *AOF) syncTarget(t *target) error {
	if t.dropped.Load() {
		return nil
	}
	size := t.size.Load()
	if size <= t.synced.Load() {
		return nil
	}
	start := time.Now()
	err := t.f.Sync()
	d := time.Since(start)
	a.fsyncs.Add(1)
	if o := a.observer(); o != nil {
		o.Fsync(d)
	}
	if err != nil {
		t.resync = true
		t.wOff = 0
		return fmt.Errorf("%s: %w", t.name, err)
	}
	t.synced.Store(size)
	return nil
}

// everysecTick starts the background fsync of everysec once a second when
// there are unsynced bytes and none is running.
func (a *AOF) everysecTick() {
	if FsyncPolicy(a.fsync.Load()) != FsyncEverySec || a.fsyncing.Load() {
		return
	}
	a.mu.Lock()
	ts := a.targetsLocked(nil)
	a.mu.Unlock()
	need := false
	for _, t := range ts {
		if t.size.Load() > t.synced.Load() {
			need = true
		}
	}
	if !need {
		return
	}
	a.fsyncing.Store(true)
	go func() {
		defer a.fsyncing.Store(false)
		var failed error
		for _, t := range ts {
			t.ioMu.Lock()
			if !t.closed {
				size := t.size.Load()
				start := time.Now()
				err := t.f.Sync()
				a.fsyncs.Add(1)
				if o := a.observer(); o != nil {
					o.Fsync(time.Since(start))
				}
				if err != nil {
					failed = fmt.Errorf("%s: %w", t.name, err)
				} else if t.synced.Load() < size {
					t.synced.Store(size)
				}
			}
			t.ioMu.Unlock()
		}
		if failed != nil {
			if a.fsyncErr.Load() == nil {
				a.log.Warn("Error in the background fsync of the AOF", "err", failed)
			}
			a.fsyncErr.Store(&failed)
		} else if a.fsyncErr.Load() != nil {
			a.log.Warn("AOF background fsync error looks solved.")
			a.fsyncErr.Store(nil)
		}
	}()
}

// shutdown is the writer's last flush: write and fsync everything, close.
func (a *AOF) shutdown() {
	a.mu.Lock()
	a.closing = true
	a.mu.Unlock()
	ok, _ := a.flush(true)
	a.mu.Lock()
	ts := a.targetsLocked(nil)
	a.mu.Unlock()
	var err error
	if !ok {
		err = a.WriteError()
	}
	for _, t := range ts {
		if cerr := t.close(!t.dropped.Load()); cerr != nil && err == nil {
			err = cerr
		}
	}
	a.closeErr = err
	a.wake()
}

// Close writes and fsyncs everything appended, closes the files and stops
// the writer. A rewrite in progress is aborted. It is idempotent; after a
// failed final write it returns the error (the data is lost).
func (a *AOF) Close() error {
	a.closeOnce.Do(func() {
		a.manMu.Lock()
		rw := a.rw
		a.manMu.Unlock()
		if rw != nil {
			rw.Abort(ErrClosed)
		}
		close(a.stop)
		<-a.writerDone
		a.mu.Lock()
		boot := a.bootstrap
		name := ""
		if a.cur != nil {
			name = a.cur.name
		}
		a.mu.Unlock()
		if boot && name != "" {
			a.fs.Remove(a.path(name))
		}
	})
	return a.closeErr
}

// Info is what INFO persistence reports about the AOF.
type Info struct {
	RewriteInProgress   bool          // aof_rewrite_in_progress
	LastBgrewriteOK     bool          // aof_last_bgrewrite_status ok|err
	LastWriteOK         bool          // aof_last_write_status ok|err
	LastWriteError      error         // the error behind LastWriteOK=false
	LastRewriteTime     time.Duration // aof_last_rewrite_time_sec; -1 when none
	CurrentRewriteTime  time.Duration // aof_current_rewrite_time_sec; -1 when none
	Rewrites            int64         // aof_rewrites: successful rewrites
	RewriteFailures     int64         // aofrw_consecutive_failures
	CurrentSize         int64         // aof_current_size: base and incremental files
	BaseSize            int64         // aof_base_size: size right after the last rewrite (or at start)
	PendingBioFsync     bool          // aof_pending_bio_fsync
	DelayedFsyncs       int64         // aof_delayed_fsync
	BufferLength        int64         // aof_buffer_length: bytes appended, not yet written
	WrittenBytes        int64         // bytes written to incremental files since Open
	Fsyncs              int64         // fsyncs of incremental files since Open
	Fsync               FsyncPolicy   // current policy
	BootstrapInProgress bool          // OpenWithRewrite not yet committed (aof_enabled is 0 in Redis then)
}

// Info returns the current status.
func (a *AOF) Info() Info {
	in := Info{
		LastBgrewriteOK: a.lastRewriteOK.Load(),
		LastRewriteTime: time.Duration(a.lastRewriteDur.Load()),
		Rewrites:        a.rewrites.Load(),
		RewriteFailures: a.rewriteFailures.Load(),
		BaseSize:        a.baseSize.Load(),
		PendingBioFsync: a.fsyncing.Load(),
		DelayedFsyncs:   a.delayedFsyncs.Load(),
		WrittenBytes:    a.writtenBytes.Load(),
		Fsyncs:          a.fsyncs.Load(),
		Fsync:           a.Fsync(),
	}
	in.CurrentRewriteTime = -1
	if s := a.rewriteStart.Load(); s != 0 {
		in.RewriteInProgress = true
		in.CurrentRewriteTime = a.opts.Now().Sub(time.Unix(0, s))
	}
	in.LastWriteError = a.WriteError()
	in.LastWriteOK = in.LastWriteError == nil
	a.mu.Lock()
	in.CurrentSize = a.staticSize
	for _, t := range a.targetsLocked(nil) {
		if !t.dropped.Load() {
			in.CurrentSize += t.size.Load()
		}
		in.BufferLength += int64(len(t.pending))
	}
	in.BootstrapInProgress = a.bootstrap
	a.mu.Unlock()
	in.BufferLength += a.bufferLen.Load()
	return in
}
