package server

import (
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cachalotdb/cachalot/store"
)

// MONITOR: every executed command (admin and skip_monitor rows excepted) is
// sent to the monitoring clients as Redis 7.0 formats it:
//
//	+1690000000.123456 [0 127.0.0.1:12345] "SET" "k" "v"
//
// n counts the monitors, so the dispatcher pays one atomic load when there
// are none.

// monitorMaxPending is the backlog a monitor may fall behind by before it is
// disconnected, as Redis's output buffer limits would.
const monitorMaxPending = 64 << 20

type monitorHub struct {
	n    atomic.Int32
	mu   sync.Mutex
	list []*monitor
}

// monitor queues lines for one monitoring client; its own goroutine writes
// them to the connection.
type monitor struct {
	c    *client
	mu   sync.Mutex
	buf  []byte
	wake chan struct{}
}

func monitorCommand() *command {
	return &command{name: "monitor", arity: 1, flags: flagAdmin | flagNoScript | flagLoading | flagStale,
		group: "server", since: "1.0.0",
		summary: "Listen for all requests received by the server in real time", handler: cmdMonitor}
}

func cmdMonitor(c *client, _ *store.Tx, _ [][]byte) error {
	c.w.OK()
	// The OK must reach the client before the first line, which another
	// goroutine may write as soon as the monitor is registered.
	if err := c.flush(); err != nil {
		return nil
	}
	h := &c.srv.monitors
	h.mu.Lock()
	for _, m := range h.list {
		if m.c == c {
			h.mu.Unlock()
			return nil // already monitoring
		}
	}
	m := &monitor{c: c, wake: make(chan struct{}, 1)}
	h.list = append(h.list, m)
	h.n.Store(int32(len(h.list)))
	h.mu.Unlock()
	go h.run(m)
	return nil
}

// run writes m's queued lines until the client goes away.
func (h *monitorHub) run(m *monitor) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	defer h.remove(m)
	for {
		select {
		case <-m.wake:
		case <-tick.C:
		}
		if m.c.killed.Load() {
			return
		}
		m.mu.Lock()
		out := m.buf
		m.buf = nil
		m.mu.Unlock()
		if len(out) == 0 {
			continue
		}
		if _, err := m.c.conn.Write(out); err != nil {
			m.c.kill()
			return
		}
		m.c.srv.stats.netOutputBytes.Add(int64(len(out)))
	}
}

func (h *monitorHub) remove(m *monitor) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, x := range h.list {
		if x == m {
			h.list = append(h.list[:i], h.list[i+1:]...)
			break
		}
	}
	h.n.Store(int32(len(h.list)))
}

// feed formats one call and queues it for every monitor.
func (h *monitorHub) feed(c *client, argv [][]byte) {
	line := monitorLine(nil, time.Now(), c.dbIndex, c.monitorAddr(), redactArgs(argv))
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range h.list {
		m.mu.Lock()
		over := len(m.buf)+len(line) > monitorMaxPending
		if !over {
			m.buf = append(m.buf, line...)
		}
		m.mu.Unlock()
		if over {
			m.c.kill()
			continue
		}
		select {
		case m.wake <- struct{}{}:
		default:
		}
	}
}

// monitorAddr is the client's address as MONITOR prints it.
func (c *client) monitorAddr() string {
	if _, ok := c.conn.(*net.UnixConn); ok {
		return "unix:" + c.laddr
	}
	return c.addr
}

// monitorLine appends "+<sec>.<usec> [<db> <addr>] <args>\r\n".
func monitorLine(dst []byte, now time.Time, db int, addr string, argv [][]byte) []byte {
	dst = append(dst, '+')
	dst = strconv.AppendInt(dst, now.Unix(), 10)
	dst = append(dst, '.')
	us := now.Nanosecond() / 1000
	for d := 100000; d > 1 && us < d; d /= 10 {
		dst = append(dst, '0')
	}
	dst = strconv.AppendInt(dst, int64(us), 10)
	dst = append(dst, " ["...)
	dst = strconv.AppendInt(dst, int64(db), 10)
	dst = append(dst, ' ')
	dst = append(dst, addr...)
	dst = append(dst, ']')
	for _, a := range argv {
		dst = append(dst, ' ')
		dst = appendRepr(dst, a)
	}
	return append(dst, '\r', '\n')
}

// appendRepr quotes s as Redis's sdscatrepr does.
func appendRepr(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for _, ch := range s {
		switch ch {
		case '\\', '"':
			dst = append(dst, '\\', ch)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\a':
			dst = append(dst, '\\', 'a')
		case '\b':
			dst = append(dst, '\\', 'b')
		default:
			if ch >= 0x20 && ch < 0x7f {
				dst = append(dst, ch)
			} else {
				dst = append(dst, '\\', 'x', hex[ch>>4], hex[ch&15])
			}
		}
	}
	return append(dst, '"')
}

// observabilityCommands are SLOWLOG, LATENCY and MONITOR.
func observabilityCommands() []*command {
	return []*command{slowlogCommand(), latencyCommand(), monitorCommand()}
}
