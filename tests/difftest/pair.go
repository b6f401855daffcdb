package difftest

import (
	"bytes"
	"fmt"
	"sort"
	"testing"
)

// Pair is a real Redis and the server under test, with one connection to
// each. Every method sends the same command to both and compares the
// replies; mismatches are reported with t.Errorf (the test goes on), while
// network and protocol errors are fatal.
type Pair struct {
	t        testing.TB
	Redis    *Server
	Cachalot *Server // the server under test (a second Redis in self mode)
	R        *Conn   // connection to Redis
	C        *Conn   // connection to the server under test
}

// NewPair starts a redis-server and the server under test (see
// StartSubject) and opens one connection to each. It skips the test when
// redis-server is not installed.
func NewPair(t testing.TB) *Pair {
	t.Helper()
	RedisServerPath(t)
	if !SelfMode() {
		BuildCachalot(t) // fail before starting anything if it does not build
	}
	r := StartRedis(t)
	c := StartSubject(t)
	return &Pair{t: t, Redis: r, Cachalot: c, R: r.Dial(t), C: c.Dial(t)}
}

// Fresh returns a pair on the same two servers with new connections that
// report to t, after RESET and FLUSHALL on both. Use it to reuse servers
// across subtests.
func (p *Pair) Fresh(t testing.TB) *Pair {
	t.Helper()
	q := &Pair{t: t, Redis: p.Redis, Cachalot: p.Cachalot, R: p.Redis.Dial(t), C: p.Cachalot.Dial(t)}
	q.Reset()
	return q
}

// WithT returns a view of the same pair (same connections) that reports
// failures to t.
func (p *Pair) WithT(t testing.TB) *Pair {
	return &Pair{t: t, Redis: p.Redis, Cachalot: p.Cachalot, R: p.R.WithT(t), C: p.C.WithT(t)}
}

// Reset sends RESET (RESP2, database 0, no MULTI/WATCH/subscriptions) and
// FLUSHALL to both servers. A server that does not answer as Redis does is
// a fatal error, since every later comparison would be meaningless.
func (p *Pair) Reset() {
	p.t.Helper()
	p.must("+RESET\r\n", "RESET")
	p.FlushAll()
}

// FlushAll sends FLUSHALL to both servers and requires +OK from each.
func (p *Pair) FlushAll() {
	p.t.Helper()
	p.must("+OK\r\n", "FLUSHALL")
}

func (p *Pair) must(want string, args ...string) {
	p.t.Helper()
	r, c := p.R.Do(args...), p.C.Do(args...)
	if string(r) != want || string(c) != want {
		p.t.Fatalf("%s: want %q from both\n   redis: %q\ncachalot: %q", quoteArgs(args), want, r, c)
	}
}

// Do sends the command to both servers and requires byte-identical replies.
// It returns the Redis reply.
func (p *Pair) Do(args ...string) []byte {
	p.t.Helper()
	r, c := p.exchange(args)
	if msg := CompareExact(r, c); msg != "" {
		p.t.Errorf("%s", Mismatch(args, msg, r, c))
	}
	return r
}

// DoSorted is like Do, but the elements of a top-level aggregate (array,
// set, push; key/value pairs of a map) are compared as a multiset. Other
// replies must be byte-identical.
func (p *Pair) DoSorted(args ...string) []byte {
	p.t.Helper()
	r, c := p.exchange(args)
	if msg := CompareSorted(r, c); msg != "" {
		p.t.Errorf("%s", Mismatch(args, msg, r, c))
	}
	return r
}

// DoLoosely only requires both replies to have the same RESP type (the same
// first byte), for replies whose content legitimately differs.
func (p *Pair) DoLoosely(args ...string) []byte {
	p.t.Helper()
	r, c := p.exchange(args)
	if msg := CompareType(r, c); msg != "" {
		p.t.Errorf("%s", Mismatch(args, msg, r, c))
	}
	return r
}

// DoIgnore sends the command to both servers and reads one reply from each
// without comparing them. It returns both replies.
func (p *Pair) DoIgnore(args ...string) (redis, cachalot []byte) {
	p.t.Helper()
	return p.exchange(args)
}

// Error requires both replies to be errors with identical bytes, and
// returns the Redis error text (without the leading '-' and CRLF).
func (p *Pair) Error(args ...string) string {
	p.t.Helper()
	r, c := p.exchange(args)
	if msg := CompareError(r, c); msg != "" {
		p.t.Errorf("%s", Mismatch(args, msg, r, c))
	}
	return ErrorText(r)
}

// Proto3 switches both connections to RESP3 with HELLO 3. The HELLO replies
// differ between servers (name, version, id), so only their type is checked.
func (p *Pair) Proto3() {
	p.t.Helper()
	p.hello("3", '%')
}

// Proto2 switches both connections back to RESP2 with HELLO 2.
func (p *Pair) Proto2() {
	p.t.Helper()
	p.hello("2", '*')
}

func (p *Pair) hello(ver string, want byte) {
	p.t.Helper()
	args := []string{"HELLO", ver}
	r, c := p.exchange(args)
	if len(r) == 0 || r[0] != want || len(c) == 0 || c[0] != want {
		p.t.Fatalf("%s", Mismatch(args, fmt.Sprintf("HELLO %s must return a %q reply on both", ver, want), r, c))
	}
}

func (p *Pair) exchange(args []string) (r, c []byte) {
	p.t.Helper()
	return p.R.Do(args...), p.C.Do(args...)
}

// Mismatch formats a failed comparison: the command and both replies
// quoted with %q.
func Mismatch(args []string, why string, redis, cachalot []byte) string {
	return fmt.Sprintf("%s: %s\n   redis: %q\ncachalot: %q", quoteArgs(args), why, redis, cachalot)
}

// CompareExact returns "" when both replies are byte-identical, otherwise a
// short description of the difference.
func CompareExact(r, c []byte) string {
	if bytes.Equal(r, c) {
		return ""
	}
	return "replies differ"
}

// CompareSorted compares top-level aggregates as multisets of raw elements
// and anything else byte for byte.
func CompareSorted(r, c []byte) string {
	rh, re, rok := SplitAggregate(r)
	ch, ce, cok := SplitAggregate(c)
	if !rok || !cok {
		if bytes.Equal(r, c) {
			return ""
		}
		if rok != cok {
			return "replies differ (only one is an aggregate)"
		}
		return "replies differ"
	}
	if !bytes.Equal(rh, ch) {
		return "aggregate headers differ"
	}
	sortRaw(re)
	sortRaw(ce)
	for i := range re {
		if !bytes.Equal(re[i], ce[i]) {
			return fmt.Sprintf("elements differ as multisets (first difference in sorted order: %q vs %q)", re[i], ce[i])
		}
	}
	return ""
}

func sortRaw(e [][]byte) {
	sort.Slice(e, func(i, j int) bool { return bytes.Compare(e[i], e[j]) < 0 })
}

// CompareType requires both replies to have the same RESP type byte.
func CompareType(r, c []byte) string {
	if len(r) == 0 || len(c) == 0 {
		return "empty reply"
	}
	if r[0] != c[0] {
		return fmt.Sprintf("reply types differ (%q vs %q)", r[0], c[0])
	}
	return ""
}

// CompareError requires both replies to be errors with identical bytes.
func CompareError(r, c []byte) string {
	switch {
	case !IsError(r) && !IsError(c):
		return "expected errors, neither reply is an error"
	case !IsError(r):
		return "expected errors, redis did not return one"
	case !IsError(c):
		return "expected errors, cachalot did not return one"
	case !bytes.Equal(r, c):
		return "error texts differ"
	}
	return ""
}
