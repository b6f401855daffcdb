package server

import (
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/store"
)

// capSink records what the server appends, with the store's clock at each
// append (replays run at the same time).
type capSink struct {
	mu    sync.Mutex
	clock store.Clock
	recs  []capRec
	seq   uint64
}

type capRec struct {
	epoch uint64
	db    int
	at    int64
	argvs [][][]byte
}

func (s *capSink) Append(epoch uint64, db int, argvs ...[][]byte) uint64 {
	r := capRec{epoch: epoch, db: db}
	if s.clock != nil {
		r.at = s.clock.NowMs()
	}
	for _, a := range argvs {
		r.argvs = append(r.argvs, cloneArgv(a))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs = append(s.recs, r)
	s.seq++
	return s.seq
}

func (s *capSink) take() []capRec {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.recs
	s.recs = nil
	return r
}

// String renders records as "db: CMD a b; CMD c | db: ...".
func renderRecs(recs []capRec) string {
	var parts []string
	for _, r := range recs {
		var cmds []string
		for _, a := range r.argvs {
			ws := make([]string, len(a))
			for i, w := range a {
				ws[i] = string(w)
				if len(w) == 0 {
					ws[i] = "''"
				}
			}
			cmds = append(cmds, strings.Join(ws, " "))
		}
		parts = append(parts, strconv.Itoa(r.db)+": "+strings.Join(cmds, "; "))
	}
	return strings.Join(parts, " | ")
}

type propEnv struct {
	*genEnv
	sink *capSink
}

func newPropEnv(t *testing.T) *propEnv {
	e := newGenEnv(t, func(c *config.Config) {})
	sink := &capSink{clock: e.clk}
	e.srv.SetAOFSink(sink)
	return &propEnv{genEnv: e, sink: sink}
}

// T is genEpoch as text, and T+n for expiries.
func tPlus(ms int64) string { return strconv.FormatInt(genEpoch+ms, 10) }

func TestPropagateEffectiveCommands(t *testing.T) {
	type tc struct {
		setup []string // run first; their records are dropped
		cmd   string
		want  string // rendered records of cmd
	}
	cases := []tc{
		// Verbatim, or nothing when nothing changed.
		{nil, "set k v", "0: set k v"},
		{[]string{"set k v"}, "set k w nx", ""},
		{nil, "set k w xx", ""},
		{[]string{"set k v"}, "set k w nx get", ""},
		{[]string{"set k v"}, "set k w get", "0: set k w"},
		{[]string{"set k v"}, "set k w xx GET get", "0: set k w xx"},
		{nil, "set k v ex 10 nx", "0: SET k v PXAT " + tPlus(10000)},
		{nil, "set k v px 1500 get", "0: SET k v PXAT " + tPlus(1500)},
		{nil, "set k v exat 1800000000", "0: SET k v PXAT 1800000000000"},
		{nil, "set k v pxat 1800000000123 nx", "0: SET k v PXAT 1800000000123"},
		{[]string{"set k v px 100"}, "set k w keepttl", "0: set k w keepttl"},
		{nil, "setex k 10 v", "0: SET k v PXAT " + tPlus(10000)},
		{nil, "psetex k 10 v", "0: SET k v PXAT " + tPlus(10)},
		{nil, "setnx k v", "0: setnx k v"},
		{[]string{"set k v"}, "setnx k v", ""},
		{nil, "getset k v", "0: SET k v"},
		{nil, "getdel k", ""},
		{[]string{"set k v"}, "getdel k", "0: DEL k"},
		{[]string{"set k v"}, "getex k", ""},
		{[]string{"set k v"}, "getex k persist", ""},
		{[]string{"set k v ex 5"}, "getex k persist", "0: PERSIST k"},
		{[]string{"set k v"}, "getex k ex 7", "0: PEXPIREAT k " + tPlus(7000)},
		{[]string{"set k v"}, "getex k pxat 1", "0: DEL k"},
		{nil, "getex k ex 7", ""},
		{nil, "incrbyfloat f 1.5", "0: SET f 1.5 KEEPTTL"},
		{[]string{"set f 1"}, "incrbyfloat f 0.25", "0: SET f 1.25 KEEPTTL"},
		{nil, "hincrbyfloat h f 2.5", "0: HSET h f 2.5"},
		{[]string{"set s abc"}, "setrange s 1 ''", ""},
		{nil, "setrange s 1 ''", ""},
		{nil, "setrange s 1 x", "0: setrange s 1 x"},
		{nil, "append s ''", "0: append s ''"},
		{nil, "msetnx a 1 b 2", "0: msetnx a 1 b 2"},
		{[]string{"set a 1"}, "msetnx a 1 b 2", ""},
		{nil, "incr n", "0: incr n"},
		{nil, "decrby n 0", "0: decrby n 0"},
		// Keys.
		{nil, "del a b", ""},
		{[]string{"set a 1"}, "del a b", "0: del a b"},
		{nil, "unlink a", ""},
		{[]string{"set k v"}, "expire k 100", "0: PEXPIREAT k " + tPlus(100000)},
		{[]string{"set k v"}, "pexpire k 100 nx", "0: PEXPIREAT k " + tPlus(100) + " nx"},
		{[]string{"set k v px 50"}, "expire k 100 gt", "0: PEXPIREAT k " + tPlus(100000) + " gt"},
		{[]string{"set k v px 500000"}, "expire k 100 gt", ""},
		{[]string{"set k v"}, "expireat k 1", "0: DEL k"},
		{[]string{"set k v"}, "expire k -1", "0: DEL k"},
		{[]string{"set k v"}, "pexpireat k 1800000000000", "0: pexpireat k 1800000000000"},
		{nil, "expire k 10", ""},
		{[]string{"set k v"}, "persist k", ""},
		{[]string{"set k v ex 10"}, "persist k", "0: persist k"},
		{[]string{"set k v"}, "rename k k", ""},
		{[]string{"set k v"}, "rename k j", "0: rename k j"},
		{[]string{"set k v"}, "renamenx k k", ""},
		{[]string{"set k v"}, "copy k j", "0: copy k j"},
		{[]string{"set k v", "set j v"}, "copy k j", ""},
		{[]string{"set k v"}, "move k 3", "0: move k 3"},
		{nil, "move k 3", ""},
		{nil, "flushdb", "0: flushdb"},
		{nil, "flushall async", "0: flushall async"},
		{nil, "swapdb 1 1", "0: swapdb 1 1"},
		{nil, "swapdb 0 2", "0: swapdb 0 2"},
		// Hashes, lists.
		{[]string{"hset h f v"}, "hset h f v", "0: hset h f v"},
		{[]string{"hset h f v"}, "hsetnx h f v", ""},
		{nil, "hdel h f", ""},
		{[]string{"rpush l a b c"}, "ltrim l 0 -1", ""},
		{[]string{"rpush l a b c"}, "ltrim l 1 -1", "0: ltrim l 1 -1"},
		{[]string{"rpush l a b c"}, "linsert l before zz x", ""},
		{[]string{"rpush l a b c"}, "lrem l 0 zz", ""},
		{nil, "lpushx l a", ""},
		{nil, "lpop l", ""},
		{[]string{"rpush l a"}, "lpop l 0", ""},
		{[]string{"rpush l ''"}, "rpop l", "0: rpop l"},
		{[]string{"rpush l a b"}, "lmove l l left left", "0: lmove l l left left"},
		{[]string{"rpush l a b"}, "blpop x l 0", "0: LPOP l"},
		{[]string{"rpush l a b"}, "brpop l 0", "0: RPOP l"},
		{[]string{"rpush l a b"}, "blmove l m left right 0", "0: LMOVE l m left right"},
		{[]string{"rpush l a b"}, "brpoplpush l m 0", "0: RPOPLPUSH l m"},
		{[]string{"rpush l a b"}, "lmpop 2 x l right count 5", "0: RPOP l 2"},
		{[]string{"rpush l a b"}, "blmpop 0 1 l LEFT", "0: LPOP l 1"},
		{nil, "lmpop 1 l left", ""},
		// Sets.
		{[]string{"sadd s a"}, "sadd s a", ""},
		{[]string{"sadd s a"}, "spop s", "0: SREM s a"},
		{[]string{"sadd s a b"}, "spop s 2", "0: DEL s"},
		{[]string{"sadd s a b"}, "spop s 5", "0: DEL s"},
		{[]string{"sadd s a"}, "spop s 0", ""},
		{nil, "spop s", ""},
		{[]string{"sadd s a"}, "srandmember s", ""},
		{[]string{"sadd s a"}, "smove s s a", ""},
		{[]string{"sadd s a"}, "smove s t a", "0: smove s t a"},
		{nil, "sinterstore d a b", ""},
		{[]string{"set d x"}, "sinterstore d a b", "0: sinterstore d a b"},
		{[]string{"sadd a 1"}, "sunionstore d a", "0: sunionstore d a"},
		// Sorted sets.
		{[]string{"zadd z 1 a"}, "zadd z 1 a", ""},
		{[]string{"zadd z 1 a"}, "zadd z 2 a", "0: zadd z 2 a"},
		{[]string{"zadd z 1 a"}, "zincrby z 0 a", ""},
		{[]string{"zadd z 1 a"}, "zadd z xx 3 b", ""},
		{[]string{"zadd z 1 a"}, "zpopmin z 0", ""},
		{[]string{"zadd z 1 a 2 b"}, "bzpopmax z 0", "0: ZPOPMAX z"},
		{[]string{"zadd z 1 a 2 b"}, "bzpopmin z 0", "0: ZPOPMIN z"},
		{[]string{"zadd z 1 a 2 b"}, "zmpop 1 z max count 5", "0: ZPOPMAX z 2"},
		{[]string{"zadd z 1 a 2 b"}, "bzmpop 0 1 z min", "0: ZPOPMIN z 1"},
		{nil, "zunionstore d 1 x", ""},
		{[]string{"zadd z 1 a"}, "zrangestore d z 0 -1", "0: zrangestore d z 0 -1"},
		// Bitmaps, HyperLogLog, SORT.
		{nil, "setbit b 3 0", "0: setbit b 3 0"},
		{[]string{"setbit b 3 0"}, "setbit b 3 0", ""},
		{[]string{"setbit b 3 0"}, "setbit b 3 1", "0: setbit b 3 1"},
		{[]string{"setbit b 3 0"}, "setbit b 100 0", "0: setbit b 100 0"},
		{nil, "bitfield b get u8 0", ""},
		{[]string{"bitfield b set u8 0 5"}, "bitfield b set u8 0 5", ""},
		{[]string{"bitfield b set u8 0 5"}, "bitfield b incrby u8 0 1", "0: bitfield b incrby u8 0 1"},
		{[]string{"bitfield b set u8 0 5"}, "bitfield b overflow fail incrby u8 0 300", ""},
		{nil, "bitop and d x", ""},
		{[]string{"set d 1"}, "bitop and d x", "0: bitop and d x"},
		{[]string{"pfadd h a"}, "pfadd h a", ""},
		{[]string{"pfadd h a"}, "pfcount h", "0: pfcount h"},
		{[]string{"pfadd h a", "pfcount h"}, "pfcount h", ""},
		{nil, "sort l store d", ""},
		{[]string{"rpush l 2 1"}, "sort l store d", "0: sort l store d"},
		// Not writes.
		{[]string{"set k v"}, "get k", ""},
		{[]string{"select 2"}, "set k v", "2: set k v"},
	}
	for _, c := range cases {
		e := newPropEnv(t)
		for _, s := range c.setup {
			e.do(splitArgsForTest(s)...)
		}
		e.sink.take()
		e.do(splitArgsForTest(c.cmd)...)
		if got := renderRecs(e.sink.take()); got != c.want {
			t.Errorf("after %q, %q propagated %q, want %q", c.setup, c.cmd, got, c.want)
		}
	}
}

// splitArgsForTest splits on spaces; a pair of single quotes is the empty
// argument.
func splitArgsForTest(s string) []string {
	f := strings.Fields(s)
	for i, w := range f {
		if w == "''" {
			f[i] = ""
		}
	}
	return f
}

func TestPropagateWrapsAndExpiry(t *testing.T) {
	e := newPropEnv(t)
	// SPOP with a count smaller than the set: one SREM per member, wrapped.
	e.do("sadd", "s", "a", "b", "c")
	e.sink.take()
	e.do("spop", "s", "2")
	recs := e.sink.take()
	if len(recs) != 1 || len(recs[0].argvs) != 4 || string(recs[0].argvs[0][0]) != "MULTI" ||
		string(recs[0].argvs[1][0]) != "SREM" || string(recs[0].argvs[3][0]) != "EXEC" {
		t.Fatalf("spop 2: %s", renderRecs(recs))
	}

	// MULTI/EXEC: one record, wrapped when more than one command changed
	// something; a single change goes out alone; none, nothing.
	for _, c := range []struct {
		cmds []string
		want string
	}{
		{[]string{"set a 1", "incr a", "get a"}, "0: MULTI; set a 1; incr a; EXEC"},
		{[]string{"set b 1", "get b"}, "0: set b 1"},
		{[]string{"get b"}, ""},
		{[]string{"set c 1", "select 3", "set c 2", "select 0", "expire c 10"},
			"0: MULTI; set c 1; SELECT 3; set c 2; SELECT 0; PEXPIREAT c " + tPlus(10000) + "; EXEC"},
		{[]string{"set c 1", "select 3", "set c 2"}, "0: MULTI; set c 1; SELECT 3; set c 2; SELECT 0; EXEC"},
	} {
		e.do("multi")
		for _, cmd := range c.cmds {
			e.do(strings.Fields(cmd)...)
		}
		e.do("exec")
		e.do("select", "0")
		if got := renderRecs(e.sink.take()); got != c.want {
			t.Errorf("MULTI %q EXEC propagated %q, want %q", c.cmds, got, c.want)
		}
	}

	// Scripts: the effects, in effective form.
	e.do("eval", "redis.call('set','e1','1','EX','5'); redis.call('incr','x'); redis.call('get','x')", "0")
	if got, want := renderRecs(e.sink.take()), "0: MULTI; SET e1 1 PXAT "+tPlus(5000)+"; incr x; EXEC"; got != want {
		t.Errorf("EVAL propagated %q, want %q", got, want)
	}
	e.do("eval", "return redis.call('incrbyfloat','f','1.5')", "0")
	if got, want := renderRecs(e.sink.take()), "0: SET f 1.5 KEEPTTL"; got != want {
		t.Errorf("EVAL propagated %q, want %q", got, want)
	}

	// Lazy expiry: DEL before the command that found the key, for reads too.
	e.do("set", "k", "v", "px", "10")
	e.do("set", "j", "v", "px", "10")
	e.sink.take()
	e.clk.Advance(20e6)
	e.do("get", "k")
	e.do("append", "j", "x")
	if got, want := renderRecs(e.sink.take()), "0: DEL k | 0: DEL j | 0: append j x"; got != want {
		t.Errorf("lazy expiry propagated %q, want %q", got, want)
	}

	// Active expiry.
	e.do("set", "k", "v", "px", "10")
	e.sink.take()
	e.clk.Advance(20e6)
	var cur store.ExpireCursor
	e.srv.store.ExpireCycle(&cur, 1e9)
	if got, want := renderRecs(e.sink.take()), "0: DEL k"; got != want {
		t.Errorf("active expiry propagated %q, want %q", got, want)
	}

	// The client records the sequence number of its last change.
	e.do("set", "q", "1")
	if e.c.aofSeq == 0 || e.c.aofSeq != e.sink.seq {
		t.Errorf("aofSeq %d, last append %d", e.c.aofSeq, e.sink.seq)
	}
	e.sink.take()

	// Off: nothing.
	e.srv.SetAOFSink(nil)
	e.do("set", "q", "2")
	if got := renderRecs(e.sink.take()); got != "" {
		t.Errorf("with the sink off: %q", got)
	}
}

// TestPropagateRateLimits: decisions go out as the bucket's state, as SET
// with an absolute expiry, or DEL; a decision that changed nothing, not at
// all.
func TestPropagateRateLimits(t *testing.T) {
	e := newPropEnv(t)
	e.do("rl.take", "b", "10", "1", "1000")
	recs := e.sink.take()
	if len(recs) != 1 || len(recs[0].argvs) != 1 {
		t.Fatalf("rl.take: %s", renderRecs(recs))
	}
	a := recs[0].argvs[0]
	if string(a[0]) != "SET" || string(a[1]) != "b" || string(a[3]) != "PXAT" {
		t.Fatalf("rl.take: %s", renderRecs(recs))
	}
	// The state SET reproduces the bucket exactly.
	var v []byte
	e.srv.store.DB(0).View([][]byte{[]byte("b")}, func(tx *store.Tx) error {
		val, _, _ := tx.PeekString([]byte("b"))
		v = append(v, val...)
		return nil
	})
	if string(a[2]) != string(v) {
		t.Errorf("propagated state %q, bucket holds %q", a[2], v)
	}
	e.do("rl.take", "b", "10", "1", "1000", "DRYRUN")
	if got := renderRecs(e.sink.take()); got != "" {
		t.Errorf("dry run propagated %q", got)
	}
	e.do("rl.reset", "b", "nokey")
	if got, want := renderRecs(e.sink.take()), "0: DEL b"; got != want {
		t.Errorf("rl.reset propagated %q, want %q", got, want)
	}
	e.do("gcra", "g", "5", "10", "60")
	recs = e.sink.take()
	if len(recs) != 1 || string(recs[0].argvs[0][0]) != "SET" || string(recs[0].argvs[0][3]) != "PXAT" {
		t.Errorf("gcra: %s", renderRecs(recs))
	}
	e.do("rl.mtake", "2", "m1", "5", "1", "1000", "m2", "5", "1", "1000")
	recs = e.sink.take()
	if len(recs) != 1 || len(recs[0].argvs) != 4 || string(recs[0].argvs[0][0]) != "MULTI" {
		t.Errorf("rl.mtake: %s", renderRecs(recs))
	}
}

// TestPropRulesCoverWriteRows: every write row has a rule, and every rule a
// row.
func TestPropRulesCoverWriteRows(t *testing.T) {
	tb := buildTable(commandGroups()...)
	seen := map[string]bool{}
	for _, c := range tb.sorted {
		for _, sc := range append([]*command{c}, c.subs...) {
			if !sc.has(flagWrite) {
				continue
			}
			seen[sc.fullName] = true
			if _, ok := propRules[sc.fullName]; !ok {
				t.Errorf("write row %q has no propagation rule", sc.fullName)
			}
		}
	}
	for name := range propRules {
		if !seen[name] {
			t.Errorf("rule for %q, which is not a write row", name)
		}
	}
}
