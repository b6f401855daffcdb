package server

import (
	"bytes"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/config"
)

// The event loops hand a client to a goroutine of its own in the middle of
// a pipeline (a blocking command, SUBSCRIBE, a full socket). These tests
// run the same exchanges with the loops (event-loops 0) and without them
// (event-loops -1): the bytes a client sees must not depend on which
// serves it.
func eachServingModel(t *testing.T, run func(t *testing.T, addr string, srv *Server)) {
	for _, m := range []struct {
		name  string
		loops int
	}{{"event loops", 0}, {"goroutine per client", -1}} {
		t.Run(m.name, func(t *testing.T) {
			srv, addr, _ := startTestServer(t, func(c *config.Config) { c.EventLoops = m.loops })
			run(t, addr, srv)
		})
	}
}

func TestServingModelsAnswerPipelinesAlike(t *testing.T) {
	cases := []struct {
		name string
		req  [][]string
		want string
	}{
		{
			name: "blocking command mid-pipeline, data ready",
			req:  [][]string{{"RPUSH", "q", "a"}, {"SET", "k", "v"}, {"BLPOP", "q", "0"}, {"GET", "k"}, {"PING"}},
			want: ":1\r\n+OK\r\n*2\r\n$1\r\nq\r\n$1\r\na\r\n$1\r\nv\r\n+PONG\r\n",
		},
		{
			name: "script mid-pipeline",
			req:  [][]string{{"SET", "n", "1"}, {"EVAL", "return redis.call('INCR', KEYS[1])", "1", "n"}, {"GET", "n"}},
			want: "+OK\r\n:2\r\n$1\r\n2\r\n",
		},
		{
			name: "subscribe after replies",
			req:  [][]string{{"PING"}, {"SUBSCRIBE", "ch"}, {"PING"}},
			want: "+PONG\r\n*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n*2\r\n$4\r\npong\r\n$0\r\n\r\n",
		},
		{
			name: "MULTI/EXEC",
			req:  [][]string{{"MULTI"}, {"INCR", "m"}, {"INCR", "m"}, {"EXEC"}},
			want: "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:1\r\n:2\r\n",
		},
		{
			name: "HELLO 3 then commands",
			req:  [][]string{{"HELLO", "3"}, {"SET", "h", "1"}, {"INCR", "h"}},
			want: "", // HELLO's map holds the client id; checked by suffix below
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachServingModel(t, func(t *testing.T, addr string, _ *Server) {
				c := dialRaw(t, addr)
				var batch []byte
				for _, args := range tc.req {
					bs := make([][]byte, len(args))
					for i, a := range args {
						bs[i] = []byte(a)
					}
					batch = append(batch, encodeRESP(bs...)...)
				}
				c.nc.SetDeadline(time.Now().Add(5 * time.Second))
				if _, err := c.nc.Write(batch); err != nil {
					t.Fatal(err)
				}
				if tc.want == "" {
					got := readUntilSuffix(t, c, "+OK\r\n:2\r\n")
					if !strings.HasPrefix(got, "%7\r\n") {
						t.Fatalf("HELLO 3 reply %q", got)
					}
					return
				}
				got := make([]byte, len(tc.want))
				if _, err := io.ReadFull(c.br, got); err != nil {
					t.Fatalf("read: %v (got %q)", err, got)
				}
				if string(got) != tc.want {
					t.Fatalf("got  %q\nwant %q", got, tc.want)
				}
			})
		})
	}
}

// readUntilSuffix reads until what arrived ends with suffix.
func readUntilSuffix(t *testing.T, c *rawConn, suffix string) string {
	t.Helper()
	var got []byte
	buf := make([]byte, 4096)
	for !bytes.HasSuffix(got, []byte(suffix)) {
		n, err := c.br.Read(buf)
		if err != nil {
			t.Fatalf("read: %v (got %q)", err, got)
		}
		got = append(got, buf[:n]...)
	}
	return string(got)
}

// A client that pipelines faster than it reads fills its socket: the rest
// of its replies must still arrive whole and in order.
func TestServingModelsDeliverRepliesToASlowReader(t *testing.T) {
	eachServingModel(t, func(t *testing.T, addr string, _ *Server) {
		c := dialRaw(t, addr)
		value := strings.Repeat("x", 64*1024)
		if got := c.do("SET", "big", value); got != "+OK\r\n" {
			t.Fatalf("SET: %q", got)
		}
		const n = 200 // 13 MB of replies, far more than the socket buffers
		var batch []byte
		for range n {
			batch = append(batch, encodeStrings("GET", "big")...)
		}
		batch = append(batch, encodeStrings("PING")...)
		c.nc.SetDeadline(time.Now().Add(20 * time.Second))
		go c.nc.Write(batch)
		time.Sleep(200 * time.Millisecond) // let the server hit a full socket
		want := "$" + strconv.Itoa(len(value)) + "\r\n" + value + "\r\n"
		got := make([]byte, len(want))
		for i := range n {
			if _, err := io.ReadFull(c.br, got); err != nil {
				t.Fatalf("reply %d: %v", i, err)
			}
			if string(got) != want {
				t.Fatalf("reply %d differs: %.40q", i, got)
			}
		}
		if got := c.line(); got != "+PONG\r\n" {
			t.Fatalf("after the replies: %q", got)
		}
		if got := c.do("PING"); got != "+PONG\r\n" {
			t.Fatalf("the client is still served: %q", got)
		}
	})
}

func TestServingModelsCloseAlike(t *testing.T) {
	eachServingModel(t, func(t *testing.T, addr string, srv *Server) {
		// QUIT answers, then closes.
		q := dialRaw(t, addr)
		q.nc.Write(append(encodeStrings("SET", "a", "1"), encodeStrings("QUIT")...))
		if got := q.line() + q.line(); got != "+OK\r\n+OK\r\n" {
			t.Fatalf("QUIT: %q", got)
		}
		if !q.closed(5 * time.Second) {
			t.Fatal("QUIT left the connection open")
		}
		// CLIENT KILL from another client closes an idle one.
		victim := dialRaw(t, addr)
		id := strings.TrimSpace(strings.TrimPrefix(victim.do("CLIENT", "ID"), ":"))
		killer := dialRaw(t, addr)
		if got := killer.do("CLIENT", "KILL", "ID", id); got != ":1\r\n" {
			t.Fatalf("CLIENT KILL: %q", got)
		}
		if !victim.closed(5 * time.Second) {
			t.Fatal("killed client still open")
		}
		// A client that hangs up is forgotten.
		gone := dialRaw(t, addr)
		gone.do("PING")
		gone.nc.Close()
		deadline := time.Now().Add(5 * time.Second)
		for {
			srv.clientsMu.Lock()
			n := len(srv.clients)
			srv.clientsMu.Unlock()
			if n == 1 { // the killer
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d clients listed, want 1", n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// Idle loop clients hold neither a goroutine nor a read buffer.
func TestEventLoopIdleClientsHoldNoGoroutine(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	before := runtime.NumGoroutine()
	const n = 200
	for range n {
		if got := dialRaw(t, addr).do("PING"); got != "+PONG\r\n" {
			t.Fatalf("PING: %q", got)
		}
	}
	// The test's own dialers hold no goroutines either; allow for the
	// runtime's and the test framework's own.
	if grown := runtime.NumGoroutine() - before; grown > 10 {
		t.Fatalf("%d idle loop clients added %d goroutines", n, grown)
	}
}
