package server

import (
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/cachalotdb/cachalot/store"
)

// replyMode is CLIENT REPLY's setting.
type replyMode uint8

const (
	replyOn replyMode = iota
	replyOff
	replySkip // skip the reply of the next command only
)

// client is one connection's state. Fields under mu are also read by other
// connections (CLIENT LIST, CLIENT INFO, INFO clients); the rest belong to
// the connection's own goroutine.
type client struct {
	srv *Server
	id  int64
	// conn is the connection. An event loop's client (lc set) may be
	// handed to a goroutine of its own, which swaps conn under mu: other
	// goroutines read it through netConn.
	conn  net.Conn
	lc    *loopConn // the event loop serving the client; nil for a goroutine-served one (netloop_linux.go)
	rd    *reader
	w     Writer
	addr  string
	laddr string
	born  time.Time

	db            *store.DB
	authenticated bool
	replyMode     replyMode
	skipNext      bool // CLIENT REPLY SKIP applies to the command after it
	closeAfter    bool // QUIT: flush the reply, then close

	multi multiState // MULTI queue and WATCHed keys (multi.go)

	// prop is the running write command's propagation state; aofSeq is
	// the highest AOF sequence number of this client's changes, which its
	// replies must wait for under appendfsync always (propagate.go).
	prop   propCall
	aofSeq uint64
	// aofDurable is the highest aofSeq known durable (aof.go).
	aofDurable uint64
	// softOverSince is when the reply buffer went over the class's soft
	// output limit, zero while under it (pubsub.go).
	softOverSince time.Time

	// user is the ACL user the client is logged in as; nil (script and
	// test clients) runs anything (acl.go).
	user atomic.Pointer[aclUser]

	lastActive atomic.Int64 // Unix ms of the last command
	// clk is, for an event loop's client, when its next command starts:
	// read at each batch, then advanced by each command's duration
	// (dispatch); zero for a goroutine-served client, which reads the
	// clock per command.
	clk    time.Time
	killed atomic.Bool

	fdOnce sync.Once
	fd     int // the socket's descriptor, for CLIENT LIST; -1 if none

	mu      sync.Mutex
	name    string
	libName string
	libVer  string
	lastCmd string
	dbIndex int
	proto   int
	// noEvict and noTouch are CLIENT NO-EVICT and CLIENT NO-TOUCH. Only the
	// connection's goroutine writes them, holding mu; it may read them
	// without mu, other goroutines read them under mu. With noTouch set,
	// the client's reads should leave the keys' LRU/LFU clock alone.
	noEvict bool
	noTouch bool
	// memReserved is the memory reserved for the command running now
	// (checkMemory, eviction.go); only the connection's goroutine uses it.
	memReserved int64

	// push is set once the client can receive pushes (pub/sub, keyspace
	// notifications, tracking invalidations); see pubsub.go.
	push atomic.Pointer[pushState]
	trk  atomic.Pointer[trackState] // CLIENT TRACKING (tracking.go)
}

// clientOverhead approximates the fixed memory of a connection for CLIENT
// LIST's tot-mem.
const clientOverhead = int(unsafe.Sizeof(client{})) + int(unsafe.Sizeof(reader{}))

// setDB selects database i, which the caller has range-checked.
func (c *client) setDB(i int) {
	c.db = c.srv.store.DB(i)
	c.mu.Lock()
	c.dbIndex = i
	c.mu.Unlock()
}

// setProto switches the reply encoding (HELLO).
func (c *client) setProto(p int) {
	c.w.proto = p
	c.mu.Lock()
	c.proto = p
	c.mu.Unlock()
}

// setAuthenticated logs the client in or out; the reader's limits follow,
// since unauthenticated clients may only send small requests.
func (c *client) setAuthenticated(ok bool) {
	c.authenticated = ok
	if c.rd != nil {
		c.rd.lim.authenticated = ok
	}
}

// setName sets or, with an empty name, clears the connection name.
func (c *client) setName(name []byte) {
	c.mu.Lock()
	c.name = string(name)
	c.mu.Unlock()
}

// subscriptionCounts are the client's channel, pattern and shard-channel
// subscriptions (CLIENT LIST sub/psub/ssub).
func (c *client) subscriptionCounts() (sub, psub, ssub int) {
	p := c.push.Load()
	if p == nil {
		return 0, 0, 0
	}
	h := &c.srv.pubsub
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(p.channels), len(p.patterns), len(p.shards)
}

// fileDescriptor is the socket's descriptor number (CLIENT LIST fd), or -1
// when the connection has none.
func (c *client) fileDescriptor() int {
	c.fdOnce.Do(func() {
		c.fd = -1
		sc, ok := c.conn.(syscall.Conn)
		if !ok {
			return
		}
		raw, err := sc.SyscallConn()
		if err != nil {
			return
		}
		raw.Control(func(fd uintptr) { c.fd = int(fd) })
	})
	return c.fd
}

// flush sends buffered replies. It runs before each blocking read, so a
// pipeline batch costs one write.
func (c *client) flush() error {
	if c.w.Len() == 0 {
		return nil
	}
	if p := c.push.Load(); p != nil {
		return p.flushPush(false)
	}
	_, err := c.conn.Write(c.w.Bytes())
	c.srv.stats.netOutputBytes.Add(int64(c.w.Len()))
	c.w.Reset()
	if cap(c.w.buf) > 1<<20 {
		c.w.buf = nil // don't keep a huge reply buffer for an idle client
	}
	return err
}

// netConn is c.conn for goroutines other than the connection's own.
func (c *client) netConn() net.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn
}

// kill closes the connection from another goroutine (CLIENT KILL, SHUTDOWN).
func (c *client) kill() {
	if c.killed.CompareAndSwap(false, true) {
		c.netConn().Close()
		if c.srv != nil {
			c.srv.blocking.cancelClient(c.id, wakeKilled)
		}
	}
}
