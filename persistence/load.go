package persistence

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// LoadStats sums up a Load.
type LoadStats struct {
	Files         int           // files read (base and incremental)
	Commands      int64         // commands passed to apply, SELECT and MULTI/EXEC included
	Bytes         int64         // bytes read
	Duration      time.Duration //
	Truncated     bool          // a truncated tail was dropped (aof-load-truncated yes)
	TruncatedFile string        // the file that was cut
	TruncatedAt   int64         // its new size
}

// LoadProgress is the loading state INFO persistence reports (loading,
// loading_start_time, loading_total_bytes, loading_loaded_bytes,
// loading_loaded_perc, loading_eta_seconds).
type LoadProgress struct {
	Loading     bool
	StartTime   time.Time
	TotalBytes  int64
	LoadedBytes int64
	Commands    int64
	File        string // the file being read
}

// Perc is loading_loaded_perc (0 to 100).
func (p LoadProgress) Perc() float64 {
	if p.TotalBytes <= 0 {
		return 0
	}
	return float64(p.LoadedBytes) * 100 / float64(p.TotalBytes)
}

// EtaSeconds is loading_eta_seconds as Redis computes it (1 when nothing is
// loaded yet).
func (p LoadProgress) EtaSeconds(now time.Time) int64 {
	elapsed := now.Sub(p.StartTime).Seconds()
	if p.LoadedBytes <= 0 || elapsed <= 0 {
		return 1
	}
	rate := float64(p.LoadedBytes) / elapsed
	return int64(float64(p.TotalBytes-p.LoadedBytes) / rate)
}

type loadState struct {
	loading  atomic.Bool
	start    atomic.Int64
	total    atomic.Int64
	loaded   atomic.Int64
	commands atomic.Int64
	mu       sync.Mutex
	file     string
}

// LoadProgress is safe to call while Load runs.
func (a *AOF) LoadProgress() LoadProgress {
	p := LoadProgress{
		Loading:     a.load.loading.Load(),
		TotalBytes:  a.load.total.Load(),
		LoadedBytes: a.load.loaded.Load(),
		Commands:    a.load.commands.Load(),
	}
	if s := a.load.start.Load(); s != 0 {
		p.StartTime = time.Unix(0, s)
	}
	a.load.mu.Lock()
	p.File = a.load.file
	a.load.mu.Unlock()
	return p
}

// LoadError is a file that cannot be loaded as it is.
type LoadError struct {
	File      string // the AOF file (name in the directory)
	Offset    int64  // byte offset of the first command not loaded
	Reason    string // what is wrong there
	Truncated bool   // the file ends inside a command (or a MULTI block)
	Manifest  string // the manifest to give check-aof
}

func (e *LoadError) Error() string {
	if e.Truncated {
		return fmt.Sprintf("Unexpected end of file reading the append only file %s (offset %d). You can: "+
			"1) Make a backup of your AOF file, then use cachalot check-aof --fix %s. "+
			"2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.",
			e.File, e.Offset, e.Manifest)
	}
	return fmt.Sprintf("Bad file format reading the append only file %s at offset %d (%s): "+
		"make a backup of your AOF file, then use cachalot check-aof --fix %s", e.File, e.Offset, e.Reason, e.Manifest)
}

// Load replays the base file, then the incremental files in manifest order,
// calling apply for every command; argv is valid during the call only.
// SELECT is passed through (the caller tracks the database). A MULTI ...
// EXEC block is passed through whole (MULTI, the commands, EXEC) once its
// EXEC has been read; a block the file ends inside is dropped as Redis does.
// An error from apply stops the load, wrapped with the file and offset
// (Redis refuses unknown commands and ignores other command errors: apply
// decides).
//
// A last file that ends inside a command (or a MULTI block) is, with
// LoadTruncated, cut back to its last complete command with a warning;
// otherwise, and in any file but the last, it is a *LoadError. Bad bytes
// anywhere are a *LoadError naming the file, the offset and the repair
// command. Progress is logged once a second and readable with LoadProgress.
// Call Load once, after Open and before the first Append.
func (a *AOF) Load(apply func(argv [][]byte) error) (LoadStats, error) {
	a.manMu.Lock()
	m := a.man.clone()
	a.manMu.Unlock()
	var files []aofFile
	if m.base != nil {
		files = append(files, *m.base)
	}
	files = append(files, m.incr...)
	var st LoadStats
	start := a.opts.Now()
	sizes := make([]int64, len(files))
	var total int64
	for i, f := range files {
		fi, err := a.fs.Stat(a.path(f.name))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return st, fmt.Errorf("The append log file %s doesn't exist: %w", f.name, err)
			}
			return st, fmt.Errorf("Fatal error: can't open the append log file %s for reading: %w", f.name, err)
		}
		sizes[i] = fi.Size()
		total += fi.Size()
	}
	a.load.start.Store(start.UnixNano())
	a.load.total.Store(total)
	a.load.loaded.Store(0)
	a.load.commands.Store(0)
	a.load.loading.Store(true)
	defer a.load.loading.Store(false)
	a.log.Info("Loading the AOF", "files", len(files), "bytes", total)

	pr := &progress{a: a, start: start, total: total, last: start}
	var done int64
	for i, f := range files {
		st.Files++
		a.load.mu.Lock()
		a.load.file = f.name
		a.load.mu.Unlock()
		last := i == len(files)-1
		n, cut, err := a.loadFile(f.name, sizes[i], last, done, apply, &st, pr)
		done += n
		if err != nil {
			return st, err
		}
		if cut >= 0 {
			st.Truncated, st.TruncatedFile, st.TruncatedAt = true, f.name, cut
		}
	}
	st.Bytes = done
	st.Duration = a.opts.Now().Sub(start)
	a.load.loaded.Store(total)
	a.log.Info("DB loaded from append only file", "files", st.Files, "commands", st.Commands,
		"bytes", st.Bytes, "seconds", st.Duration.Seconds())
	if st.Truncated {
		a.mu.Lock()
		cur := a.cur
		if cur != nil && cur.name != st.TruncatedFile {
			cur = nil
		}
		a.mu.Unlock()
		if cur != nil {
			cur.size.Store(st.TruncatedAt)
			cur.synced.Store(st.TruncatedAt)
			cur.base = st.TruncatedAt
		}
		a.recountStatic()
	}
	return st, nil
}

// progress logs once a second.
type progress struct {
	a     *AOF
	start time.Time
	last  time.Time
	total int64
}

func (p *progress) tick(done, cmds int64) {
	p.a.load.loaded.Store(done)
	p.a.load.commands.Store(cmds)
	now := p.a.opts.Now()
	if now.Sub(p.last) < time.Second {
		return
	}
	p.last = now
	el := now.Sub(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(done) / el / (1 << 20)
	}
	p.a.log.Info("Loading the AOF", "loaded_bytes", done, "total_bytes", p.total,
		"perc", fmt.Sprintf("%.1f%%", float64(done)*100/float64(max(p.total, 1))),
		"commands", cmds, "rate_mb_s", fmt.Sprintf("%.1f", rate))
	if p.a.opts.OnProgress != nil {
		p.a.opts.OnProgress(p.a.LoadProgress())
	}
}

// loadFile replays one file. It returns the bytes read and, when it cut a
// truncated tail, the new size (else -1).
func (a *AOF) loadFile(name string, size int64, last bool, before int64,
	apply func([][]byte) error, st *LoadStats, pr *progress) (int64, int64, error) {
	if size == 0 {
		return 0, -1, nil
	}
	f, err := a.fs.OpenFile(a.path(name), os.O_RDONLY, 0)
	if err != nil {
		return 0, -1, fmt.Errorf("Fatal error: can't open the append log file %s for reading: %w", name, err)
	}
	defer f.Close()
	s := newScanner(f, size)
	inMulti := false
	validUpTo := int64(0) // end of the last command passed to apply
	loops := 0
	for {
		if loops++; loops%1024 == 0 {
			pr.tick(before+s.off, st.Commands)
		}
		off, err := s.next()
		if err == io.EOF {
			if inMulti {
				a.log.Warn("Revert incomplete MULTI/EXEC transaction in AOF file", "file", name)
				err = errTruncated
			} else {
				return s.off, -1, nil
			}
		}
		if err != nil {
			var fe *formatError
			switch {
			case errors.As(err, &fe):
				return s.off, -1, &LoadError{File: name, Offset: fe.off, Reason: fe.msg, Manifest: a.ManifestPath()}
			case err == errTruncated:
				return a.truncatedTail(name, last, validUpTo, s.off)
			default:
				return s.off, -1, fmt.Errorf("Unrecoverable error reading the append only file %s: %w", name, err)
			}
		}
		argv := s.last()
		switch {
		case isCmd(argv, "multi"):
			if inMulti {
				return s.off, -1, &LoadError{File: name, Offset: off, Reason: "Unexpected MULTI", Manifest: a.ManifestPath()}
			}
			inMulti = true
			continue
		case isCmd(argv, "exec"):
			if !inMulti {
				return s.off, -1, &LoadError{File: name, Offset: off, Reason: "Unexpected EXEC", Manifest: a.ManifestPath()}
			}
			inMulti = false
		case inMulti:
			continue
		}
		for i := range s.cmds {
			if err := apply(s.command(i)); err != nil {
				return s.off, -1, fmt.Errorf("loading the append only file %s at offset %d: %w", name, off, err)
			}
			st.Commands++
		}
		s.reset()
		validUpTo = s.off
	}
}

// truncatedTail handles a file that ends inside a command or MULTI block.
func (a *AOF) truncatedTail(name string, last bool, validUpTo, read int64) (int64, int64, error) {
	lerr := &LoadError{File: name, Offset: validUpTo, Truncated: true, Reason: "unexpected end of file", Manifest: a.ManifestPath()}
	if !a.opts.LoadTruncated {
		return read, -1, lerr
	}
	if !last {
		return read, -1, fmt.Errorf("Fatal error: the truncated file is not the last file: %w", lerr)
	}
	a.log.Warn("!!! Warning: short read while loading the AOF file !!!", "file", name)
	a.log.Warn("!!! Truncating the AOF at offset !!!", "file", name, "offset", validUpTo)
	if err := a.fs.Truncate(a.path(name), validUpTo); err != nil {
		return read, -1, fmt.Errorf("Error truncating the AOF file %s: %w", name, err)
	}
	a.log.Warn("AOF loaded anyway because aof-load-truncated is enabled", "file", name)
	return read, validUpTo, nil
}
