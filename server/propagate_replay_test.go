package server

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/store"
)

// pconn is a client connection that reads whole replies.
type pconn struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dialP(t *testing.T, addr string) *pconn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &pconn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (p *pconn) send(args ...string) {
	p.t.Helper()
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	p.nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := p.nc.Write(encodeRESP(argv...)); err != nil {
		p.t.Fatal(err)
	}
}

func (p *pconn) read() string {
	p.t.Helper()
	p.nc.SetDeadline(time.Now().Add(10 * time.Second))
	r, err := readRawReply(p.br)
	if err != nil {
		p.t.Fatal(err)
	}
	return string(r)
}

func (p *pconn) do(args ...string) string {
	p.t.Helper()
	p.send(args...)
	return p.read()
}

// dumpKeyspace renders every live key of every database with its type,
// value digest and absolute expiry, at the store's current time.
func dumpKeyspace(st *store.Store) []string {
	var out []string
	for i := 0; i < st.Databases(); i++ {
		db := st.DB(i)
		var keys [][]byte
		db.Keys(func(k string, _ store.Kind) { keys = append(keys, []byte(k)) })
		for _, k := range keys {
			db.View([][]byte{k}, func(tx *store.Tx) error {
				it, ok := tx.Item(k)
				if !ok {
					return nil
				}
				at, _ := tx.ExpireAt(k)
				out = append(out, strconv.Itoa(i)+" "+string(k)+" "+valueDigest(it, true)+" "+strconv.FormatInt(at, 10))
				return nil
			})
		}
	}
	sort.Strings(out)
	return out
}

// waitBlocked waits until n clients are parked.
func waitBlocked(t *testing.T, srv *Server, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if c, _, _ := srv.blocking.counts(); c == n {
			return
		}
	}
	t.Fatalf("%d clients never blocked", n)
}

// TestPropagationReplaysToSameData runs a workload with randomness, expiry
// (lazy and active), blocking pops served by pushes, MULTI/EXEC, scripts and
// rate limits against a server with a capturing sink, replays what it
// propagated into a fresh server at the same clock, and compares the whole
// keyspace, expiries included.
func TestPropagationReplaysToSameData(t *testing.T) {
	clock := store.NewFakeClock(genEpoch)
	cfg := config.Default()
	st, err := store.New(store.Options{Databases: cfg.Databases, Shards: 16, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	srv := New(Options{Config: cfg, Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	sink := &capSink{clock: clock}
	srv.SetAOFSink(sink)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	defer func() { srv.Close(); <-done }()
	addr := ln.Addr().String()
	a, b := dialP(t, addr), dialP(t, addr)

	run := func(lines ...string) {
		t.Helper()
		for _, l := range lines {
			a.do(splitScriptLine(l)...)
		}
	}
	// Strings, TTLs, floats.
	run("set s1 v", "set s2 v ex 100", "setex s3 50 v", "psetex s4 5000 v", "getset s5 1",
		"incrbyfloat f1 1.1", "incrbyfloat f1 2.2", "set f2 3 px 90000", "incrbyfloat f2 0.5",
		"hincrbyfloat h1 a 0.1", "hincrbyfloat h1 a 1e3", "getex s1 px 70000", "getex s2 persist",
		"expire s5 30", "pexpire s5 40000 gt", "expireat s1 1", "set bits x", "setbit bits 77 1",
		"bitfield bits incrby i5 3 7 set u3 0 5", "setrange s6 3 abc", "append s6 def", "pfadd hll a b c", "pfcount hll")
	// Randomness.
	for i := 0; i < 40; i++ {
		run("sadd rs m" + strconv.Itoa(i))
	}
	run("spop rs", "spop rs 3", "spop rs 12", "srandmember rs 5", "zadd rz 1 a 2 b 3 c", "zrandmember rz 2",
		"sadd rs2 x y z", "spop rs2 5",
		`eval "redis.call('spop','rs'); redis.call('spop','rs', 2); return redis.call('scard','rs')" 0`,
		"sort rs alpha store sorted")
	// Expiry: lazy (reads and writes) and active.
	run("set e1 v px 100", "set e2 v px 100", "set e3 v px 100", "rpush e4 a px", "pexpire e4 100", "set e5 v px 100")
	clock.Advance(200 * time.Millisecond)
	run("get e1", "append e2 x", "exists e4")
	var cur store.ExpireCursor
	st.ExpireCycle(&cur, time.Second)
	// Blocking pops served later by another client's push, by a
	// transaction, by a script.
	b.send("BLPOP", "bl1", "0")
	waitBlocked(t, srv, 1)
	run("rpush bl1 x y z")
	b.read()
	b.send("BZPOPMIN", "bz1", "0")
	waitBlocked(t, srv, 1)
	run("zadd bz1 1 a 2 b")
	b.read()
	b.send("BLMOVE", "bl2", "bl3", "LEFT", "RIGHT", "0")
	waitBlocked(t, srv, 1)
	a.do("multi")
	a.do("rpush", "bl2", "p", "q")
	a.do("lpush", "bl2", "r")
	a.do("exec")
	b.read()
	b.send("BLMPOP", "0", "2", "bl4", "bl5", "RIGHT", "COUNT", "2")
	waitBlocked(t, srv, 1)
	run(`eval "redis.call('rpush','bl5','1','2','3')" 0`)
	b.read()
	b.send("BZMPOP", "0", "1", "bz2", "MAX", "COUNT", "5")
	waitBlocked(t, srv, 1)
	run("zadd bz2 1 a 2 b 3 c")
	b.read()
	// Transactions and scripts.
	run("multi", "set m1 1", "incrbyfloat m1 1.5", "spop rs", "expire m1 100", "exec")
	run(`eval "redis.call('set','sc1','x','ex','10'); redis.call('getdel','s6'); return redis.call('incr','sc2')" 0`)
	// Rate limits, over time.
	for i := 0; i < 5; i++ {
		run("rl.take rl1 5 1 1000", "gcra g1 3 10 60", "cl.throttle c1 3 10 60", "rl.mtake 2 rm1 3 1 1000 rm2 4 1 500")
		clock.Advance(300 * time.Millisecond)
	}
	run("rl.refund rl1 2", "rl.reset rm1")
	// Keyspace commands across databases.
	run("copy s4 s4c db 2", "move s3 4", "select 5", "set d5 v", "rpush d5l 1", "select 0", "swapdb 5 6",
		"select 6", "rename d5 d6", "select 0")
	clock.Advance(60 * time.Second) // s3 (now in db 4), s4 and others pass their expiry
	run("get s4", "select 4", "get s3", "select 0")
	st.ExpireCycle(&cur, time.Second)

	want := dumpKeyspace(st)
	recs := sink.take()
	if len(want) < 10 || len(recs) < 50 {
		t.Fatalf("workload too small: %d keys, %d records", len(want), len(recs))
	}

	// Replay into a fresh server, each record at the time it was made.
	clockB := store.NewFakeClock(genEpoch)
	stB, err := store.New(store.Options{Databases: cfg.Databases, Shards: 16, Clock: clockB})
	if err != nil {
		t.Fatal(err)
	}
	srvB := New(Options{Config: cfg, Store: stB})
	cB := &client{srv: srvB, authenticated: true, db: stB.DB(0)}
	cB.w.proto = 2
	for _, r := range recs {
		clockB.Advance(time.Duration(r.at-clockB.NowMs()) * time.Millisecond)
		cB.setDB(r.db)
		for _, argv := range r.argvs {
			cB.w.Reset()
			srvB.dispatch(cB, argv)
			if rep := cB.w.Bytes(); len(rep) > 0 && rep[0] == '-' {
				t.Errorf("replaying %q: %s", argv, rep)
			}
		}
	}
	clockB.Advance(time.Duration(clock.NowMs()-clockB.NowMs()) * time.Millisecond)
	got := dumpKeyspace(stB)
	if len(got) != len(want) {
		t.Errorf("replay has %d keys, the original %d", len(got), len(want))
	}
	for i := 0; i < max(len(got), len(want)); i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("key %d: replay %q, original %q", i, g, w)
		}
	}
}
