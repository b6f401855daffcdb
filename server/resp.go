package server

import (
	"bytes"
	"errors"
	"io"
)

// Protocol limits Redis applies while reading requests (networking.c).
const (
	inlineMaxSize          = 64 * 1024 // PROTO_INLINE_MAX_SIZE
	unauthMultibulkMax     = 10        // args an unauthenticated client may send
	unauthBulkMax          = 16384     // bytes per arg for an unauthenticated client
	maxMultibulkLen        = 1<<31 - 1 // INT_MAX
	readChunk              = 16 * 1024
	readBufferShrinkTarget = 64 * 1024
)

// protocolError is a malformed request. The connection gets the reply
// "-ERR Protocol error: <msg>" and is closed, as Redis does.
type protocolError string

func (e protocolError) Error() string { return "Protocol error: " + string(e) }

// errQueryBufferLimit closes a client whose pending request outgrew
// client-query-buffer-limit.
var errQueryBufferLimit = errors.New("client reached max query buffer length")

// readLimits bound what one request may make the server hold.
type readLimits struct {
	maxBulk       int64 // proto-max-bulk-len
	maxQuery      int64 // client-query-buffer-limit
	authenticated bool  // unauthenticated clients get Redis's tighter limits
}

// parseRequest parses one request from buf. It returns the bytes consumed
// and the arguments, which alias buf. consumed == 0 with a nil error means
// buf holds no complete request yet. An empty request (a blank inline line,
// "*0", "*-1") is consumed with no arguments, and the caller skips it.
func parseRequest(buf []byte, lim readLimits, args [][]byte) (consumed int, argv [][]byte, err error) {
	var st parseState
	return st.parse(buf, lim, args)
}

// argSpan is where one parsed argument sits, relative to the request start.
type argSpan struct{ start, end int }

// parseState lets a multibulk request that arrives in many reads resume
// where the previous attempt stopped, as Redis's processMultibulkBuffer
// does, instead of re-parsing every argument it already saw (quadratic for
// a request with many arguments). Offsets are relative to the request's
// first byte, so they survive the reader moving its buffer.
type parseState struct {
	count int64     // arguments announced by "*N"; 0 when no request is in progress
	pos   int       // offset of the next argument's '$'
	spans []argSpan // arguments complete so far
}

func (st *parseState) reset() {
	st.count, st.pos, st.spans = 0, 0, st.spans[:0]
}

// parse is parseRequest with resumption: buf must start at the same request
// as in the previous call that returned "need more".
func (st *parseState) parse(buf []byte, lim readLimits, args [][]byte) (consumed int, argv [][]byte, err error) {
	argv = args[:0]
	if len(buf) == 0 {
		return 0, argv, nil
	}
	if buf[0] != '*' {
		st.reset()
		return parseInline(buf, argv)
	}
	if st.count == 0 {
		line, next, ok := headerLine(buf, 0)
		if !ok {
			if len(buf) > inlineMaxSize {
				return 0, argv, protocolError("too big mbulk count string")
			}
			return 0, argv, nil
		}
		count, ok := string2ll(line[1:])
		if !ok || count > maxMultibulkLen {
			return 0, argv, protocolError("invalid multibulk length")
		}
		if count > unauthMultibulkMax && !lim.authenticated {
			return 0, argv, protocolError("unauthenticated multibulk length")
		}
		if count <= 0 {
			return next, argv, nil
		}
		st.count, st.pos, st.spans = count, next, st.spans[:0]
	}
	for int64(len(st.spans)) < st.count {
		pos := st.pos
		line, next, ok := headerLine(buf, pos)
		if !ok {
			if len(buf)-pos > inlineMaxSize {
				st.reset()
				return 0, argv, protocolError("too big bulk count string")
			}
			return 0, argv, nil
		}
		if buf[pos] != '$' {
			st.reset()
			return 0, argv, protocolError("expected '$', got '" + printableByte(buf[pos]) + "'")
		}
		size, ok := string2ll(line[min(1, len(line)):])
		if !ok || size < 0 || size > lim.maxBulk {
			st.reset()
			return 0, argv, protocolError("invalid bulk length")
		}
		if size > unauthBulkMax && !lim.authenticated {
			st.reset()
			return 0, argv, protocolError("unauthenticated bulk length")
		}
		end := int64(next) + size
		if end+2 > int64(len(buf)) {
			return 0, argv, nil
		}
		// Like Redis, the two bytes after the payload are skipped, not
		// checked for "\r\n".
		st.spans = append(st.spans, argSpan{next, int(end)})
		st.pos = int(end) + 2
	}
	for _, sp := range st.spans {
		argv = append(argv, buf[sp.start:sp.end:sp.end])
	}
	consumed = st.pos
	st.reset()
	return consumed, argv, nil
}

// printableByte renders the byte of "expected '$', got '%c'": Redis's error
// replies turn CR and LF into spaces.
func printableByte(c byte) string {
	if c == '\r' || c == '\n' {
		return " "
	}
	return string([]byte{c})
}

// headerLine returns the line that starts at from and ends at the next '\r'
// (Redis skips the byte after it without looking), and the offset after
// that byte. Redis finds the '\r' with strchr, which stops at a NUL byte, so
// a NUL before the '\r' leaves the line unterminated: Redis then waits for
// more input until the 64 KB limit, and so does this.
func headerLine(buf []byte, from int) (line []byte, next int, ok bool) {
	i := bytes.IndexByte(buf[from:], '\r')
	if i < 0 || from+i+1 >= len(buf) {
		return nil, 0, false
	}
	line = buf[from : from+i]
	if bytes.IndexByte(line, 0) >= 0 {
		return nil, 0, false
	}
	return line, from + i + 2, true
}

// parseInline handles the telnet form: one line of space-separated words,
// with quoting as in redis-cli.
func parseInline(buf []byte, argv [][]byte) (int, [][]byte, error) {
	// Redis finds the newline with strchr, which stops at a NUL byte: a
	// NUL before the newline leaves the request incomplete.
	nl := bytes.IndexByte(buf, '\n')
	if nl >= 0 && bytes.IndexByte(buf[:nl], 0) >= 0 {
		nl = -1
	}
	if nl < 0 {
		if len(buf) > inlineMaxSize {
			return 0, argv, protocolError("too big inline request")
		}
		return 0, argv, nil
	}
	line := buf[:nl]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	words, ok := splitArgs(line)
	if !ok {
		return 0, argv, protocolError("unbalanced quotes in request")
	}
	argv = append(argv, words...)
	return nl + 1, argv, nil
}

// splitArgs splits a line the way Redis's sdssplitargs does: spaces separate
// words; "double quotes" understand \n \r \t \b \a \\ \" and \xHH; 'single
// quotes' understand only \'; a closing quote must be followed by a space or
// the end of the line.
//
// sdssplitargs reads a C string, so a NUL byte ends the line.
func splitArgs(line []byte) ([][]byte, bool) {
	if i := bytes.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	var out [][]byte
	p := 0
	for {
		for p < len(line) && isSpace(line[p]) {
			p++
		}
		if p >= len(line) {
			return out, true
		}
		var cur []byte
		inDouble, inSingle, done := false, false, false
		for !done {
			if inDouble {
				if p >= len(line) {
					return nil, false
				}
				c := line[p]
				switch {
				case c == '\\' && p+3 < len(line) && line[p+1] == 'x' && isHex(line[p+2]) && isHex(line[p+3]):
					cur = append(cur, unhex(line[p+2])<<4|unhex(line[p+3]))
					p += 3
				case c == '\\' && p+1 < len(line):
					p++
					switch line[p] {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, line[p])
					}
				case c == '"':
					if p+1 < len(line) && !isSpace(line[p+1]) {
						return nil, false
					}
					done = true
				default:
					cur = append(cur, c)
				}
			} else if inSingle {
				if p >= len(line) {
					return nil, false
				}
				c := line[p]
				switch {
				case c == '\\' && p+1 < len(line) && line[p+1] == '\'':
					p++
					cur = append(cur, '\'')
				case c == '\'':
					if p+1 < len(line) && !isSpace(line[p+1]) {
						return nil, false
					}
					done = true
				default:
					cur = append(cur, c)
				}
			} else {
				if p >= len(line) {
					break
				}
				switch c := line[p]; c {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inDouble = true
				case '\'':
					inSingle = true
				default:
					cur = append(cur, c)
				}
			}
			if p < len(line) {
				p++
			}
		}
		if cur == nil {
			cur = []byte{}
		}
		out = append(out, cur)
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f' || c == 0
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// reader pulls requests off a connection. Arguments it returns alias its
// buffer and stay valid only until the next call to next.
type reader struct {
	src  io.Reader
	buf  []byte
	r, w int // unread data is buf[r:w]
	args [][]byte
	lim  readLimits
	st   parseState // progress through a request that is still arriving
	raw  *rawSource // set for sockets: idle waits hold no buffer (idleread.go)
}

func newReader(src io.Reader, lim readLimits) *reader {
	rd := &reader{src: src, lim: lim, raw: rawSourceOf(src)}
	if rd.raw == nil {
		rd.buf = make([]byte, readChunk)
	}
	return rd
}

// buffered reports whether unread bytes are waiting, i.e. the client has
// pipelined more and the reply flush can wait.
func (rd *reader) buffered() bool { return rd.r < rd.w }

// next returns the next non-empty request, reading from the connection as
// needed. beforeRead runs before any blocking read, so replies are flushed
// once per pipeline batch, not once per command.
func (rd *reader) next(beforeRead func() error) ([][]byte, error) {
	for {
		argv, err := rd.nextBuffered()
		if argv != nil || err != nil {
			return argv, err
		}
		if err := beforeRead(); err != nil {
			return nil, err
		}
		if rd.r == rd.w && rd.raw != nil {
			err = rd.readIdle() // idleread.go
		} else {
			err = rd.fill()
		}
		if err != nil {
			return nil, err
		}
	}
}

// nextBuffered returns the next non-empty request already in the buffer,
// or nil when the buffer holds no complete one. It never reads.
func (rd *reader) nextBuffered() ([][]byte, error) {
	for {
		n, argv, err := rd.st.parse(rd.buf[rd.r:rd.w], rd.lim, rd.args)
		rd.args = argv[:0]
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, nil
		}
		rd.r += n
		if len(argv) > 0 {
			return argv, nil
		}
	}
}

// fill reads more bytes, compacting or growing the buffer first.
func (rd *reader) fill() error {
	if rd.buf == nil { // given back while idle (idleread.go)
		rd.buf = readBufPool.Get().(*[readChunk]byte)[:]
	}
	if rd.r == rd.w {
		rd.r, rd.w = 0, 0
		if len(rd.buf) > readBufferShrinkTarget {
			rd.buf = make([]byte, readChunk)
		}
	}
	if rd.w == len(rd.buf) {
		pending := rd.w - rd.r
		if int64(pending) >= rd.lim.maxQuery {
			return errQueryBufferLimit
		}
		if rd.r > 0 && (pending < len(rd.buf)/2 || int64(len(rd.buf)) >= rd.lim.maxQuery) {
			copy(rd.buf, rd.buf[rd.r:rd.w])
		} else {
			size := len(rd.buf) * 2
			if int64(size) > rd.lim.maxQuery {
				size = int(rd.lim.maxQuery)
			}
			grown := make([]byte, size)
			copy(grown, rd.buf[rd.r:rd.w])
			rd.buf = grown
		}
		rd.r, rd.w = 0, pending
	}
	n, err := rd.src.Read(rd.buf[rd.w:])
	rd.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}
