package server

import (
	"github.com/cachalotdb/cachalot/store"
)

// MULTI, EXEC, DISCARD, WATCH, UNWATCH. The queueing itself happens in the
// dispatcher (multiIntercept, multi.go); EXEC runs the queue under the
// server's gate, exclusively.

func transactionCommands() []*command {
	return []*command{
		{name: "multi", arity: 1, flags: flagNoScript | flagLoading | flagStale | flagFast | flagAllowBusy,
			acl: "@transaction", group: "transactions", since: "1.2.0",
			summary: "Mark the start of a transaction block", complexity: "O(1)",
			handler: cmdMulti},
		{name: "exec", arity: 1, flags: flagNoScript | flagLoading | flagStale | flagSkipSlowlog,
			acl: "@transaction", group: "transactions", since: "1.2.0",
			summary:    "Execute all commands issued after MULTI",
			complexity: "Depends on commands in the transaction",
			handler:    cmdExec},
		{name: "discard", arity: 1, flags: flagNoScript | flagLoading | flagStale | flagFast | flagAllowBusy,
			acl: "@transaction", group: "transactions", since: "2.0.0",
			summary: "Discard all commands issued after MULTI", complexity: "O(N), when N is the number of queued commands",
			handler: cmdDiscard},
		{name: "watch", arity: -2, flags: flagNoScript | flagLoading | flagStale | flagFast | flagAllowBusy,
			first: 1, last: -1, step: 1, keySpecFlags: "RO",
			acl: "@transaction", group: "transactions", since: "2.2.0",
			summary:    "Watch the given keys to determine execution of the MULTI/EXEC block",
			complexity: "O(1) for every key.", usage: "key [key ...]",
			handler: cmdWatch},
		{name: "unwatch", arity: 1, flags: flagNoScript | flagLoading | flagStale | flagFast | flagAllowBusy,
			acl: "@transaction", group: "transactions", since: "2.2.0",
			summary: "Forget about all watched keys", complexity: "O(1)",
			handler: cmdUnwatch},
	}
}

func cmdMulti(c *client, _ *store.Tx, _ [][]byte) error {
	if c.multi.active {
		return errMultiNested
	}
	c.multi.active = true
	c.multi.aborted = false
	c.w.OK()
	return nil
}

func cmdDiscard(c *client, _ *store.Tx, _ [][]byte) error {
	if !c.multi.active {
		return errDiscardNoMulti
	}
	c.discardMulti()
	c.w.OK()
	return nil
}

func cmdUnwatch(c *client, _ *store.Tx, _ [][]byte) error {
	c.unwatchAll()
	c.w.OK()
	return nil
}

func cmdWatch(c *client, tx *store.Tx, argv [][]byte) error {
	if c.multi.active {
		return errWatchInMulti
	}
	idx := c.db.Index()
next:
	for _, k := range argv[1:] {
		for i := range c.multi.watches {
			w := &c.multi.watches[i]
			if w.DBIndex() == idx && w.Key() == string(k) {
				continue next
			}
		}
		c.multi.watches = append(c.multi.watches, tx.Watch(k))
	}
	c.w.OK()
	return nil
}

func cmdExec(c *client, _ *store.Tx, _ [][]byte) error {
	if !c.multi.active {
		return errExecNoMulti
	}
	if c.multi.aborted {
		c.discardMulti()
		return errExecAbort
	}
	s := c.srv
	took := s.beginExclusive(c)
	defer s.endExclusive(c, took)
	dirty := c.watchesChanged()
	queue := c.multi.queue
	c.multi.queue = nil
	c.discardMulti()
	if dirty {
		c.w.NullArray()
		return nil
	}
	c.w.Array(len(queue))
	s.runExecQueue(c, queue) // multi.go
	return nil
}
