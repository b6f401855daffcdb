// Command cachalot is a Redis-compatible cache daemon. main only wires the
// packages together: configuration, store, server, background tasks and
// signals.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/metrics"
	"github.com/cachalotdb/cachalot/server"
	"github.com/cachalotdb/cachalot/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0"

func main() {
	os.Exit(run())
}

func run() int {
	cfg, action, err := config.Load(os.Args[1:], version, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cachalot: %v\n", err)
		return 1
	}
	if action != config.Run {
		return 0
	}
	var logLevel slog.LevelVar
	logLevel.Set(config.SlogLevel(cfg.Loglevel))
	logger, closeLog, err := newLogger(cfg, &logLevel)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cachalot: %v\n", err)
		return 1
	}
	defer closeLog()

	st, err := store.New(store.Options{Databases: cfg.Databases, Shards: cfg.Shards})
	if err != nil {
		logger.Error("cannot create the store", "err", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := server.New(server.Options{
		Config:     cfg,
		Store:      st,
		Logger:     logger.With("component", "server"),
		Version:    version,
		Shutdown:   stop,
		ConfigFile: cfg.File,
		LogLevel:   &logLevel,
	})

	listeners, err := listen(cfg)
	if err != nil {
		logger.Error("cannot listen", "err", err)
		return 1
	}
	errc := make(chan error, len(listeners))
	for _, ln := range listeners {
		logger.Info("ready to accept connections", "addr", ln.Addr().String(), "version", version, "pid", os.Getpid())
		go func(ln net.Listener) { errc <- srv.Serve(ln) }(ln)
	}
	go srv.RunBackground(ctx)
	metricsDone := make(chan struct{})
	go func() {
		defer close(metricsDone)
		metrics.Serve(ctx, cfg.MetricsAddr, srv, logger.With("component", "metrics"))
	}()

	status := 0
	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err := <-errc:
		if err != nil {
			logger.Error("listener failed", "err", err)
			status = 1
		}
	}
	stop() // ends the metrics endpoint too, if a listener failed
	srv.Close()
	<-metricsDone
	logger.Info("bye")
	return status
}

// listen opens every configured TCP address and the unix socket.
func listen(cfg *config.Config) ([]net.Listener, error) {
	var out []net.Listener
	fail := func(err error) ([]net.Listener, error) {
		for _, ln := range out {
			ln.Close()
		}
		return nil, err
	}
	if cfg.Port != 0 {
		for _, host := range cfg.Bind {
			optional := len(host) > 0 && host[0] == '-' // Redis: "-addr" may fail
			if optional {
				host = host[1:]
			}
			switch host {
			case "*":
				host = "0.0.0.0"
			case "::*":
				host = "::"
			}
			ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(cfg.Port)))
			if err != nil {
				if optional {
					continue
				}
				return fail(fmt.Errorf("bind %s port %d: %w", host, cfg.Port, err))
			}
			out = append(out, ln)
		}
	}
	if cfg.Unixsocket != "" {
		os.Remove(cfg.Unixsocket)
		ln, err := net.Listen("unix", cfg.Unixsocket)
		if err != nil {
			return fail(fmt.Errorf("unixsocket %s: %w", cfg.Unixsocket, err))
		}
		out = append(out, ln)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("nothing to listen on: set port and bind, or unixsocket")
	}
	return out, nil
}

// newLogger logs at level (CONFIG SET loglevel changes it) to logfile, or to
// standard error when none is set, as text or JSON (log-format).
func newLogger(cfg *config.Config, level *slog.LevelVar) (*slog.Logger, func(), error) {
	out, closeFn := os.Stderr, func() {}
	if cfg.Logfile != "" {
		f, err := os.OpenFile(cfg.Logfile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return nil, nil, fmt.Errorf("open logfile: %w", err)
		}
		out, closeFn = f, func() { f.Close() }
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(out, opts)), closeFn, nil
	}
	return slog.New(slog.NewTextHandler(out, opts)), closeFn, nil
}
