package integration

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/tests/difftest"
)

// runBinary runs cachalot with args and returns its exit code and output.
func runBinary(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(difftest.BuildCachalot(t), args...)
	cmd.Dir = t.TempDir()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("cachalot %q did not exit", args)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

func TestBinaryVersion(t *testing.T) {
	code, out, _ := runBinary(t, "--version")
	if code != 0 || !strings.HasPrefix(out, "cachalot ") || strings.TrimSpace(out) == "cachalot" {
		t.Fatalf("--version: exit %d, stdout %q", code, out)
	}
}

func TestBinaryHelp(t *testing.T) {
	code, out, _ := runBinary(t, "--help")
	if code != 0 || !strings.Contains(out, "Usage") || !strings.Contains(out, "--port") {
		t.Fatalf("--help: exit %d, stdout %.300q", code, out)
	}
}

func TestBinaryBadFlag(t *testing.T) {
	code, _, stderr := runBinary(t, "--no-such-flag", "1")
	if code != 1 || !strings.Contains(stderr, "no-such-flag") {
		t.Fatalf("unknown flag: exit %d, stderr %q", code, stderr)
	}
}

func TestBinaryBadConfigKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.toml")
	if err := os.WriteFile(path, []byte("port = 7000\nno-such-key = 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runBinary(t, "--config", path)
	if code != 1 || !strings.Contains(stderr, "no-such-key") || !strings.Contains(stderr, path) {
		t.Fatalf("unknown config key: exit %d, stderr %q", code, stderr)
	}
}

func TestBinarySIGTERM(t *testing.T) {
	port := difftest.FreePort(t)
	cmd := exec.Command(difftest.BuildCachalot(t), "--port", strconv.Itoa(port), "--bind", "127.0.0.1")
	cmd.Dir = t.TempDir()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		nc, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			nc.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cachalot did not listen on %s: %v\n%s", addr, err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A connected client does not hold up the shutdown.
	c := difftest.Dial(t, addr)
	if got := string(c.Do("SET", "k", "v")); got != "+OK\r\n" {
		t.Fatalf("SET: %q", got)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("cachalot did not exit on SIGTERM\n%s", out.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM\n%s", code, out.String())
	}
}
