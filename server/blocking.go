package server

import (
	"bytes"
	"container/list"
	"errors"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cachalotdb/cachalot/store"
)

// Blocking commands (BLPOP, BLMOVE, BZPOPMIN…).
//
// A handler that finds nothing to serve returns blockOn(keys, timeout). The
// dispatcher then parks the client: it registers a waiter on every (db, key)
// in the server's registry, a FIFO queue per key, and waits on a channel
// (no polling) for the timeout, CLIENT UNBLOCK, CLIENT KILL, or a serve.
//
// Writers that make a key ready (a push, an add) call Tx.MarkReady; after
// they release their locks the store calls readyKeys in the writer's
// goroutine. For each key it takes the key's waiters in FIFO order and runs
// the waiter's command again, on the waiter's own client (its goroutine is
// parked, and ownership passes through the registry mutex and the waiter's
// channel). The re-run pops and writes its reply into the waiter's buffer;
// if it blocks again (another client emptied the key) the waiter keeps its
// place at the front and serving that key stops. Serving is generic: any
// command that blocked is simply run again.
//
// One goroutine at a time serves a given key (a push that arrives meanwhile
// leaves a note for it), so waiters on a key get elements first come, first
// served, and each element reaches exactly one client.

// blockRequest is what a blocking command's handler returns when nothing is
// ready yet: the dispatcher parks the client on keys until one of them is
// made ready (store.Tx.MarkReady), the timeout passes, or the client is
// unblocked or killed, then runs the command again.
type blockRequest struct {
	keys    [][]byte
	timeout time.Duration // 0 waits forever
}

func (b *blockRequest) Error() string { return "client must block" }

// blockOn asks the dispatcher to park the client. keys alias argv.
func blockOn(keys [][]byte, timeout time.Duration) error {
	return &blockRequest{keys: keys, timeout: timeout}
}

// maxTimeoutMs is the largest timeout a time.Duration holds; longer ones
// wait forever, which no client can tell apart.
const maxTimeoutMs = float64(math.MaxInt64 / int64(time.Millisecond))

// parseTimeout reads a blocking command's timeout in seconds, fractional
// allowed, with Redis 7.0's errors and rounding: Redis reads a long double,
// multiplies by 1000, converts to a long long (anything at or beyond 2^63
// ms, infinities included, becomes LLONG_MIN and so "negative") and rounds
// up to whole milliseconds; 0 (or a tiny negative that rounds to 0) waits
// forever.
func parseTimeout(arg []byte) (time.Duration, error) {
	f, err := parseFloat(arg)
	if err != nil {
		f, err = timeoutOutOfFloat64(arg)
		if err != nil {
			return 0, err
		}
	}
	ms := f * 1000
	if math.IsInf(ms, 0) || ms >= 0x1p63 || ms < -0x1p63 {
		return 0, errTimeoutNegative
	}
	ms = math.Ceil(ms)
	if ms < 0 {
		return 0, errTimeoutNegative
	}
	if ms > maxTimeoutMs {
		return 0, nil
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// timeoutOutOfFloat64 handles numbers a long double holds but a float64
// does not: beyond float64's range they are "negative" (they overflow the
// conversion to long long), below it they are a tiny positive or negative
// number. Anything else is not a float.
func timeoutOutOfFloat64(arg []byte) (float64, error) {
	if len(arg) == 0 || isSpace(arg[0]) || bytes.IndexByte(arg, '_') >= 0 {
		return 0, errTimeoutNotFloat
	}
	f, err := strconv.ParseFloat(string(arg), 64)
	var ne *strconv.NumError
	switch {
	case err == nil && f == 0:
		// Underflow (parseFloat refused it, as strtod does).
		if arg[0] == '-' {
			return 0, nil
		}
		return math.SmallestNonzeroFloat64, nil
	case errors.As(err, &ne) && ne.Err == strconv.ErrRange && math.IsInf(f, 0):
		return 0, errTimeoutNegative
	}
	return 0, errTimeoutNotFloat
}

// unblockReason says why a parked client woke up.
type unblockReason uint8

const (
	wakeServed       unblockReason = iota + 1
	wakeTimeout                    // the timeout passed, or CLIENT UNBLOCK … TIMEOUT
	wakeUnblockError               // CLIENT UNBLOCK … ERROR
	wakeKilled                     // CLIENT KILL, disconnect, shutdown
)

// waiter states, under blockRegistry.mu.
const (
	waiterQueued  = iota // in its queues, waiting
	waiterRunning        // a serving goroutine is running its command
	waiterDone           // out of the registry; done has its result
)

type blockKey struct {
	db  int
	key string
}

// waiter is one parked client.
type waiter struct {
	c    *client
	cmd  *command
	argv [][]byte // the waiter's own copy of the request
	db   int
	keys []string        // distinct keys it waits on
	elem []*list.Element // its place in each key's queue, parallel to keys

	// Under blockRegistry.mu:
	state      int
	cancel     unblockReason // a cancel that arrived while running
	missed     []string      // keys made ready while it was running
	hasTimeout bool

	done chan waitResult // exactly one send, buffered
}

type waitResult struct {
	reason unblockReason
	err    error // the served run's error, if any
}

// blockRegistry is the server's table of parked clients.
type blockRegistry struct {
	mu       sync.Mutex
	queues   map[blockKey]*list.List // of *waiter, FIFO
	byClient map[int64]*waiter
	serving  map[blockKey]bool // a goroutine is serving the key
	pending  map[blockKey]bool // the key was made ready while being served

	withTimeout int // parked clients with a timeout (INFO clients_in_timeout_table)

	// parked counts the registered waiters, so that writes made while no
	// client is blocked skip the mutex.
	parked atomic.Int64
}

func (r *blockRegistry) init() {
	r.queues = make(map[blockKey]*list.List)
	r.byClient = make(map[int64]*waiter)
	r.serving = make(map[blockKey]bool)
	r.pending = make(map[blockKey]bool)
}

// counts returns the parked clients, those with a timeout, and the keys
// with waiters (INFO clients).
func (r *blockRegistry) counts() (clients, withTimeout, keys int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byClient), r.withTimeout, len(r.queues)
}

// isBlocked reports whether client id is parked (CLIENT LIST flag b).
func (r *blockRegistry) isBlocked(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.byClient[id]
	return ok
}

// register queues w on each of its keys at the back.
func (r *blockRegistry) register(w *waiter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, k := range w.keys {
		bk := blockKey{w.db, k}
		q := r.queues[bk]
		if q == nil {
			q = list.New()
			r.queues[bk] = q
		}
		w.elem[i] = q.PushBack(w)
	}
	r.byClient[w.c.id] = w
	r.parked.Add(1)
	if w.hasTimeout {
		r.withTimeout++
	}
}

// finishLocked takes w out of the registry and hands it its result.
func (r *blockRegistry) finishLocked(w *waiter, res waitResult) {
	if w.state == waiterDone {
		return
	}
	w.state = waiterDone
	for i, k := range w.keys {
		bk := blockKey{w.db, k}
		if q := r.queues[bk]; q != nil {
			q.Remove(w.elem[i])
			if q.Len() == 0 {
				delete(r.queues, bk)
			}
		}
	}
	if r.byClient[w.c.id] == w {
		delete(r.byClient, w.c.id)
	}
	r.parked.Add(-1)
	if w.hasTimeout {
		r.withTimeout--
	}
	w.done <- res
}

// cancel wakes w for reason unless it is being served, in which case the
// serve decides: a successful serve wins, a re-block ends with reason.
func (r *blockRegistry) cancel(w *waiter, reason unblockReason) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cancelLocked(w, reason)
}

func (r *blockRegistry) cancelLocked(w *waiter, reason unblockReason) {
	switch w.state {
	case waiterQueued:
		r.finishLocked(w, waitResult{reason: reason})
	case waiterRunning:
		if w.cancel == 0 {
			w.cancel = reason
		}
	}
}

// cancelClient cancels client id's wait; it reports whether it was parked.
func (r *blockRegistry) cancelClient(id int64, reason unblockReason) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.byClient[id]
	if w == nil || w.state == waiterDone {
		return false
	}
	r.cancelLocked(w, reason)
	return true
}

// readyKeys is the store's ready hook: it serves the waiters of keys, which
// a write in db just made ready.
func (s *Server) readyKeys(db *store.DB, keys [][]byte) {
	if s.blocking.parked.Load() == 0 {
		return
	}
	for i, k := range keys {
		dup := false
		for _, p := range keys[:i] {
			if string(p) == string(k) {
				dup = true
				break
			}
		}
		if !dup {
			s.serveKey(blockKey{db.Index(), string(k)})
		}
	}
}

// serveDBs serves every key that has waiters in the given databases
// (SWAPDB changed what all of them hold).
func (s *Server) serveDBs(dbs ...int) {
	if s.blocking.parked.Load() == 0 {
		return
	}
	var ks []blockKey
	s.blocking.mu.Lock()
	for bk := range s.blocking.queues {
		for _, d := range dbs {
			if bk.db == d {
				ks = append(ks, bk)
			}
		}
	}
	s.blocking.mu.Unlock()
	for _, bk := range ks {
		s.serveKey(bk)
	}
}

// serveKey runs the waiters of bk, oldest first, until one blocks again or
// none is left.
func (s *Server) serveKey(bk blockKey) {
	r := &s.blocking
	r.mu.Lock()
	if r.queues[bk] == nil {
		r.mu.Unlock()
		return
	}
	if r.serving[bk] {
		r.pending[bk] = true
		r.mu.Unlock()
		return
	}
	r.serving[bk] = true
	var again []blockKey
	for {
		delete(r.pending, bk)
		w := r.firstQueuedLocked(bk)
		if w == nil {
			break
		}
		w.state = waiterRunning
		r.mu.Unlock()
		err := s.runWaiter(w)
		r.mu.Lock()
		var br *blockRequest
		if !errors.As(err, &br) {
			r.finishLocked(w, waitResult{reason: wakeServed, err: err})
			continue
		}
		// Nothing left for it: it keeps its place in every queue.
		w.state = waiterQueued
		for _, k := range w.missed {
			again = append(again, blockKey{w.db, k})
		}
		w.missed = w.missed[:0]
		if w.cancel != 0 {
			r.finishLocked(w, waitResult{reason: w.cancel})
		}
		if !r.pending[bk] {
			break
		}
	}
	delete(r.serving, bk)
	delete(r.pending, bk)
	r.mu.Unlock()
	// Keys that became ready while a waiter on them was busy being served
	// elsewhere, and that it may still want.
	for _, k := range again {
		s.serveKey(k)
	}
}

// runWaiter runs w's command again on w's client. A panic in the handler
// is logged and becomes an error reply for w, so it neither takes down the
// goroutine serving (another client's) nor leaves w parked for ever.
func (s *Server) runWaiter(w *waiter) (err error) {
	defer func() {
		if p := recover(); p != nil {
			s.stats.unexpectedErrors.Add(1)
			s.log.Error("panic serving a blocked client", "client_id", w.c.id, "panic", p, "stack", string(debug.Stack()))
			err = respError("ERR internal error serving a blocked client")
		}
	}()
	return s.execute(w.c, w.cmd, w.argv)
}

// firstQueuedLocked is bk's oldest waiter not being served, noting on the
// ones being served that bk became ready meanwhile.
func (r *blockRegistry) firstQueuedLocked(bk blockKey) *waiter {
	q := r.queues[bk]
	if q == nil {
		return nil
	}
	for e := q.Front(); e != nil; e = e.Next() {
		w := e.Value.(*waiter)
		switch w.state {
		case waiterQueued:
			return w
		case waiterRunning:
			w.missed = append(w.missed, bk.key)
		}
	}
	return nil
}

// block parks c, whose handler for argv asked to block, and returns the
// error to reply with once it wakes (nil when the reply is written).
func (s *Server) block(c *client, cmd *command, argv [][]byte, br *blockRequest) error {
	w := &waiter{
		c:          c,
		cmd:        cmd,
		argv:       make([][]byte, len(argv)),
		db:         c.db.Index(),
		hasTimeout: br.timeout > 0,
		done:       make(chan waitResult, 1),
	}
	for i, a := range argv {
		w.argv[i] = append([]byte(nil), a...)
	}
	for _, k := range br.keys {
		ks := string(k)
		seen := false
		for _, p := range w.keys {
			if p == ks {
				seen = true
				break
			}
		}
		if !seen {
			w.keys = append(w.keys, ks)
		}
	}
	w.elem = make([]*list.Element, len(w.keys))
	// A client that receives pushes (RESP3 invalidations, pub/sub
	// messages) gets them while it waits, as in Redis: its earlier replies
	// and queued pushes go out now, and it counts as idle for its pusher
	// until it wakes. This must happen before the waiter is registered,
	// after which a serving goroutine may write the reply into c.w.
	// (Skipped under CLIENT REPLY OFF/SKIP, whose truncation needs the
	// reply buffer intact; pushes then wait for the reply as before.)
	var idlePush *pushState
	if p := c.push.Load(); p != nil && c.replyMode == replyOn && !c.skipNext {
		if err := p.flushPush(true); err != nil {
			c.kill()
		}
		idlePush = p
	}
	s.blocking.register(w)
	if c.killed.Load() {
		s.blocking.cancel(w, wakeKilled) // killed before it registered
	}

	// Watch the connection while parked, so a client that hangs up is
	// released (and not served an element nobody will read). Bytes it
	// pipelines meanwhile stay in its read buffer.
	c.conn.SetReadDeadline(time.Time{})
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		for {
			if err := c.rd.fill(); err != nil {
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					c.kill()
				}
				return
			}
		}
	}()

	// A key may have become ready between the handler's look and the
	// registration: serve the keys once now. Under the gate, like any
	// command: serving changes data, which must not happen in the middle
	// of a transaction or script (nor be propagated inside it).
	s.gate.mu.RLock()
	for _, k := range w.keys {
		s.serveKey(blockKey{w.db, k})
	}
	s.gate.mu.RUnlock()

	var timer <-chan time.Time
	if br.timeout > 0 {
		t := time.NewTimer(br.timeout)
		defer t.Stop()
		timer = t.C
	}
	var res waitResult
	select {
	case res = <-w.done:
	case <-timer:
		s.blocking.cancel(w, wakeTimeout)
		res = <-w.done
	}
	if idlePush != nil {
		idlePush.busy() // pushes wait for the reply again
	}

	c.conn.SetReadDeadline(time.Now())
	<-watchDone
	c.conn.SetReadDeadline(time.Time{})

	switch res.reason {
	case wakeServed:
		return res.err
	case wakeTimeout:
		writeTimeoutReply(c, cmd)
		return nil
	case wakeUnblockError:
		return errUnblocked
	}
	return nil // killed: no reply
}

// writeTimeoutReply is what a blocking command answers when its timeout
// passes: a null array for every list and sorted-set command, BLMOVE and
// BRPOPLPUSH included, as Redis 7.0's replyToBlockedClientTimedOut.
func writeTimeoutReply(c *client, _ *command) {
	c.w.NullArray()
}
