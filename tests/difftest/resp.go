package difftest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"testing"
	"time"
)

// ReplyTimeout is the read/write deadline applied to every command sent
// through a Conn.
const ReplyTimeout = 5 * time.Second

// maxDepth bounds the nesting of aggregate replies accepted by ReadReply.
const maxDepth = 512

// Conn is a raw RESP connection. It sends commands as RESP arrays of bulk
// strings and returns the exact bytes of the replies, so that two servers can
// be compared byte for byte.
type Conn struct {
	t    testing.TB
	addr string
	nc   net.Conn
	br   *bufio.Reader
}

// Dial opens a raw RESP connection to addr. The connection is closed when the
// test finishes. Connection failures are fatal.
func Dial(t testing.TB, addr string) *Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, ReplyTimeout)
	if err != nil {
		t.Fatalf("difftest: dial %s: %v", addr, err)
	}
	c := &Conn{t: t, addr: addr, nc: nc, br: bufio.NewReaderSize(nc, 64*1024)}
	t.Cleanup(func() { _ = nc.Close() })
	return c
}

// Addr returns the address the connection was dialled to.
func (c *Conn) Addr() string { return c.addr }

// Close closes the underlying network connection.
func (c *Conn) Close() error { return c.nc.Close() }

// WithT returns a view of the same connection that reports failures to t.
// Use it when a connection created in a parent test is used from a subtest.
func (c *Conn) WithT(t testing.TB) *Conn {
	cc := *c
	cc.t = t
	return &cc
}

// Do sends one command and returns the raw bytes of exactly one complete
// reply. Network and protocol errors are fatal for the test.
func (c *Conn) Do(args ...string) []byte {
	c.t.Helper()
	reply, err := c.DoErr(args...)
	if err != nil {
		c.t.Fatalf("difftest: %s: %s: %v", c.addr, quoteArgs(args), err)
	}
	return reply
}

// DoErr is like Do but returns network and protocol errors instead of
// failing the test.
func (c *Conn) DoErr(args ...string) ([]byte, error) {
	if err := c.SendErr(args...); err != nil {
		return nil, err
	}
	return c.ReadErr()
}

// Send writes one command without reading its reply (for pipelining and
// pub/sub tests). Errors are fatal.
func (c *Conn) Send(args ...string) {
	c.t.Helper()
	if err := c.SendErr(args...); err != nil {
		c.t.Fatalf("difftest: %s: send %s: %v", c.addr, quoteArgs(args), err)
	}
}

// SendErr writes one command without reading its reply.
func (c *Conn) SendErr(args ...string) error {
	if err := c.nc.SetWriteDeadline(time.Now().Add(ReplyTimeout)); err != nil {
		return err
	}
	_, err := c.nc.Write(EncodeCommand(args...))
	return err
}

// WriteRaw writes bytes to the connection as they are (for inline commands
// and malformed-protocol tests).
func (c *Conn) WriteRaw(b []byte) {
	c.t.Helper()
	if err := c.nc.SetWriteDeadline(time.Now().Add(ReplyTimeout)); err != nil {
		c.t.Fatalf("difftest: %s: %v", c.addr, err)
	}
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("difftest: %s: write raw %q: %v", c.addr, b, err)
	}
}

// Read reads the raw bytes of one complete reply. Errors are fatal.
func (c *Conn) Read() []byte {
	c.t.Helper()
	reply, err := c.ReadErr()
	if err != nil {
		c.t.Fatalf("difftest: %s: read: %v", c.addr, err)
	}
	return reply
}

// ReadErr reads the raw bytes of one complete reply, waiting at most
// ReplyTimeout.
func (c *Conn) ReadErr() ([]byte, error) {
	if err := c.nc.SetReadDeadline(time.Now().Add(ReplyTimeout)); err != nil {
		return nil, err
	}
	return ReadReply(c.br)
}

// EncodeCommand encodes args as a RESP array of bulk strings.
func EncodeCommand(args ...string) []byte {
	var b bytes.Buffer
	b.WriteByte('*')
	b.WriteString(strconv.Itoa(len(args)))
	b.WriteString("\r\n")
	for _, a := range args {
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(len(a)))
		b.WriteString("\r\n")
		b.WriteString(a)
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// ReadReply reads exactly one complete RESP2 or RESP3 reply from r and
// returns its raw bytes. An attribute (|) is returned together with the
// reply that follows it. Streamed strings ($?) and streamed aggregates (*?,
// ~?, %?, |?) are supported.
func ReadReply(r *bufio.Reader) ([]byte, error) {
	var buf []byte
	if err := readValue(r, &buf, 0); err != nil {
		if errors.Is(err, io.EOF) && len(buf) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return buf, err
	}
	return buf, nil
}

// readLine reads one CRLF-terminated line, appends it (with the CRLF) to buf
// and returns the line content without the CRLF.
func readLine(r *bufio.Reader, buf *[]byte) ([]byte, error) {
	line, err := r.ReadBytes('\n')
	*buf = append(*buf, line...)
	if err != nil {
		return nil, err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("protocol error: line not terminated by CRLF: %q", line)
	}
	return line[:len(line)-2], nil
}

func parseLen(s []byte) (int64, error) {
	n, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("protocol error: bad length %q", s)
	}
	return n, nil
}

// readBlob appends n bytes of payload plus the trailing CRLF.
func readBlob(r *bufio.Reader, buf *[]byte, n int64) error {
	if n < 0 || n > 1<<31 {
		return fmt.Errorf("protocol error: bad blob length %d", n)
	}
	start := len(*buf)
	*buf = append(*buf, make([]byte, n+2)...)
	if _, err := io.ReadFull(r, (*buf)[start:]); err != nil {
		return err
	}
	if (*buf)[len(*buf)-2] != '\r' || (*buf)[len(*buf)-1] != '\n' {
		return fmt.Errorf("protocol error: blob of %d bytes not followed by CRLF", n)
	}
	return nil
}

func readValue(r *bufio.Reader, buf *[]byte, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("protocol error: reply nested deeper than %d", maxDepth)
	}
	line, err := readLine(r, buf)
	if err != nil {
		return err
	}
	if len(line) == 0 {
		return fmt.Errorf("protocol error: empty line")
	}
	typ, rest := line[0], line[1:]
	switch typ {
	case '+', '-', ':', '_', ',', '#', '(':
		// Simple string, error, integer, null, double, boolean, big number.
		return nil
	case '$', '!', '=':
		// Bulk string, blob error, verbatim string.
		if typ == '$' && string(rest) == "?" {
			return readStreamedString(r, buf)
		}
		n, err := parseLen(rest)
		if err != nil {
			return err
		}
		if n == -1 && typ == '$' {
			return nil // RESP2 null bulk string
		}
		return readBlob(r, buf, n)
	case '*', '~', '>', '%', '|':
		per := int64(1)
		if typ == '%' || typ == '|' {
			per = 2
		}
		if string(rest) == "?" {
			if err := readStreamedAggregate(r, buf, depth); err != nil {
				return err
			}
		} else {
			n, err := parseLen(rest)
			if err != nil {
				return err
			}
			if n == -1 && typ == '*' {
				return nil // RESP2 null array
			}
			if n < 0 {
				return fmt.Errorf("protocol error: bad aggregate length %d", n)
			}
			for i := int64(0); i < n*per; i++ {
				if err := readValue(r, buf, depth+1); err != nil {
					return err
				}
			}
		}
		if typ == '|' {
			// An attribute is followed by the reply it describes.
			return readValue(r, buf, depth+1)
		}
		return nil
	default:
		return fmt.Errorf("protocol error: unknown reply type %q in line %q", typ, line)
	}
}

// readStreamedString reads ;len chunks until ;0.
func readStreamedString(r *bufio.Reader, buf *[]byte) error {
	for {
		line, err := readLine(r, buf)
		if err != nil {
			return err
		}
		if len(line) == 0 || line[0] != ';' {
			return fmt.Errorf("protocol error: bad streamed string chunk %q", line)
		}
		n, err := parseLen(line[1:])
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if err := readBlob(r, buf, n); err != nil {
			return err
		}
	}
}

// readStreamedAggregate reads elements until the terminating ".\r\n".
func readStreamedAggregate(r *bufio.Reader, buf *[]byte, depth int) error {
	for {
		b, err := r.Peek(3)
		if err != nil {
			return err
		}
		if string(b) == ".\r\n" {
			_, _ = r.Discard(3)
			*buf = append(*buf, ".\r\n"...)
			return nil
		}
		if err := readValue(r, buf, depth+1); err != nil {
			return err
		}
	}
}

// SplitAggregate splits a raw aggregate reply (* ~ > % |-free) into its
// header line (for example "*3\r\n") and the raw bytes of its elements. For
// maps each element is one key followed by its value. ok is false when the
// reply is not a non-null, counted aggregate.
func SplitAggregate(reply []byte) (header []byte, elems [][]byte, ok bool) {
	if len(reply) == 0 {
		return nil, nil, false
	}
	switch reply[0] {
	case '*', '~', '>', '%':
	default:
		return nil, nil, false
	}
	r := bufio.NewReader(bytes.NewReader(reply))
	var hb []byte
	line, err := readLine(r, &hb)
	if err != nil {
		return nil, nil, false
	}
	n, err := parseLen(line[1:])
	if err != nil || n < 0 {
		return nil, nil, false
	}
	per := 1
	if reply[0] == '%' {
		per = 2
	}
	for i := int64(0); i < n; i++ {
		var eb []byte
		for j := 0; j < per; j++ {
			if err := readValue(r, &eb, 1); err != nil {
				return nil, nil, false
			}
		}
		elems = append(elems, eb)
	}
	return hb, elems, true
}

// IsError reports whether a raw reply is an error (simple or blob error).
func IsError(reply []byte) bool {
	return len(reply) > 0 && (reply[0] == '-' || reply[0] == '!')
}

// ErrorText returns the message of an error reply, without the type byte,
// length line or trailing CRLF. It returns "" for non-error replies.
func ErrorText(reply []byte) string {
	if !IsError(reply) {
		return ""
	}
	if reply[0] == '-' {
		return string(bytes.TrimSuffix(reply[1:], []byte("\r\n")))
	}
	i := bytes.Index(reply, []byte("\r\n"))
	if i < 0 {
		return ""
	}
	return string(bytes.TrimSuffix(reply[i+2:], []byte("\r\n")))
}

func quoteArgs(args []string) string {
	var b bytes.Buffer
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Quote(a))
	}
	return b.String()
}
