package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/store"
)

// Options are what main hands the server.
type Options struct {
	Config  *config.Config
	Store   *store.Store
	Logger  *slog.Logger
	Version string
	// LogLevel, when set, follows CONFIG SET loglevel.
	LogLevel *slog.LevelVar
	// Shutdown is called when a client sends SHUTDOWN; main stops the
	// process through its usual path.
	Shutdown func()
	// ConfigFile is the TOML file the configuration was loaded from, ""
	// when none (INFO config_file, CONFIG REWRITE).
	ConfigFile string
}

// serverStats are the counters INFO stats reports.
type serverStats struct {
	connectionsReceived atomic.Int64
	rejectedConnections atomic.Int64
	commandsProcessed   atomic.Int64
	netInputBytes       atomic.Int64
	netOutputBytes      atomic.Int64
	unexpectedErrors    atomic.Int64

	errMu      sync.Mutex
	errorStats map[string]int64
}

// Server is a running cachalot front end.
type Server struct {
	cfg      atomic.Pointer[config.Config]
	cfgMu    sync.Mutex // serialises CONFIG SET
	store    *store.Store
	table    *commandTable
	log      *slog.Logger
	version  string
	shutdown func()
	logLevel *slog.LevelVar
	started  time.Time

	clientsMu sync.Mutex
	clients   map[int64]*client
	nextID    atomic.Int64

	lnMu      sync.Mutex
	listeners []net.Listener
	lnFiles   []*os.File // the event loops' duplicates of TCP listeners (netloop_linux.go)
	closing   atomic.Bool
	conns     sync.WaitGroup

	activeExpire atomic.Bool
	lastSave     atomic.Int64
	stats        serverStats

	configFile string    // Options.ConfigFile
	info       infoState // INFO's samples, peaks and ids (info.go)

	blocking blockRegistry // clients parked by blocking commands (blocking.go)
	aof      aofState      // append-only file: loading, durability, rewrites (aof.go)

	outLimits atomic.Pointer[outLimits] // client-output-buffer-limit, parsed (pubsub.go)

	rlStats rateLimitStats // rate-limit decisions per command and result (ratelimit_stats.go)

	slowlog    slowLog        // SLOWLOG (cmd_slowlog.go)
	latency    latencyMonitor // LATENCY (cmd_latency.go)
	monitors   monitorHub     // MONITOR (cmd_monitor.go)
	pubsub     pubsubHub      // subscriptions (pubsub.go)
	trackTable trackingTable  // CLIENT TRACKING (tracking.go)

	gate txnGate   // MULTI/EXEC and scripts run exclusively (multi.go)
	lua  luaEngine // EVAL's Lua state and script cache (scripting.go)
	acl  aclState  // ACL users and log (acl.go)

	prop propagator // effective commands to the AOF (propagate.go)

	memRel memReleaser // memory back to the OS after bursts (memrelease.go)

	loops loopSet // event loops serving plain TCP clients (netloop_linux.go)
}

// New builds a server; it does not listen until Serve.
func New(opts Options) *Server {
	s := &Server{
		store:    opts.Store,
		log:      opts.Logger,
		version:  opts.Version,
		shutdown: opts.Shutdown,
		logLevel: opts.LogLevel,
		started:  time.Now(),
		clients:  make(map[int64]*client),

		configFile: opts.ConfigFile,
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.cfg.Store(opts.Config)
	s.table = buildTable(commandGroups()...)
	// Each write row's propagation rule (propagate.go).
	s.table.attachPropRules()
	s.initACL(opts.Config) // users; requirepass is the default user's password (acl.go); before disabling, as Redis's orig_commands
	s.disableCommands(opts.Config.DisableCommands)
	s.activeExpire.Store(true)
	s.lastSave.Store(time.Now().Unix())
	s.stats.errorStats = make(map[string]int64)
	s.blocking.init()
	s.aof.init()
	// With appendonly yes the server answers -LOADING from its first
	// connection until StartAOF has replayed the files.
	s.aof.loading.Store(opts.Config.Appendonly)
	s.applyEviction(opts.Config) // maxmemory and policy (eviction.go)
	s.pubsub.init()
	s.applyObservability(opts.Config) // key prefixes, keymiss (observe.go)
	if s.store != nil {
		s.store.SetReadyHook(s.readyHook)
		s.store.SetExpiredHook(s.expiredHook)
		s.store.SetEvictedHook(s.evictedHook)
		s.store.SetPropagateHook(s.propagateDel) // propagate.go
		s.store.SetMissHook(s.missHook)          // keymiss events (observe.go)
	}
	return s
}

// Config returns the configuration in force. Callers must not modify it.
func (s *Server) Config() *config.Config { return s.cfg.Load() }

// Serve accepts connections on ln until it is closed.
func (s *Server) Serve(ln net.Listener) error {
	s.lnMu.Lock()
	s.listeners = append(s.listeners, ln)
	s.lnMu.Unlock()
	if s.closing.Load() {
		// Close ran before this listener was registered.
		ln.Close()
		return nil
	}
	if tl, ok := ln.(*net.TCPListener); ok && s.loopsEnabled() {
		return s.serveLoops(tl) // netloop_linux.go
	}
	var lastAcceptWarn time.Time
	for {
		conn, err := ln.Accept()
		if err != nil {
			if s.closing.Load() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			if temporaryAcceptError(err) {
				s.acceptBackOff(ln.Addr(), err, &lastAcceptWarn)
				continue
			}
			return fmt.Errorf("accept on %s: %w", ln.Addr(), err)
		}
		s.accept(conn)
	}
}

func (s *Server) accept(conn net.Conn) {
	if msg := s.admit(conn.RemoteAddr()); msg != "" {
		refuse(conn, msg)
		return
	}
	cfg := s.Config()
	raw := conn
	if wrapped, ok := conn.(interface{ NetConn() net.Conn }); ok {
		raw = wrapped.NetConn() // TLS: keepalives belong to the TCP socket
	}
	if tc, ok := raw.(*net.TCPConn); ok && cfg.TCPKeepalive > 0 {
		tc.SetKeepAlive(true)
		tc.SetKeepAlivePeriod(cfg.TCPKeepalive)
	}
	c := s.newClient(conn, countingReader{conn, &s.stats.netInputBytes})
	s.register(c)
	go s.serveConn(c)
}

// admit counts a new connection and returns the refusal it gets, "" when
// it may stay: maxclients, shutdown in progress, protected mode.
func (s *Server) admit(remote net.Addr) string {
	cfg := s.Config()
	s.stats.connectionsReceived.Add(1)
	s.clientsMu.Lock()
	full := len(s.clients) >= cfg.Maxclients
	s.clientsMu.Unlock()
	if full || s.closing.Load() {
		s.stats.rejectedConnections.Add(1)
		return maxClientsMessage
	}
	if s.acl.defaultNoPass() && protectedModeRefuses(cfg, remote) {
		s.stats.rejectedConnections.Add(1)
		return protectedModeMessage
	}
	return ""
}

// newClient builds the state of an accepted connection reading from src.
func (s *Server) newClient(conn net.Conn, src io.Reader) *client {
	cfg := s.Config()
	c := &client{
		srv:           s,
		id:            s.nextID.Add(1),
		conn:          conn,
		addr:          conn.RemoteAddr().String(),
		laddr:         conn.LocalAddr().String(),
		born:          time.Now(),
		authenticated: !s.acl.authRequired.Load(),
	}
	c.user.Store(s.acl.def)
	c.w.proto = 2
	c.proto = 2
	c.rd = newReader(src, readLimits{
		maxBulk:       cfg.ProtoMaxBulkLen,
		maxQuery:      cfg.ClientQueryBufferLimit,
		authenticated: c.authenticated,
	})
	c.db = s.store.DB(0)
	c.lastActive.Store(time.Now().UnixMilli())
	return c
}

// register lists c among the connected clients; finishClient undoes it.
func (s *Server) register(c *client) {
	s.clientsMu.Lock()
	s.clients[c.id] = c
	s.clientsMu.Unlock()
	s.conns.Add(1)
}

// finishClient releases what a closed connection held: its transaction,
// subscriptions, the clients list entry.
func (s *Server) finishClient(c *client) {
	c.kill()
	c.multiCleanup()
	s.pubsub.removeClient(c) // pubsub.go
	s.clientsMu.Lock()
	delete(s.clients, c.id)
	s.clientsMu.Unlock()
	s.noteClosed(c) // memrelease.go
	s.conns.Done()
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (cr countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	cr.n.Add(int64(n))
	return n, err
}

// serveConn runs one connection: read a request, dispatch it, and flush the
// replies whenever the client has nothing more pipelined. A panic in a
// handler is logged and closes only this connection.
func (s *Server) serveConn(c *client) { s.serveConnFrom(c, nil) }

// serveConnFrom is serveConn for a connection an event loop hands over
// (netloop_linux.go): first, when set, is a request already read, which
// runs before anything else.
func (s *Server) serveConnFrom(c *client, first [][]byte) {
	defer func() {
		if r := recover(); r != nil {
			s.stats.unexpectedErrors.Add(1)
			s.log.Error("panic serving client; connection closed",
				"client_id", c.id, "addr", c.addr, "panic", r, "stack", string(debug.Stack()))
		}
		s.finishClient(c)
	}()
	beforeRead := func() error {
		s.flushBroadcasts() // BCAST invalidations of the batch (tracking.go)
		if err := c.pushBeforeRead(); err != nil {
			return err
		}
		s.awaitDurable(c) // no reply before its write is durable (aof.go)
		if err := c.flush(); err != nil {
			return err
		}
		// Limits are re-read here so CONFIG SET reaches connected
		// clients at their next read, as in Redis.
		cfg := s.Config()
		c.rd.lim.maxBulk = cfg.ProtoMaxBulkLen
		c.rd.lim.maxQuery = cfg.ClientQueryBufferLimit
		if cfg.Timeout > 0 {
			return c.conn.SetReadDeadline(time.Now().Add(cfg.Timeout))
		}
		return nil
	}
	// run dispatches one request and reports whether the connection ends.
	run := func(argv [][]byte) bool {
		c.pushAfterRead()
		s.dispatch(c, argv)
		return s.afterCommand(c)
	}
	if first != nil && run(first) {
		return
	}
	if first == nil && s.afterCommand(c) { // handed over while closing
		return
	}
	for {
		argv, err := c.rd.next(beforeRead)
		if err != nil {
			var pe protocolError
			switch {
			case errors.As(err, &pe):
				c.w.Error(respError("ERR " + pe.Error()))
				c.flush()
				s.log.Debug("protocol error; closing client", "client_id", c.id, "addr", c.addr, "err", err)
			case errors.Is(err, errQueryBufferLimit):
				s.log.Warn("closing client that reached max query buffer length", "client_id", c.id, "addr", c.addr)
			}
			return
		}
		if run(argv) {
			return
		}
	}
}

// afterCommand applies what a command may have decided about its own
// connection: the output limit, QUIT, CLIENT KILL. It reports whether the
// connection ends; when it does, the replies have been flushed.
func (s *Server) afterCommand(c *client) bool {
	if c.checkOutputLimit() { // client-output-buffer-limit (pubsub.go)
		return true
	}
	if c.closeAfter || c.killed.Load() {
		s.awaitDurable(c)
		c.flush()
		return true
	}
	return false
}

// Close stops accepting and closes every connection.
func (s *Server) Close() error {
	s.closing.Store(true)
	s.closeListeners()
	s.clientsMu.Lock()
	for _, c := range s.clients {
		c.kill()
	}
	s.clientsMu.Unlock()
	s.conns.Wait()
	s.stopLoops()
	return nil
}

// closeListeners stops accepting.
func (s *Server) closeListeners() {
	s.lnMu.Lock()
	for _, ln := range s.listeners {
		ln.Close()
	}
	for _, f := range s.lnFiles {
		f.Close()
	}
	s.lnMu.Unlock()
}

// RunBackground runs the periodic tasks (active expiry) at hz until ctx ends.
func (s *Server) RunBackground(ctx context.Context) {
	var cursor store.ExpireCursor
	for {
		hz := s.Config().Hz
		if hz < 1 {
			hz = 10
		}
		period := time.Second / time.Duration(hz)
		select {
		case <-ctx.Done():
			return
		case <-time.After(period):
		}
		if s.activeExpire.Load() {
			// A quarter of each tick, as Redis's slow expire cycle.
			s.store.ExpireCycle(&cursor, period/4)
		}
		s.evictInBackground(period / 4)
		s.autoRewrite(s.Config()) // aof.go
		// BCAST invalidations from expiry and eviction (tracking.go).
		s.flushBroadcasts()
		s.sampleMetrics(time.Now())
		s.releaseMemoryTick(time.Now()) // memrelease.go
	}
}

// snapshotClients returns the connected clients, ordered by id.
func (s *Server) snapshotClients() []*client {
	s.clientsMu.Lock()
	out := make([]*client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c)
	}
	s.clientsMu.Unlock()
	sortClients(out)
	return out
}

// acceptBackOff counts and logs (at most once a second) an accept that
// failed for lack of resources, then pauses: out of file descriptors or
// kernel buffers, Redis logs and goes on, the pending connections waiting
// in the backlog until clients leave; the pause keeps the loop from
// spinning.
func (s *Server) acceptBackOff(addr net.Addr, err error, lastWarn *time.Time) {
	s.stats.rejectedConnections.Add(1)
	if time.Since(*lastWarn) > time.Second {
		s.log.Warn("accepting a client connection failed; retrying", "addr", addr.String(), "err", err)
		*lastWarn = time.Now()
	}
	time.Sleep(acceptBackoff)
}

// acceptBackoff is the pause after an accept that failed for lack of
// descriptors or memory.
const acceptBackoff = 50 * time.Millisecond

// temporaryAcceptError reports errors after which accepting can go on once
// resources come back: EMFILE, ENFILE, ENOBUFS, ENOMEM, and a connection
// aborted before it was accepted.
func temporaryAcceptError(err error) bool {
	for _, e := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
