package main

import (
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/cachalotdb/cachalot/config"
)

// logOutput is the log destination: standard error, or logfile, which
// Reopen opens again (after logrotate moved it away) without losing lines.
type logOutput struct {
	mu   sync.Mutex
	path string
	f    *os.File
}

func openLogOutput(path string) (*logOutput, error) {
	o := &logOutput{path: path, f: os.Stderr}
	if path != "" {
		if err := o.Reopen(); err != nil {
			return nil, err
		}
	}
	return o, nil
}

func (o *logOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.f.Write(p)
}

// Reopen opens the log file again and switches to it; on error the old
// file stays in use.
func (o *logOutput) Reopen() error {
	if o.path == "" {
		return nil
	}
	f, err := os.OpenFile(o.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("open logfile: %w", err)
	}
	o.mu.Lock()
	old := o.f
	o.f = f
	o.mu.Unlock()
	if old != os.Stderr {
		old.Close()
	}
	return nil
}

func (o *logOutput) Close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.f != os.Stderr {
		o.f.Close()
	}
}

// newLogger logs at level (CONFIG SET loglevel changes it) to out, as text
// or JSON (log-format).
func newLogger(cfg *config.Config, level *slog.LevelVar, out *logOutput) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(out, opts))
	}
	return slog.New(slog.NewTextHandler(out, opts))
}
