//go:build linux

package server

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cachalotdb/cachalot/persistence"
)

// Event loops: plain TCP clients without a goroutine each.
//
// A goroutine per connection costs a scheduler hand-off per request (the
// reader parks in Go's poller, is woken, runs, parks again) and leaves the
// runtime holding a goroutine descriptor and a poller record for every
// connection it ever had at once. Redis instead waits on epoll and, for
// each ready socket, reads once, runs every complete request and writes the
// replies after the batch. The loops here do the same, over raw
// non-blocking descriptors that Go's poller never sees:
//
//   - one loop per CPU (event-loops), each with its own epoll set; the
//     accept goroutine hands each new client to the next loop;
//   - a loop that finds nothing ready parks in Go's poller on its epoll
//     descriptor (itself pollable), so an idle loop is an idle goroutine
//     and a busy one never sleeps between batches;
//   - replies are written once per batch, after the batch's writes are
//     durable; under appendfsync always a batch's replies are parked until
//     its fsync is done (holdForFsync) while the loop serves others.
//
// A client whose next command may wait or receive pushes — blocking
// commands, SUBSCRIBE and friends, MONITOR, CLIENT TRACKING, scripts —, or
// whose replies do not fit the socket buffer, is handed over for good to a
// goroutine of its own (serveConnFrom) through a duplicated descriptor that
// Go's poller watches: everything that may block keeps the ordinary path.
// Descriptors are only closed by their loop, so none is reused while the
// loop may still see an event for it.

// loopConn is the net.Conn of a loop-served client, for the code that
// treats every client alike (addresses, CLIENT KILL, shutdown).
type loopConn struct {
	fd    int
	loop  *eventLoop
	c     *client
	raddr net.Addr
	laddr net.Addr
	input *atomic.Int64 // INFO total_net_input_bytes

	// gone is set once the loop has closed the descriptor or handed the
	// client to a goroutine; after that, Close and deadlines go to c.conn.
	gone atomic.Bool
	// awaiting: the client's replies wait for an fsync (appendfsync
	// always) and the loop does not read from it meanwhile. Loop only.
	awaiting bool
}

// errWouldBlock is a loop read that found nothing to read.
var errWouldBlock = errors.New("read would block")

// Read is one non-blocking read, for the client's reader (loop goroutine
// only).
func (lc *loopConn) Read(p []byte) (int, error) {
	for {
		n, err := unix.Read(lc.fd, p)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return 0, errWouldBlock
		case err != nil:
			return 0, os.NewSyscallError("read", err)
		case n == 0:
			return 0, io.EOF
		}
		lc.input.Add(int64(n))
		return n, nil
	}
}

// Write is not used on the loop's path, which writes replies itself; it
// exists for net.Conn and waits for the socket with poll(2) if it must.
func (lc *loopConn) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		n, err := unix.Write(lc.fd, p[done:])
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			fds := []unix.PollFd{{Fd: int32(lc.fd), Events: unix.POLLOUT}}
			if _, err := unix.Poll(fds, 1000); err != nil && err != unix.EINTR {
				return done, os.NewSyscallError("poll", err)
			}
			continue
		case err != nil:
			return done, os.NewSyscallError("write", err)
		}
		done += n
	}
	return done, nil
}

// Close asks the loop to close the connection; it does so between batches.
func (lc *loopConn) Close() error {
	if lc.gone.Load() {
		if conn := lc.c.netConn(); conn != lc {
			return conn.Close() // handed to a goroutine
		}
		return nil // closed already
	}
	lc.loop.request(loopOp{c: lc.c, kind: opKill})
	return nil
}

func (lc *loopConn) LocalAddr() net.Addr  { return lc.laddr }
func (lc *loopConn) RemoteAddr() net.Addr { return lc.raddr }

// SetReadDeadline with a time already past (shutdown) closes the client
// once its batch is answered, as an expired read would; later deadlines
// are the timeout, which RunBackground applies to loop clients itself.
func (lc *loopConn) SetReadDeadline(t time.Time) error {
	if lc.gone.Load() {
		if conn := lc.c.netConn(); conn != lc {
			return conn.SetReadDeadline(t)
		}
		return nil
	}
	if !t.IsZero() && !t.After(time.Now()) {
		lc.loop.request(loopOp{c: lc.c, kind: opDeadline})
	}
	return nil
}

func (lc *loopConn) SetDeadline(t time.Time) error    { return lc.SetReadDeadline(t) }
func (lc *loopConn) SetWriteDeadline(time.Time) error { return nil }

type loopOpKind uint8

const (
	opAdd      loopOpKind = iota // start serving a new client
	opKill                       // close it (CLIENT KILL, server close)
	opDeadline                   // a read deadline passed (shutdown): close it once answered
	opIdle                       // timeout: close it unless a goroutine serves it now
	opHandOver                   // it may be sent pushes: give it a goroutine
)

type loopOp struct {
	c    *client
	kind loopOpKind
}

// eventLoop is one epoll set and the goroutine serving it.
type eventLoop struct {
	srv    *Server
	epfd   int
	file   *os.File        // epfd, so the loop can park in Go's poller
	rc     syscall.RawConn // file's
	efd    int             // eventfd that wakes the loop for queued ops
	conns  map[int32]*client
	events []unix.EpollEvent
	// pending are the clients with replies to write after the batch;
	// awaiting, those whose replies wait for an fsync (holdForFsync).
	pending  []*client
	awaiting []*client
	hooked   *persistence.AOF // the AOF whose OnDurable nudges this loop
	// poll is the non-blocking epoll_wait the loop retries from Go's
	// poller, built once so waiting allocates nothing; it leaves its
	// result in nready and pollErr.
	poll    func(uintptr) bool
	nready  int
	pollErr error

	opMu    sync.Mutex
	ops     []loopOp
	opsSpin []loopOp // the drained slice, reused
	woken   atomic.Bool
	done    chan struct{}
}

// loopSet is the server's event loops, started with the first TCP
// listener.
type loopSet struct {
	once      sync.Once
	err       error
	loops     []*eventLoop
	next      atomic.Uint32
	stopOnce  sync.Once
	stopSweep chan struct{} // closed to end sweepIdleLoopClients
	swept     chan struct{} // closed when it has ended
}

// eventLoopCount is event-loops resolved: 0 means one per CPU.
func eventLoopCount(n int) int {
	if n == 0 {
		return runtime.GOMAXPROCS(0)
	}
	return n
}

// loopsEnabled reports whether plain TCP clients are served by loops.
func (s *Server) loopsEnabled() bool { return s.Config().EventLoops >= 0 }

// startLoops creates the loops once.
func (s *Server) startLoops() error {
	ls := &s.loops
	ls.once.Do(func() {
		n := eventLoopCount(s.Config().EventLoops)
		for i := 0; i < n; i++ {
			l, err := newEventLoop(s)
			if err != nil {
				ls.err = err
				for _, l := range ls.loops {
					l.stop()
				}
				ls.loops = nil
				return
			}
			ls.loops = append(ls.loops, l)
			go l.run()
		}
		ls.stopSweep = make(chan struct{})
		ls.swept = make(chan struct{})
		go s.sweepIdleLoopClients(ls.stopSweep, ls.swept)
	})
	return ls.err
}

// stopLoops ends the loops' goroutines once their clients are gone.
func (s *Server) stopLoops() {
	ls := &s.loops
	ls.stopOnce.Do(func() {
		if ls.stopSweep != nil {
			close(ls.stopSweep)
			<-ls.swept
		}
		for _, l := range ls.loops {
			l.stop()
		}
	})
}

func newEventLoop(s *Server) (*eventLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("event loop: epoll_create1: %w", err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("event loop: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(efd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, efd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(efd)
		return nil, fmt.Errorf("event loop: epoll_ctl eventfd: %w", err)
	}
	// A non-blocking descriptor makes os.NewFile register it with Go's
	// poller, which is what parking on it needs.
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		unix.Close(efd)
		return nil, fmt.Errorf("event loop: %w", err)
	}
	f := os.NewFile(uintptr(epfd), "epoll")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		unix.Close(efd)
		return nil, fmt.Errorf("event loop: %w", err)
	}
	l := &eventLoop{
		srv:    s,
		epfd:   epfd,
		file:   f,
		rc:     rc,
		efd:    efd,
		conns:  make(map[int32]*client),
		events: make([]unix.EpollEvent, 256),
		done:   make(chan struct{}),
	}
	l.poll = func(uintptr) bool {
		l.nready, l.pollErr = unix.EpollWait(l.epfd, l.events, 0)
		if l.pollErr == unix.EINTR {
			l.nready, l.pollErr = 0, nil
		}
		return l.nready > 0 || l.pollErr != nil
	}
	return l, nil
}

// stop closes the epoll descriptor, which ends run.
func (l *eventLoop) stop() {
	l.file.Close()
	<-l.done
}

// request queues op for the loop and wakes it.
func (l *eventLoop) request(op loopOp) {
	l.opMu.Lock()
	l.ops = append(l.ops, op)
	l.opMu.Unlock()
	l.nudge()
}

// run is the loop: wait for ready descriptors, serve each, write the
// batch's replies, apply queued operations.
func (l *eventLoop) run() {
	defer close(l.done)
	defer unix.Close(l.efd)
	for {
		err := l.rc.Read(l.poll)
		n, werr := l.nready, l.pollErr
		if err != nil {
			l.closeAll() // the server is closing
			return
		}
		if werr != nil {
			l.srv.log.Error("event loop: epoll_wait failed; its clients are closed", "err", werr)
			l.closeAll()
			return
		}
		opsDue := false
		for i := range l.events[:n] {
			fd := l.events[i].Fd
			if int(fd) == l.efd {
				// Drained before anything it announces is looked at, so a
				// nudge that comes later writes it again.
				var buf [8]byte
				unix.Read(l.efd, buf[:])
				l.woken.Store(false)
				opsDue = true
				continue
			}
			if c := l.conns[fd]; c != nil {
				if c.lc.awaiting {
					// Not read until its replies are out; a hang-up is
					// all epoll reports for it, and ends it.
					if l.events[i].Events&(unix.EPOLLHUP|unix.EPOLLERR) != 0 {
						l.close(c)
					}
					continue
				}
				l.serve(c)
			}
		}
		l.flushPending()
		l.deliverDurable()
		if opsDue {
			l.runOps()
		}
	}
}

// runOps applies the queued operations.
func (l *eventLoop) runOps() {
	l.opMu.Lock()
	ops := l.ops
	l.ops = l.opsSpin[:0]
	l.opMu.Unlock()
	for i, op := range ops {
		switch op.kind {
		case opAdd:
			l.add(op.c)
		case opHandOver:
			if !op.c.lc.gone.Load() {
				l.handOver(op.c, nil)
			}
		default:
			c := op.c
			conn := c.netConn()
			switch {
			case !c.lc.gone.Load() && c.lc.awaiting && op.kind != opKill:
				// Its replies go out once durable; a deadline then closes it.
				if op.kind == opDeadline {
					c.closeAfter = true
				}
			case !c.lc.gone.Load():
				l.close(c)
			case conn == c.lc: // closed already
			case op.kind == opKill: // handed to a goroutine meanwhile
				conn.Close()
			case op.kind == opDeadline:
				conn.SetReadDeadline(time.Now())
			}
		}
		ops[i] = loopOp{}
	}
	l.opsSpin = ops[:0]
}

// add starts watching a new client.
func (l *eventLoop) add(c *client) {
	lc := c.lc
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(lc.fd)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, lc.fd, &ev); err != nil {
		l.srv.log.Warn("event loop: cannot watch client; closed", "client_id", c.id, "err", err)
		lc.gone.Store(true)
		unix.Close(lc.fd)
		l.srv.finishClient(c)
		return
	}
	l.conns[int32(lc.fd)] = c
	if c.killed.Load() {
		l.close(c)
	}
}

// closeAll closes every client of the loop (server shutdown).
func (l *eventLoop) closeAll() {
	l.runOps() // clients still being added
	for _, c := range l.conns {
		l.close(c)
	}
}

// close closes a loop client's descriptor and releases its state.
func (l *eventLoop) close(c *client) {
	lc := c.lc
	delete(l.conns, int32(lc.fd))
	lc.gone.Store(true)
	unix.Close(lc.fd) // also leaves the epoll set
	c.rd.r, c.rd.w = 0, 0
	c.rd.releaseBuf()
	l.srv.finishClient(c)
}

// serve reads once from a ready client and runs every complete request
// it holds. Replies are written after the batch (flushPending).
func (l *eventLoop) serve(c *client) {
	s := l.srv
	defer func() {
		if r := recover(); r != nil {
			s.stats.unexpectedErrors.Add(1)
			s.log.Error("panic serving client; connection closed",
				"client_id", c.id, "addr", c.addr, "panic", r, "stack", string(debug.Stack()))
			if !c.lc.gone.Load() {
				l.close(c)
			}
		}
	}()
	cfg := s.Config()
	c.rd.lim.maxBulk = cfg.ProtoMaxBulkLen
	c.rd.lim.maxQuery = cfg.ClientQueryBufferLimit
	if err := c.rd.fill(); err != nil {
		switch {
		case errors.Is(err, errWouldBlock):
			if c.rd.r == c.rd.w {
				c.rd.releaseBuf()
			}
			return
		case errors.Is(err, errQueryBufferLimit):
			s.log.Warn("closing client that reached max query buffer length", "client_id", c.id, "addr", c.addr)
		}
		l.close(c)
		return
	}
	c.clk = time.Now()
	c.lastActive.Store(c.clk.UnixMilli()) // Redis's lastinteraction: any input counts
	for {
		argv, err := c.rd.nextBuffered()
		if err != nil {
			var pe protocolError
			if errors.As(err, &pe) {
				c.w.Error(respError("ERR " + pe.Error()))
				s.log.Debug("protocol error; closing client", "client_id", c.id, "addr", c.addr, "err", err)
			}
			c.closeAfter = true
			break
		}
		if argv == nil {
			break
		}
		row := s.table.lookup(argv[0])
		if s.needsOwnGoroutine(c, row, argv) {
			l.handOver(c, argv)
			return
		}
		s.dispatchRow(c, row, argv)
		if c.checkOutputLimit() {
			l.close(c)
			return
		}
		if c.closeAfter || c.killed.Load() || c.push.Load() != nil {
			break
		}
	}
	if c.push.Load() != nil && !c.closeAfter && !c.killed.Load() {
		// Pushes may come from now on: they need the pusher's path.
		l.handOver(c, nil)
		return
	}
	if c.rd.r == c.rd.w {
		c.rd.r, c.rd.w = 0, 0
		c.rd.releaseBuf()
	}
	if c.w.Len() > 0 || c.closeAfter || c.killed.Load() {
		l.pending = append(l.pending, c)
	}
}

// flushPending writes the batch's replies, once the writes they answer
// are durable.
func (l *eventLoop) flushPending() {
	if len(l.pending) == 0 {
		return
	}
	s := l.srv
	s.flushBroadcasts() // BCAST invalidations of the batch (tracking.go)
	for i, c := range l.pending {
		l.pending[i] = nil
		if c.lc.gone.Load() {
			continue
		}
		if l.holdForFsync(c) {
			continue
		}
		s.awaitDurable(c) // no reply before its write is durable (aof.go)
		l.deliver(c)
	}
	l.pending = l.pending[:0]
}

// deliver writes c's replies and closes it if it asked to be closed.
func (l *eventLoop) deliver(c *client) {
	if l.write(c) && (c.closeAfter || c.killed.Load()) {
		l.close(c)
	}
}

// holdForFsync parks c's replies until its writes are fsynced, under
// appendfsync always, instead of blocking the loop in the fsync as Redis
// does: the loop serves the clients that become ready meanwhile, and their
// writes go into the next fsync, so fsyncs and request handling overlap.
// c is not read meanwhile (its replies must not pile up). It reports
// whether c was parked.
func (l *eventLoop) holdForFsync(c *client) bool {
	seq := c.aofSeq
	if seq == 0 || seq <= c.aofDurable {
		return false
	}
	files := l.srv.aof.files.Load()
	if files == nil || files.Fsync() != persistence.FsyncAlways || files.Durable(seq) {
		return false // awaitDurable decides, at once or leading the write
	}
	if l.hooked != files {
		files.OnDurable(l.nudge)
		l.hooked = files
	}
	ev := unix.EpollEvent{Events: 0, Fd: int32(c.lc.fd)} // hang-ups only
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_MOD, c.lc.fd, &ev); err != nil {
		return false
	}
	c.lc.awaiting = true
	l.awaiting = append(l.awaiting, c)
	return true
}

// deliverDurable sends the parked replies whose writes are now durable.
func (l *eventLoop) deliverDurable() {
	if len(l.awaiting) == 0 {
		return
	}
	files := l.srv.aof.files.Load()
	keep := l.awaiting[:0]
	for _, c := range l.awaiting {
		switch {
		case c.lc.gone.Load(): // closed or handed over meanwhile
			c.lc.awaiting = false
			continue
		case files != nil && !files.Durable(c.aofSeq):
			keep = append(keep, c)
			continue
		}
		c.aofDurable = c.aofSeq
		c.lc.awaiting = false
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(c.lc.fd)}
		if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_MOD, c.lc.fd, &ev); err != nil {
			l.close(c)
			continue
		}
		l.deliver(c)
	}
	for i := len(keep); i < len(l.awaiting); i++ {
		l.awaiting[i] = nil
	}
	l.awaiting = keep
}

// nudge wakes the loop from another goroutine (the AOF writer, once more
// is durable).
func (l *eventLoop) nudge() {
	if l.woken.CompareAndSwap(false, true) {
		var one = [8]byte{1}
		unix.Write(l.efd, one[:])
	}
}

// write sends c's replies without blocking. It reports whether the client
// is still the loop's: on a full socket the rest goes out from a goroutine
// that can wait for it, and on an error the client is closed.
func (l *eventLoop) write(c *client) bool {
	buf := c.w.buf
	off := 0
	var err error
	for off < len(buf) {
		var n int
		n, err = unix.Write(c.lc.fd, buf[off:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			break
		}
		off += n
	}
	l.srv.stats.netOutputBytes.Add(int64(off))
	switch {
	case off == len(buf):
		c.w.Reset()
		if cap(c.w.buf) > 1<<20 {
			c.w.buf = nil // don't keep a huge reply buffer for an idle client
		}
		return true
	case err == unix.EAGAIN:
		c.w.buf = c.w.buf[:copy(c.w.buf, buf[off:])]
		l.handOver(c, nil)
	default:
		l.close(c)
	}
	return false
}

// needsOwnGoroutine reports whether argv may wait or make c receive
// pushes, which the loop cannot serve without stalling its other clients.
func (s *Server) needsOwnGoroutine(c *client, cmd *command, argv [][]byte) bool {
	if c.push.Load() != nil {
		return true
	}
	if cmd == nil {
		return false
	}
	if cmd.has(flagBlocking) || (exclusiveCommand(cmd) && cmd.name != "exec") {
		return true
	}
	switch cmd.name {
	case "subscribe", "psubscribe", "ssubscribe", "monitor", "shutdown", "debug":
		return true
	case "client":
		return len(argv) > 1 && equalFold(argv[1], "tracking") // args.go
	}
	return false
}

// handOver moves c to a goroutine of its own: the descriptor leaves the
// loop, a duplicate of it joins Go's poller, and serveConnFrom goes on
// from first (a request already read) with the reader's buffered bytes
// and any unsent replies intact.
func (l *eventLoop) handOver(c *client, first [][]byte) {
	lc := c.lc
	s := l.srv
	c.clk = time.Time{} // a goroutine reads the clock per command
	delete(l.conns, int32(lc.fd))
	unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, lc.fd, nil)
	f := os.NewFile(uintptr(lc.fd), "client")
	conn, err := net.FileConn(f)
	f.Close() // the duplicate lives on in conn
	if err != nil {
		lc.gone.Store(true)
		s.log.Warn("event loop: cannot hand client to a goroutine; closed", "client_id", c.id, "err", err)
		s.finishClient(c)
		return
	}
	c.mu.Lock()
	c.conn = conn
	c.mu.Unlock()
	lc.gone.Store(true)
	c.rd.src = countingReader{conn, &s.stats.netInputBytes}
	c.rd.raw = rawSourceOf(c.rd.src)
	if c.killed.Load() {
		conn.Close() // killed while loop-served: the kill went to lc
	}
	if c.w.proto == 3 {
		c.enablePush() // as HELLO 3 does for a goroutine-served client
	}
	go s.serveConnFrom(c, first)
}

// loopServed reports whether an event loop serves c now.
func (c *client) loopServed() bool { return c.lc != nil && !c.lc.gone.Load() }

// makePushTarget readies target, another client, for pushes it did not ask
// for (a RESP3 tracking redirect target): a loop-served one gets its push
// state now, so nothing sent meanwhile is lost, and a goroutine of its own
// as soon as its loop is between batches.
func (s *Server) makePushTarget(target *client) {
	if !target.loopServed() {
		return
	}
	target.mu.Lock()
	proto := target.proto
	target.mu.Unlock()
	if proto != 3 {
		return // a RESP2 target only hears through SUBSCRIBE, which hands it over
	}
	target.enablePush()
	target.lc.loop.request(loopOp{c: target, kind: opHandOver})
}

// serveLoops accepts on a TCP listener with accept4 and hands each client
// to an event loop.
func (s *Server) serveLoops(ln *net.TCPListener) error {
	if err := s.startLoops(); err != nil {
		return err
	}
	// A listener's RawConn cannot wait for readability, so accept on a
	// duplicate of its descriptor that Go's poller watches as a file.
	f, err := dupListener(ln)
	if err != nil {
		return fmt.Errorf("listener %s: %w", ln.Addr(), err)
	}
	defer f.Close()
	s.lnMu.Lock()
	s.lnFiles = append(s.lnFiles, f)
	s.lnMu.Unlock()
	if s.closing.Load() {
		return nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("listener %s: %w", ln.Addr(), err)
	}
	var lastAcceptWarn time.Time
	for {
		var nfd int
		var sa unix.Sockaddr
		var aerr error
		err := rc.Read(func(fd uintptr) bool {
			for {
				nfd, sa, aerr = unix.Accept4(int(fd), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
				if aerr != unix.EINTR {
					return aerr != unix.EAGAIN
				}
			}
		})
		if err != nil {
			if s.closing.Load() || errors.Is(err, os.ErrClosed) {
				return nil
			}
			return fmt.Errorf("accept on %s: %w", ln.Addr(), err)
		}
		if aerr != nil {
			if aerr == unix.ECONNABORTED {
				continue
			}
			if temporaryAcceptError(aerr) {
				s.acceptBackOff(ln.Addr(), aerr, &lastAcceptWarn)
				continue
			}
			return fmt.Errorf("accept on %s: %w", ln.Addr(), os.NewSyscallError("accept4", aerr))
		}
		s.acceptFD(nfd, sa)
	}
}

// dupListener returns a non-blocking duplicate of ln's descriptor as a
// pollable file.
func dupListener(ln *net.TCPListener) (*os.File, error) {
	rc, err := ln.SyscallConn()
	if err != nil {
		return nil, err
	}
	nfd := -1
	var derr error
	if err := rc.Control(func(fd uintptr) {
		nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, os.NewSyscallError("dup", derr)
	}
	if err := unix.SetNonblock(nfd, true); err != nil {
		unix.Close(nfd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	return os.NewFile(uintptr(nfd), "listener"), nil
}

// acceptFD admits a client accepted by serveLoops.
func (s *Server) acceptFD(fd int, sa unix.Sockaddr) {
	raddr := tcpAddrOf(sa)
	if msg := s.admit(raddr); msg != "" {
		// Best effort, as Redis: one write, then close.
		unix.Write(fd, []byte(msg))
		unix.Close(fd)
		return
	}
	laddr := &net.TCPAddr{}
	if lsa, err := unix.Getsockname(fd); err == nil {
		laddr = tcpAddrOf(lsa)
	}
	// Go sets TCP_NODELAY on its own connections; replies must not wait
	// for Nagle here either.
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if ka := s.Config().TCPKeepalive; ka > 0 {
		secs := int(ka / time.Second)
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1)
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, secs)
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, secs)
	}
	ls := &s.loops
	l := ls.loops[int(ls.next.Add(1))%len(ls.loops)]
	lc := &loopConn{fd: fd, loop: l, raddr: raddr, laddr: laddr, input: &s.stats.netInputBytes}
	c := s.newClient(lc, lc)
	lc.c = c
	c.lc = lc
	c.rd.buf = nil // taken from the pool when bytes arrive (idleread.go)
	c.fdOnce.Do(func() { c.fd = fd })
	s.register(c)
	l.request(loopOp{c: c, kind: opAdd})
}

// tcpAddrOf converts an accepted socket address.
func tcpAddrOf(sa unix.Sockaddr) *net.TCPAddr {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(append([]byte(nil), a.Addr[:]...)), Port: a.Port}
	case *unix.SockaddrInet6:
		zone := ""
		if a.ZoneId != 0 {
			if ifi, err := net.InterfaceByIndex(int(a.ZoneId)); err == nil {
				zone = ifi.Name
			} else {
				zone = strconv.Itoa(int(a.ZoneId))
			}
		}
		return &net.TCPAddr{IP: net.IP(append([]byte(nil), a.Addr[:]...)), Port: a.Port, Zone: zone}
	}
	return &net.TCPAddr{}
}

// sweepIdleLoopClients applies timeout to loop clients once a second, as
// Redis's clientsCron (goroutine-served clients use read deadlines).
func (s *Server) sweepIdleLoopClients(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(time.Second / 4)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-tick.C:
			if timeout := s.Config().Timeout; timeout > 0 {
				s.closeIdleLoopClients(timeout, now)
			}
		}
	}
}

// closeIdleLoopClients asks the loops to close the clients idle for longer
// than timeout.
func (s *Server) closeIdleLoopClients(timeout time.Duration, now time.Time) {
	limit := now.Add(-timeout).UnixMilli()
	s.clientsMu.Lock()
	var idle []*client
	for _, c := range s.clients {
		if c.lc != nil && !c.lc.gone.Load() && c.lastActive.Load() < limit {
			idle = append(idle, c)
		}
	}
	s.clientsMu.Unlock()
	for _, c := range idle {
		c.lc.loop.request(loopOp{c: c, kind: opIdle})
	}
}
