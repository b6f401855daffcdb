package persistence

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// appendCommand RESP-encodes argv as Redis's catAppendOnlyGenericCommand:
// *N\r\n then $len\r\nbytes\r\n for each argument.
func appendCommand(b []byte, argv [][]byte) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(argv)), 10)
	b = append(b, '\r', '\n')
	for _, arg := range argv {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(arg)), 10)
		b = append(b, '\r', '\n')
		b = append(b, arg...)
		b = append(b, '\r', '\n')
	}
	return b
}

// appendSelect encodes SELECT db as Redis's feedAppendOnlyFile does.
func appendSelect(b []byte, db int) []byte {
	var num [20]byte
	d := strconv.AppendInt(num[:0], int64(db), 10)
	b = append(b, "*2\r\n$6\r\nSELECT\r\n$"...)
	b = strconv.AppendInt(b, int64(len(d)), 10)
	b = append(b, '\r', '\n')
	b = append(b, d...)
	return append(b, '\r', '\n')
}

// selectDB reports whether argv is SELECT <db> and the db.
func selectDB(argv [][]byte) (int, bool) {
	if len(argv) != 2 || len(argv[0]) != 6 || !bytes.EqualFold(argv[0], []byte("select")) {
		return 0, false
	}
	n, err := strconv.Atoi(string(argv[1]))
	if err != nil {
		return 0, false
	}
	return n, true
}

// isCmd reports whether argv[0] is name (lower case), ignoring case.
func isCmd(argv [][]byte, name string) bool {
	return len(argv) > 0 && len(argv[0]) == len(name) && bytes.EqualFold(argv[0], []byte(name))
}

// errTruncated is an unexpected end of file inside a command.
var errTruncated = errors.New("unexpected end of file")

// formatError is bad RESP at an offset.
type formatError struct {
	off int64
	msg string
}

func (e *formatError) Error() string { return fmt.Sprintf("offset %d: %s", e.off, e.msg) }

// maxHeaderLine bounds a *N / $N / #annotation line, as Redis's
// AOF_ANNOTATION_LINE_MAX_LEN.
const maxHeaderLine = 1024

// scanner reads an AOF command by command. Each command's arguments live in
// one arena that the caller resets, so a MULTI block can be kept whole.
type scanner struct {
	r     *bufio.Reader
	off   int64 // bytes consumed
	size  int64 // file size: a bulk longer than what is left is a truncation
	arena []byte
	spans []span // arguments of the buffered commands, in arena
	cmds  []int  // index in spans where each buffered command starts
	argv  [][]byte
	line  int64 // CRLF-terminated lines consumed, from 1 (redis-check-aof's ok_up_to_line)
}

type span struct{ off, n int }

func newScanner(r io.Reader, size int64) *scanner {
	return &scanner{r: bufio.NewReaderSize(r, 256<<10), size: size, line: 1}
}

// reset drops the buffered commands.
func (s *scanner) reset() {
	s.arena = s.arena[:0]
	s.spans = s.spans[:0]
	s.cmds = s.cmds[:0]
}

// readLine returns one line without its CRLF. A line ending with a bare LF
// or with anything else is a format error; the end of the file before the
// LF is a truncation.
func (s *scanner) readLine() ([]byte, error) {
	start := s.off
	line, err := s.r.ReadSlice('\n')
	s.off += int64(len(line))
	if err == bufio.ErrBufferFull || (err == nil && len(line) > maxHeaderLine) {
		return nil, &formatError{start, "line too long"}
	}
	if err != nil {
		if err == io.EOF {
			return nil, errTruncated
		}
		return nil, err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, &formatError{start, "expected \\r\\n at the end of the line"}
	}
	s.line++
	return line[:len(line)-2], nil
}

// parseLen parses the digits of a *N or $N line.
func parseLen(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// next reads the next command into the arena (after any buffered ones) and
// returns its start offset. It returns io.EOF at a clean end of file,
// errTruncated when the file ends inside a command, or a *formatError.
// Annotation lines (#...) are skipped.
func (s *scanner) next() (int64, error) {
	for {
		start := s.off
		c, err := s.r.ReadByte()
		if err == io.EOF {
			return start, io.EOF
		}
		if err != nil {
			return start, err
		}
		switch c {
		case '#':
			s.off++
			if err := s.skipAnnotation(); err != nil {
				return start, err
			}
			continue
		case '*':
			s.off++
		default:
			return start, &formatError{start, fmt.Sprintf("expected '*', got %q", c)}
		}
		line, err := s.readLine()
		if err != nil {
			return start, err
		}
		argc, ok := parseLen(line)
		if !ok || argc < 1 {
			return start, &formatError{start, fmt.Sprintf("invalid multibulk length %q", line)}
		}
		s.cmds = append(s.cmds, len(s.spans))
		for j := int64(0); j < argc; j++ {
			if err := s.readBulk(); err != nil {
				return start, err
			}
		}
		return start, nil
	}
}

// skipAnnotation consumes the rest of a # line. Redis skips such lines; one
// cut by the end of the file is ignored as Redis does.
func (s *scanner) skipAnnotation() error {
	n := 1
	for {
		line, err := s.r.ReadSlice('\n')
		s.off += int64(len(line))
		n += len(line)
		if n > maxHeaderLine {
			return &formatError{s.off - int64(n), "annotation line too long"}
		}
		switch err {
		case nil, io.EOF:
			return nil
		case bufio.ErrBufferFull:
			continue
		default:
			return err
		}
	}
}

// readBulk reads one $len\r\nbytes\r\n argument into the arena.
func (s *scanner) readBulk() error {
	start := s.off
	c, err := s.r.ReadByte()
	if err == io.EOF {
		return errTruncated
	}
	if err != nil {
		return err
	}
	s.off++
	if c != '$' {
		return &formatError{start, fmt.Sprintf("expected '$', got %q", c)}
	}
	line, err := s.readLine()
	if err != nil {
		return err
	}
	n, ok := parseLen(line)
	if !ok {
		return &formatError{start, fmt.Sprintf("invalid bulk length %q", line)}
	}
	if s.size >= 0 && n+2 > s.size-s.off {
		return errTruncated // the file ends before this argument does
	}
	at := len(s.arena)
	s.arena = slices.Grow(s.arena, int(n))[:at+int(n)]
	if _, err := io.ReadFull(s.r, s.arena[at:]); err != nil {
		s.arena = s.arena[:at]
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return errTruncated
		}
		return err
	}
	s.off += n
	var crlf [2]byte
	if _, err := io.ReadFull(s.r, crlf[:]); err != nil {
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return errTruncated
		}
		return err
	}
	s.off += 2
	if crlf != [2]byte{'\r', '\n'} {
		return &formatError{s.off - 2, fmt.Sprintf("expected \\r\\n after the bulk, got %02x%02x", crlf[0], crlf[1])}
	}
	s.line++
	s.spans = append(s.spans, span{at, int(n)})
	return nil
}

// command returns the i-th buffered command; valid until the next reset or
// next call.
func (s *scanner) command(i int) [][]byte {
	from := s.cmds[i]
	to := len(s.spans)
	if i+1 < len(s.cmds) {
		to = s.cmds[i+1]
	}
	s.argv = s.argv[:0]
	for _, sp := range s.spans[from:to] {
		s.argv = append(s.argv, s.arena[sp.off:sp.off+sp.n:sp.off+sp.n])
	}
	return s.argv
}

// last returns the most recently read command.
func (s *scanner) last() [][]byte { return s.command(len(s.cmds) - 1) }
