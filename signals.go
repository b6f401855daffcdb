package main

import (
	"crypto/tls"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/server"
)

// daemon holds what the signal loop needs to reload and stop the process.
type daemon struct {
	srv      *server.Server
	log      *slog.Logger
	logOut   *logOutput
	notify   *notifier
	tlsConf  *atomic.Pointer[tls.Config]
	shutdown chan struct{} // SHUTDOWN command
	cleanup  func()        // removes the pid file; also run before a forced exit
}

// requestShutdown is what the SHUTDOWN command calls.
func (d *daemon) requestShutdown() {
	select {
	case d.shutdown <- struct{}{}:
	default:
	}
}

// loop waits for a listener failure, SHUTDOWN, SIGTERM or SIGINT and stops
// the server gracefully; SIGHUP reloads meanwhile. It returns the exit
// status. A second SIGINT during the graceful stop exits at once.
func (d *daemon) loop(errc <-chan error) int {
	sigc := make(chan os.Signal, 4)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigc)
	status := 0
wait:
	for {
		select {
		case sig := <-sigc:
			if sig == syscall.SIGHUP {
				d.reload()
				continue
			}
			d.log.Info("received signal; shutting down", "signal", sig.String())
			break wait
		case <-d.shutdown:
			d.log.Info("SHUTDOWN requested by a client")
			break wait
		case err := <-errc:
			if err != nil {
				d.log.Error("listener failed", "err", err)
				status = 1
				break wait
			}
		}
	}

	d.notify.send("STOPPING=1\nSTATUS=shutting down")
	grace := d.srv.Config().ShutdownTimeout
	done := make(chan int, 1)
	go func() { done <- d.srv.Shutdown(grace) }()
	for {
		select {
		case forced := <-done:
			if forced > 0 {
				d.log.Warn("closed connections still busy after shutdown-timeout", "connections", forced, "shutdown_timeout", grace)
			}
			return status
		case sig := <-sigc:
			if sig == syscall.SIGINT {
				// Redis: "You insist... exiting now."
				d.log.Warn("second SIGINT received; exiting now")
				d.cleanup()
				os.Exit(1)
			}
		}
	}
}

// reload reads the configuration again (file, then command-line flags, as
// at startup), applies what can change at run time through the server's
// CONFIG SET path, reloads the TLS certificates and reopens the log file.
func (d *daemon) reload() {
	d.notify.reloading()
	defer d.notify.send("READY=1\nSTATUS=ready to accept connections")
	if err := d.logOut.Reopen(); err != nil {
		d.log.Error("SIGHUP: cannot reopen the log file", "err", err)
	}
	cfg, _, err := config.Load(os.Args[1:], version, io.Discard, io.Discard)
	if err != nil {
		d.log.Error("SIGHUP: configuration not reloaded", "err", err)
		return
	}
	res, err := d.srv.Reload(cfg)
	if err != nil {
		d.log.Error("SIGHUP: configuration not reloaded", "err", err)
		return
	}
	if cfg.TLSPort != 0 && d.tlsConf.Load() != nil {
		if tc, err := loadTLS(d.srv.Config()); err != nil {
			d.log.Error("SIGHUP: TLS certificates not reloaded", "err", err)
		} else {
			d.tlsConf.Store(tc)
		}
	}
	d.log.Info("SIGHUP: configuration reloaded", "changed", res.Changed, "need_restart", res.NeedRestart)
}
