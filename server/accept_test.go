package server

import (
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// flakyListener fails its first Accept calls with err, then accepts.
type flakyListener struct {
	net.Listener
	failures int
	err      error
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.failures > 0 {
		l.failures--
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", l.err)}
	}
	return l.Listener.Accept()
}

// TestServeSurvivesDescriptorExhaustion: EMFILE on accept is logged and
// retried, as Redis does, instead of stopping the listener.
func TestServeSurvivesDescriptorExhaustion(t *testing.T) {
	srv, _, logs := startTestServer(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(&flakyListener{Listener: ln, failures: 3, err: syscall.EMFILE}) }()
	c := dialRaw(t, ln.Addr().String())
	if got := c.do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING after EMFILE: %q", got)
	}
	select {
	case err := <-done:
		t.Fatalf("Serve returned %v", err)
	case <-time.After(10 * time.Millisecond):
	}
	if want := "accepting a client connection failed"; !strings.Contains(logs.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, logs.String())
	}
}

func TestTemporaryAcceptError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{syscall.EMFILE, true}, {syscall.ENFILE, true}, {syscall.ECONNABORTED, true},
		{syscall.EBADF, false}, {fmt.Errorf("other"), false},
	} {
		if got := temporaryAcceptError(&net.OpError{Op: "accept", Err: os.NewSyscallError("accept4", tc.err)}); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.err, got, tc.want)
		}
	}
}
