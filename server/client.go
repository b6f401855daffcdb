package server

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

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
	srv   *Server
	id    int64
	conn  net.Conn
	rd    *reader
	w     Writer
	addr  string
	laddr string
	born  time.Time

	db            *store.DB
	authenticated bool
	replyMode     replyMode
	skipNext      bool // CLIENT REPLY SKIP applies to the command after it
	noEvict       bool
	noTouch       bool
	closeAfter    bool // QUIT: flush the reply, then close

	lastActive atomic.Int64 // Unix ms of the last command
	killed     atomic.Bool

	mu      sync.Mutex
	name    string
	libName string
	libVer  string
	lastCmd string
	dbIndex int
	proto   int
}

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

// flush sends buffered replies. It runs before each blocking read, so a
// pipeline batch costs one write.
func (c *client) flush() error {
	if c.w.Len() == 0 {
		return nil
	}
	_, err := c.conn.Write(c.w.Bytes())
	c.srv.stats.netOutputBytes.Add(int64(c.w.Len()))
	c.w.Reset()
	if cap(c.w.buf) > 1<<20 {
		c.w.buf = nil // don't keep a huge reply buffer for an idle client
	}
	return err
}

// kill closes the connection from another goroutine (CLIENT KILL, SHUTDOWN).
func (c *client) kill() {
	if c.killed.CompareAndSwap(false, true) {
		c.conn.Close()
	}
}
