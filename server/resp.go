package server

import (
	"bytes"
	"errors"
	"io"
	"strconv"
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
	argv = args[:0]
	if len(buf) == 0 {
		return 0, argv, nil
	}
	if buf[0] != '*' {
		return parseInline(buf, argv)
	}
	line, next, ok := headerLine(buf, 1)
	if !ok {
		if len(buf) > inlineMaxSize {
			return 0, argv, protocolError("too big mbulk count string")
		}
		return 0, argv, nil
	}
	count, perr := strconv.ParseInt(string(line), 10, 64)
	if perr != nil || count > maxMultibulkLen {
		return 0, argv, protocolError("invalid multibulk length")
	}
	if count <= 0 {
		return next, argv, nil
	}
	if !lim.authenticated && count > unauthMultibulkMax {
		return 0, argv, protocolError("unauthenticated multibulk length")
	}
	pos := next
	for i := int64(0); i < count; i++ {
		if pos >= len(buf) {
			return 0, argv, nil
		}
		if buf[pos] != '$' {
			return 0, argv, protocolError("expected '$', got '" + string(buf[pos]) + "'")
		}
		line, next, ok := headerLine(buf, pos+1)
		if !ok {
			if len(buf)-pos > inlineMaxSize {
				return 0, argv, protocolError("too big bulk count string")
			}
			return 0, argv, nil
		}
		size, perr := strconv.ParseInt(string(line), 10, 64)
		if perr != nil || size < 0 || size > lim.maxBulk {
			return 0, argv, protocolError("invalid bulk length")
		}
		if !lim.authenticated && size > unauthBulkMax {
			return 0, argv, protocolError("unauthenticated bulk length")
		}
		end := int64(next) + size
		if end+2 > int64(len(buf)) {
			return 0, argv, nil
		}
		argv = append(argv, buf[next:end:end])
		pos = int(end) + 2
	}
	return pos, argv, nil
}

// headerLine returns the text between from and the next "\r\n" (Redis looks
// for the '\r' and skips the byte after it), and the offset after it.
func headerLine(buf []byte, from int) (line []byte, next int, ok bool) {
	i := bytes.IndexByte(buf[from:], '\r')
	if i < 0 || from+i+1 >= len(buf) {
		return nil, 0, false
	}
	return buf[from : from+i], from + i + 2, true
}

// parseInline handles the telnet form: one line of space-separated words,
// with quoting as in redis-cli.
func parseInline(buf []byte, argv [][]byte) (int, [][]byte, error) {
	nl := bytes.IndexByte(buf, '\n')
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
func splitArgs(line []byte) ([][]byte, bool) {
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
}

func newReader(src io.Reader, lim readLimits) *reader {
	return &reader{src: src, buf: make([]byte, readChunk), lim: lim}
}

// buffered reports whether unread bytes are waiting, i.e. the client has
// pipelined more and the reply flush can wait.
func (rd *reader) buffered() bool { return rd.r < rd.w }

// next returns the next non-empty request, reading from the connection as
// needed. beforeRead runs before any blocking read, so replies are flushed
// once per pipeline batch, not once per command.
func (rd *reader) next(beforeRead func() error) ([][]byte, error) {
	for {
		n, argv, err := parseRequest(rd.buf[rd.r:rd.w], rd.lim, rd.args)
		rd.args = argv[:0]
		if err != nil {
			return nil, err
		}
		if n > 0 {
			rd.r += n
			if len(argv) == 0 {
				continue
			}
			return argv, nil
		}
		if err := beforeRead(); err != nil {
			return nil, err
		}
		if err := rd.fill(); err != nil {
			return nil, err
		}
	}
}

// fill reads more bytes, compacting or growing the buffer first.
func (rd *reader) fill() error {
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
