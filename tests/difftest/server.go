package difftest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// SkipMessage is the reason given when redis-server is not on PATH.
const SkipMessage = "redis-server not installed: differential tests skipped (apt-get install redis-server)"

// startAttempts is how many times a server start is retried with a new port
// (the port picked by FreePort can be taken by someone else before the
// server binds it).
const startAttempts = 3

// startTimeout bounds how long a started server may take to answer PING.
const startTimeout = 15 * time.Second

// Server is a server process started for a test.
type Server struct {
	Name string // "redis" or "cachalot"
	Addr string // host:port
	Port int
	Cmd  *exec.Cmd

	out *syncBuffer
}

// PID returns the process id of the server.
func (s *Server) PID() int { return s.Cmd.Process.Pid }

// Output returns what the server process has written to stdout and stderr
// so far.
func (s *Server) Output() string { return s.out.String() }

// Dial opens a raw RESP connection to the server.
func (s *Server) Dial(t testing.TB) *Conn {
	t.Helper()
	return Dial(t, s.Addr)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("difftest: pick a free port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	return port
}

// RedisServerPath returns the path of redis-server, skipping the test when
// it is not installed.
func RedisServerPath(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip(SkipMessage)
	}
	return p
}

// StartRedis starts a real redis-server on a free port of 127.0.0.1 with its
// configuration piped on stdin, waits until it answers PING and stops it
// when the test finishes. It skips the test when redis-server is not
// installed. Its output is not logged (see Server.Output).
func StartRedis(t testing.TB) *Server {
	t.Helper()
	bin := RedisServerPath(t)
	dir := t.TempDir()
	return start(t, "redis", false, func(port int) *exec.Cmd {
		cmd := exec.Command(bin, "-")
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(strings.Join([]string{
			"port " + strconv.Itoa(port),
			"bind 127.0.0.1",
			`save ""`,
			"appendonly no",
			"daemonize no",
			"enable-debug-command yes",
			`logfile ""`,
			"dir " + strconv.Quote(dir),
			"",
		}, "\n"))
		return cmd
	})
}

// StartCachalot builds cachalot (once per test process) and starts it on a
// free port of 127.0.0.1, waits until it answers PING and kills it when the
// test finishes. If the test failed, the server's output is logged.
func StartCachalot(t testing.TB, extraArgs ...string) *Server {
	t.Helper()
	bin := BuildCachalot(t)
	dir := t.TempDir()
	return start(t, "cachalot", true, func(port int) *exec.Cmd {
		args := []string{
			"--port", strconv.Itoa(port),
			"--bind", "127.0.0.1",
			"--enable-debug-command", "yes",
			// Tests run many servers at once: none may take the default
			// metrics port.
			"--metrics-addr", "",
		}
		cmd := exec.Command(bin, append(args, extraArgs...)...)
		cmd.Dir = dir
		return cmd
	})
}

// StartSubject starts the server under test: cachalot, or a second real
// redis-server when DIFFTEST_SELF is set to a non-empty value other than
// "0" (to validate scripts and the harness against Redis itself).
func StartSubject(t testing.TB) *Server {
	t.Helper()
	if SelfMode() {
		s := StartRedis(t)
		s.Name = "redis(self)"
		return s
	}
	return StartCachalot(t)
}

// SelfMode reports whether DIFFTEST_SELF asks for Redis to be compared with
// itself.
func SelfMode() bool {
	v := os.Getenv("DIFFTEST_SELF")
	return v != "" && v != "0"
}

func start(t testing.TB, name string, logOnFail bool, mkCmd func(port int) *exec.Cmd) *Server {
	t.Helper()
	var lastErr error
	var lastOut string
	for attempt := 1; attempt <= startAttempts; attempt++ {
		port := FreePort(t)
		cmd := mkCmd(port)
		out := &syncBuffer{}
		cmd.Stdout = out
		cmd.Stderr = out
		if err := cmd.Start(); err != nil {
			t.Fatalf("difftest: start %s: %v", name, err)
		}
		exited := make(chan struct{})
		go func() {
			_ = cmd.Wait()
			close(exited)
		}()
		s := &Server{Name: name, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Port: port, Cmd: cmd, out: out}
		err := waitPing(s.Addr, exited)
		if err == nil {
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
				<-exited
				if logOnFail && t.Failed() {
					t.Logf("%s (%s, pid %d) output:\n%s", s.Name, s.Addr, cmd.Process.Pid, out.String())
				}
			})
			return s
		}
		_ = cmd.Process.Kill()
		<-exited
		lastErr, lastOut = err, out.String()
		t.Logf("difftest: %s on port %d did not start (attempt %d/%d): %v", name, port, attempt, startAttempts, err)
	}
	t.Fatalf("difftest: %s did not start after %d attempts: %v\noutput:\n%s", name, startAttempts, lastErr, lastOut)
	return nil
}

var errExited = errors.New("process exited")

// waitPing polls addr with PING until it answers +PONG, the process exits or
// startTimeout passes.
func waitPing(addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(startTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errExited
		default:
		}
		last = pingOnce(addr)
		if last == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no PONG within %v: %v", startTimeout, last)
}

func pingOnce(addr string) error {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(time.Second))
	if _, err := nc.Write(EncodeCommand("PING")); err != nil {
		return err
	}
	reply, err := ReadReply(bufio.NewReader(nc))
	if err != nil {
		return err
	}
	if string(reply) != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", reply)
	}
	return nil
}

var build struct {
	once sync.Once
	path string
	err  error
}

// BuildCachalot builds the cachalot binary from the module root once per
// test process and returns its path. When CACHALOT_BIN is set, that binary
// is used instead and nothing is built. A build failure is fatal.
func BuildCachalot(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		if p := os.Getenv("CACHALOT_BIN"); p != "" {
			build.path, build.err = filepath.Abs(p)
			return
		}
		build.path, build.err = buildCachalot()
	})
	if build.err != nil {
		t.Fatalf("difftest: build cachalot: %v", build.err)
	}
	return build.path
}

func buildCachalot() (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "cachalot-difftest-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "cachalot")
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goBin, "build", "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build in %s: %v\n%s", root, err, out)
	}
	return bin, nil
}

// ModuleRoot returns the nearest directory at or above the working
// directory that contains go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}
