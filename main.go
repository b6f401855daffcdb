// Command cachalot is a Redis-compatible cache daemon. main only wires the
// packages together: configuration, logging, store, server, listeners,
// service-manager notification, background tasks and signals (signals.go).
package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync/atomic"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/metrics"
	"github.com/cachalotdb/cachalot/persistence"
	"github.com/cachalotdb/cachalot/server"
	"github.com/cachalotdb/cachalot/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "check-aof" {
		os.Exit(persistence.CheckAOFMain(os.Args[2:]))
	}
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
	logOut, err := openLogOutput(cfg.Logfile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cachalot: %v\n", err)
		return 1
	}
	defer logOut.Close()
	logger := newLogger(cfg, &logLevel, logOut)
	notify := newNotifier(cfg.SupervisedBySystemd(os.Getenv("NOTIFY_SOCKET")), os.Getenv("NOTIFY_SOCKET"), logger)
	notify.send("STATUS=starting")

	st, err := store.New(store.Options{Databases: cfg.Databases, Shards: cfg.Shards})
	if err != nil {
		logger.Error("cannot create the store", "err", err)
		return 1
	}
	var tlsConf atomic.Pointer[tls.Config]
	tc, err := loadTLS(cfg)
	if err != nil {
		logger.Error("cannot set up TLS", "err", err)
		return 1
	}
	tlsConf.Store(tc)
	removePidfile, err := writePidfile(cfg.Pidfile)
	if err != nil {
		logger.Error("cannot write the pid file", "err", err)
		return 1
	}
	defer removePidfile()
	d := &daemon{log: logger, logOut: logOut, notify: notify, tlsConf: &tlsConf,
		shutdown: make(chan struct{}, 1), cleanup: removePidfile}
	d.srv = server.New(server.Options{
		Config:     cfg,
		Store:      st,
		Logger:     logger.With("component", "server"),
		Version:    version,
		Shutdown:   d.requestShutdown,
		ConfigFile: cfg.File,
		LogLevel:   &logLevel,
	})
	if err := d.srv.LoadACLFile(); err != nil { // aclfile: Redis aborts startup on ACL errors
		logger.Error("aborting startup because of ACL errors", "err", err)
		return 1
	}

	listeners, err := listen(cfg, &tlsConf)
	if err != nil {
		logger.Error("cannot listen", "err", err)
		return 1
	}
	errc := make(chan error, len(listeners))
	for _, ln := range listeners {
		logger.Info("ready to accept connections", "addr", ln.Addr().String(), "version", version, "pid", os.Getpid())
		go func(ln net.Listener) { errc <- d.srv.Serve(ln) }(ln)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go d.srv.RunBackground(ctx)
	metricsDone := make(chan struct{})
	go func() {
		defer close(metricsDone)
		serveMetrics := metrics.Serve
		if cfg.MetricsPprof {
			serveMetrics = metrics.ServeWithProfiles
		}
		serveMetrics(ctx, cfg.MetricsAddr, d.srv, logger.With("component", "metrics"))
	}()
	if err := d.srv.StartAOF(func(status string) { notify.send("STATUS=" + status) }); err != nil {
		logger.Error("cannot load the append-only file", "err", err)
		d.srv.Close()
		return 1
	}
	notify.send("READY=1\nSTATUS=ready to accept connections")
	go notify.watchdog(ctx, watchdogInterval(os.Getenv, os.Getpid()))

	status := d.loop(errc)
	stop() // ends the metrics endpoint and background tasks
	<-metricsDone
	logger.Info("bye")
	return status
}
