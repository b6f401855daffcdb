package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/store"
)

// propDiffScript is run against redis-server 7.0 with appendonly and against
// cachalot with a capturing sink; the AOF Redis writes and what cachalot
// propagates must be the same commands, absolute times aside (compared
// within propTimeSlack). Deterministic only: no short TTLs (Redis's active
// expiry would race), no random pops of more than one member.
var propDiffScript = `
set a 1
set a 2 NX
set b 1 EX 100 NX GET
set b 2 PX 100000 XX GET
set c 1 PXAT 99999999999999 NX
set c 2 KEEPTTL
set c 3 GET
setex d 100 v
psetex e 100000 v
setnx f v
setnx f w
getex d EX 50
getex d PERSIST
getex d
getex d PXAT 1000
getex e PERSIST
getdel f
getdel f
getset g 1
set n 1
expire n 100
pexpire n 100000 NX
expire n 200 GT
expire n 10 LT
expireat n 1
expire nokey 10
set n 1
expire n -1
set n 1
persist n
expire n 100
persist n
incrbyfloat fl 1.5
set fl2 1 EX 100
incrbyfloat fl2 2.25
hincrbyfloat h f 1.5
hincrby h f2 0
hset h f v
hset h f v
hsetnx h f v
hdel h nof
sadd s a b c d e
spop s 10
sadd s2 a
spop s2
sadd s3 a b c
spop s3 0
srandmember s3 2
sadd s3 a
smove s3 s3 a
smove s3 s4 a
del nokey
del s3 nokey
unlink nokey
rpush l a b c d e
blpop l 0
brpop l 0
blmove l l2 LEFT RIGHT 0
brpoplpush l l2 0
blmpop 0 1 l LEFT COUNT 5
rpush l a b c
lmpop 2 nol l RIGHT COUNT 2
lmpop 1 l LEFT
lmpop 1 l LEFT
lpop l 0
rpush l a b c
ltrim l 0 -1
ltrim l 1 -1
lrem l 0 nope
linsert l before zz b
linsert l before b x
lset l 0 b
lpushx nol a
rpushx l z
lmove l l left left
rpoplpush l l
zadd z 1 a 2 b 3 c 4 d
zadd z 1 a
zadd z gt ch 0 a
zadd z xx 5 q
zincrby z 0 a
zincrby z 1 a
bzpopmin z 0
bzpopmax z 0
bzmpop 0 1 z MIN COUNT 1
zmpop 1 z MAX
zpopmin nokey
zremrangebyrank z 5 6
zunionstore zu 1 nokey
zrangestore zd z 5 6
zadd z2 1 a
zrangestore zd z2 0 -1
sinterstore si nokey nokey2
sadd sa 1
sinterstore si sa
sinterstore si nokey
setrange sr 0 ab
setrange sr 0 ""
setrange sr2 5 ""
append sr x
append sr ""
setbit sb 1 1
setbit sb 1 1
setbit sb 100 0
bitop and bo sb
bitop and bo2 nokey
bitfield bf get u8 0
bitfield bf set u8 0 5 get u8 0
bitfield bf set u8 0 5
bitfield bf incrby u8 0 300 overflow fail
pfadd hl a b
pfadd hl a
pfadd hl2
pfadd hl2
pfcount hl
pfcount hl
pfmerge hl3 hl hl2
msetnx m1 1 m2 2
msetnx m1 1 m9 9
mset m1 1 m2 2
incr m1
decrby m1 0
rpush sl 3 1 2
sort sl store sdst
sort nol store sdst2
rename m1 m1
renamenx m1 m1
rename m1 m3
copy m3 m4
copy m3 m4
copy m3 m4 replace
move m4 3
move m4 3
select 3
set k3 v
select 0
swapdb 0 3
swapdb 0 3
swapdb 1 1
multi
set t1 1
incr t1
get t1
exec
multi
set t2 1
get t2
exec
multi
get t2
exec
eval "redis.call('set','e1','1'); redis.call('incr','e1'); return redis.call('get','e1')" 0
eval "redis.call('set','e2','1','EX',100)" 0
eval "return redis.call('get','e2')" 0
flushdb async
flushall sync
`

// propTimeSlack bounds the difference between the two servers' absolute
// times (they ran the same command a moment apart).
const propTimeSlack = 5000

func TestPropagationMatchesRedisAOF(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed: the comparison with Redis's own AOF is skipped (apt-get install redis-server)")
	}
	dir := t.TempDir()
	addr := startAOFRedis(t, bin, dir)
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	br := bufio.NewReader(nc)

	cfg := config.Default()
	st, err := store.New(store.Options{Databases: cfg.Databases, Shards: 16})
	if err != nil {
		t.Fatal(err)
	}
	srv := New(Options{Config: cfg, Store: st})
	sink := &capSink{}
	srv.SetAOFSink(sink)
	c := &client{srv: srv, authenticated: true, db: st.DB(0)}
	c.w.proto = 2

	for _, line := range strings.Split(propDiffScript, "\n") {
		args := splitScriptLine(line)
		if len(args) == 0 {
			continue
		}
		argv := make([][]byte, len(args))
		for i, a := range args {
			argv[i] = []byte(a)
		}
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := nc.Write(encodeRESP(argv...)); err != nil {
			t.Fatal(err)
		}
		if _, err := readRawReply(br); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		c.w.Reset()
		srv.dispatch(c, argv)
	}

	// appendfsync always: the file is complete once the replies came.
	files, _ := filepath.Glob(filepath.Join(dir, "appendonlydir", "*.incr.aof"))
	if len(files) != 1 {
		t.Fatalf("Redis's incr files: %v", files)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var redisCmds [][][]byte
	rd := bufio.NewReader(bytes.NewReader(raw))
	for {
		argv, err := readRESPArgv(rd)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading Redis's AOF: %v", err)
		}
		redisCmds = append(redisCmds, argv)
	}
	want := flattenDB(0, redisCmds)
	var got []string
	for _, r := range sink.take() {
		got = append(got, flattenDB(r.db, r.argvs)...)
	}
	// Redis's stream starts with SELECT 0, which flattenDB drops.
	for i := 0; i < max(len(got), len(want)); i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if !sameModuloTime(g, w) {
			t.Errorf("command %d: cachalot propagated %q, Redis wrote %q", i, g, w)
		}
	}
	if len(want) < 100 {
		t.Errorf("Redis's AOF holds only %d commands: the script did not run", len(want))
	}
	if t.Failed() {
		t.Logf("Redis:    %q", want)
		t.Logf("cachalot: %q", got)
	}
}

// flattenDB renders commands as "db: arg arg…", following SELECTs.
func flattenDB(db int, cmds [][][]byte) []string {
	var out []string
	for _, argv := range cmds {
		if len(argv) == 2 && equalFold(argv[0], "select") {
			db, _ = strconv.Atoi(string(argv[1]))
			continue
		}
		ws := make([]string, len(argv))
		for i, a := range argv {
			ws[i] = string(a)
		}
		out = append(out, strconv.Itoa(db)+": "+strings.Join(ws, " "))
	}
	return out
}

// sameModuloTime compares two rendered commands, allowing the argument
// after PXAT and PEXPIREAT's time to differ by propTimeSlack.
func sameModuloTime(a, b string) bool {
	if a == b {
		return true
	}
	fa, fb := strings.Fields(a), strings.Fields(b)
	if len(fa) != len(fb) {
		return false
	}
	for i := range fa {
		if fa[i] == fb[i] {
			continue
		}
		timeArg := i > 0 && (strings.EqualFold(fa[i-1], "PXAT") || (i == 3 && strings.EqualFold(fa[1], "PEXPIREAT")))
		x, err1 := strconv.ParseInt(fa[i], 10, 64)
		y, err2 := strconv.ParseInt(fb[i], 10, 64)
		if !timeArg || err1 != nil || err2 != nil || x-y > propTimeSlack || y-x > propTimeSlack {
			return false
		}
	}
	return true
}

// splitScriptLine splits on spaces, with "double quoted" arguments.
func splitScriptLine(line string) []string {
	var out []string
	line = strings.TrimSpace(line)
	for line != "" {
		if line[0] == '"' {
			end := strings.IndexByte(line[1:], '"')
			if end < 0 {
				return append(out, line[1:])
			}
			out = append(out, line[1:1+end])
			line = strings.TrimSpace(line[end+2:])
			continue
		}
		end := strings.IndexByte(line, ' ')
		if end < 0 {
			return append(out, line)
		}
		out = append(out, line[:end])
		line = strings.TrimSpace(line[end:])
	}
	return out
}

func startAOFRedis(t *testing.T, bin, dir string) string {
	t.Helper()
	for attempt := 0; attempt < 3; attempt++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
			"--appendonly", "yes", "--appendfsync", "always", "--dir", dir, "--daemonize", "no", "--logfile", "")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			nc, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				continue
			}
			nc.SetDeadline(time.Now().Add(time.Second))
			nc.Write(encodeRESP([]byte("PING")))
			line, _ := bufio.NewReader(nc).ReadString('\n')
			nc.Close()
			if line == "+PONG\r\n" {
				t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
				return addr
			}
		}
		cmd.Process.Kill()
		cmd.Wait()
		t.Logf("redis-server did not start on port %d: %s", port, out.String())
	}
	t.Fatal("redis-server did not start")
	return ""
}

// readRawReply reads one whole reply and returns it raw.
func readRawReply(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadBytes('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 {
		return nil, fmt.Errorf("short line %q", line)
	}
	n, _ := strconv.Atoi(string(line[1 : len(line)-2]))
	switch line[0] {
	case '$':
		if n < 0 {
			return line, nil
		}
		body := make([]byte, n+2)
		_, err := io.ReadFull(br, body)
		return append(line, body...), err
	case '*', '~', '%':
		if line[0] == '%' {
			n *= 2
		}
		out := line
		for i := 0; i < n; i++ {
			r, err := readRawReply(br)
			if err != nil {
				return nil, err
			}
			out = append(out, r...)
		}
		return out, nil
	}
	return line, nil
}

// readRESPArgv reads one command of an AOF (an array of bulk strings).
func readRESPArgv(br *bufio.Reader) ([][]byte, error) {
	line, err := br.ReadBytes('\n')
	if err != nil {
		if err == io.EOF && len(line) == 0 {
			return nil, io.EOF
		}
		return nil, err
	}
	if line[0] != '*' {
		return nil, fmt.Errorf("not an array: %q", line)
	}
	n, err := strconv.Atoi(string(line[1 : len(line)-2]))
	if err != nil {
		return nil, err
	}
	argv := make([][]byte, n)
	for i := range argv {
		h, err := br.ReadBytes('\n')
		if err != nil {
			return nil, err
		}
		l, err := strconv.Atoi(string(h[1 : len(h)-2]))
		if err != nil || h[0] != '$' {
			return nil, fmt.Errorf("bad bulk header %q", h)
		}
		body := make([]byte, l+2)
		if _, err := io.ReadFull(br, body); err != nil {
			return nil, err
		}
		argv[i] = body[:l]
	}
	return argv, nil
}
