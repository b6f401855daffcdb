package integration

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/tests/difftest"
)

// daemon is a cachalot process started with full control of its
// environment, so tests can signal it and read its exit status.
type daemon struct {
	cmd    *exec.Cmd
	addr   string
	port   int
	out    *bytes.Buffer
	exited chan struct{}
	err    error // cmd.Wait's result, valid once exited is closed
}

// startDaemon starts cachalot on a free loopback port with args and extra
// environment entries, waits for PING and kills it at cleanup.
func startDaemon(t *testing.T, env []string, args ...string) *daemon {
	t.Helper()
	return startDaemonIn(t, t.TempDir(), 15*time.Second, env, args...)
}

// startDaemonIn is startDaemon with the working directory and start-up
// timeout given (a daemon restarted on its own files, a long AOF load).
func startDaemonIn(t *testing.T, workdir string, within time.Duration, env []string, args ...string) *daemon {
	t.Helper()
	bin := difftest.BuildCachalot(t)
	for attempt := 0; attempt < 3; attempt++ {
		port := difftest.FreePort(t)
		all := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--metrics-addr", ""}, args...)
		d := &daemon{cmd: exec.Command(bin, all...), port: port, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
			out: &bytes.Buffer{}, exited: make(chan struct{})}
		d.cmd.Env = append(os.Environ(), env...)
		d.cmd.Dir = workdir
		d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
		if err := d.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { d.err = d.cmd.Wait(); close(d.exited) }()
		if waitForPing(d.addr, d.exited, within) {
			t.Cleanup(func() {
				d.cmd.Process.Kill()
				<-d.exited
				if t.Failed() {
					t.Logf("cachalot output:\n%s", d.out.String())
				}
			})
			return d
		}
		d.cmd.Process.Kill()
		<-d.exited
		t.Logf("attempt %d: cachalot did not start: %s", attempt, d.out.String())
	}
	t.Fatal("cachalot did not start")
	return nil
}

func waitForPing(addr string, exited <-chan struct{}, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		err := pingAddr(addr, time.Second)
		if err == nil || strings.Contains(err.Error(), "NOAUTH") { // up, but wants a password
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// pingAddr sends PING on a fresh connection and expects +PONG.
func pingAddr(addr string, within time.Duration) error {
	nc, err := net.DialTimeout("tcp", addr, within)
	if err != nil {
		return err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(within))
	if _, err := nc.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(nc).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return errors.New("PING answered " + strconv.Quote(line))
	}
	return nil
}

// waitExit waits for the process to end and returns its exit code.
func (d *daemon) waitExit(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-d.exited:
	case <-time.After(within):
		t.Fatalf("cachalot still running %v after being told to stop", within)
	}
	var ee *exec.ExitError
	if errors.As(d.err, &ee) {
		return ee.ExitCode()
	}
	if d.err != nil {
		t.Fatalf("wait: %v", d.err)
	}
	return 0
}

func (d *daemon) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// fakeNotifySocket listens where NOTIFY_SOCKET will point, like systemd.
type fakeNotifySocket struct {
	path string
	conn *net.UnixConn
}

func newFakeNotifySocket(t *testing.T) *fakeNotifySocket {
	t.Helper()
	// Socket paths are limited to about 100 bytes: t.TempDir can be longer.
	dir, err := os.MkdirTemp("", "sdn")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &fakeNotifySocket{path: path, conn: conn}
}

// expect reads datagrams until one contains want, failing after a generous
// deadline; it returns every datagram read.
func (f *fakeNotifySocket) expect(t *testing.T, want string) []string {
	t.Helper()
	var seen []string
	buf := make([]byte, 4096)
	f.conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		n, err := f.conn.Read(buf)
		if err != nil {
			t.Fatalf("waiting for %q on NOTIFY_SOCKET: %v (got %q)", want, err, seen)
		}
		msg := string(buf[:n])
		seen = append(seen, msg)
		for _, line := range strings.Split(msg, "\n") {
			if line == want {
				return seen
			}
		}
	}
}

// TestSystemdNotifyAndPidfile plays systemd: it owns NOTIFY_SOCKET and
// checks READY=1 (only once the port answers), RELOADING=1 then READY=1 on
// SIGHUP, STOPPING=1 on SIGTERM, WATCHDOG=1 pings, the pid file and exit 0.
func TestSystemdNotifyAndPidfile(t *testing.T) {
	sock := newFakeNotifySocket(t)
	pidfile := filepath.Join(t.TempDir(), "cachalot.pid")
	d := startDaemon(t, []string{"NOTIFY_SOCKET=" + sock.path, "WATCHDOG_USEC=200000"},
		"--supervised", "systemd", "--pidfile", pidfile)

	seen := sock.expect(t, "READY=1")
	if !strings.Contains(strings.Join(seen, "\n"), "STATUS=") {
		t.Errorf("no STATUS= line before READY=1: %q", seen)
	}
	if err := pingAddr(d.addr, 5*time.Second); err != nil {
		t.Fatalf("READY=1 sent but PING fails: %v", err)
	}
	raw, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	if got := strings.TrimSpace(string(raw)); got != strconv.Itoa(d.cmd.Process.Pid) {
		t.Errorf("pid file holds %q, want %d", got, d.cmd.Process.Pid)
	}
	sock.expect(t, "WATCHDOG=1")

	d.signal(t, syscall.SIGHUP)
	seen = sock.expect(t, "RELOADING=1")
	if !strings.Contains(strings.Join(seen, "\n"), "MONOTONIC_USEC=") {
		// RELOADING=1 and MONOTONIC_USEC= travel in one datagram.
		t.Errorf("RELOADING=1 without MONOTONIC_USEC: %q", seen)
	}
	sock.expect(t, "READY=1")

	d.signal(t, syscall.SIGTERM)
	sock.expect(t, "STOPPING=1")
	if code := d.waitExit(t, 20*time.Second); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
	if _, err := os.Stat(pidfile); !os.IsNotExist(err) {
		t.Errorf("pid file still there after exit: %v", err)
	}
}

// TestSupervisedAutoWithoutSocket: auto without NOTIFY_SOCKET is plain.
func TestSupervisedAutoWithoutSocket(t *testing.T) {
	d := startDaemon(t, []string{"NOTIFY_SOCKET="}, "--supervised", "auto")
	d.signal(t, syscall.SIGINT)
	if code := d.waitExit(t, 20*time.Second); code != 0 {
		t.Errorf("exit code after SIGINT = %d, want 0", code)
	}
}

// TestSIGHUPReloadsConfigAndReopensLog edits the config file, sends SIGHUP
// and checks that a run-time parameter changed, a restart-only one did
// not, and that the log file was reopened after being rotated away.
func TestSIGHUPReloadsConfigAndReopensLog(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "cachalot.toml")
	logfile := filepath.Join(dir, "cachalot.log")
	write := func(slowlogLen, databases int) {
		text := "slowlog-max-len = " + strconv.Itoa(slowlogLen) + "\ndatabases = " + strconv.Itoa(databases) +
			"\nlogfile = \"" + logfile + "\"\n"
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(128, 16)
	d := startDaemon(t, nil, "--config", conf)
	c := difftest.Dial(t, d.addr)
	defer c.Close()
	if got := string(c.Do("CONFIG", "GET", "slowlog-max-len")); !strings.Contains(got, "128") {
		t.Fatalf("before reload: %q", got)
	}

	// logrotate moves the file away, then signals.
	if err := os.Rename(logfile, logfile+".1"); err != nil {
		t.Fatal(err)
	}
	write(7, 4)
	d.signal(t, syscall.SIGHUP)
	deadline := time.Now().Add(15 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		got = string(c.Do("CONFIG", "GET", "slowlog-max-len"))
		if strings.Contains(got, "\r\n7\r\n") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(got, "\r\n7\r\n") {
		t.Fatalf("after SIGHUP CONFIG GET slowlog-max-len = %q, want 7", got)
	}
	if got := string(c.Do("CONFIG", "GET", "databases")); !strings.Contains(got, "\r\n16\r\n") {
		t.Errorf("databases needs a restart but became %q", got)
	}
	var logged []byte
	for time.Now().Before(deadline) {
		logged, _ = os.ReadFile(logfile)
		if bytes.Contains(logged, []byte("configuration reloaded")) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !bytes.Contains(logged, []byte("configuration reloaded")) || !bytes.Contains(logged, []byte("databases")) {
		t.Errorf("reopened log file lacks the reload line naming databases: %q", logged)
	}
}

// TestGracefulShutdownFinishesInFlightCommand: a command running when
// SIGTERM arrives still gets its reply, then the process exits 0.
func TestGracefulShutdownFinishesInFlightCommand(t *testing.T) {
	d := startDaemon(t, nil, "--enable-debug-command", "yes", "--shutdown-timeout", "30")
	c := difftest.Dial(t, d.addr)
	defer c.Close()
	c.Send("DEBUG", "SLEEP", "1")
	time.Sleep(200 * time.Millisecond) // let the command start
	d.signal(t, syscall.SIGTERM)
	if got := string(c.Read()); got != "+OK\r\n" {
		t.Errorf("in-flight DEBUG SLEEP answered %q after SIGTERM, want +OK", got)
	}
	if code := d.waitExit(t, 20*time.Second); code != 0 {
		t.Errorf("exit code = %d, want 0", code)
	}
	if !strings.Contains(d.out.String(), "shutting down") {
		t.Errorf("no shutdown line in the log:\n%s", d.out.String())
	}
}

// TestSecondSIGINTExitsAtOnce: with a long command holding the graceful
// stop, a second SIGINT ends the process without waiting.
func TestSecondSIGINTExitsAtOnce(t *testing.T) {
	d := startDaemon(t, nil, "--enable-debug-command", "yes", "--shutdown-timeout", "60")
	c := difftest.Dial(t, d.addr)
	defer c.Close()
	c.Send("DEBUG", "SLEEP", "30")
	time.Sleep(200 * time.Millisecond)
	d.signal(t, syscall.SIGINT)
	time.Sleep(200 * time.Millisecond)
	select {
	case <-d.exited:
		t.Fatal("exited on the first SIGINT while a command was running")
	default:
	}
	start := time.Now()
	d.signal(t, syscall.SIGINT)
	code := d.waitExit(t, 10*time.Second)
	if code != 1 {
		t.Errorf("exit code after the second SIGINT = %d, want 1", code)
	}
	t.Logf("second SIGINT: exited in %v (the command would have run 30 s)", time.Since(start).Round(time.Millisecond))
}

// TestPackagedConfigAndUnit loads deploy/cachalot.toml through the real
// loader and runs systemd-analyze verify on deploy/cachalot.service pointed
// at a fresh build (skipped where systemd-analyze is missing).
func TestPackagedConfigAndUnit(t *testing.T) {
	root, err := difftest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := config.Load([]string{"--config", filepath.Join(root, "deploy", "cachalot.toml")}, "test", io.Discard, io.Discard)
	if err != nil {
		t.Fatalf("deploy/cachalot.toml does not load: %v", err)
	}
	if !cfg.ProtectedMode || cfg.Supervised != "auto" || cfg.Pidfile == "" {
		t.Errorf("packaged config: protected-mode %v, supervised %q, pidfile %q", cfg.ProtectedMode, cfg.Supervised, cfg.Pidfile)
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed: unit not verified")
	}
	unit, err := os.ReadFile(filepath.Join(root, "deploy", "cachalot.service"))
	if err != nil {
		t.Fatal(err)
	}
	bin := difftest.BuildCachalot(t)
	path := filepath.Join(t.TempDir(), "cachalot.service")
	if err := os.WriteFile(path, bytes.ReplaceAll(unit, []byte("/usr/bin/cachalot"), []byte(bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	if !bytes.Contains(unit, []byte("Type=notify")) || !bytes.Contains(unit, []byte("ProtectSystem=strict")) {
		t.Error("unit lost Type=notify or its hardening")
	}
}

// nonLoopbackIPv4 returns an address of this machine outside 127.0.0.0/8,
// or "" when there is none.
func nonLoopbackIPv4() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() && !ipn.IP.IsLinkLocalUnicast() {
			return ipn.IP.String()
		}
	}
	return ""
}

// firstReply connects to addr from its own host (so the client address is
// the non-loopback one), sends PING and returns what the server sends
// in its first line (within 5 s).
func firstReply(t *testing.T, addr string) string {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer nc.Close()
	nc.Write([]byte("*1\r\n$4\r\nPING\r\n"))
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := bufio.NewReader(nc).ReadString('\n')
	return line
}

// TestProtectedModeMatchesRedis connects over the machine's own
// non-loopback address, so the server sees a non-loopback client, to
// cachalot and to a real redis-server, both with an explicit bind (Redis
// 7.0 protects even then), and compares the bytes; then checks that
// requirepass and protected-mode no let the client in.
func TestProtectedModeMatchesRedis(t *testing.T) {
	ip := nonLoopbackIPv4()
	if ip == "" {
		t.Skip("no non-loopback IPv4 address on this machine")
	}
	bind := "127.0.0.1 " + ip
	d := startDaemon(t, nil, "--bind", bind)
	got := firstReply(t, net.JoinHostPort(ip, strconv.Itoa(d.port)))
	if !strings.HasPrefix(got, "-DENIED Redis is running in protected mode") {
		t.Fatalf("cachalot answered a client from %s with %q", ip, got)
	}
	if err := pingAddr(d.addr, 5*time.Second); err != nil {
		t.Errorf("loopback client refused: %v", err)
	}

	if redisPath, err := exec.LookPath("redis-server"); err == nil {
		port := difftest.FreePort(t)
		cmd := exec.Command(redisPath, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", ip,
			"--save", "", "--appendonly", "no", "--daemonize", "no")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		defer func() { cmd.Process.Kill(); <-exited }()
		if !waitForPing(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), exited, 15*time.Second) {
			t.Fatal("redis-server did not start")
		}
		want := firstReply(t, net.JoinHostPort(ip, strconv.Itoa(port)))
		if got != want {
			t.Errorf("protected-mode refusal differs from Redis:\n redis:    %q\n cachalot: %q", want, got)
		}
	} else {
		t.Log("redis-server not installed: refusal not compared byte for byte")
	}

	for _, args := range [][]string{{"--requirepass", "pw"}, {"--protected-mode", "no"}} {
		d := startDaemon(t, nil, append([]string{"--bind", bind}, args...)...)
		got := firstReply(t, net.JoinHostPort(ip, strconv.Itoa(d.port)))
		if strings.HasPrefix(got, "-DENIED") {
			t.Errorf("with %v a client from %s is still refused", args, ip)
		}
	}
}
