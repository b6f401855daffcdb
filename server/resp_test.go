package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
)

// authLimits are the limits of an authenticated client with Redis's
// defaults (proto-max-bulk-len 512mb, client-query-buffer-limit 1gb).
var authLimits = readLimits{maxBulk: 512 << 20, maxQuery: 1 << 30, authenticated: true}

// needMore marks a case whose input holds no complete request yet.
const needMore = -1

// encodeRESP encodes argv as a RESP array of bulk strings.
func encodeRESP(argv ...[]byte) []byte {
	out := []byte("*" + strconv.Itoa(len(argv)) + "\r\n")
	for _, a := range argv {
		out = append(out, '$')
		out = strconv.AppendInt(out, int64(len(a)), 10)
		out = append(out, '\r', '\n')
		out = append(out, a...)
		out = append(out, '\r', '\n')
	}
	return out
}

func encodeStrings(argv ...string) []byte {
	bs := make([][]byte, len(argv))
	for i, a := range argv {
		bs[i] = []byte(a)
	}
	return encodeRESP(bs...)
}

func argvStrings(argv [][]byte) []string {
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = string(a)
	}
	return out
}

// The expectations below were checked against redis-server 7.0.15 by sending
// the same bytes on a raw connection (tests/integration/protocol_test.go
// keeps the wire-level cases differential).
func TestParseRequest(t *testing.T) {
	unauth := authLimits
	unauth.authenticated = false
	smallBulk := authLimits
	smallBulk.maxBulk = 100

	tests := []struct {
		name     string
		in       string
		lim      readLimits
		consumed int // needMore when the request is incomplete
		argv     []string
		err      string // "Protocol error: …" when the request is malformed
	}{
		// Inline (telnet) requests.
		{name: "inline crlf", in: "PING\r\n", consumed: 6, argv: []string{"PING"}},
		{name: "inline lf only", in: "PING\n", consumed: 5, argv: []string{"PING"}},
		{name: "inline words", in: "set  a\tb\r\n", consumed: 10, argv: []string{"set", "a", "b"}},
		{name: "inline cr is a separator", in: "ping\rx\r\n", consumed: 8, argv: []string{"ping", "x"}},
		{name: "inline hex escape", in: "set a \"\\x41b\"\r\n", consumed: 15, argv: []string{"set", "a", "Ab"}},
		{name: "inline single quote escape", in: "set b 'it\\'s'\r\n", consumed: 15, argv: []string{"set", "b", "it's"}},
		{name: "inline empty quoted args", in: "echo \"\" ''\r\n", consumed: 12, argv: []string{"echo", "", ""}},
		{name: "inline blank line", in: "\r\n", consumed: 2, argv: []string{}},
		{name: "inline spaces only", in: "   \r\n", consumed: 5, argv: []string{}},
		{name: "inline lone lf", in: "\n", consumed: 1, argv: []string{}},
		{name: "inline incomplete", in: "PING", consumed: needMore},
		{name: "inline incomplete cr", in: "PING\r", consumed: needMore},
		{name: "inline unbalanced double", in: "set c \"abc\r\n", err: "Protocol error: unbalanced quotes in request"},
		{name: "inline quote then text", in: "set c \"a\"b\r\n", err: "Protocol error: unbalanced quotes in request"},
		{name: "inline single then text", in: "set c 'a'b\r\n", err: "Protocol error: unbalanced quotes in request"},
		{name: "inline nul waits", in: "echo a\x00b\r\n", consumed: needMore},
		{name: "inline leading nul waits", in: "\x00PING\r\nPING\r\n", consumed: needMore},
		{name: "inline 64KB without newline", in: strings.Repeat("a", inlineMaxSize), consumed: needMore},
		{name: "inline over 64KB without newline", in: strings.Repeat("a", inlineMaxSize+1), err: "Protocol error: too big inline request"},
		{name: "inline over 64KB with nul", in: "ping\x00" + strings.Repeat("1", 70000) + "\r\n", err: "Protocol error: too big inline request"},
		{name: "inline long line is fine", in: "echo " + strings.Repeat("a", 70000) + "\r\n", consumed: 70007, argv: []string{"echo", strings.Repeat("a", 70000)}},
		{name: "inline unauthenticated many words", in: "ping a b c d e f g h i j k l\r\n", lim: unauth, consumed: 30,
			argv: strings.Fields("ping a b c d e f g h i j k l")},

		// Multibulk requests.
		{name: "multibulk", in: "*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n", consumed: 22, argv: []string{"ECHO", "hi"}},
		{name: "multibulk empty arg", in: "*2\r\n$4\r\necho\r\n$0\r\n\r\n", consumed: 20, argv: []string{"echo", ""}},
		{name: "multibulk binary arg", in: "*1\r\n$3\r\n\x00\r\n\r\n", consumed: 13, argv: []string{"\x00\r\n"}},
		{name: "multibulk crlf not checked", in: "*1\r\n$4\r\nPINGxx", consumed: 14, argv: []string{"PING"}},
		{name: "star zero ignored", in: "*0\r\nPING\r\n", consumed: 4, argv: []string{}},
		{name: "star minus one ignored", in: "*-1\r\nPING\r\n", consumed: 5, argv: []string{}},
		{name: "star minus five ignored", in: "*-5\r\n", consumed: 5, argv: []string{}},
		{name: "star int64 min ignored", in: "*-9223372036854775808\r\n", consumed: 23, argv: []string{}},
		{name: "star int max waits", in: "*2147483647\r\n", consumed: needMore},
		{name: "star above int max", in: "*2147483648\r\n", err: "Protocol error: invalid multibulk length"},
		{name: "star int64 max", in: "*9223372036854775807\r\n", err: "Protocol error: invalid multibulk length"},
		{name: "star letters", in: "*abc\r\n", err: "Protocol error: invalid multibulk length"},
		{name: "star empty", in: "*\r\n", err: "Protocol error: invalid multibulk length"},
		{name: "star plus", in: "*+1\r\n$4\r\nPING\r\n", err: "Protocol error: invalid multibulk length"},
		{name: "star leading zero", in: "*01\r\n$4\r\nPING\r\n", err: "Protocol error: invalid multibulk length"},
		{name: "star double zero", in: "*00\r\n", err: "Protocol error: invalid multibulk length"},
		{name: "star minus zero", in: "*-0\r\n", err: "Protocol error: invalid multibulk length"},
		{name: "star leading space", in: "* 1\r\n", err: "Protocol error: invalid multibulk length"},
		{name: "star trailing space", in: "*1 \r\n", err: "Protocol error: invalid multibulk length"},
		{name: "star lf only", in: "*1\n$4\r\nPING\r\n", err: "Protocol error: invalid multibulk length"},
		{name: "star cr then no lf", in: "*1\r$4\r\nPING\r\n", err: "Protocol error: expected '$', got '4'"},
		{name: "star incomplete", in: "*1", consumed: needMore},
		{name: "star cr incomplete", in: "*1\r", consumed: needMore},
		{name: "star nul waits", in: "*1\x00\r\n$4\r\nPING\r\n", consumed: needMore},
		{name: "star over 64KB", in: "*" + strings.Repeat("1", 70000), err: "Protocol error: too big mbulk count string"},
		{name: "expected dollar", in: "*2\r\n+x\r\n", err: "Protocol error: expected '$', got '+'"},
		{name: "expected dollar waits for the line", in: "*2\r\n+x", consumed: needMore},
		{name: "expected dollar after an arg", in: "*2\r\n$3\r\nfoo\r\n:1\r\n", err: "Protocol error: expected '$', got ':'"},
		{name: "expected dollar got cr", in: "*1\r\n\r\n", err: "Protocol error: expected '$', got ' '"},
		{name: "expected dollar got lf", in: "*1\r\n\n\r\n", err: "Protocol error: expected '$', got ' '"},
		{name: "bulk minus one", in: "*1\r\n$-1\r\n", err: "Protocol error: invalid bulk length"},
		{name: "bulk minus zero", in: "*1\r\n$-0\r\n", err: "Protocol error: invalid bulk length"},
		{name: "bulk letters", in: "*1\r\n$abc\r\n", err: "Protocol error: invalid bulk length"},
		{name: "bulk empty", in: "*1\r\n$\r\n", err: "Protocol error: invalid bulk length"},
		{name: "bulk high byte", in: "*1\r\n$\xff\r\n", err: "Protocol error: invalid bulk length"},
		{name: "bulk leading zero", in: "*1\r\n$04\r\nPING\r\n", err: "Protocol error: invalid bulk length"},
		{name: "bulk plus", in: "*1\r\n$+4\r\nPING\r\n", err: "Protocol error: invalid bulk length"},
		{name: "bulk trailing space", in: "*1\r\n$4 \r\nPING\r\n", err: "Protocol error: invalid bulk length"},
		{name: "bulk at proto-max-bulk-len waits", in: "*1\r\n$536870912\r\n", consumed: needMore},
		{name: "bulk above proto-max-bulk-len", in: "*1\r\n$536870913\r\n", err: "Protocol error: invalid bulk length"},
		{name: "bulk int64 max", in: "*1\r\n$9223372036854775807\r\n", err: "Protocol error: invalid bulk length"},
		{name: "bulk overflow", in: "*1\r\n$9223372036854775808\r\n", err: "Protocol error: invalid bulk length"},
		{name: "bulk at small limit waits", in: "*1\r\n$100\r\n", lim: smallBulk, consumed: needMore},
		{name: "bulk above small limit", in: "*1\r\n$101\r\n", lim: smallBulk, err: "Protocol error: invalid bulk length"},
		{name: "bulk count over 64KB", in: "*1\r\n$" + strings.Repeat("1", 70000), err: "Protocol error: too big bulk count string"},
		{name: "bulk header incomplete", in: "*1\r\n$4", consumed: needMore},
		{name: "bulk payload incomplete", in: "*1\r\n$4\r\nPING", consumed: needMore},
		{name: "bulk trailer incomplete", in: "*1\r\n$4\r\nPING\r", consumed: needMore},
		{name: "second arg missing", in: "*2\r\n$4\r\nPING\r\n", consumed: needMore},
		{name: "only the first request", in: "*1\r\n$4\r\nPING\r\n*x\r\n", consumed: 14, argv: []string{"PING"}},

		// Limits for clients that have not authenticated.
		{name: "unauthenticated 10 args waits", in: "*10\r\n", lim: unauth, consumed: needMore},
		{name: "unauthenticated 11 args", in: "*11\r\n", lim: unauth, err: "Protocol error: unauthenticated multibulk length"},
		{name: "authenticated 11 args waits", in: "*11\r\n", consumed: needMore},
		{name: "unauthenticated 16384 bytes waits", in: "*2\r\n$4\r\necho\r\n$16384\r\n", lim: unauth, consumed: needMore},
		{name: "unauthenticated 16385 bytes", in: "*2\r\n$4\r\necho\r\n$16385\r\n", lim: unauth, err: "Protocol error: unauthenticated bulk length"},
		{name: "unauthenticated huge count is invalid first", in: "*2147483648\r\n", lim: unauth, err: "Protocol error: invalid multibulk length"},
		{name: "unauthenticated negative count ignored", in: "*-20\r\n", lim: unauth, consumed: 6, argv: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lim := tt.lim
			if lim == (readLimits{}) {
				lim = authLimits
			}
			in := []byte(tt.in)
			consumed, argv, err := parseRequest(in, lim, nil)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("parseRequest(%.60q) error = %v, want %q", tt.in, err, tt.err)
				}
				var pe protocolError
				if !errors.As(err, &pe) {
					t.Fatalf("error %v is not a protocolError", err)
				}
				if consumed != 0 {
					t.Fatalf("consumed %d on error", consumed)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseRequest(%.60q) unexpected error %v", tt.in, err)
			}
			if tt.consumed == needMore {
				if consumed != 0 || len(argv) != 0 {
					t.Fatalf("parseRequest(%.60q) = %d %q, want need more", tt.in, consumed, argv)
				}
				return
			}
			if consumed != tt.consumed {
				t.Fatalf("consumed = %d, want %d", consumed, tt.consumed)
			}
			if got := argvStrings(argv); strings.Join(got, "\x01") != strings.Join(tt.argv, "\x01") || len(got) != len(tt.argv) {
				t.Fatalf("argv = %q, want %q", got, tt.argv)
			}
		})
	}
}

func TestParseRequestReusesArgs(t *testing.T) {
	args := make([][]byte, 0, 8)
	_, argv, err := parseRequest(encodeStrings("set", "k", "v"), authLimits, args)
	if err != nil {
		t.Fatal(err)
	}
	if len(argv) != 3 || &argv[:1][0] != &args[:1][0] {
		t.Fatalf("argv %q does not reuse the args slice", argv)
	}
}

func TestParseRequestArgsAliasInput(t *testing.T) {
	in := encodeStrings("set", "key", "value")
	_, argv, err := parseRequest(in, authLimits, nil)
	if err != nil || len(argv) != 3 {
		t.Fatalf("parseRequest = %q, %v", argv, err)
	}
	for _, a := range argv {
		if cap(a) != len(a) {
			t.Errorf("arg %q has cap %d beyond its length: an append would clobber the buffer", a, cap(a))
		}
	}
	in[bytes.Index(in, []byte("value"))] = 'V'
	if string(argv[2]) != "Value" {
		t.Errorf("argv[2] = %q, does not alias the input", argv[2])
	}
}

// Every strict prefix of a request is "need more" and the whole request
// parses, however the bytes are split.
func TestParseRequestPrefixes(t *testing.T) {
	reqs := [][]byte{
		encodeStrings("SET", "key", "value"),
		encodeStrings("echo", "", "\r\n\x00"),
		[]byte("set a \"\\x41b\" 'it\\'s'\r\n"),
		[]byte("PING\n"),
	}
	for _, req := range reqs {
		for k := 1; k < len(req); k++ {
			n, argv, err := parseRequest(req[:k], authLimits, nil)
			if n != 0 || err != nil || len(argv) != 0 {
				t.Fatalf("prefix %q of %q: %d %q %v, want need more", req[:k], req, n, argv, err)
			}
		}
		n, argv, err := parseRequest(req, authLimits, nil)
		if n != len(req) || err != nil || len(argv) == 0 {
			t.Fatalf("%q: %d %q %v, want the whole request", req, n, argv, err)
		}
	}
}

// chunkReader hands out its data in reads of at most size bytes and
// records every distinct buffer the reader passes to Read.
type chunkReader struct {
	data    []byte
	size    int
	reads   int
	buffers []*byte // last byte of each distinct backing array seen
}

func (cr *chunkReader) Read(p []byte) (int, error) {
	if len(p) > 0 {
		end := &p[:cap(p)][cap(p)-1]
		if len(cr.buffers) == 0 || cr.buffers[len(cr.buffers)-1] != end {
			cr.buffers = append(cr.buffers, end)
		}
	}
	if len(cr.data) == 0 {
		return 0, io.EOF
	}
	cr.reads++
	n := min(len(p), cr.size, len(cr.data))
	copy(p, cr.data[:n])
	cr.data = cr.data[n:]
	return n, nil
}

func noFlush() error { return nil }

// readAll drains a reader, returning every request as strings and the error
// that ended it.
func readAll(rd *reader) ([][]string, error) {
	var out [][]string
	for {
		argv, err := rd.next(noFlush)
		if err != nil {
			return out, err
		}
		out = append(out, argvStrings(argv))
	}
}

func TestReaderByteByByte(t *testing.T) {
	var stream []byte
	var want [][]string
	add := func(raw []byte, argv ...string) {
		stream = append(stream, raw...)
		if len(argv) > 0 {
			want = append(want, argv)
		}
	}
	add(encodeStrings("SET", "k", "v"), "SET", "k", "v")
	add([]byte("*0\r\n"))
	add([]byte("get k\r\n"), "get", "k")
	add([]byte("*-1\r\n"))
	add([]byte("\r\n"))
	big := strings.Repeat("x", 40000)
	add(encodeStrings("APPEND", "k", big), "APPEND", "k", big)
	many := make([]string, 300)
	for i := range many {
		many[i] = strconv.Itoa(i)
	}
	add(encodeStrings(many...), many...)
	add([]byte("echo \"a b\"\n"), "echo", "a b")

	for _, size := range []int{1, 7, 1000, len(stream)} {
		t.Run(fmt.Sprintf("chunk%d", size), func(t *testing.T) {
			src := &chunkReader{data: stream, size: size}
			got, err := readAll(newReader(src, authLimits))
			if !errors.Is(err, io.EOF) {
				t.Fatalf("reader ended with %v, want EOF", err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("requests differ:\n got %.200q\nwant %.200q", got, want)
			}
		})
	}
}

func TestReaderPipeline(t *testing.T) {
	const n = 10000
	var stream []byte
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			stream = append(stream, encodeStrings("INCR", "counter"+strconv.Itoa(i))...)
		} else {
			stream = append(stream, "incr counter"+strconv.Itoa(i)+"\r\n"...)
		}
	}
	src := &chunkReader{data: stream, size: len(stream)}
	rd := newReader(src, authLimits)
	flushes := 0
	for i := 0; i < n; i++ {
		argv, err := rd.next(func() error { flushes++; return nil })
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if len(argv) != 2 || !equalFold(argv[0], "incr") || string(argv[1]) != "counter"+strconv.Itoa(i) {
			t.Fatalf("request %d = %q", i, argv)
		}
	}
	if _, err := rd.next(noFlush); !errors.Is(err, io.EOF) {
		t.Fatalf("after the pipeline: %v, want EOF", err)
	}
	// beforeRead (the reply flush) runs only when the buffer runs dry, not
	// once per command.
	if reads := src.reads; flushes > reads+1 {
		t.Fatalf("beforeRead ran %d times for %d reads", flushes, reads)
	}
	if flushes >= n/10 {
		t.Fatalf("beforeRead ran %d times for a %d-command pipeline", flushes, n)
	}
}

// A 1 MB value that arrives in small reads makes the buffer double a
// logarithmic number of times, not grow (and copy) once per read.
func TestReaderLargeBulkInSmallChunks(t *testing.T) {
	value := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MB
	stream := encodeRESP([]byte("SET"), []byte("k"), value)
	stream = append(stream, encodeStrings("GET", "k")...)
	src := &chunkReader{data: stream, size: 1000}
	rd := newReader(src, authLimits)
	argv, err := rd.next(noFlush)
	if err != nil {
		t.Fatal(err)
	}
	if len(argv) != 3 || !bytes.Equal(argv[2], value) {
		t.Fatalf("got %d args, value intact: %v", len(argv), len(argv) == 3 && bytes.Equal(argv[2], value))
	}
	// 16 KB doubled up to 2 MB is 8 buffers; allow one more for slack.
	if got := len(src.buffers); got > 9 {
		t.Fatalf("reader used %d buffers for a 1 MB request read in %d chunks; want ≤ 9 (doubling)", got, src.reads)
	}
	if src.reads < len(value)/1000 {
		t.Fatalf("only %d reads: chunking did not happen", src.reads)
	}
	argv, err = rd.next(noFlush)
	if err != nil || len(argv) != 2 || string(argv[0]) != "GET" {
		t.Fatalf("after the big request: %q, %v", argv, err)
	}
	// Once drained, the big buffer is given back.
	if _, err := rd.next(noFlush); !errors.Is(err, io.EOF) {
		t.Fatalf("want EOF, got %v", err)
	}
	if len(rd.buf) > readBufferShrinkTarget {
		t.Errorf("idle reader keeps a %d-byte buffer", len(rd.buf))
	}
}

// A request with many arguments that arrives in small reads resumes where it
// stopped: the parse state holds the arguments seen so far.
func TestReaderResumesManyArgs(t *testing.T) {
	args := make([]string, 20000)
	for i := range args {
		args[i] = "member" + strconv.Itoa(i)
	}
	stream := encodeStrings(args...)
	src := &chunkReader{data: stream, size: 64}
	rd := newReader(src, authLimits)
	argv, err := rd.next(noFlush)
	if err != nil {
		t.Fatal(err)
	}
	if len(argv) != len(args) || string(argv[0]) != args[0] || string(argv[len(argv)-1]) != args[len(args)-1] {
		t.Fatalf("got %d args", len(argv))
	}
	for i, a := range argv {
		if string(a) != args[i] {
			t.Fatalf("arg %d = %q, want %q", i, a, args[i])
		}
	}
	if len(rd.st.spans) != 0 || rd.st.count != 0 {
		t.Fatalf("parse state not reset after a complete request: %+v", rd.st)
	}
}

func TestReaderQueryBufferLimit(t *testing.T) {
	lim := authLimits
	lim.maxQuery = 1 << 20
	tests := []struct {
		name    string
		size    int
		wantErr error
	}{
		{"half the limit", 512 << 10, nil},
		{"just under the limit", 1<<20 - 200, nil},
		{"the limit", 1 << 20, errQueryBufferLimit},
		{"twice the limit", 2 << 20, errQueryBufferLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stream := encodeRESP([]byte("SET"), []byte("k"), bytes.Repeat([]byte{'x'}, tt.size))
			rd := newReader(&chunkReader{data: stream, size: 64 << 10}, lim)
			argv, err := rd.next(noFlush)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(argv) != 3 || len(argv[2]) != tt.size {
				t.Fatalf("got %d args, err %v", len(argv), err)
			}
		})
	}
	// A pipeline far larger than the limit is fine: requests are consumed
	// as they arrive.
	var stream []byte
	for len(stream) < 3<<20 {
		stream = append(stream, encodeStrings("PING")...)
	}
	got, err := readAll(newReader(&chunkReader{data: stream, size: 64 << 10}, lim))
	if !errors.Is(err, io.EOF) || len(got) != len(stream)/len(encodeStrings("PING")) {
		t.Fatalf("pipeline: %d requests, err %v", len(got), err)
	}
}

func TestReaderProtocolErrorStops(t *testing.T) {
	stream := append(encodeStrings("PING"), "*x\r\n"...)
	stream = append(stream, encodeStrings("PING")...)
	rd := newReader(&chunkReader{data: stream, size: 3}, authLimits)
	if argv, err := rd.next(noFlush); err != nil || len(argv) != 1 {
		t.Fatalf("first request: %q %v", argv, err)
	}
	_, err := rd.next(noFlush)
	var pe protocolError
	if !errors.As(err, &pe) || err.Error() != "Protocol error: invalid multibulk length" {
		t.Fatalf("err = %v, want invalid multibulk length", err)
	}
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		want []string // nil with ok false: unbalanced quotes
		ok   bool
	}{
		{"", []string{}, true},
		{"   \t ", []string{}, true},
		{"set a b", []string{"set", "a", "b"}, true},
		{"  set   a  ", []string{"set", "a"}, true},
		{"a\tb\nc\rd", []string{"a", "b", "c", "d"}, true},
		{"\v\fa", []string{"a"}, true},             // isspace skips \v and \f before a word
		{"a\vb", []string{"a\vb"}, true},           // but they do not end an unquoted word
		{"a\x00b c", []string{"a"}, true},          // a NUL ends the C string
		{`"\x41b"`, []string{"Ab"}, true},          // hex escape
		{`"\xff\x00"`, []string{"\xff\x00"}, true}, // any byte
		{`"\x4g"`, []string{"x4g"}, true},          // not hex: the backslash is dropped
		{`"\x4"`, []string{"x4"}, true},            // too short for hex
		{`"\n\r\t\b\a"`, []string{"\n\r\t\b\a"}, true},
		{`"\\ \" \q"`, []string{`\ " q`}, true}, // other escapes give the character
		{`"a b" c`, []string{"a b", "c"}, true},
		{`a"b c"d`, []string{"ab cd"}, false}, // a closing quote needs a space after it
		{`a"b c"`, []string{"ab c"}, true},    // quotes may start inside a word
		{`'it\'s'`, []string{"it's"}, true},
		{`'a\nb'`, []string{`a\nb`}, true}, // single quotes: only \' is an escape
		{`'a\\b'`, []string{`a\\b`}, true},
		{`"" ''`, []string{"", ""}, true},
		{`"a"` + "\t" + `b`, []string{"a", "b"}, true},
		{`"abc`, nil, false},
		{`'abc`, nil, false},
		{`"a"b`, nil, false},
		{`'a'b`, nil, false},
		{`"a\"`, nil, false},
		{`'a\'`, nil, false},
		{`"\`, nil, false},
	}
	for _, tt := range tests {
		got, ok := splitArgs([]byte(tt.in))
		if ok != tt.ok {
			t.Errorf("splitArgs(%q) ok = %v, want %v (args %q)", tt.in, ok, tt.ok, got)
			continue
		}
		if !ok {
			continue
		}
		if gs := argvStrings(got); fmt.Sprintf("%q", gs) != fmt.Sprintf("%q", tt.want) {
			t.Errorf("splitArgs(%q) = %q, want %q", tt.in, gs, tt.want)
		}
		for i, a := range got {
			if a == nil {
				t.Errorf("splitArgs(%q) arg %d is nil, want empty", tt.in, i)
			}
		}
	}
}
