package server

import (
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
)

// Idle connections hold no read buffer.
//
// A goroutine blocked in conn.Read keeps the slice it reads into, so with a
// 16 KB buffer per connection 10,000 idle clients pin 160 MB of heap (Redis
// frees the query buffer of idle clients in clientsCron for the same
// reason). On a socket, the reader therefore waits for readability through
// syscall.RawConn, holding no buffer, and takes one from a pool only when
// there are bytes to read; when a request has been fully consumed, the
// buffer goes back to the pool before the next wait. Only buffers of the
// standard size are pooled: one grown for a big request is left to the
// garbage collector, so the pool never holds more than a few 16 KB slices
// per busy connection (and sync.Pool empties itself over two GC cycles).
//
// Sources that are not sockets (TLS connections, which buffer internally,
// and the in-memory readers of tests) keep the plain path: one buffer
// allocated up front and read into with Read.

// readBufPool holds standard-size read buffers as array pointers, so
// putting one back allocates nothing.
var readBufPool = sync.Pool{New: func() any { return new([readChunk]byte) }}

// rawSource is what the idle path needs from a connection: a way to wait
// for readability without a buffer, and the input byte counter.
type rawSource struct {
	rc    syscall.RawConn
	count *atomic.Int64 // INFO total_net_input_bytes; nil when not counted

	// attempt is the function rc.Read calls until it reports done, built
	// once so a read allocates nothing; it leaves its result here.
	attempt func(fd uintptr) bool
	got     *[readChunk]byte
	n       int
	err     error
}

// rawSourceOf returns the raw socket behind src, or nil when src is not a
// plain socket. Callers fall back to src.Read.
func rawSourceOf(src io.Reader) *rawSource {
	var count *atomic.Int64
	if cr, ok := src.(countingReader); ok {
		src, count = cr.r, cr.n
	}
	sc, ok := src.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	rs := &rawSource{rc: rc, count: count}
	rs.attempt = func(fd uintptr) bool {
		buf := readBufPool.Get().(*[readChunk]byte)
		for {
			rs.n, rs.err = syscall.Read(int(fd), buf[:])
			if rs.err != syscall.EINTR {
				break
			}
		}
		switch {
		case rs.err == syscall.EAGAIN:
			readBufPool.Put(buf) // nothing yet: wait holding no buffer
			return false
		case rs.err != nil || rs.n <= 0:
			readBufPool.Put(buf) // closed or failed: the connection ends
		default:
			rs.got = buf
		}
		return true
	}
	return rs
}

// releaseBuf hands an empty standard-size buffer back to the pool; any
// other buffer is dropped. Arguments returned by the previous next alias
// the buffer, so this may only run when they are dead: at the start of the
// following next, as its contract says.
func (rd *reader) releaseBuf() {
	if len(rd.buf) == readChunk && cap(rd.buf) == readChunk {
		readBufPool.Put((*[readChunk]byte)(rd.buf))
	}
	rd.buf = nil
}

// readIdle is fill for a reader whose buffer holds nothing unread and whose
// source is a socket: it gives the buffer back, waits for the socket to be
// readable (honouring read deadlines, as Read does) and reads into a
// buffer from the pool.
func (rd *reader) readIdle() error {
	rd.r, rd.w = 0, 0
	rd.releaseBuf()
	rs := rd.raw
	rs.got, rs.n, rs.err = nil, 0, nil
	err := rs.rc.Read(rs.attempt)
	if rs.got != nil {
		rd.buf = rs.got[:]
		rs.got = nil
	}
	switch {
	case err != nil:
		return err
	case rs.err != nil:
		return os.NewSyscallError("read", rs.err)
	case rs.n <= 0:
		return io.EOF
	}
	rd.w = rs.n
	if rs.count != nil {
		rs.count.Add(int64(rs.n))
	}
	return nil
}
