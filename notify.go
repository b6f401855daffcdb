package main

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"time"
)

// notifier speaks systemd's sd_notify protocol: newline-separated
// KEY=VALUE assignments in one datagram to the unix socket named by
// NOTIFY_SOCKET ("@name" is in the abstract namespace). A nil notifier, or
// one without a socket, does nothing, so callers never check.
type notifier struct {
	addr *net.UnixAddr
	log  *slog.Logger
}

// newNotifier returns a notifier for socket (NOTIFY_SOCKET's value) when
// enabled, else nil.
func newNotifier(enabled bool, socket string, log *slog.Logger) *notifier {
	if !enabled {
		return nil
	}
	if socket == "" {
		log.Warn("supervised systemd, but NOTIFY_SOCKET is not set: not notifying")
		return nil
	}
	name := socket
	if name[0] == '@' {
		name = "\x00" + name[1:]
	}
	return &notifier{addr: &net.UnixAddr{Name: name, Net: "unixgram"}, log: log}
}

// send writes one state datagram, e.g. "READY=1\nSTATUS=ready".
func (n *notifier) send(state string) {
	if n == nil {
		return
	}
	conn, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		n.log.Warn("sd_notify failed", "err", err)
		return
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		n.log.Warn("sd_notify failed", "err", err)
	}
}

// reloading announces a reload the way Type=notify-reload expects:
// RELOADING=1 with the current CLOCK_MONOTONIC time in microseconds.
func (n *notifier) reloading() {
	n.send("RELOADING=1\nMONOTONIC_USEC=" + strconv.FormatInt(monotonicUsec(), 10) + "\nSTATUS=reloading configuration")
}

// watchdogInterval returns how often to send WATCHDOG=1: half of
// WATCHDOG_USEC, as sd_watchdog_enabled advises, or 0 when systemd does not
// watch this process (unset, or WATCHDOG_PID names another process).
func watchdogInterval(getenv func(string) string, pid int) time.Duration {
	usec, err := strconv.ParseInt(getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec <= 0 {
		return 0
	}
	if p := getenv("WATCHDOG_PID"); p != "" && p != strconv.Itoa(pid) {
		return 0
	}
	return time.Duration(usec) * time.Microsecond / 2
}

// watchdog pings systemd every interval until ctx ends.
func (n *notifier) watchdog(ctx context.Context, interval time.Duration) {
	if n == nil || interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n.send("WATCHDOG=1")
		}
	}
}
