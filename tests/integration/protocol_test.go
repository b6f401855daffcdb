package integration

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/tests/difftest"
)

// quiet is how long a connection must stay silent before the server is
// taken to be waiting for more input.
const quiet = 400 * time.Millisecond

// wireResult is what a server did with some raw bytes.
type wireResult struct {
	reply  []byte
	closed bool
}

// sendRaw writes chunks to a new connection (pausing between them) and
// collects the reply bytes until the server closes the connection or stays
// quiet.
func sendRaw(addr string, chunks [][]byte) (wireResult, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return wireResult{}, err
	}
	defer nc.Close()
	var res wireResult
	var readErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64<<10)
		for {
			nc.SetReadDeadline(time.Now().Add(quiet + time.Duration(len(chunks))*20*time.Millisecond))
			n, err := nc.Read(buf)
			res.reply = append(res.reply, buf[:n]...)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					return
				}
				if errors.Is(err, io.EOF) || isReset(err) {
					res.closed = true
					return
				}
				readErr = err
				return
			}
		}
	}()
	for i, c := range chunks {
		if i > 0 {
			time.Sleep(20 * time.Millisecond)
		}
		nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := nc.Write(c); err != nil {
			break // the server closed the connection mid-request
		}
	}
	<-done
	return res, readErr
}

func isReset(err error) bool {
	s := err.Error()
	return strings.Contains(s, "connection reset") || strings.Contains(s, "broken pipe")
}

// wireCase is raw input for both servers.
type wireCase struct {
	name   string
	chunks []string
	auth   bool // send to the servers that require a password
	// check, when set, is an extra expectation on the (identical) result.
	want string
}

func one(s string) []string { return []string{s} }

func bytesOf(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// byteByByte splits s into one-byte chunks.
func byteByByte(s string) []string {
	out := make([]string, len(s))
	for i := range s {
		out[i] = s[i : i+1]
	}
	return out
}

func encode(args ...string) string { return string(difftest.EncodeCommand(args...)) }

// pair is a redis-server and a cachalot configured alike.
type pair struct{ redis, cachalot *difftest.Server }

func startPair(t *testing.T, redisConfig [][2]string, cachalotArgs ...string) pair {
	t.Helper()
	r := difftest.StartRedis(t)
	c := r.Dial(t)
	for _, kv := range redisConfig {
		if got := string(c.Do("CONFIG", "SET", kv[0], kv[1])); got != "+OK\r\n" {
			t.Fatalf("redis CONFIG SET %s %s: %q", kv[0], kv[1], got)
		}
	}
	c.Close()
	return pair{redis: r, cachalot: difftest.StartCachalot(t, cachalotArgs...)}
}

// TestProtocolDifferential sends the same raw bytes (well-formed, malformed,
// partial, pipelined) to redis-server and cachalot and requires the same
// reply bytes and the same decision to close the connection.
func TestProtocolDifferential(t *testing.T) {
	difftest.RedisServerPath(t) // skip without redis-server
	open := startPair(t, [][2]string{{"client-query-buffer-limit", "1mb"}}, "--client-query-buffer-limit", "1mb")
	locked := startPair(t, [][2]string{{"requirepass", "pw"}})
	// cachalot takes requirepass at run time too.
	lc := locked.cachalot.Dial(t)
	if got := string(lc.Do("CONFIG", "SET", "requirepass", "pw")); got != "+OK\r\n" {
		t.Fatalf("cachalot CONFIG SET requirepass: %q", got)
	}
	lc.Close()

	big := strings.Repeat("v", 40000)
	var pipeline strings.Builder
	for i := 0; i < 500; i++ {
		pipeline.WriteString(encode("INCR", "pipelined"))
		pipeline.WriteString("incr pipelined\r\n")
	}
	cases := []wireCase{
		{name: "inline ping", chunks: one("PING\r\n"), want: "+PONG\r\n"},
		{name: "inline lf only", chunks: one("PING\n")},
		{name: "inline hex escape", chunks: one("set a \"\\x41b\"\r\nget a\r\n"), want: "+OK\r\n$2\r\nAb\r\n"},
		{name: "inline single quote escape", chunks: one("set b 'it\\'s'\r\nget b\r\n")},
		{name: "inline escapes", chunks: one("echo \"\\n\\t\\\\ \\\"q\\b\\a\\xff\"\r\n")},
		{name: "inline bad hex", chunks: one("echo \"\\x4g\"\r\n")},
		{name: "inline single quotes literal", chunks: one("echo 'a\\nb'\r\n")},
		{name: "inline empty quoted", chunks: one("echo \"\"\r\necho ''\r\n")},
		{name: "inline quote inside word", chunks: one("echo a\"b c\"\r\n")},
		{name: "inline tab separates", chunks: one("echo a\tb\r\n")},
		{name: "inline vertical tab does not", chunks: one("echo a\x0bb\r\n")},
		{name: "inline cr separates", chunks: one("ping\rx\r\n")},
		{name: "inline blank lines", chunks: one("\r\n   \r\n\nPING\r\n")},
		{name: "inline unbalanced", chunks: one("set c \"abc\r\n"), want: "-ERR Protocol error: unbalanced quotes in request\r\n"},
		{name: "inline quote then text", chunks: one("set c \"a\"b\r\n")},
		{name: "inline single then text", chunks: one("set c 'a'b\r\n")},
		{name: "inline nul waits", chunks: one("echo a\x00b\r\nPING\r\n"), want: ""},
		{name: "inline too big", chunks: one(strings.Repeat("a", 70000)), want: "-ERR Protocol error: too big inline request\r\n"},
		{name: "inline 64KB waits", chunks: one(strings.Repeat("a", 65536))},
		{name: "inline long line", chunks: one("echo " + strings.Repeat("a", 70000) + "\r\n")},
		{name: "inline byte by byte", chunks: byteByByte("set k \"x y\"\r\nget k\r\n")},
		{name: "star zero", chunks: one("*0\r\nPING\r\n"), want: "+PONG\r\n"},
		{name: "star minus one", chunks: one("*-1\r\nPING\r\n"), want: "+PONG\r\n"},
		{name: "star minus five", chunks: one("*-5\r\nPING\r\n")},
		{name: "star letters", chunks: one("*abc\r\n"), want: "-ERR Protocol error: invalid multibulk length\r\n"},
		{name: "star plus", chunks: one("*+1\r\n$4\r\nPING\r\n")},
		{name: "star leading zero", chunks: one("*01\r\n$4\r\nPING\r\n")},
		{name: "star minus zero", chunks: one("*-0\r\n")},
		{name: "star empty", chunks: one("*\r\n")},
		{name: "star above int max", chunks: one("*2147483648\r\n")},
		{name: "star int max waits", chunks: one("*2147483647\r\n")},
		{name: "star lf only", chunks: one("*1\n$4\r\nPING\r\n")},
		{name: "star cr only", chunks: one("*1\r$4\r\nPING\r\n")},
		{name: "star too big", chunks: one("*" + strings.Repeat("1", 70000))},
		{name: "expected dollar", chunks: one("*2\r\n+x\r\n"), want: "-ERR Protocol error: expected '$', got '+'\r\n"},
		{name: "expected dollar waits", chunks: one("*2\r\n+x")},
		{name: "expected dollar got cr", chunks: one("*1\r\n\r\n")},
		{name: "bulk minus one", chunks: one("*1\r\n$-1\r\n")},
		{name: "bulk letters", chunks: one("*1\r\n$abc\r\n")},
		{name: "bulk leading zero", chunks: one("*1\r\n$04\r\nPING\r\n")},
		{name: "bulk above proto-max-bulk-len", chunks: one("*1\r\n$536870913\r\n"), want: "-ERR Protocol error: invalid bulk length\r\n"},
		{name: "bulk overflow", chunks: one("*1\r\n$9223372036854775808\r\n")},
		{name: "bulk too big count", chunks: one("*1\r\n$" + strings.Repeat("1", 70000))},
		{name: "bulk crlf not checked", chunks: one("*1\r\n$4\r\nPINGxx"), want: "+PONG\r\n"},
		{name: "bulk empty arg", chunks: one("*2\r\n$4\r\necho\r\n$0\r\n\r\n")},
		{name: "bulk binary arg", chunks: one("*2\r\n$4\r\necho\r\n$3\r\n\r\n\x00\r\n")},
		{name: "error after a good request", chunks: one("*1\r\n$4\r\nPING\r\n*x\r\n"), want: "+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n"},
		{name: "multibulk byte by byte", chunks: byteByByte(encode("SET", "bb", "value") + encode("GET", "bb"))},
		{name: "big bulk in chunks", chunks: []string{encode("SET", "big", big)[:10000], encode("SET", "big", big)[10000:30000], encode("SET", "big", big)[30000:] + encode("STRLEN", "big")}},
		{name: "pipeline", chunks: one(pipeline.String())},
		{name: "query buffer under limit", chunks: one(encode("SET", "q", strings.Repeat("x", 512<<10)) + encode("STRLEN", "q"))},
		{name: "query buffer over limit", chunks: one(encode("SET", "q2", strings.Repeat("x", 2<<20))), want: ""},

		{name: "unauthenticated 10 args", auth: true, chunks: one("*10\r\n")},
		{name: "unauthenticated 11 args", auth: true, chunks: one("*11\r\n"), want: "-ERR Protocol error: unauthenticated multibulk length\r\n"},
		{name: "unauthenticated 16384 bytes", auth: true, chunks: one(encode("ECHO", strings.Repeat("x", 16384))), want: "-NOAUTH Authentication required.\r\n"},
		{name: "unauthenticated 16385 bytes", auth: true, chunks: one("*2\r\n$4\r\necho\r\n$16385\r\n"), want: "-ERR Protocol error: unauthenticated bulk length\r\n"},
		{name: "unauthenticated inline is not limited", auth: true, chunks: one("ping a b c d e f g h i j k l\r\n")},
		{name: "authenticated lifts the limits", auth: true, chunks: one(encode("AUTH", "pw") + "*2\r\n$4\r\necho\r\n$16385\r\n" + strings.Repeat("y", 16385) + "\r\n")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := open
			if tc.auth {
				p = locked
			}
			chunks := bytesOf(tc.chunks)
			var wg sync.WaitGroup
			var want, got wireResult
			var wantErr, gotErr error
			wg.Add(2)
			go func() { defer wg.Done(); want, wantErr = sendRaw(p.redis.Addr, chunks) }()
			go func() { defer wg.Done(); got, gotErr = sendRaw(p.cachalot.Addr, chunks) }()
			wg.Wait()
			if wantErr != nil || gotErr != nil {
				t.Fatalf("network error: redis %v, cachalot %v", wantErr, gotErr)
			}
			if !bytes.Equal(got.reply, want.reply) {
				t.Errorf("reply differs\n   redis: %.300q\ncachalot: %.300q", want.reply, got.reply)
			}
			if got.closed != want.closed {
				t.Errorf("redis closed the connection: %v; cachalot: %v", want.closed, got.closed)
			}
			if tc.want != "" || strings.HasSuffix(tc.name, "waits") {
				if string(want.reply) != tc.want {
					t.Errorf("redis itself replied %.200q, the case expects %.200q", want.reply, tc.want)
				}
			}
		})
	}
}
