package server

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/store"
)

// rlT0 is the fake clock's start: a whole second, in Unix milliseconds.
const rlT0 = 1_700_000_000_000

// startRLServer runs a server whose store reads the returned fake clock.
func startRLServer(t *testing.T) (*Server, string, *store.FakeClock) {
	t.Helper()
	clock := store.NewFakeClock(rlT0)
	cfg := config.Default()
	st, err := store.New(store.Options{Databases: cfg.Databases, Shards: 16, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	srv := New(Options{Config: cfg, Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv, ln.Addr().String(), clock
}

// rlConn sends commands and reads whole replies.
type rlConn struct {
	nc net.Conn
	br *bufio.Reader
}

func dialRL(t *testing.T, addr string) *rlConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rlConn{nc: nc, br: bufio.NewReader(nc)}
}

func (c *rlConn) call(args ...string) (any, error) {
	c.nc.SetDeadline(time.Now().Add(10 * time.Second))
	bs := make([][]byte, len(args))
	for i, a := range args {
		bs[i] = []byte(a)
	}
	if _, err := c.nc.Write(encodeRESP(bs...)); err != nil {
		return nil, err
	}
	return readRESP(c.br)
}

// do returns the reply formatted with fmt.Sprint: "[0 16 15 -1 2]", an
// error's text, "<nil>" for a null.
func (c *rlConn) do(t *testing.T, args ...string) string {
	t.Helper()
	v, err := c.call(args...)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return fmt.Sprint(v)
}

func TestRateLimitCommands(t *testing.T) {
	srv, addr, clock := startRLServer(t)
	c := dialRL(t, addr)
	type cmd struct {
		advanceMs int64
		args      []string
		want      string
	}
	script := []cmd{
		// redis-cell's README example: EI 2s, DVT 32s.
		{0, []string{"CL.THROTTLE", "user123", "15", "30", "60"}, "[0 16 15 -1 2]"},
		{0, []string{"TYPE", "user123"}, "string"},
		{0, []string{"PTTL", "user123"}, "2000"},
		{0, []string{"GET", "user123"}, fmt.Sprint(int64((rlT0 + 2000) * 1e6))},
		{0, []string{"CL.THROTTLE", "user123", "15", "30", "60", "0"}, "[0 16 15 -1 2]"},
		{0, []string{"CL.THROTTLE", "user123", "15", "30", "60", "16"}, "[1 16 15 2 2]"},
		{0, []string{"CL.THROTTLE", "user123", "15", "30", "60", "17"}, "[1 16 15 -1 2]"},
		{2000, []string{"EXISTS", "user123"}, "0"},
		// Errors, in redis-cell's words where it has them.
		{0, []string{"CL.THROTTLE", "k", "x", "1", "1"}, "Cell error: Store error: Couldn't parse as integer: x"},
		{0, []string{"CL.THROTTLE", "k", "1", "0", "1"}, "Cell error: Store error: Zero rates are not supported"},
		{0, []string{"CL.THROTTLE", "k", "1", "1", "0"}, "Cell error: Store error: Zero rates are not supported"},
		{0, []string{"CL.THROTTLE", "k", "1", "-1", "1"}, "Cell error: Store error: Zero rates are not supported"},
		{0, []string{"CL.THROTTLE", "k", "-1", "1", "1"}, string(errRLNegBurst)},
		{0, []string{"CL.THROTTLE", "k", "1", "1", "1", "-1"}, string(errRLNegQuantity)},
		{0, []string{"CL.THROTTLE", "k", "1", "1", "1", "1", "1"}, string(errCellUsage)},
		{0, []string{"CL.THROTTLE", "k", "1", "1"}, "ERR wrong number of arguments for 'cl.throttle' command"},
		{0, []string{"CL.THROTTLE", "k", "+1", "1", "1"}, "[0 2 1 -1 1]"},
		{0, []string{"LPUSH", "list", "a"}, "1"},
		{0, []string{"CL.THROTTLE", "list", "1", "1", "1"}, string(errWrongType)},
		{0, []string{"SET", "plain", "hello"}, "OK"},
		{0, []string{"CL.THROTTLE", "plain", "1", "1", "1"}, string(errRLBadState)},
		// GCRA: double period, TOKENS, plain Redis parse errors.
		{0, []string{"GCRA", "g", "5", "10", "60"}, "[0 6 5 -1 6]"},
		{0, []string{"GCRA", "g", "5", "10", "60", "TOKENS", "5"}, "[0 6 0 -1 36]"},
		{0, []string{"GCRA", "g", "5", "10", "60", "tokens", "1"}, "[1 6 0 6 36]"},
		{0, []string{"GCRA", "h", "1", "1", "0.5"}, "[0 2 1 -1 1]"},
		{0, []string{"GCRA", "h", "1", "1", "x"}, string(errNotFloat)},
		{0, []string{"GCRA", "h", "1.5", "1", "1"}, string(errNotInteger)},
		{0, []string{"GCRA", "h", "1", "0", "1"}, string(errRLRate)},
		{0, []string{"GCRA", "h", "1", "1", "0"}, string(errRLRate)},
		{0, []string{"GCRA", "h", "1", "1", "1", "TOKENS"}, string(errSyntax)},
		{0, []string{"GCRA", "h", "1", "1", "1", "FOO", "1"}, string(errSyntax)},
		// RL.TAKE: 3 tokens, 1 per second.
		{0, []string{"RL.TAKE", "b", "3", "1", "1000"}, "[1 3 2 0 1000]"},
		{0, []string{"PTTL", "b"}, "1000"},
		{0, []string{"TYPE", "b"}, "string"},
		{0, []string{"RL.TAKE", "b", "3", "1", "1000", "COST", "2"}, "[1 3 0 0 3000]"},
		{0, []string{"RL.TAKE", "b", "3", "1", "1000"}, "[0 3 0 1000 3000]"},
		{400, []string{"RL.TAKE", "b", "3", "1", "1000", "DRYRUN"}, "[0 3 0 600 2600]"},
		{600, []string{"RL.TAKE", "b", "3", "1", "1000", "DRYRUN"}, "[1 3 0 0 3000]"}, // as the take would answer
		{0, []string{"RL.INSPECT", "b"}, "[3 1 1 1000 2000]"},
		{0, []string{"RL.TAKE", "b", "3", "1", "1000", "COST", "4"}, "[0 3 1 -1 2000]"},
		{0, []string{"RL.REFUND", "b", "1"}, "2"},
		{0, []string{"RL.REFUND", "b", "100"}, "3"},
		{0, []string{"EXISTS", "b"}, "0"}, // full again: the key is gone
		{0, []string{"RL.INSPECT", "b"}, "<nil>"},
		{0, []string{"RL.REFUND", "b", "1"}, "<nil>"},
		{0, []string{"RL.TAKE", "b", "3", "1", "1000", "DRYRUN"}, "[1 3 2 0 1000]"},
		{0, []string{"EXISTS", "b"}, "0"},
		{0, []string{"RL.TAKE", "b", "0", "1", "1000"}, string(errRLParams)},
		{0, []string{"RL.TAKE", "b", "9223372036854775807", "1", "2"}, string(errRLTooLarge)},
		{0, []string{"RL.TAKE", "b", "3", "1", "1000", "COST", "-1"}, string(errRLNegCost)},
		{0, []string{"RL.TAKE", "b", "3", "1", "1000", "BOGUS"}, string(errSyntax)},
		{0, []string{"RL.TAKE", "list", "3", "1", "1000"}, string(errWrongType)},
		{0, []string{"RL.TAKE", "plain", "3", "1", "1000"}, string(errRLBadState)},
		// RL.MTAKE: a per-user bucket of 2 and a global one of 5.
		{0, []string{"RL.MTAKE", "2", "u1", "2", "1", "1000", "all", "5", "1", "1000"}, "[1 <nil> 0 [[1 2 1 0 1000] [1 5 4 0 1000]]]"},
		{0, []string{"RL.MTAKE", "2", "u1", "2", "1", "1000", "all", "5", "1", "1000"}, "[1 <nil> 0 [[1 2 0 0 2000] [1 5 3 0 2000]]]"},
		{0, []string{"RL.MTAKE", "2", "u1", "2", "1", "1000", "all", "5", "1", "1000"}, "[0 u1 1000 [[0 2 0 1000 2000] [1 5 3 0 2000]]]"},
		{0, []string{"RL.MTAKE", "2", "u2", "2", "1", "1000", "all", "5", "1", "1000", "COST", "2"}, "[1 <nil> 0 [[1 2 0 0 2000] [1 5 1 0 4000]]]"},
		{0, []string{"RL.MTAKE", "2", "u3", "2", "1", "1000", "all", "5", "1", "1000", "COST", "2"}, "[0 all 1000 [[1 2 2 0 0] [0 5 1 1000 4000]]]"},
		{0, []string{"EXISTS", "u3"}, "0"},
		{0, []string{"RL.MTAKE", "0", "u1", "2", "1", "1000"}, string(errRLNumBuckets)},
		{0, []string{"RL.MTAKE", "2", "u1", "2", "1", "1000"}, string(errRLBucketsCount)},
		{0, []string{"RL.MTAKE", "1", "u1", "2", "1", "1000", "COST"}, string(errSyntax)},
		{0, []string{"COMMAND", "GETKEYS", "RL.MTAKE", "2", "u1", "2", "1", "1000", "all", "5", "1", "1000", "DRYRUN"}, "[u1 all]"},
		// RL.RESET deletes only rate-limiter states.
		{0, []string{"CL.THROTTLE", "t", "1", "1", "1"}, "[0 2 1 -1 1]"},
		{0, []string{"RL.RESET", "u1", "t", "plain"}, string(errRLBadState)},
		{0, []string{"RL.RESET", "u1", "t", "missing"}, "2"},
		{0, []string{"RL.RESET", "list"}, string(errWrongType)},
	}
	for i, step := range script {
		clock.Advance(time.Duration(step.advanceMs) * time.Millisecond)
		if got := c.do(t, step.args...); got != step.want {
			t.Errorf("%d %v: got %q, want %q", i, step.args, got, step.want)
		}
	}
	// RESP3: maps with names.
	c.do(t, "HELLO", "3")
	if got, want := c.do(t, "RL.TAKE", "r3", "10", "5", "1000", "COST", "3"), "[allowed 1 limit 10 remaining 7 retry_after_ms 0 reset_after_ms 600]"; got != want {
		t.Errorf("RESP3 RL.TAKE: got %s, want %s", got, want)
	}
	if got, want := c.do(t, "RL.INSPECT", "r3"), "[limit 10 remaining 7 tokens 5 interval_ms 1000 reset_after_ms 600]"; got != want {
		t.Errorf("RESP3 RL.INSPECT: got %s, want %s", got, want)
	}
	if got, want := c.do(t, "RL.MTAKE", "1", "r3", "10", "5", "1000", "COST", "8"), "[allowed 0 denied_by r3 retry_after_ms 200 buckets [[allowed 0 limit 10 remaining 7 retry_after_ms 200 reset_after_ms 600]]]"; got != want {
		t.Errorf("RESP3 RL.MTAKE: got %s, want %s", got, want)
	}
	// The counters saw every decision above.
	counts := map[string]int64{}
	for _, d := range srv.rlStats.Decisions() {
		counts[d.Cmd+"/"+d.Result] = d.Count
	}
	want := map[string]int64{
		"cl.throttle/allowed": 4, "cl.throttle/limited": 2,
		"gcra/allowed": 3, "gcra/limited": 1,
		"rl.take/allowed": 5, "rl.take/limited": 3,
		"rl.mtake/allowed": 3, "rl.mtake/limited": 3,
	}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("decisions %s = %d, want %d (all: %v)", k, counts[k], v, counts)
		}
	}
}

// TestRateLimitConcurrency: 200 connections hammer one key with capacity
// 100 refilled at 10 tokens per second while a fake clock runs 5 s; the
// bucket starts full and never refills to capacity while hammered, so
// exactly 100 + 10 × 5 = 150 requests may pass. Each clock step waits for
// the clients to have sent at least one request per connection, so every
// millisecond of refill is seen; after the last step the clients hammer on
// until they have sent another round. Repeated 20 times.
func TestRateLimitConcurrency(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	_, addr, clock := startRLServer(t)
	const clients, capacity, rate, seconds, stepMs = 200, 100, 10, 5, 100
	conns := make([]*rlConn, clients)
	for i := range conns {
		conns[i] = dialRL(t, addr)
	}
	for rep := range 20 {
		key := fmt.Sprintf("hammer:%d", rep)
		var sent, allowed atomic.Int64
		var stop atomic.Bool
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for _, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					v, err := c.call("RL.TAKE", key, fmt.Sprint(capacity), fmt.Sprint(rate), "1000")
					if err != nil {
						errs <- err
						return
					}
					sent.Add(1)
					arr, ok := v.([]any)
					if !ok || len(arr) != 5 {
						errs <- fmt.Errorf("reply %v", v)
						return
					}
					if arr[0] == int64(1) {
						allowed.Add(1)
					}
				}
			}()
		}
		waitRound := func() {
			target := sent.Load() + clients
			for sent.Load() < target && len(errs) == 0 {
				time.Sleep(100 * time.Microsecond)
			}
		}
		waitRound()
		for ms := 0; ms < seconds*1000; ms += stepMs {
			clock.Advance(stepMs * time.Millisecond)
			waitRound()
		}
		waitRound()
		stop.Store(true)
		wg.Wait()
		select {
		case err := <-errs:
			t.Fatal(err)
		default:
		}
		exact := int64(capacity + rate*seconds)
		if got := allowed.Load(); got < exact-1 || got > exact+1 {
			t.Errorf("rep %d: %d allowed of %d sent, want %d±1", rep, got, sent.Load(), exact)
		}
	}
}
