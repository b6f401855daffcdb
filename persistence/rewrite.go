package persistence

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Rewrite is an AOF rewrite in progress: the new base file being written
// while appends continue into a new incremental file.
//
// The protocol, without fork (Redis 7's, with a snapshot epoch in place of
// the child process):
//
//  1. StartRewrite(e) opens <name>.<n+1>.incr.aof and durably writes a
//     manifest listing the old base, the old incremental files and the new
//     one. From then on Append(epoch >= e) goes to the new file and
//     Append(epoch < e) to the previous one. Call it before the store enters
//     epoch e (store.Snapshot's begin callback).
//  2. The store dumps the image of epoch e through Rewrite.Append into a
//     temporary file (buffered, SELECT tracked).
//  3. Commit fsyncs the temporary base, renames it <name>.<m+1>.base.aof,
//     fsyncs the directory, durably writes the manifest (new base, new
//     incremental file, the replaced files as history), then drops the
//     previous incremental file, deletes the replaced files and rewrites the
//     manifest without them.
//
// A crash at any point leaves a manifest whose files load to the right data:
// before step 3's manifest the old base and every incremental file; after it
// the new base and the new incremental file. Leftover temporary and history
// files are ignored, and history files are deleted at the next Open.
type Rewrite struct {
	a         *AOF
	epoch     uint64
	tmp       string
	start     time.Time
	bootstrap bool
	newIncr   aofFile   // the incremental file that follows the new base
	old       []aofFile // files the new base replaces

	mu       sync.Mutex
	f        File
	w        *bufio.Writer
	selDB    int
	buf      []byte
	err      error
	size     int64
	finished bool
}

// StartRewrite begins a rewrite whose base is the image of snapshot epoch
// newEpoch (see Rewrite). Only one rewrite runs at a time
// (ErrRewriteInProgress).
func (a *AOF) StartRewrite(newEpoch uint64) (*Rewrite, error) {
	a.manMu.Lock()
	defer a.manMu.Unlock()
	select {
	case <-a.stop:
		return nil, ErrClosed
	default:
	}
	a.mu.Lock()
	boot := a.bootstrap
	a.mu.Unlock()
	if a.rw != nil || boot {
		return nil, ErrRewriteInProgress
	}
	r, err := a.newRewrite(newEpoch)
	if err != nil {
		a.rewriteFailed(err)
		return nil, err
	}
	m := a.man.clone()
	m.incrSeq++
	nf := aofFile{name: a.incrName(m.incrSeq), seq: m.incrSeq, typ: typeIncr}
	f, err := a.fs.OpenFile(a.path(nf.name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		r.removeTemp()
		err = fmt.Errorf("Can't open the append-only file %s: %w", nf.name, err)
		a.rewriteFailed(err)
		return nil, err
	}
	m.incr = append(m.incr, nf)
	if err := a.persistManifest(m); err != nil {
		f.Close()
		a.fs.Remove(a.path(nf.name))
		r.removeTemp()
		a.rewriteFailed(err)
		return nil, err
	}
	if a.man.base != nil {
		r.old = append(r.old, *a.man.base)
	}
	r.old = append(r.old, a.man.incr...)
	r.newIncr = nf
	a.man = m
	a.mu.Lock()
	a.switchEpoch = newEpoch
	if a.old != nil {
		a.retiring = append(a.retiring, a.old)
	}
	a.old = a.cur
	a.cur = newTarget(nf.name, f, 0)
	a.mu.Unlock()
	a.rw = r
	a.rewriteStart.Store(r.start.UnixNano())
	a.log.Info("Creating AOF incr file on background rewrite", "file", nf.name)
	return r, nil
}

// OpenWithRewrite is Open for CONFIG SET appendonly yes at run time, when the
// data already exists in memory: as Redis's AOF_WAIT_REWRITE state, appends
// of epochs >= newEpoch go to a temporary incremental file
// (temp-<name>.incr) and appends of older epochs are dropped (they are in
// the image). Nothing in the directory changes until the returned Rewrite
// commits; then the manifest names the new base and that incremental file
// (renamed <name>.<n>.incr.aof) and replaces whatever it named before. If
// the rewrite aborts, Close the AOF (it removes the temporary file) and
// start again.
func OpenWithRewrite(opts Options, newEpoch uint64) (*AOF, *Rewrite, error) {
	opts.normalize()
	a := newAOF(opts)
	if err := a.fs.MkdirAll(a.dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("Can't open or create append-only dir %s: %w", a.dir, err)
	}
	m, err := a.readManifest()
	if err != nil {
		return nil, nil, err
	}
	if m == nil {
		m = &manifest{}
	}
	tmpIncr := "temp-" + opts.FileName + ".incr"
	f, err := a.fs.OpenFile(a.path(tmpIncr), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("Can't open the append-only file %s: %w", tmpIncr, err)
	}
	r, err := a.newRewrite(newEpoch)
	if err != nil {
		f.Close()
		a.fs.Remove(a.path(tmpIncr))
		return nil, nil, err
	}
	r.bootstrap = true
	if m.base != nil {
		r.old = append(r.old, *m.base)
	}
	r.old = append(r.old, m.hist...)
	r.old = append(r.old, m.incr...)
	a.man = m
	a.cur = newTarget(tmpIncr, f, 0)
	a.bootstrap = true
	a.switchEpoch = newEpoch
	a.rw = r
	a.rewriteStart.Store(r.start.UnixNano())
	go a.run()
	return a, r, nil
}

func (a *AOF) newRewrite(epoch uint64) (*Rewrite, error) {
	tmp := a.path(fmt.Sprintf("temp-rewriteaof-bg-%d.aof", os.Getpid()))
	f, err := a.fs.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): %w", err)
	}
	return &Rewrite{a: a, epoch: epoch, tmp: tmp, start: a.opts.Now(), f: f,
		w: bufio.NewWriterSize(f, 1<<20), selDB: -1}, nil
}

func (a *AOF) rewriteFailed(err error) {
	a.lastRewriteOK.Store(false)
	a.rewriteFailures.Add(1)
	a.rewriteStart.Store(0)
	a.log.Warn("Background AOF rewrite terminated with error", "err", err)
}

// Epoch is the snapshot epoch the rewrite's image closes.
func (r *Rewrite) Epoch() uint64 { return r.epoch }

// Append writes one command of the base image, preceded by SELECT db when
// the base's selected database differs. It is safe for concurrent use;
// commands of different keys may interleave, those of one key must come from
// one goroutine in order. argv may be reused after return.
func (r *Rewrite) Append(db int, argv [][]byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return errors.New("persistence: rewrite already finished")
	}
	if r.err != nil {
		return r.err
	}
	r.buf = r.buf[:0]
	if db >= 0 && db != r.selDB {
		r.buf = appendSelect(r.buf, db)
		r.selDB = db
	}
	r.buf = appendCommand(r.buf, argv)
	if _, err := r.w.Write(r.buf); err != nil {
		r.err = fmt.Errorf("Error writing the AOF rewrite temp file: %w", err)
		return r.err
	}
	r.size += int64(len(r.buf))
	return nil
}

func (r *Rewrite) removeTemp() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
	if err := r.a.fs.Remove(r.tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		r.a.log.Warn("Can't remove the temp AOF rewrite file", "file", r.tmp, "err", err)
	}
}

// Commit makes the new base live (see Rewrite). On error the rewrite is
// aborted and the previous files stay in the manifest.
func (r *Rewrite) Commit() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return errors.New("persistence: rewrite already finished")
	}
	a := r.a
	a.manMu.Lock()
	defer a.manMu.Unlock()
	err := r.err
	if err == nil {
		err = r.w.Flush()
	}
	if err == nil {
		err = r.f.Sync()
	}
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	r.f = nil
	if err != nil {
		r.abortLocked(fmt.Errorf("writing the AOF rewrite temp file: %w", err))
		return err
	}
	m := a.man.clone()
	m.baseSeq++
	base := aofFile{name: a.baseName(m.baseSeq), seq: m.baseSeq, typ: typeBase}
	if err := a.fs.Rename(r.tmp, a.path(base.name)); err != nil {
		r.abortLocked(err)
		return err
	}
	if r.bootstrap {
		m.incrSeq++
		incr := aofFile{name: a.incrName(m.incrSeq), seq: m.incrSeq, typ: typeIncr}
		a.mu.Lock()
		from := a.cur.name
		a.mu.Unlock()
		if err := a.fs.Rename(a.path(from), a.path(incr.name)); err != nil {
			a.fs.Remove(a.path(base.name))
			r.abortLocked(err)
			return err
		}
		a.mu.Lock()
		a.cur.name = incr.name
		a.mu.Unlock()
		r.newIncr = incr
	}
	nm := &manifest{base: &base, baseSeq: m.baseSeq, incrSeq: m.incrSeq, incr: []aofFile{r.newIncr}}
	for _, f := range r.old {
		f.typ = typeHist
		nm.hist = append(nm.hist, f)
	}
	if err := a.persistManifest(nm); err != nil {
		// The manifest on disk is the previous one (rename is atomic).
		a.fs.Remove(a.path(base.name))
		r.abortLocked(err)
		return err
	}
	a.man = nm
	baseSize := a.fileSizeOr0(&base)
	a.mu.Lock()
	if a.old != nil {
		a.retiring = append(a.retiring, a.old)
		a.old = nil
	}
	for _, t := range a.retiring {
		t.dropped.Store(true) // their data is in the base
	}
	a.bootstrap = false
	a.staticSize = baseSize
	curSize := a.cur.size.Load()
	a.mu.Unlock()
	a.kickWriter()
	a.removeFiles(nm.hist)
	nm.hist = nil
	if err := a.persistManifest(nm); err != nil {
		a.log.Warn("Can't write the AOF manifest without the history files; they are removed at the next start", "err", err)
	}
	a.baseSize.Store(baseSize + curSize)
	a.rewrites.Add(1)
	a.rewriteFailures.Store(0)
	a.lastRewriteOK.Store(true)
	a.lastRewriteDur.Store(int64(a.opts.Now().Sub(r.start)))
	a.rewriteStart.Store(0)
	a.rw = nil
	r.finished = true
	a.log.Info("Background AOF rewrite finished successfully", "base", base.name, "incr", r.newIncr.name, "bytes", baseSize)
	return nil
}

// Abort gives the rewrite up: the temporary base is removed; the manifest
// keeps the old base and all incremental files, so the data stays loadable
// (the next rewrite replaces them all). err is logged.
func (r *Rewrite) Abort(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return
	}
	r.a.manMu.Lock()
	defer r.a.manMu.Unlock()
	r.abortLocked(err)
}

// abortLocked holds r.mu and a.manMu.
func (r *Rewrite) abortLocked(err error) {
	a := r.a
	r.removeTemp()
	a.mu.Lock()
	if a.old != nil {
		a.retiring = append(a.retiring, a.old)
		a.old = nil
	}
	a.mu.Unlock()
	a.kickWriter()
	a.rw = nil
	r.finished = true
	if err == nil {
		err = errors.New("aborted")
	}
	a.rewriteFailed(err)
}
