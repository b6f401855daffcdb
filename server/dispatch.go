package server

import (
	"slices"
	"time"

	"github.com/cachalotdb/cachalot/store"
)

// Store errors the dispatcher translates into Redis's replies.
var (
	errStoreWrongType = store.ErrWrongType
	errStoreNoSuchKey = store.ErrNoSuchKey
)

// dispatch runs one request through the checks Redis makes, in Redis's
// order, then the handler. It is the only place a command is refused.
func (s *Server) dispatch(c *client, argv [][]byte) {
	s.dispatchRow(c, s.table.lookup(argv[0]), argv)
}

// dispatchRow is dispatch for a caller that has looked the row up already
// (nil: unknown command).
func (s *Server) dispatchRow(c *client, row *command, argv [][]byte) {
	defer s.releaseMemory(c) // checkMemory's reservation (eviction.go)
	s.stats.commandsProcessed.Add(1)
	// An event loop reads the clock once per batch and chains the
	// commands' timings from it (clk), so a command costs one monotonic
	// clock read; elsewhere one clock read serves idle tracking and timing.
	start := c.clk
	if start.IsZero() {
		start = time.Now()
	}
	c.lastActive.Store(start.UnixMilli())
	mark := c.w.Len()
	cmd, err := s.resolveRow(c, row, argv)
	if s.multiIntercept(c, cmd, err, argv) {
		s.applyReplyMode(c, cmd, mark)
		return
	}
	if err == nil {
		var held bool
		if held, err = s.gateEnter(c, cmd); err == nil { // multi.go
			err = s.call(c, cmd, argv, start)
			s.gateLeave(held)
		}
		if br, ok := err.(*blockRequest); ok {
			err = s.block(c, cmd, argv, br)
		}
	}
	if err != nil {
		re := asRespError(err)
		c.w.Error(re)
		if !errorCounted(err) { // a script's error its redis.call counted (scripting.go)
			s.countError(re)
		}
		if cmd != nil {
			cmd.stats.failedCalls.Add(1)
		}
	}
	s.applyReplyMode(c, cmd, mark)
}

// resolve finds the row for argv and applies the checks that need no store:
// unknown command or subcommand, arity, authentication.
func (s *Server) resolve(c *client, argv [][]byte) (*command, error) {
	return s.resolveRow(c, s.table.lookup(argv[0]), argv)
}

// resolveRow is resolve with argv[0]'s row already looked up.
func (s *Server) resolveRow(c *client, cmd *command, argv [][]byte) (*command, error) {
	if cmd == nil {
		return nil, errUnknownCommand(argv)
	}
	if cmd.subIndex != nil && len(argv) >= 2 {
		sub := cmd.subLookup(argv[1])
		if sub == nil {
			return nil, errUnknownSubcommand(cmd.name, argv[1])
		}
		cmd = sub
	}
	if (cmd.arity > 0 && len(argv) != cmd.arity) || len(argv) < -cmd.arity {
		cmd.stats.rejectedCalls.Add(1)
		return nil, errArity(cmd.fullName)
	}
	if !c.authenticated && !cmd.has(flagNoAuth) && s.acl.authRequired.Load() {
		cmd.stats.rejectedCalls.Add(1)
		return nil, errNoAuth
	}
	if err := s.aclCheck(c, cmd, argv); err != nil { // ACL permissions (acl.go)
		cmd.stats.rejectedCalls.Add(1)
		return nil, err
	}
	if err := checkSubscribeMode(c, cmd); err != nil {
		cmd.stats.rejectedCalls.Add(1)
		return nil, err
	}
	c.mu.Lock()
	c.lastCmd = cmd.fullName
	c.mu.Unlock()
	if err := s.checkMemory(c, cmd, argv); err != nil { // maxmemory (eviction.go)
		return nil, err
	}
	if err := s.checkLoadingAndDisk(cmd); err != nil { // -LOADING, -MISCONF (aof.go)
		return nil, err
	}
	return cmd, nil
}

// call locks the keys the row names (write locks unless the row is
// read-only), runs the handler and records its timing.
func (s *Server) call(c *client, cmd *command, argv [][]byte, start time.Time) error {
	ns, mark := s.notifyBefore(c, cmd, argv), c.w.Len() // keyspace notifications, tracking (notify.go)
	err := s.execute(c, cmd, argv)
	s.notifyAfter(c, cmd, argv, mark, ns, err)
	d := time.Since(start)
	if !c.clk.IsZero() {
		c.clk = start.Add(d) // the next command of the batch starts here
	}
	cmd.stats.calls.Add(1)
	cmd.stats.usec.Add(d.Microseconds())
	s.observe(c, cmd, argv, d) // histogram, slow log, latency monitor, MONITOR
	return err
}

// execute runs the handler under the locks the row asks for. Serving a
// blocked client runs its command again through here.
func (s *Server) execute(c *client, cmd *command, argv [][]byte) error {
	if cmd.has(flagOwnLocks) {
		s.beforeOwnLocks(cmd, argv) // WATCH (multi.go)
		return cmd.handler(c, nil, argv)
	}
	var posBuf [8]int
	pos := cmd.keyPositions(argv, posBuf[:0])
	if len(pos) == 0 {
		if cmd.has(flagWrite) {
			return s.executeKeylessWrite(c, cmd, argv) // propagate.go
		}
		return cmd.handler(c, nil, argv)
	}
	var keyBuf [8][]byte
	keys := keyBuf[:0]
	for _, p := range pos {
		keys = append(keys, argv[p])
	}
	if cmd.has(flagReadonly) {
		return c.db.View(keys, func(tx *store.Tx) error {
			applyNoTouch(c, cmd, tx) // CLIENT NO-TOUCH (eviction.go)
			return cmd.handler(c, tx, argv)
		})
	}
	c.propBegin(s) // AOF propagation (propagate.go)
	return c.db.Update(keys, func(tx *store.Tx) error {
		applyNoTouch(c, cmd, tx) // CLIENT NO-TOUCH (eviction.go)
		if c.prop.sink != nil && cmd.prop.pre != nil {
			cmd.prop.pre(c, tx, argv)
		}
		err := cmd.handler(c, tx, argv)
		bumpWatched(cmd, tx, argv) // WATCH (multi.go)
		if c.prop.sink != nil {
			s.propagateCall(c, cmd, tx, argv, err)
		}
		return err
	})
}

// applyReplyMode discards the reply CLIENT REPLY OFF/SKIP asked to suppress.
func (s *Server) applyReplyMode(c *client, cmd *command, mark int) {
	if cmd != nil && cmd.fullName == "client|reply" {
		return // CLIENT REPLY manages its own reply and the mode change
	}
	switch {
	case c.replyMode == replyOff:
		c.w.Truncate(mark)
	case c.skipNext:
		c.w.Truncate(mark)
		c.skipNext = false
	}
}

// countError feeds INFO errorstats.
func (s *Server) countError(e respError) {
	s.stats.errMu.Lock()
	s.stats.errorStats[e.code()]++
	s.stats.errMu.Unlock()
}

func sortClients(cs []*client) {
	slices.SortFunc(cs, func(a, b *client) int { return int(a.id - b.id) })
}

// commandGroups lists every group's rows. Each cmd_<group>.go file owns its
// slice; adding a group means adding it here.
func commandGroups() [][]*command {
	return [][]*command{
		connectionCommands(),
		serverCommands(),
		stringCommands(),
		genericCommands(),
		introspectionCommands(),
		debugCommands(),
		zsetCommands(),
		hashCommands(),
		setCommands(),
		bitmapCommands(),
		hyperloglogCommands(),
		listCommands(),
		rateLimitCommands(),
		sortCommands(),
		observabilityCommands(),
		pubsubCommands(),
		transactionCommands(),
		scriptingCommands(),
		aclCommands(),
	}
}
