package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/cachalotdb/cachalot/store"
)

// Transactions (MULTI/EXEC) and scripts run atomically through the
// server's gate: every ordinary command runs holding the gate's read lock
// (taken in dispatch around call, never while a client is parked), and EXEC
// and the script commands take its write lock for their whole run. While
// one of them holds it no other client's command runs, whatever keys,
// shards or databases it touches — commands that take their own locks
// (FLUSHDB, KEYS, SORT … STORE), SELECT and SWAPDB inside a transaction,
// and keys a script did not declare included — so nobody sees a partial
// transaction or script, as with Redis's single thread. Inside the
// exclusive section each queued command (or redis.call) runs through the
// ordinary execute path and takes its shard locks as usual, which never
// contend with another client's command.
//
// Blocked clients that a transaction's writes make ready are served once
// the transaction is over (still holding the gate), as Redis does after
// EXEC: the ready hook defers them while the gate is held exclusively.
type txnGate struct {
	mu        sync.RWMutex
	deferring atomic.Bool
	pendMu    sync.Mutex
	pending   []pendingReady
}

type pendingReady struct {
	db   *store.DB
	keys [][]byte
}

// multiState is one client's MULTI/WATCH state. Only the connection's own
// goroutine touches it.
type multiState struct {
	active    bool // between MULTI and EXEC/DISCARD
	aborted   bool // a command was refused at queue time: EXEC answers EXECABORT
	exclusive bool // the client holds the gate's write lock (EXEC or a script)
	queue     []queuedCmd
	watches   []store.Watch
}

type queuedCmd struct {
	cmd     *command
	argv    [][]byte
	denyOOM bool // a script command whose script declares it may grow memory (eviction.go)
}

// exclusiveCommand reports whether cmd takes the gate's write lock itself.
func exclusiveCommand(cmd *command) bool {
	switch cmd.fullName {
	case "exec", "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro":
		return true
	}
	return false
}

// gateEnter takes the gate for an ordinary command (a read lock), unless
// the command takes it exclusively itself or the client already holds it.
// It returns whether gateLeave must release a read lock. While a script
// has run longer than the busy threshold, commands get -BUSY, except the
// allow_busy ones (SCRIPT KILL, SHUTDOWN NOSAVE…), which run without the
// gate.
func (s *Server) gateEnter(c *client, cmd *command) (bool, error) {
	if c.multi.exclusive {
		return false, nil
	}
	if exclusiveCommand(cmd) {
		if s.scriptBusy() {
			return false, s.lua.busyError()
		}
		return false, nil
	}
	// Poll rather than block in RLock: a client queued in RLock behind a
	// script could not be told -BUSY.
	wait := 20 * time.Microsecond
	for {
		if s.gate.mu.TryRLock() {
			return true, nil
		}
		if s.scriptBusy() {
			if cmd.has(flagAllowBusy) {
				return false, nil
			}
			return false, s.lua.busyError()
		}
		time.Sleep(wait)
		if wait < time.Millisecond {
			wait *= 2
		}
	}
}

func (s *Server) gateLeave(held bool) {
	if held {
		s.gate.mu.RUnlock()
	}
}

// beginExclusive takes the gate's write lock for c, unless c holds it
// already (EVAL queued inside MULTI). It returns whether endExclusive must
// release it.
func (s *Server) beginExclusive(c *client) bool {
	if c.multi.exclusive {
		return false
	}
	s.gate.mu.Lock()
	s.gate.deferring.Store(true)
	c.multi.exclusive = true
	s.beginExclusiveProp() // buffer the section's changes (propagate.go)
	return true
}

// endExclusive serves the blocked clients the section made ready, then
// releases the gate.
func (s *Server) endExclusive(c *client, took bool) {
	if !took {
		return
	}
	s.endExclusiveProp(c) // the section's changes go out first (propagate.go)
	s.gate.deferring.Store(false)
	for {
		s.gate.pendMu.Lock()
		pend := s.gate.pending
		s.gate.pending = nil
		s.gate.pendMu.Unlock()
		if len(pend) == 0 {
			break
		}
		for _, p := range pend {
			s.readyKeys(p.db, p.keys)
		}
	}
	c.multi.exclusive = false
	s.gate.mu.Unlock()
}

// readyHook is the store's ready hook: it defers serving blocked clients
// while a transaction or script holds the gate.
func (s *Server) readyHook(db *store.DB, keys [][]byte) {
	if s.gate.deferring.Load() {
		cp := make([][]byte, len(keys))
		for i, k := range keys {
			cp[i] = append([]byte(nil), k...)
		}
		s.gate.pendMu.Lock()
		s.gate.pending = append(s.gate.pending, pendingReady{db, cp})
		s.gate.pendMu.Unlock()
		return
	}
	s.readyKeys(db, keys)
}

// multiIntercept handles a request while the client is inside MULTI: a
// request refused by resolve (err != nil) flags the transaction and is
// answered as usual; other commands except the transaction's own are
// queued and answered +QUEUED. It reports whether the request is done.
func (s *Server) multiIntercept(c *client, cmd *command, err error, argv [][]byte) bool {
	if err != nil && equalFold(argv[0], "exec") {
		// EXEC itself refused (arity, auth): Redis aborts the transaction
		// and says why.
		msg := string(asRespError(err))
		if len(msg) > 4 && msg[:4] == "ERR " {
			msg = msg[4:]
		}
		c.discardMulti()
		re := respError("EXECABORT Transaction discarded because of: " + msg)
		c.w.Error(re)
		s.countError(re)
		return true
	}
	if err == nil && cmd.fullName == "reset" {
		c.discardMulti() // RESET ends the transaction and unwatches
		return false
	}
	if !c.multi.active {
		return false
	}
	if err != nil {
		c.multi.aborted = true
		return false
	}
	switch cmd.fullName {
	case "exec", "discard", "multi", "watch", "quit", "reset":
		return false
	}
	if cmd.has(flagNoMulti) {
		c.multi.aborted = true
		re := errNotInMulti
		c.w.Error(re)
		s.countError(re)
		cmd.stats.rejectedCalls.Add(1)
		return true
	}
	cp := make([][]byte, len(argv))
	for i, a := range argv {
		cp[i] = append([]byte(nil), a...)
	}
	c.multi.queue = append(c.multi.queue, queuedCmd{cmd, cp, s.scriptDenyOOM(cmd, cp)})
	c.w.Simple("QUEUED")
	return true
}

// blockedTimeoutReply is the reply of a blocking command that timed out:
// a null bulk for the list-moving ones, a null array for the rest.
func blockedTimeoutReply(c *client, cmd *command) {
	switch cmd.fullName {
	case "blmove", "brpoplpush":
		c.w.Null()
	default:
		c.w.NullArray()
	}
}

// unwatchAll forgets every key c watches.
func (c *client) unwatchAll() {
	for i := range c.multi.watches {
		c.multi.watches[i].Unwatch()
	}
	clear(c.multi.watches)
	c.multi.watches = c.multi.watches[:0]
}

// discardMulti ends the transaction without running it.
func (c *client) discardMulti() {
	clear(c.multi.queue)
	c.multi.queue = c.multi.queue[:0]
	c.multi.active = false
	c.multi.aborted = false
	c.unwatchAll()
}

// multiCleanup releases a closing connection's transaction state.
func (c *client) multiCleanup() { c.discardMulti() }

// watchesChanged reports whether any watched key changed.
func (c *client) watchesChanged() bool {
	for i := range c.multi.watches {
		if c.multi.watches[i].Changed() {
			return true
		}
	}
	return false
}

// runExecQueue runs EXEC's queue, as Redis's execCommand: each command is
// checked against the user's current ACL rules first, and one they no
// longer allow is answered with the "rules changed" error instead of
// running (not counted as a call). Redis counts such an error in EXEC's
// failed_calls only when no queued command ran after it (its error
// counter is compared with the one the last call left).
func (s *Server) runExecQueue(c *client, queue []queuedCmd) {
	trailing := false
	for _, q := range queue {
		if err := s.aclExecCheck(c, q.cmd, q.argv); err != nil { // acl.go
			re := asRespError(err)
			c.w.Error(re)
			s.countError(re)
			trailing = true
			continue
		}
		s.runQueued(c, q.cmd, q.argv)
		trailing = false
	}
	if trailing {
		if exec := s.table.lookup([]byte("exec")); exec != nil {
			exec.stats.failedCalls.Add(1)
		}
	}
}

// runQueued runs one command inside EXEC (or a script) and writes its
// reply: errors as error replies, a command that would block as its
// timeout (a null array), as Redis's non-blocking forms inside MULTI.
func (s *Server) runQueued(c *client, cmd *command, argv [][]byte) {
	err := s.call(c, cmd, argv, time.Now())
	if _, ok := err.(*blockRequest); ok {
		blockedTimeoutReply(c, cmd)
		return
	}
	if err != nil {
		re := asRespError(err)
		c.w.Error(re)
		if !errorCounted(err) { // a script's error counted by its redis.call (scripting.go)
			s.countError(re)
		}
		cmd.stats.failedCalls.Add(1)
	}
}

// writeKeys returns the argv positions of the keys a write command may
// have changed: every key position except those whose key spec is
// read-only (the sources of SINTERSTORE, SORT … STORE…).
func (cmd *command) writtenKeys(argv [][]byte, dst [][]byte) [][]byte {
	var posBuf [8]int
	pos := cmd.keyPositions(argv, posBuf[:0])
	if len(pos) == 0 {
		return dst
	}
	specs := cmd.keySpecFlagList()
	for i, p := range pos {
		spec := ""
		if len(specs) > 0 {
			spec = specs[min(i, len(specs)-1)]
		}
		if len(spec) >= 2 && spec[:2] == "RO" && len(pos) > 1 {
			continue
		}
		dst = append(dst, argv[p])
	}
	return dst
}

// keySpecFlagList splits keySpecFlags per key position ("RO ACCESS | OW
// UPDATE" → ["RO ACCESS", "OW UPDATE"]).
func (cmd *command) keySpecFlagList() []string {
	if cmd.keySpecFlags == "" {
		return nil
	}
	var out []string
	s := cmd.keySpecFlags
	for {
		i := 0
		for i < len(s) && s[i] != '|' {
			i++
		}
		part := s[:i]
		for len(part) > 0 && part[0] == ' ' {
			part = part[1:]
		}
		out = append(out, part)
		if i == len(s) {
			return out
		}
		s = s[i+1:]
	}
}

// beforeOwnLocks tells watchers of a SWAPDB about to run (the only
// own-locks write whose effect comparing entries cannot see).
func (s *Server) beforeOwnLocks(cmd *command, argv [][]byte) {
	if cmd.fullName != "swapdb" || len(argv) != 3 {
		return
	}
	a, err1 := parseInt(argv[1])
	b, err2 := parseInt(argv[2])
	if err1 == nil && err2 == nil && a >= 0 && b >= 0 && a < 1<<20 && b < 1<<20 {
		s.store.BumpWatchedSwap(int(a), int(b))
	}
}

// bumpWatched tells watchers that a write command changed its keys; it
// runs inside the command's transaction, before the locks are released.
func bumpWatched(cmd *command, tx *store.Tx, argv [][]byte) {
	if !tx.Dirty() || !tx.Watched() {
		return
	}
	var buf [8][]byte
	tx.BumpWatched(cmd.writtenKeys(argv, buf[:0]))
}
