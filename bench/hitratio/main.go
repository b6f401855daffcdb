// Command hitratio measures a cache's hit ratio under a Zipf-distributed
// GET-or-SET-on-miss workload, against any Redis-protocol server: cachalot
// or real Redis, so both can be compared in one run.
//
// Each client picks a key by rank from a Zipf(s) distribution over -keys
// keys, GETs it and SETs a -value-size value when it was missing. With -scan
// N, a one-time sequential scan of N other keys is mixed into the stream
// once a third of the operations have run (every -scan-every'th operation
// is a scan step until it completes): a scan-polluted workload, where LFU
// should keep the popular keys LRU lets the scan push out.
//
// The tool sets maxmemory, maxmemory-policy and maxmemory-samples on each
// target (FLUSHALL first), runs -warmup operations unmeasured, then -ops
// measured ones (or until -duration), and prints the hit ratio of the Zipf
// GETs, the evictions (INFO stats evicted_keys), ops/s and p50/p99 latency.
//
// Targets are -addr host:port[,host:port…]; -redis-server and -cachalot
// start those binaries on free 127.0.0.1 ports for the run instead.
// maxmemory is -maxmemory bytes, or, with -frac, calibrated on the first
// target: its used_memory when empty plus frac × keys × the bytes one key
// costs there (measured by writing 20000 keys), so the same limit applies
// to every target.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type options struct {
	keys      int
	theta     float64
	valueSize int
	clients   int
	ops       int
	warmup    int
	duration  time.Duration
	maxmemory int64
	frac      float64
	samples   int
	policies  []string
	scan      int
	scanEvery int
	perTarget bool
}

type target struct {
	name string
	addr string
	cmd  *exec.Cmd
}

func main() {
	var o options
	var addrs, redisBin, cachalotBin, policies string
	flag.IntVar(&o.keys, "keys", 1_000_000, "number of distinct keys")
	flag.Float64Var(&o.theta, "skew", 0.99, "Zipf exponent s (0 < s, s != 1)")
	flag.IntVar(&o.valueSize, "value-size", 100, "bytes per value")
	flag.IntVar(&o.clients, "clients", 20, "concurrent connections")
	flag.IntVar(&o.ops, "ops", 2_000_000, "measured operations (after warm-up)")
	flag.IntVar(&o.warmup, "warmup", 1_000_000, "unmeasured operations first")
	flag.DurationVar(&o.duration, "duration", 5*time.Minute, "upper bound on each measured run")
	flag.Int64Var(&o.maxmemory, "maxmemory", 0, "maxmemory in bytes (overrides -frac)")
	flag.Float64Var(&o.frac, "frac", 0.1, "fraction of the keys the cache should hold (calibrated on the first target)")
	flag.IntVar(&o.samples, "samples", 5, "maxmemory-samples")
	flag.StringVar(&policies, "policies", "allkeys-lru,allkeys-lfu", "policies to run, comma-separated")
	flag.IntVar(&o.scan, "scan", 0, "keys of a one-time sequential scan mixed into the stream (0: none)")
	flag.IntVar(&o.scanEvery, "scan-every", 2, "while the scan lasts, every n-th operation is a scan step")
	flag.BoolVar(&o.perTarget, "per-target", false, "calibrate -frac on each target (same key count) instead of the same maxmemory for all")
	flag.StringVar(&addrs, "addr", "", "targets host:port, comma-separated (127.0.0.1 addresses)")
	flag.StringVar(&redisBin, "redis-server", "", "start this redis-server as a target")
	flag.StringVar(&cachalotBin, "cachalot", "", "start this cachalot binary as a target")
	flag.Parse()
	o.policies = strings.Split(policies, ",")
	if err := run(o, addrs, redisBin, cachalotBin); err != nil {
		fmt.Fprintln(os.Stderr, "hitratio:", err)
		os.Exit(1)
	}
}

func run(o options, addrs, redisBin, cachalotBin string) error {
	var targets []*target
	defer func() {
		for _, t := range targets {
			if t.cmd != nil {
				t.cmd.Process.Kill()
				t.cmd.Wait()
			}
		}
	}()
	if redisBin != "" {
		t, err := spawn("redis", redisBin, func(port int) []string {
			return []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"}
		})
		if err != nil {
			return err
		}
		targets = append(targets, t)
	}
	if cachalotBin != "" {
		t, err := spawn("cachalot", cachalotBin, func(port int) []string {
			return []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--metrics-addr", ""}
		})
		if err != nil {
			return err
		}
		targets = append(targets, t)
	}
	for _, a := range strings.Split(addrs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			targets = append(targets, &target{name: a, addr: a})
		}
	}
	if len(targets) == 0 {
		return errors.New("no target: give -addr, -redis-server or -cachalot")
	}
	maxmem := o.maxmemory
	if maxmem == 0 {
		var err error
		if maxmem, err = calibrate(targets[0].addr, o); err != nil {
			return fmt.Errorf("calibrating on %s: %w", targets[0].name, err)
		}
	}
	zipf := newZipf(o.keys, o.theta)
	fmt.Printf("keys=%d skew=%.2f value=%dB clients=%d warmup=%d ops=%d maxmemory=%d samples=%d scan=%d\n",
		o.keys, o.theta, o.valueSize, o.clients, o.warmup, o.ops, maxmem, o.samples, o.scan)
	fmt.Printf("%-10s %-13s %9s %10s %10s %9s %9s %9s %9s\n", "target", "policy", "hit_ratio", "hits", "evictions", "keys", "ops/s", "p50_us", "p99_us")
	limits := make([]int64, len(targets))
	for i, t := range targets {
		limits[i] = maxmem
		if o.perTarget && o.maxmemory == 0 && i > 0 {
			var err error
			if limits[i], err = calibrate(t.addr, o); err != nil {
				return fmt.Errorf("calibrating on %s: %w", t.name, err)
			}
		}
		fmt.Printf("%s: %s maxmemory=%d\n", t.name, t.addr, limits[i])
	}
	for _, policy := range o.policies {
		for i, t := range targets {
			r, err := measure(t.addr, policy, limits[i], o, zipf)
			if err != nil {
				return fmt.Errorf("%s %s: %w", t.name, policy, err)
			}
			fmt.Printf("%-10s %-13s %9.4f %10d %10d %9d %9.0f %9.0f %9.0f\n", t.name, policy, r.ratio, r.hits, r.evicted, r.dbsize, r.opsPerSec, r.p50, r.p99)
		}
	}
	return nil
}

func spawn(name, bin string, args func(port int) []string) (*target, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, args(port)...)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	t := &target{name: name, addr: "127.0.0.1:" + strconv.Itoa(port), cmd: cmd}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := dial(t.addr)
		if err == nil {
			_, err = c.do("PING")
			c.close()
			if err == nil {
				return t, nil
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			return nil, fmt.Errorf("%s did not answer PING on %s: %v", name, t.addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// calibrate measures one key's cost on addr and derives maxmemory.
func calibrate(addr string, o options) (int64, error) {
	c, err := dial(addr)
	if err != nil {
		return 0, err
	}
	defer c.close()
	if _, err := c.do("CONFIG", "SET", "maxmemory", "0"); err != nil {
		return 0, err
	}
	if _, err := c.do("FLUSHALL"); err != nil {
		return 0, err
	}
	empty, err := usedMemory(c)
	if err != nil {
		return 0, err
	}
	const n = 20000
	val := strings.Repeat("x", o.valueSize)
	for i := range n {
		if _, err := c.do("SET", keyName(o.keys-1-i%o.keys), val); err != nil {
			return 0, err
		}
	}
	full, err := usedMemory(c)
	if err != nil {
		return 0, err
	}
	c.do("FLUSHALL")
	per := float64(full-empty) / n
	return empty + int64(o.frac*float64(o.keys)*per), nil
}

type result struct {
	ratio          float64
	hits, evicted  int64
	dbsize         int64
	opsPerSec      float64
	p50, p99       float64
	measuredMisses int64
}

func measure(addr, policy string, maxmem int64, o options, z *zipf) (result, error) {
	c, err := dial(addr)
	if err != nil {
		return result{}, err
	}
	defer c.close()
	for _, kv := range [][2]string{{"maxmemory", "0"}, {"maxmemory-policy", policy}, {"maxmemory-samples", strconv.Itoa(o.samples)}} {
		if _, err := c.do("CONFIG", "SET", kv[0], kv[1]); err != nil {
			return result{}, err
		}
	}
	if _, err := c.do("FLUSHALL"); err != nil {
		return result{}, err
	}
	if _, err := c.do("CONFIG", "SET", "maxmemory", strconv.FormatInt(maxmem, 10)); err != nil {
		return result{}, err
	}
	evictedBefore, err := infoInt(c, "stats", "evicted_keys")
	if err != nil {
		return result{}, err
	}
	total := int64(o.warmup + o.ops)
	scanStart := total / 3
	var next, scanned, hits, misses atomic.Int64
	var mu sync.Mutex
	var lats []time.Duration
	var firstErr error
	var measureStart atomic.Int64
	deadline := time.Now().Add(o.duration + time.Duration(o.warmup/1000)*time.Millisecond)
	val := strings.Repeat("v", o.valueSize)
	var wg sync.WaitGroup
	for range o.clients {
		cc, err := dial(addr)
		if err != nil {
			return result{}, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cc.close()
			local := make([]time.Duration, 0, o.ops/o.clients+1)
			rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
			for {
				i := next.Add(1) - 1
				if i >= total || time.Now().After(deadline) {
					break
				}
				if i == int64(o.warmup) {
					measureStart.Store(time.Now().UnixNano())
				}
				measured := i >= int64(o.warmup)
				var key string
				scanOp := false
				if o.scan > 0 && i >= scanStart && i%int64(o.scanEvery) == 0 {
					if s := scanned.Add(1) - 1; s < int64(o.scan) {
						key, scanOp = "scan:"+strconv.FormatInt(s, 10), true
					}
				}
				if !scanOp {
					key = keyName(z.next(rng))
				}
				t0 := time.Now()
				v, err := cc.do("GET", key)
				if err == nil && v == nil {
					_, err = cc.do("SET", key, val)
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				if measured {
					local = append(local, time.Since(t0))
					if !scanOp {
						if v != nil {
							hits.Add(1)
						} else {
							misses.Add(1)
						}
					}
				}
			}
			mu.Lock()
			lats = append(lats, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	end := time.Now()
	if firstErr != nil {
		return result{}, firstErr
	}
	evicted, err := infoInt(c, "stats", "evicted_keys")
	if err != nil {
		return result{}, err
	}
	dbsize, err := c.do("DBSIZE")
	if err != nil {
		return result{}, err
	}
	r := result{hits: hits.Load(), measuredMisses: misses.Load(), evicted: evicted - evictedBefore}
	r.dbsize, _ = strconv.ParseInt(string(dbsize), 10, 64)
	if n := r.hits + r.measuredMisses; n > 0 {
		r.ratio = float64(r.hits) / float64(n)
	}
	if start := measureStart.Load(); start > 0 {
		r.opsPerSec = float64(len(lats)) / end.Sub(time.Unix(0, start)).Seconds()
	}
	if len(lats) > 0 {
		slices.Sort(lats)
		r.p50 = float64(lats[len(lats)/2].Microseconds())
		r.p99 = float64(lats[len(lats)*99/100].Microseconds())
	}
	c.do("CONFIG", "SET", "maxmemory", "0")
	c.do("FLUSHALL")
	return r, nil
}

func keyName(rank int) string { return "key:" + strconv.Itoa(rank) }

func usedMemory(c *conn) (int64, error) { return infoInt(c, "memory", "used_memory") }

func infoInt(c *conn, section, field string) (int64, error) {
	v, err := c.do("INFO", section)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(v), "\r\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(rest, 10, 64)
		}
	}
	return 0, fmt.Errorf("INFO %s has no %s", section, field)
}

// zipf draws ranks 0..n-1 with P(i) ∝ 1/(i+1)^theta, by Gray et al.'s
// method ("Quickly generating billion-record synthetic databases"), which
// works for theta < 1 unlike math/rand's Zipf.
type zipf struct {
	n                        int
	theta, alpha, zetan, eta float64
	half                     float64
}

func newZipf(n int, theta float64) *zipf {
	zeta := func(m int) float64 {
		s := 0.0
		for i := 1; i <= m; i++ {
			s += 1 / math.Pow(float64(i), theta)
		}
		return s
	}
	z := &zipf{n: n, theta: theta, zetan: zeta(n), alpha: 1 / (1 - theta)}
	z.eta = (1 - math.Pow(2/float64(n), 1-theta)) / (1 - zeta(2)/z.zetan)
	z.half = 1 + math.Pow(0.5, theta)
	return z
}

func (z *zipf) next(rng *rand.Rand) int {
	u := rng.Float64()
	uz := u * z.zetan
	if uz < 1 {
		return 0
	}
	if uz < z.half {
		return 1
	}
	r := int(float64(z.n) * math.Pow(z.eta*u-z.eta+1, z.alpha))
	return min(r, z.n-1)
}

// conn is a minimal RESP2 client: one request, one reply.
type conn struct {
	nc net.Conn
	r  *bufio.Reader
	w  *bufio.Writer
}

func dial(addr string) (*conn, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &conn{nc: nc, r: bufio.NewReaderSize(nc, 64<<10), w: bufio.NewWriter(nc)}, nil
}

func (c *conn) close() { c.nc.Close() }

// do sends a command and returns a bulk or simple reply's bytes, an
// integer's decimal text, nil for a null; an error reply is an error.
func (c *conn) do(args ...string) ([]byte, error) {
	fmt.Fprintf(c.w, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(c.w, "$%d\r\n%s\r\n", len(a), a)
	}
	if err := c.w.Flush(); err != nil {
		return nil, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 {
		return nil, fmt.Errorf("short reply %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+', ':':
		return append([]byte(nil), body...), nil
	case '-':
		return nil, errors.New(string(body))
	case '$':
		n, err := strconv.Atoi(string(body))
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
	return nil, fmt.Errorf("unexpected reply %q", line)
}
