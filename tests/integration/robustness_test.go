package integration

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/tests/difftest"
)

// The robustness suite throws misbehaving clients at one running daemon
// (loopback only, bounded in time and memory) and after each attack checks
// that a fresh client still gets PONG (p50/p99 over 1000 PINGs, logged:
// integration tests never assert timing), that every key written at the
// start is intact, and that the resident set comes back within 20 % of
// where it started — the RSS just before that attack — waiting up to
// robustRSSWait for the daemon to give memory back. The figures of each
// attack go to the log (-v), with the drift from the suite's start: a
// 15 MB daemon, 11 MB of it the binary's pages, keeps a few hundred kB of
// each first-time code path and of the runtime's metadata after each peak,
// so the drift adds up to 10-20 % over the attacks without anything being
// leaked.
//
// The last attack is the issue's: 10,000 idle connections, as many as the
// default maxclients (10000, as Redis) admits, then maxclients+100, the
// extra ones refused with Redis's error. Plain TCP clients are served by
// event loops with no goroutine or Go poller record each (server/
// netloop_linux.go), so the 20 % holds for this attack too; a second round
// shows nothing grows from one burst to the next.
//
// CACHALOT_ROBUST_IDLE lowers the idle-connection count for machines whose
// file limit is low (the test raises its soft limit to the hard limit; if
// that is still too low the idle attack is skipped, saying so).

const (
	robustPingDeadline = 5 * time.Second // per operation; CI machines are loaded
	robustPings        = 1000
	robustRSSWait      = 30 * time.Second // on a loaded CI machine the release comes later; the bound does not move
	robustRSSSlack     = 0.20
	robustSeedKeys     = 1000
	defaultMaxclients  = 10000
)

func robustIdleCount(t *testing.T) int {
	if v := os.Getenv("CACHALOT_ROBUST_IDLE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > defaultMaxclients {
			t.Fatalf("CACHALOT_ROBUST_IDLE=%q (1..%d)", v, defaultMaxclients)
		}
		return n
	}
	return defaultMaxclients
}

// raiseFileLimit lifts the soft open-file limit to the hard one (the daemon,
// a child, inherits it) and reports whether need descriptors fit.
func raiseFileLimit(t *testing.T, need uint64) bool {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Logf("getrlimit: %v", err)
		return false
	}
	if lim.Cur < lim.Max {
		raised := lim
		raised.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
			t.Logf("setrlimit %d -> %d: %v", lim.Cur, lim.Max, err)
		} else {
			lim = raised
		}
	}
	t.Logf("open files: soft limit %d, hard limit %d, needed %d", lim.Cur, lim.Max, need)
	return lim.Cur >= need
}

// daemonRSSKB reads the daemon's resident set size from /proc.
func daemonRSSKB(t *testing.T, pid int) int64 {
	t.Helper()
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return n
		}
	}
	t.Fatal("VmRSS not found")
	return 0
}

// pingLatencies opens a fresh connection (the dial counts towards the first
// sample) and times n PINGs, failing if any takes longer than the deadline.
func pingLatencies(t *testing.T, addr string, n int) (p50, p99 time.Duration) {
	t.Helper()
	start := time.Now()
	nc, err := net.DialTimeout("tcp", addr, robustPingDeadline)
	if err != nil {
		t.Fatalf("fresh client cannot connect: %v", err)
	}
	defer nc.Close()
	br := bufio.NewReader(nc)
	samples := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		if i > 0 {
			start = time.Now()
		}
		nc.SetDeadline(time.Now().Add(robustPingDeadline))
		if _, err := nc.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
			t.Fatalf("PING %d: %v", i, err)
		}
		line, err := br.ReadString('\n')
		if err != nil || line != "+PONG\r\n" {
			t.Fatalf("PING %d answered %q, %v", i, line, err)
		}
		samples = append(samples, time.Since(start))
	}
	slices.Sort(samples)
	return samples[len(samples)/2], samples[(len(samples)*99)/100]
}

// robust is the shared state of one suite run.
type robust struct {
	t     *testing.T
	d     *daemon
	start int64 // RSS in kB once the seed data was written and checked
	base  int64 // RSS in kB as the running attack began
	mget  []string
	want  []byte
}

// seed writes the keys every check reads back.
func (r *robust) seed() {
	t := r.t
	c := difftest.Dial(t, r.d.addr)
	defer c.Close()
	r.mget = []string{"MGET"}
	var want bytes.Buffer
	fmt.Fprintf(&want, "*%d\r\n", robustSeedKeys)
	for i := 0; i < robustSeedKeys; i++ {
		v := "value-" + strconv.Itoa(i)
		c.Send("SET", "seed:"+strconv.Itoa(i), v)
		r.mget = append(r.mget, "seed:"+strconv.Itoa(i))
		fmt.Fprintf(&want, "$%d\r\n%s\r\n", len(v), v)
	}
	for i := 0; i < robustSeedKeys; i++ {
		if got := string(c.Read()); got != "+OK\r\n" {
			t.Fatalf("seed SET %d: %q", i, got)
		}
	}
	r.want = want.Bytes()
}

// begin records the RSS an attack starts from.
func (r *robust) begin(t *testing.T) {
	r.base = daemonRSSKB(t, r.d.cmd.Process.Pid)
}

// after checks liveness, the seed data and memory after an attack.
func (r *robust) after(t *testing.T, name string) {
	t.Helper()
	p50, p99 := pingLatencies(t, r.d.addr, robustPings)
	c := difftest.Dial(t, r.d.addr)
	if got := string(c.Do("DBSIZE")); got != ":"+strconv.Itoa(robustSeedKeys)+"\r\n" {
		t.Errorf("%s: DBSIZE = %q, want the %d seed keys", name, got, robustSeedKeys)
	}
	if got := c.Do(r.mget...); !bytes.Equal(got, r.want) {
		t.Errorf("%s: the seed keys changed: MGET answered %.200q", name, got)
	}
	c.Close()
	if r.start == 0 { // the warm-up round, before the start is known
		t.Logf("%-34s PING p50 %-9v p99 %v | seed data intact", name, p50.Round(time.Microsecond), p99.Round(time.Microsecond))
		return
	}
	pid := r.d.cmd.Process.Pid
	limit := int64(float64(r.base) * (1 + robustRSSSlack))
	began := time.Now()
	rss := daemonRSSKB(t, pid)
	for rss > limit && time.Since(began) < robustRSSWait {
		time.Sleep(100 * time.Millisecond)
		rss = daemonRSSKB(t, pid)
	}
	waited := time.Since(began).Round(100 * time.Millisecond)
	over := ""
	if p99 > 10*time.Millisecond {
		over = " (over 10 ms)"
	}
	t.Logf("%-34s PING p50 %-9v p99 %-9v%s | seed data intact | RSS %6d kB = %+4.0f%% vs before (%d kB; limit %d kB, settled after %v), %+4.0f%% vs suite start",
		name, p50.Round(time.Microsecond), p99.Round(time.Microsecond), over, rss,
		100*float64(rss-r.base)/float64(r.base), r.base, limit, waited, 100*float64(rss-r.start)/float64(r.start))
	if rss > limit {
		// What the daemon holds, for the diagnosis: the runtime's figures
		// and the file-backed (binary) versus anonymous pages.
		c := difftest.Dial(t, r.d.addr)
		mem := string(c.Do("INFO", "memory"))
		c.Close()
		var goFields []string
		for _, line := range strings.Split(mem, "\r\n") {
			if strings.HasPrefix(line, "go_") || strings.HasPrefix(line, "used_memory:") {
				goFields = append(goFields, line)
			}
		}
		rollup, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
		var pages []string
		for _, line := range strings.Split(string(rollup), "\n") {
			if strings.HasPrefix(line, "Anonymous:") || strings.HasPrefix(line, "Pss_File:") {
				pages = append(pages, strings.Join(strings.Fields(line), " "))
			}
		}
		t.Logf("%s: %s; %s", name, strings.Join(goFields, " "), strings.Join(pages, ", "))
		t.Errorf("%s: RSS %d kB after %v, more than %d kB (%d kB before the attack + %.0f%%)", name, rss, robustRSSWait, limit,
			r.base, 100*robustRSSSlack)
	}
}

// readAll reads what the server sends until it closes the connection or
// the deadline passes.
func readAll(nc net.Conn, within time.Duration) (string, error) {
	nc.SetReadDeadline(time.Now().Add(within))
	b, err := io.ReadAll(nc)
	return string(b), err
}

func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, robustPingDeadline)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return nc
}

// waitAdmitted waits until the daemon has processed the closes of an
// attack's connections and admits a new client again.
func waitAdmitted(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if err = pingAddr(addr, time.Second); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no new client admitted after the attack: %v", err)
}

// waitOnlyClient waits until the client asking is the only one the daemon
// counts, and fails listing the others if that does not happen in time.
func waitOnlyClient(t *testing.T, addr string) {
	t.Helper()
	c := difftest.Dial(t, addr)
	defer c.Close()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(string(c.Do("INFO", "clients")), "connected_clients:1\r\n") {
		if time.Now().After(deadline) {
			t.Fatalf("connections of earlier attacks are still open:\n%s", c.Do("CLIENT", "LIST"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// idleConnections opens n idle connections, checks they are all served,
// then opens 100 more when n is maxclients and checks each extra one gets
// Redis's refusal; it returns with every connection closed.
func (r *robust) idleConnections(t *testing.T, n int) {
	d := r.d
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, nc := range conns {
			nc.Close()
		}
	}()
	began := time.Now()
	for i := 0; i < n; i++ {
		nc, err := net.DialTimeout("tcp", d.addr, robustPingDeadline)
		if err != nil {
			t.Fatalf("idle connection %d: %v", i, err)
		}
		conns = append(conns, nc)
	}
	dialled := time.Since(began)
	// The last is served, so all were accepted (the kernel queues them in
	// order), and the daemon counts all of them: none was refused; the
	// first is served too.
	for _, nc := range []net.Conn{conns[n-1], conns[0]} {
		nc.SetDeadline(time.Now().Add(robustPingDeadline))
		nc.Write([]byte("*2\r\n$4\r\nINFO\r\n$7\r\nclients\r\n"))
		br := bufio.NewReader(nc)
		head, err := br.ReadString('\n')
		if err != nil || !strings.HasPrefix(head, "$") {
			t.Fatalf("an idle connection is not served: %q %v", head, err)
		}
		size, _ := strconv.Atoi(strings.TrimSpace(head[1:]))
		body := make([]byte, size+2)
		if _, err := io.ReadFull(br, body); err != nil {
			t.Fatal(err)
		}
		if want := "connected_clients:" + strconv.Itoa(n) + "\r\n"; !strings.Contains(string(body), want) {
			t.Fatalf("with %d idle connections INFO clients says %q", n, body)
		}
		nc.SetDeadline(time.Time{})
	}
	held := daemonRSSKB(t, d.cmd.Process.Pid)
	refused := 0
	if n == defaultMaxclients {
		for i := 0; i < 100; i++ {
			nc := dialRaw(t, d.addr)
			out, _ := readAll(nc, robustPingDeadline)
			nc.Close()
			if out != "-ERR max number of clients reached\r\n" {
				t.Fatalf("client %d over maxclients got %q", n+i+1, out)
			}
			refused++
		}
	}
	t.Logf("%d idle connections opened in %v and served (RSS %d kB while held, %.1f kB each); %d more refused with -ERR max number of clients reached",
		n, dialled.Round(time.Millisecond), held, float64(held-r.start)/float64(n), refused)
	for _, nc := range conns {
		nc.Close()
	}
	conns = nil
	waitAdmitted(t, d.addr)
}

func TestRobustness(t *testing.T) {
	if testing.Short() {
		t.Skip("robustness suite skipped with -short")
	}
	idle := robustIdleCount(t)
	// The test holds idle+100 sockets at once and the daemon its side of
	// them, each within one open-file limit, plus room for the rest.
	idleOK := raiseFileLimit(t, uint64(idle)+100+256)
	d := startDaemon(t, nil) // maxclients: the default, 10000, as Redis
	cc := difftest.Dial(t, d.addr)
	if got := string(cc.Do("CONFIG", "GET", "maxclients")); got != "*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n" {
		t.Fatalf("CONFIG GET maxclients = %q, want the default 10000", got)
	}
	cc.Close()
	r := &robust{t: t, d: d}
	r.seed()
	// One round of the checks first, so the start figure includes the
	// code and buffers that checking itself brings in.
	r.after(t, "warm-up")
	r.start = daemonRSSKB(t, d.cmd.Process.Pid)
	t.Logf("suite start: RSS %d kB with %d keys", r.start, robustSeedKeys)

	t.Run("random bytes", func(t *testing.T) {
		r.begin(t)
		for i := 0; i < 8; i++ {
			nc := dialRaw(t, d.addr)
			junk := make([]byte, 256*1024)
			rand.Read(junk)
			nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
			nc.Write(junk) // the server may close before taking it all
			out, _ := readAll(nc, 10*time.Second)
			nc.Close()
			if out != "" && !strings.HasPrefix(out, "-") && !strings.Contains(out, "-ERR") {
				// Junk can happen to form an inline command; whatever
				// comes back must still be RESP replies.
				if c := out[0]; c != '+' && c != '-' && c != ':' && c != '$' && c != '*' {
					t.Errorf("reply to random bytes does not look like RESP: %q", out[:min(len(out), 80)])
				}
			}
		}
		r.after(t, "random bytes")
	})

	t.Run("slow loris", func(t *testing.T) {
		r.begin(t)
		// A request that never completes, trickled one byte at a time,
		// must not stop anyone else from being served meanwhile.
		nc := dialRaw(t, d.addr)
		defer nc.Close()
		partial := []byte("*3\r\n$3\r\nSET\r\n$4\r\nslow\r\n$100\r\nabc")
		for _, b := range partial {
			nc.Write([]byte{b})
			time.Sleep(time.Millisecond)
		}
		r.after(t, "slow loris (held open)")
		// An endless inline line is cut off at 64 KB, as in Redis.
		inline := dialRaw(t, d.addr)
		defer inline.Close()
		go func() {
			inline.SetWriteDeadline(time.Now().Add(10 * time.Second))
			inline.Write(bytes.Repeat([]byte("a"), 200*1024))
		}()
		out, _ := readAll(inline, 10*time.Second)
		if !strings.Contains(out, "Protocol error: too big inline request") {
			t.Errorf("endless inline line answered %q, want the too big inline request error", out)
		}
		r.after(t, "endless inline line")
	})

	t.Run("1 GB declared bulk", func(t *testing.T) {
		r.begin(t)
		// Over proto-max-bulk-len (512 MB): refused before any allocation.
		nc := dialRaw(t, d.addr)
		nc.Write([]byte("*2\r\n$4\r\nECHO\r\n$1073741824\r\nxx"))
		out, _ := readAll(nc, 10*time.Second)
		nc.Close()
		if out != "-ERR Protocol error: invalid bulk length\r\n" {
			t.Errorf("1 GB bulk answered %q, want Redis's invalid bulk length error", out)
		}
		// Under the limit (400 MB) the connection is held, and only what
		// actually arrives is buffered.
		held := dialRaw(t, d.addr)
		defer held.Close()
		held.Write([]byte("*2\r\n$4\r\nECHO\r\n$419430400\r\n"))
		held.Write(bytes.Repeat([]byte("x"), 64*1024))
		r.after(t, "1 GB bulk; 400 MB bulk held")
	})

	t.Run("1M-argument array", func(t *testing.T) {
		r.begin(t)
		nc := dialRaw(t, d.addr)
		defer nc.Close()
		var b bytes.Buffer
		b.WriteString("*1000000\r\n$4\r\nMSET\r\n")
		for i := 0; i < 1000; i++ {
			b.WriteString("$1\r\nk\r\n")
		}
		nc.Write(b.Bytes())
		r.after(t, "1M-argument array declared")
	})

	t.Run("deeply nested RESP", func(t *testing.T) {
		r.begin(t)
		nc := dialRaw(t, d.addr)
		nc.Write(bytes.Repeat([]byte("*1\r\n"), 100000))
		out, _ := readAll(nc, 10*time.Second)
		nc.Close()
		if out != "-ERR Protocol error: expected '$', got '*'\r\n" {
			t.Errorf("nested arrays answered %q, want Redis's expected '$' error", out)
		}
		r.after(t, "deeply nested arrays")
	})

	t.Run("pipeline without reading", func(t *testing.T) {
		r.begin(t)
		nc := dialRaw(t, d.addr)
		defer nc.Close()
		// Rewrites a seed key with its own value, so the seed check holds.
		cmd := []byte("*3\r\n$3\r\nSET\r\n$6\r\nseed:0\r\n$7\r\nvalue-0\r\n")
		batch := bytes.Repeat(cmd, 1000)
		sent := 0
		nc.SetWriteDeadline(time.Now().Add(20 * time.Second))
		for i := 0; i < 100; i++ {
			if _, err := nc.Write(batch); err != nil {
				break // the server stopped reading: its replies are not drained
			}
			sent += 1000
		}
		t.Logf("pipelined %d SET commands without reading a reply", sent)
		r.after(t, "100k pipeline unread")
	})
	t.Run("half-open connections", func(t *testing.T) {
		r.begin(t)
		// Requests followed by a closed write side still get their
		// replies; the server then closes its side.
		for i := 0; i < 20; i++ {
			nc := dialRaw(t, d.addr)
			nc.Write([]byte("*2\r\n$3\r\nGET\r\n$6\r\nseed:1\r\n"))
			nc.(*net.TCPConn).CloseWrite()
			out, _ := readAll(nc, 10*time.Second)
			nc.Close()
			if out != "$7\r\nvalue-1\r\n" {
				t.Fatalf("half-open client %d got %q", i, out)
			}
		}
		// And connections that just vanish mid-request.
		for i := 0; i < 20; i++ {
			nc := dialRaw(t, d.addr)
			nc.Write([]byte("*3\r\n$3\r\nSET\r\n"))
			nc.Close()
		}
		r.after(t, "half-open connections")
	})

	t.Run("pub/sub client that never reads", func(t *testing.T) {
		r.begin(t)
		sub := dialRaw(t, d.addr)
		defer sub.Close()
		sub.Write([]byte("*2\r\n$9\r\nSUBSCRIBE\r\n$5\r\nflood\r\n"))
		pub := difftest.Dial(t, d.addr)
		defer pub.Close()
		// Wait until the subscription is registered (or pub/sub is missing).
		deadline := time.Now().Add(10 * time.Second)
		for {
			got := string(pub.Do("PUBLISH", "flood", "x"))
			if got == ":1\r\n" {
				break
			}
			if strings.HasPrefix(got, "-") {
				t.Skipf("PUBLISH answered %q: pub/sub not available", got)
			}
			if time.Now().After(deadline) {
				t.Fatalf("subscriber never registered: PUBLISH answered %q", got)
			}
			time.Sleep(20 * time.Millisecond)
		}
		payload := strings.Repeat("p", 16*1024)
		receivers := 1
		for i := 0; i < 3000 && receivers > 0; i++ { // up to 48 MB, past the 32 MB hard limit
			pub.Send("PUBLISH", "flood", payload)
			if i%100 == 99 {
				for j := 0; j < 100; j++ {
					n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(string(pub.Read()), ":")))
					receivers = n
				}
			}
		}
		t.Logf("subscriber still counted by PUBLISH at the end: %v (0 = disconnected by client-output-buffer-limit pubsub)", receivers > 0)
		r.after(t, "pub/sub client never reads")
	})

	// Every connection of the attacks above is closed now; the daemon
	// must have let all of them go (the idle attack needs every slot).
	waitOnlyClient(t, d.addr)

	// Last: the idle connections, twice, the second round to show that
	// nothing grows from one burst to the next.
	var rounds [2]int64
	for round := range rounds {
		t.Run(fmt.Sprintf("%d idle connections, round %d", idle, round+1), func(t *testing.T) {
			r.begin(t)
			if !idleOK {
				t.Skipf("the hard open-file limit is below the %d descriptors %d idle connections need: raise it (ulimit -Hn) or set CACHALOT_ROBUST_IDLE", idle+100+256, idle)
			}
			r.idleConnections(t, idle)
			r.after(t, fmt.Sprintf("%d idle + 100 refused, round %d", idle, round+1))
			rounds[round] = daemonRSSKB(t, d.cmd.Process.Pid)
		})
	}
	if rounds[0] > 0 && rounds[1] > 0 {
		// The second round may pass its own limit before the daemon has
		// given everything back: wait for it, bounded, before comparing.
		began := time.Now()
		for float64(rounds[1]) > 1.1*float64(rounds[0]) && time.Since(began) < robustRSSWait {
			time.Sleep(100 * time.Millisecond)
			rounds[1] = daemonRSSKB(t, d.cmd.Process.Pid)
		}
		t.Logf("RSS after idle round 1: %d kB, after round 2: %d kB (%+.1f%%)", rounds[0], rounds[1],
			100*float64(rounds[1]-rounds[0])/float64(rounds[0]))
		if float64(rounds[1]) > 1.1*float64(rounds[0]) {
			t.Errorf("RSS grew from %d kB after the first idle round to %d kB after the second: memory is kept per connection", rounds[0], rounds[1])
		}
	}
	t.Logf("end: RSS %d kB, %+.0f%% vs the suite start (%d kB)", daemonRSSKB(t, d.cmd.Process.Pid),
		100*float64(daemonRSSKB(t, d.cmd.Process.Pid)-r.start)/float64(r.start), r.start)
}

// TestMaxClientsRefusal fills maxclients, then checks that each extra
// client gets Redis's exact refusal and is disconnected, and that a slot
// freed is usable again.
func TestMaxClientsRefusal(t *testing.T) {
	const max = 50
	d := startDaemon(t, nil, "--maxclients", strconv.Itoa(max))
	var conns []net.Conn
	defer func() {
		for _, nc := range conns {
			nc.Close()
		}
	}()
	for i := 0; i < max; i++ {
		nc := dialRaw(t, d.addr)
		conns = append(conns, nc)
		nc.SetDeadline(time.Now().Add(robustPingDeadline))
		nc.Write([]byte("*1\r\n$4\r\nPING\r\n"))
		line, err := bufio.NewReader(nc).ReadString('\n')
		if err != nil || line != "+PONG\r\n" {
			t.Fatalf("client %d of %d: %q %v", i+1, max, line, err)
		}
	}
	for i := 0; i < 10; i++ {
		nc := dialRaw(t, d.addr)
		out, _ := readAll(nc, 10*time.Second)
		nc.Close()
		if out != "-ERR max number of clients reached\r\n" {
			t.Errorf("client %d over maxclients got %q", max+i+1, out)
		}
	}
	conns[0].Close()
	conns = conns[1:]
	deadline := time.Now().Add(15 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if err = pingAddr(d.addr, time.Second); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Errorf("after a client left, a new one is still refused: %v", err)
	}
}
