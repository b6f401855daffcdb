package server

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/store"
)

func TestProtectedModeRefuses(t *testing.T) {
	tcp := func(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 50000} }
	tests := []struct {
		name      string
		protected bool
		pass      string
		remote    net.Addr
		want      bool
	}{
		{"remote v4, no password", true, "", tcp("10.1.2.3"), true},
		{"remote v6, no password", true, "", tcp("2001:db8::1"), true},
		{"loopback v4", true, "", tcp("127.0.0.1"), false},
		{"loopback 127/8", true, "", tcp("127.5.6.7"), false},
		{"loopback v6", true, "", tcp("::1"), false},
		{"v4-mapped loopback", true, "", tcp("::ffff:127.0.0.1"), false},
		{"v4-mapped remote", true, "", tcp("::ffff:192.168.1.9"), true},
		{"unix socket", true, "", &net.UnixAddr{Name: "/tmp/c.sock", Net: "unix"}, false},
		{"password set", true, "secret", tcp("10.1.2.3"), false},
		{"protected mode off", false, "", tcp("10.1.2.3"), false},
		{"pipe (not an IP transport)", true, "", pipeAddr{}, false},
		{"nil address", true, "", nil, false},
	}
	for _, tt := range tests {
		cfg := config.Default()
		cfg.ProtectedMode = tt.protected
		cfg.Requirepass = tt.pass
		if got := protectedModeRefuses(cfg, tt.remote); got != tt.want {
			t.Errorf("%s: protectedModeRefuses = %v, want %v", tt.name, got, tt.want)
		}
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// remoteConn is one end of a net.Pipe that claims to come from remote.
type remoteConn struct {
	net.Conn
	remote net.Addr
}

func (c remoteConn) RemoteAddr() net.Addr { return c.remote }

// pipeListener hands out the server ends of pipes, one per Accept.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	select {
	case <-l.done:
	default:
		close(l.done)
	}
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

// TestProtectedModeOverConnection drives the real accept path: a client
// "from" 10.0.0.7 gets Redis's DENIED text and is disconnected, a loopback
// one is served, and with a password the remote one is served too.
func TestProtectedModeOverConnection(t *testing.T) {
	tests := []struct {
		name   string
		pass   string
		remote string
		want   string
	}{
		{"remote refused", "", "10.0.0.7", protectedModeMessage},
		{"loopback served", "", "127.0.0.1", "+PONG\r\n"},
		{"remote with password asked to auth", "pw", "10.0.0.7", "-NOAUTH Authentication required.\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := store.New(store.Options{Databases: 1, Shards: 1})
			if err != nil {
				t.Fatal(err)
			}
			cfg := config.Default()
			cfg.Requirepass = tt.pass
			srv := New(Options{Config: cfg, Store: st})
			ln := &pipeListener{conns: make(chan net.Conn, 1), done: make(chan struct{})}
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ln) }()
			defer func() {
				srv.Close()
				<-served
			}()

			clientEnd, serverEnd := net.Pipe()
			defer clientEnd.Close()
			ln.conns <- remoteConn{serverEnd, &net.TCPAddr{IP: net.ParseIP(tt.remote), Port: 40000}}
			clientEnd.SetDeadline(time.Now().Add(10 * time.Second))
			readDone := make(chan []byte, 1)
			go func() {
				buf := make([]byte, 0, 2048)
				tmp := make([]byte, 2048)
				for len(buf) < len(tt.want) {
					n, err := clientEnd.Read(tmp)
					buf = append(buf, tmp[:n]...)
					if err != nil {
						break
					}
				}
				readDone <- buf
			}()
			// A refused client is not read from; the write may fail.
			clientEnd.Write([]byte("*1\r\n$4\r\nPING\r\n"))
			got := string(<-readDone)
			if got != tt.want {
				t.Fatalf("reply = %q\nwant %q", got, tt.want)
			}
			if tt.want == protectedModeMessage {
				// The server closes the connection after the message.
				if _, err := clientEnd.Read(make([]byte, 1)); err != io.EOF {
					t.Errorf("read after DENIED: %v, want EOF", err)
				}
			}
		})
	}
}
