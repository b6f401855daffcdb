package main

import (
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestWatchdogInterval(t *testing.T) {
	pid := 4242
	tests := []struct {
		usec, wdPID string
		want        time.Duration
	}{
		{"", "", 0},
		{"junk", "", 0},
		{"0", "", 0},
		{"-5", "", 0},
		{"30000000", "", 15 * time.Second},
		{"30000000", strconv.Itoa(pid), 15 * time.Second},
		{"30000000", "1", 0}, // meant for another process
		{"1000", "", 500 * time.Microsecond},
	}
	for _, tt := range tests {
		env := map[string]string{"WATCHDOG_USEC": tt.usec, "WATCHDOG_PID": tt.wdPID}
		if got := watchdogInterval(func(k string) string { return env[k] }, pid); got != tt.want {
			t.Errorf("WATCHDOG_USEC=%q WATCHDOG_PID=%q: %v, want %v", tt.usec, tt.wdPID, got, tt.want)
		}
	}
}

// listenNotify plays systemd's end of NOTIFY_SOCKET.
func listenNotify(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Skipf("unixgram socket %q: %v", name, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func readDatagram(t *testing.T, conn *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 4096)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("no datagram: %v", err)
	}
	return string(buf[:n])
}

func TestNotifierSends(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir, err := os.MkdirTemp("", "sdn")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "notify")
	abstract := "cachalot-test-" + strconv.Itoa(os.Getpid())
	for _, tt := range []struct {
		env    string // NOTIFY_SOCKET as systemd sets it
		listen string // where the fake systemd listens
	}{
		{path, path},
		{"@" + abstract, "\x00" + abstract},
	} {
		conn := listenNotify(t, tt.listen)
		n := newNotifier(true, tt.env, quiet)
		n.send("READY=1\nSTATUS=ready")
		if got := readDatagram(t, conn); got != "READY=1\nSTATUS=ready" {
			t.Errorf("%s: got %q", tt.env, got)
		}
		n.reloading()
		got := readDatagram(t, conn)
		if len(got) < len("RELOADING=1\nMONOTONIC_USEC=1") || got[:len("RELOADING=1\nMONOTONIC_USEC=")] != "RELOADING=1\nMONOTONIC_USEC=" {
			t.Errorf("%s: reloading sent %q", tt.env, got)
		}
	}
	// Disabled, or enabled without a socket: a nil notifier that is safe
	// to use.
	for _, n := range []*notifier{newNotifier(false, path, quiet), newNotifier(true, "", quiet)} {
		if n != nil {
			t.Errorf("notifier = %+v, want nil", n)
		}
		n.send("READY=1")
		n.reloading()
	}
}

func TestMonotonicUsecAdvances(t *testing.T) {
	a := monotonicUsec()
	time.Sleep(2 * time.Millisecond)
	b := monotonicUsec()
	if a <= 0 || b <= a {
		t.Errorf("monotonicUsec: %d then %d", a, b)
	}
}
