package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/store"
)

// -update regenerates testdata/command_info.json from a redis-server it
// starts on a free port: go test ./server/ -run TestCommandTableMatchesRedis -update
var updateGolden = flag.Bool("update", false, "regenerate testdata/command_info.json from the installed redis-server")

const commandGoldenPath = "testdata/command_info.json"

// goldenCommand is one command's entry in the golden file, as Redis 7.0's
// COMMAND INFO and COMMAND DOCS report it.
type goldenCommand struct {
	Arity         int      `json:"arity"`
	Flags         []string `json:"flags"`
	First         int      `json:"first"`
	Last          int      `json:"last"`
	Step          int      `json:"step"`
	ACLCategories []string `json:"acl_categories"`
	Tips          []string `json:"tips"`
	KeySpecs      any      `json:"key_specs"`
	Summary       string   `json:"summary"`
	Since         string   `json:"since"`
	Group         string   `json:"group"`
	Complexity    string   `json:"complexity"`
	History       []any    `json:"history,omitempty"`
	Arguments     any      `json:"arguments,omitempty"`
}

// docsByteCommands are the commands whose COMMAND DOCS reply must equal
// Redis's byte for byte; their RESP3 replies are in commandDocsRawPath.
var docsByteCommands = []string{"get", "set", "del", "expire", "ping"}

const commandDocsRawPath = "testdata/command_docs_resp3.json"

// commandTableExceptions are cachalot commands Redis 7.0 lacks, each with
// the reason it is there.
var commandTableExceptions = map[string]string{
	"client|setinfo":  "CLIENT SETINFO arrived in Redis 7.2; redis-cli and client libraries send it on connect",
	"client|no-touch": "CLIENT NO-TOUCH arrived in Redis 7.2; cachalot's connection group implements it",
	"cl.throttle":     "cachalot-only command",
	"gcra":            "cachalot-only command",
	"rl.take":         "cachalot-only command",
	"rl.mtake":        "cachalot-only command",
	"rl.inspect":      "cachalot-only command",
	"rl.refund":       "cachalot-only command",
	"rl.reset":        "cachalot-only command",
}

// --- a small RESP reader for the golden path and the reply checks ---

func readRESP(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, errors.New("empty line")
	}
	body := line[1:]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return errors.New(body), nil
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '_':
		return nil, nil
	case '#':
		return body == "t", nil
	case ',':
		return strconv.ParseFloat(body, 64)
	case '$', '=':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := ioReadFull(r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*', '~', '>':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil, nil
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = readRESP(r); err != nil {
				return nil, err
			}
		}
		return out, nil
	case '%':
		n, _ := strconv.Atoi(body)
		out := make([]any, 2*n) // maps as flat lists, like RESP2
		for i := range out {
			if out[i], err = readRESP(r); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("bad RESP line %q", line)
}

func ioReadFull(r *bufio.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func parseRESPBytes(t *testing.T, b []byte) any {
	t.Helper()
	v, err := readRESP(bufio.NewReader(bytes.NewReader(b)))
	if err != nil {
		t.Fatalf("parse %q: %v", b, err)
	}
	return v
}

func strs(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

func asInt(v any) int {
	n, _ := v.(int64)
	return int(n)
}

// flatMap turns a flat key/value list into a map.
func flatMap(v any) map[string]any {
	list, _ := v.([]any)
	m := make(map[string]any)
	for i := 0; i+1 < len(list); i += 2 {
		m[fmt.Sprint(list[i])] = list[i+1]
	}
	return m
}

// keySpecsJSON normalises a RESP2 key-spec list into JSON-able maps.
func keySpecsJSON(v any) any {
	list, _ := v.([]any)
	out := make([]any, 0, len(list))
	for _, ks := range list {
		m := flatMap(ks)
		spec := map[string]any{"flags": strs(m["flags"])}
		if n, ok := m["notes"]; ok {
			spec["notes"] = n
		}
		for _, part := range []string{"begin_search", "find_keys"} {
			pm := flatMap(m[part])
			inner := map[string]any{}
			for k, x := range flatMap(pm["spec"]) {
				if n, ok := x.(int64); ok {
					inner[k] = float64(n) // as JSON decodes numbers
				} else {
					inner[k] = x
				}
			}
			spec[part] = map[string]any{"type": pm["type"], "spec": inner}
		}
		out = append(out, spec)
	}
	return out
}

// infoToGolden converts one RESP2 COMMAND INFO entry into golden entries,
// recursing into subcommands.
func infoToGolden(v any, into map[string]*goldenCommand) {
	e, _ := v.([]any)
	if len(e) < 10 {
		return
	}
	name := fmt.Sprint(e[0])
	into[name] = &goldenCommand{
		Arity: asInt(e[1]), Flags: strs(e[2]), First: asInt(e[3]), Last: asInt(e[4]), Step: asInt(e[5]),
		ACLCategories: strs(e[6]), Tips: strs(e[7]), KeySpecs: keySpecsJSON(e[8]),
	}
	subs, _ := e[9].([]any)
	for _, s := range subs {
		infoToGolden(s, into)
	}
}

func docsToGolden(name string, v any, into map[string]*goldenCommand) {
	m := flatMap(v)
	if g := into[name]; g != nil {
		g.Summary = fmt.Sprint(m["summary"])
		if s, ok := m["since"]; ok {
			g.Since = fmt.Sprint(s)
		}
		g.Group = fmt.Sprint(m["group"])
		if s, ok := m["complexity"]; ok {
			g.Complexity = fmt.Sprint(s)
		}
		if h, ok := m["history"].([]any); ok {
			g.History = h
		}
		if a, ok := m["arguments"]; ok {
			g.Arguments = argsJSON(a)
		}
	}
	for sub, d := range flatMap(m["subcommands"]) {
		docsToGolden(sub, d, into)
	}
}

// argsJSON normalises a RESP2 COMMAND DOCS argument list into maps.
func argsJSON(v any) any {
	list, _ := v.([]any)
	out := make([]any, 0, len(list))
	for _, a := range list {
		m := flatMap(a)
		arg := map[string]any{}
		for k, x := range m {
			switch k {
			case "arguments":
				arg[k] = argsJSON(x)
			case "flags":
				arg[k] = strs(x)
			default:
				if n, ok := x.(int64); ok {
					arg[k] = float64(n)
				} else {
					arg[k] = x
				}
			}
		}
		out = append(out, arg)
	}
	return out
}

// captureRedisCommands starts redis-server on a free port and reads COMMAND
// INFO and COMMAND DOCS for every command it has.
func captureRedisCommands(t *testing.T) map[string]*goldenCommand {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--save", "", "--appendonly", "no", "--daemonize", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var conn net.Conn
	for i := 0; i < 100; i++ {
		if conn, err = net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if conn == nil {
		t.Fatalf("redis-server did not start: %v", err)
	}
	defer conn.Close()
	rd := bufio.NewReader(conn)
	send := func(args ...string) any {
		var b bytes.Buffer
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
		if _, err := conn.Write(b.Bytes()); err != nil {
			t.Fatal(err)
		}
		v, err := readRESP(rd)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	out := make(map[string]*goldenCommand)
	all, _ := send("COMMAND", "INFO").([]any)
	for _, e := range all {
		infoToGolden(e, out)
	}
	docs := flatMap(send("COMMAND", "DOCS"))
	for name, d := range docs {
		docsToGolden(name, d, out)
	}
	// Raw RESP3 COMMAND DOCS replies for the byte-for-byte commands.
	raw := make(map[string]string)
	send("HELLO", "3")
	for _, name := range docsByteCommands {
		var rec bytes.Buffer
		rd.Reset(io.TeeReader(conn, &rec))
		fmt.Fprintf(conn, "*3\r\n$7\r\nCOMMAND\r\n$4\r\nDOCS\r\n$%d\r\n%s\r\n", len(name), name)
		if _, err := readRESP(rd); err != nil {
			t.Fatal(err)
		}
		raw[name] = rec.String()
	}
	b, err := json.MarshalIndent(raw, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(commandDocsRawPath, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func loadCommandGolden(t *testing.T) map[string]*goldenCommand {
	t.Helper()
	if *updateGolden {
		g := captureRedisCommands(t)
		b, err := json.MarshalIndent(g, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(commandGoldenPath, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s: %d commands", commandGoldenPath, len(g))
	}
	b, err := os.ReadFile(commandGoldenPath)
	if err != nil {
		t.Fatal(err)
	}
	var g map[string]*goldenCommand
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g) < 200 {
		t.Fatalf("golden file has only %d commands", len(g))
	}
	return g
}

// allRows lists every row and subcommand row of a fresh table.
func allRows() []*command {
	t := buildTable(commandGroups()...)
	var rows []*command
	for _, c := range t.sorted {
		rows = append(rows, c)
		rows = append(rows, c.subs...)
	}
	return rows
}

// renderInfo renders one row's COMMAND INFO in RESP2 and reads it back.
func renderInfo(t *testing.T, c *command) *goldenCommand {
	t.Helper()
	w := Writer{proto: 2}
	writeCommandInfo(&w, c)
	m := make(map[string]*goldenCommand)
	infoToGolden(parseRESPBytes(t, w.Bytes()), m)
	return m[c.fullName]
}

func sameStrings(a, b []string) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

// TestCommandTableMatchesRedis checks every row's arity, flags, key
// positions and ACL categories against Redis 7.0's COMMAND INFO.
func TestCommandTableMatchesRedis(t *testing.T) {
	golden := loadCommandGolden(t)
	rows := allRows()
	if len(rows) == 0 {
		t.Fatal("no rows")
	}
	var bad []string
	for _, c := range rows {
		want, ok := golden[c.fullName]
		if !ok {
			if _, allowed := commandTableExceptions[c.fullName]; !allowed {
				bad = append(bad, c.fullName+": not a Redis 7.0 command (add it to commandTableExceptions with a reason)")
			}
			continue
		}
		got := renderInfo(t, c)
		if got == nil {
			bad = append(bad, c.fullName+": COMMAND INFO did not render")
			continue
		}
		var diffs []string
		if got.Arity != want.Arity {
			diffs = append(diffs, fmt.Sprintf("arity %d, want %d", got.Arity, want.Arity))
		}
		if !sameStrings(got.Flags, want.Flags) {
			diffs = append(diffs, fmt.Sprintf("flags %v, want %v", got.Flags, want.Flags))
		}
		if got.First != want.First || got.Last != want.Last || got.Step != want.Step {
			diffs = append(diffs, fmt.Sprintf("keys (%d,%d,%d), want (%d,%d,%d)", got.First, got.Last, got.Step, want.First, want.Last, want.Step))
		}
		if !sameStrings(got.ACLCategories, want.ACLCategories) {
			diffs = append(diffs, fmt.Sprintf("acl %v, want %v", got.ACLCategories, want.ACLCategories))
		}
		if len(diffs) > 0 {
			bad = append(bad, c.fullName+": "+strings.Join(diffs, "; "))
		}
	}
	for name, why := range commandTableExceptions {
		if why == "" {
			bad = append(bad, name+": exception without a reason")
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		t.Errorf("%d of %d rows differ from Redis 7.0:\n%s", len(bad), len(rows), strings.Join(bad, "\n"))
	}
}

// TestCommandInfoExtrasMatchRedis checks the rest of COMMAND INFO (tips,
// key specs) and the COMMAND DOCS texts (summary, since, group,
// complexity) against Redis 7.0.
func TestCommandInfoExtrasMatchRedis(t *testing.T) {
	golden := loadCommandGolden(t)
	rows := allRows()
	var bad []string
	checked := 0
	for _, c := range rows {
		want, ok := golden[c.fullName]
		if !ok {
			continue
		}
		checked++
		got := renderInfo(t, c)
		var diffs []string
		if !sameStrings(got.Tips, want.Tips) {
			diffs = append(diffs, fmt.Sprintf("tips %v, want %v", got.Tips, want.Tips))
		}
		gj, _ := json.Marshal(got.KeySpecs)
		wj, _ := json.Marshal(want.KeySpecs)
		var gn, wn any
		_ = json.Unmarshal(gj, &gn)
		_ = json.Unmarshal(wj, &wn)
		if !reflect.DeepEqual(gn, wn) {
			diffs = append(diffs, fmt.Sprintf("key specs %s, want %s", gj, wj))
		}
		for _, f := range []struct{ name, got, want string }{
			{"summary", c.summary, want.Summary}, {"since", c.since, want.Since},
			{"group", c.group, want.Group}, {"complexity", c.complexity, want.Complexity},
		} {
			if f.got != f.want {
				diffs = append(diffs, fmt.Sprintf("%s %q, want %q", f.name, f.got, f.want))
			}
		}
		if len(diffs) > 0 {
			bad = append(bad, c.fullName+": "+strings.Join(diffs, "; "))
		}
	}
	if checked == 0 {
		t.Fatal("no row checked")
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		t.Errorf("%d of %d rows differ from Redis 7.0:\n%s", len(bad), checked, strings.Join(bad, "\n"))
	}
}

// renderArgs renders a usage string's argument tree in RESP2 and
// normalises it like the golden file.
func renderArgs(t *testing.T, usage string) any {
	t.Helper()
	w := Writer{proto: 2}
	writeDocArgs(&w, parseUsage(usage))
	return argsJSON(parseRESPBytes(t, w.Bytes()))
}

// TestUsageParserMatchesRedis parses usage strings in Redis's docs syntax
// (annotated where Redis's names or versions can't be inferred) and
// compares the tree with the one Redis 7.0's COMMAND DOCS returns.
func TestUsageParserMatchesRedis(t *testing.T) {
	golden := loadCommandGolden(t)
	cases := []struct{ name, usage string }{
		{"get", "key"},
		{"del", "key [key ...]"},
		{"ping", "[message]"},
		{"set", "key value [NX | XX]@2.6.12 [GET]@6.2.0 [EX seconds@2.6.12 | PX milliseconds@2.6.12 | EXAT unix-time-seconds@6.2.0 | PXAT unix-time-milliseconds@6.2.0 | KEEPTTL@6.0.0]"},
		{"expire", "key seconds [NX | XX | GT | LT]@7.0.0"},
		{"mset", "key value [key value ...]"},
		{"hset", "key field value [field value ...]"},
		{"lmove", "source destination wherefrom=(LEFT | RIGHT) whereto=(LEFT | RIGHT)"},
		{"linsert", "key <BEFORE | AFTER> pivot element"},
		{"command|list", "[FILTERBY <MODULE module-name | ACLCAT category | PATTERN pattern>]"},
		{"command|info", "[command-name [command-name ...]]"},
		{"sinterstore", "destination key [key ...]"},
		{"getrange", "key start:integer end:integer"},
		{"incrbyfloat", "key increment:double"},
		{"rename", "key newkey"},
		{"lpush", "key element [element ...]"},
		{"object|encoding", "key"},
		{"echo", "message"},
		{"keys", "pattern"},
		{"expireat", "key unix-time-seconds [NX | XX | GT | LT]@7.0.0"},
		{"getex", "key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST]"},
		{"lpos", "key element [RANK rank:integer] [COUNT num-matches:integer] [MAXLEN len:integer]"},
		{"zrange", "key start:string stop:string [BYSCORE | BYLEX]@6.2.0 [REV]@6.2.0 [LIMIT offset count]@6.2.0 [WITHSCORES]"},
	}
	for _, tc := range cases {
		want, ok := golden[tc.name]
		if !ok {
			t.Errorf("%s: not in the golden file", tc.name)
			continue
		}
		got := renderArgs(t, tc.usage)
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want.Arguments)
		if string(gj) != string(wj) {
			t.Errorf("%s %q:\n got %s\nwant %s", tc.name, tc.usage, gj, wj)
		}
	}
}

// TestCommandDocsBytesMatchRedis: COMMAND DOCS for GET, SET, DEL, EXPIRE
// and PING must equal Redis 7.0's reply byte for byte (RESP3).
func TestCommandDocsBytesMatchRedis(t *testing.T) {
	b, err := os.ReadFile(commandDocsRawPath)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]string
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	tab := buildTable(commandGroups()...)
	for _, name := range docsByteCommands {
		want, ok := raw[name]
		if !ok {
			t.Errorf("%s: missing from %s", name, commandDocsRawPath)
			continue
		}
		c := tab.byName[name]
		if c == nil {
			t.Errorf("%s: no row", name)
			continue
		}
		w := Writer{proto: 3}
		w.Map(1)
		w.BulkString(c.fullName)
		writeCommandDocs(&w, c)
		if got := string(w.Bytes()); got != want {
			t.Errorf("COMMAND DOCS %s differs from Redis 7.0:\n got %q\nwant %q", name, got, want)
		}
	}
}

// cmdTestConn starts a server and returns a raw connection to it.
func cmdTestConn(t *testing.T) (net.Conn, *bufio.Reader, *Server) {
	t.Helper()
	cfg := config.Default()
	st, err := store.New(store.Options{Databases: cfg.Databases, Shards: 4})
	if err != nil {
		t.Fatal(err)
	}
	srv := New(Options{Config: cfg, Store: st})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, bufio.NewReader(conn), srv
}

func cmdTestDo(t *testing.T, conn net.Conn, rd *bufio.Reader, args ...string) any {
	t.Helper()
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	v, err := readRESP(rd)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return v
}

func TestCommandSubcommands(t *testing.T) {
	conn, rd, srv := cmdTestConn(t)
	errText := func(v any) string {
		if e, ok := v.(error); ok {
			return e.Error()
		}
		return fmt.Sprintf("not an error: %#v", v)
	}
	show := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	cases := []struct {
		args []string
		want string // JSON of the parsed reply, or "ERR…" for an error
	}{
		{[]string{"COMMAND", "GETKEYS", "set", "a", "b"}, `["a"]`},
		{[]string{"COMMAND", "GETKEYS", "del", "a", "b", "c"}, `["a","b","c"]`},
		{[]string{"command", "getkeys", "GET", "k"}, `["k"]`},
		{[]string{"COMMAND", "GETKEYSANDFLAGS", "set", "a", "b"}, `[["a",["OW","update"]]]`},
		{[]string{"COMMAND", "GETKEYSANDFLAGS", "set", "a", "b", "GET"}, `[["a",["RW","access","update"]]]`},
		{[]string{"COMMAND", "GETKEYSANDFLAGS", "get", "a"}, `[["a",["RO","access"]]]`},
		{[]string{"COMMAND", "GETKEYS", "nosuch", "a", "b"}, "ERR Invalid command specified"},
		{[]string{"COMMAND", "GETKEYS", "get", "a", "b"}, "ERR Invalid number of arguments specified for command"},
		{[]string{"COMMAND", "GETKEYS", "ping", "a"}, "ERR The command has no key arguments"},
		{[]string{"COMMAND", "GETKEYS", "command", "count"}, "ERR The command has no key arguments"},
		{[]string{"COMMAND", "GETKEYS", "command", "nosuch"}, "ERR Invalid command specified"},
		{[]string{"COMMAND", "GETKEYS", "get"}, "ERR wrong number of arguments for 'command|getkeys' command"},
		{[]string{"COMMAND", "INFO", "nosuch"}, `[null]`},
		{[]string{"COMMAND", "INFO", "command|count"}, `[["command|count",2,["loading","stale"],0,0,0,["@slow","@connection"],[],[],[]]]`},
		{[]string{"COMMAND", "LIST", "FILTERBY", "pattern", "command|c*"}, `["command|count"]`},
		{[]string{"COMMAND", "LIST", "FILTERBY", "module", "x"}, `[]`},
		{[]string{"COMMAND", "LIST", "FILTERBY", "aclcat", "nosuch"}, `[]`},
		{[]string{"COMMAND", "LIST", "FILTERBY", "bogus", "x"}, "ERR syntax error"},
		{[]string{"COMMAND", "LIST", "x"}, "ERR syntax error"},
		{[]string{"COMMAND", "COUNT", "x"}, "ERR wrong number of arguments for 'command|count' command"},
		{[]string{"COMMAND", "BADSUB"}, "ERR unknown subcommand 'BADSUB'. Try COMMAND HELP."},
		{[]string{"COMMAND", "DOCS", "nosuch"}, `[]`},
		{[]string{"COMMAND", "DOCS", "command|count"}, `["command|count",["summary","Get total number of Redis commands","since","2.8.13","group","server","complexity","O(1)"]]`},
	}
	for _, tc := range cases {
		got := cmdTestDo(t, conn, rd, tc.args...)
		if strings.HasPrefix(tc.want, "ERR") {
			if errText(got) != tc.want {
				t.Errorf("%v = %s, want error %q", tc.args, show(got), tc.want)
			}
			continue
		}
		if s := show(got); s != tc.want {
			t.Errorf("%v = %s, want %s", tc.args, s, tc.want)
		}
	}

	// COUNT, LIST and the bare COMMAND agree with the table.
	n := len(srv.table.sorted)
	if got := cmdTestDo(t, conn, rd, "COMMAND", "COUNT"); got != int64(n) {
		t.Errorf("COMMAND COUNT = %v, want %d", got, n)
	}
	all, _ := cmdTestDo(t, conn, rd, "COMMAND").([]any)
	if len(all) != n {
		t.Errorf("COMMAND returned %d entries, want %d", len(all), n)
	}
	list := strs(cmdTestDo(t, conn, rd, "COMMAND", "LIST"))
	rows := 0
	for _, c := range srv.table.sorted {
		rows += 1 + len(c.subs)
	}
	if len(list) != rows || !slicesContains(list, "command|getkeysandflags") {
		t.Errorf("COMMAND LIST has %d names, want %d including command|getkeysandflags", len(list), rows)
	}
	help := strs(cmdTestDo(t, conn, rd, "COMMAND", "HELP"))
	if len(help) == 0 || !strings.HasPrefix(help[0], "COMMAND <subcommand>") || help[len(help)-1] != "    Prints this help." {
		t.Errorf("COMMAND HELP = %q", help)
	}

	// RESP3: flags are a set, DOCS is a map, unknown INFO names are nulls.
	cmdTestDo(t, conn, rd, "HELLO", "3")
	var raw bytes.Buffer
	rd.Reset(io.TeeReader(conn, &raw))
	cmdTestDo(t, conn, rd, "COMMAND", "INFO", "nosuch", "command|count")
	want := "*2\r\n_\r\n*10\r\n$13\r\ncommand|count\r\n:2\r\n~2\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n~2\r\n+@slow\r\n+@connection\r\n~0\r\n~0\r\n~0\r\n"
	if raw.String() != want {
		t.Errorf("RESP3 COMMAND INFO = %q, want %q", raw.String(), want)
	}
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestParseUsageShapes covers the annotations and inference rules that the
// Redis comparison doesn't reach.
func TestParseUsageShapes(t *testing.T) {
	cases := []struct{ usage, want string }{
		{"", `[]`},
		{"[x ...]", `[{"flags":["optional","multiple"],"name":"x","type":"string"}]`},
		{"ADDR ip:port", `[{"name":"ip:port","token":"ADDR","type":"string"}]`},
		{"n:double", `[{"name":"n","type":"double"}]`},
		{"mode=[A | B]@7.0.0", `[{"arguments":[{"name":"a","token":"A","type":"pure-token"},{"name":"b","token":"B","type":"pure-token"}],"flags":["optional"],"name":"mode","since":"7.0.0","type":"oneof"}]`},
		{"[GET pattern [GET pattern ...]]", `[{"flags":["optional","multiple","multiple_token"],"name":"pattern","token":"GET","type":"pattern"}]`},
		{"source destination", `[{"key_spec_index":0,"name":"source","type":"key"},{"key_spec_index":1,"name":"destination","type":"key"}]`},
		{"streams=(STREAMS key [key ...] id [id ...])", `[{"arguments":[{"flags":["multiple"],"key_spec_index":0,"name":"key","type":"key"},{"flags":["multiple"],"name":"id","type":"string"}],"name":"streams","token":"STREAMS","type":"block"}]`},
		{"[KEYS key [key ...]]", `[{"flags":["optional","multiple"],"key_spec_index":0,"name":"key","token":"KEYS","type":"key"}]`},
		{"[unbalanced", `[{"flags":["optional"],"name":"unbalanced","type":"string"}]`},
	}
	for _, tc := range cases {
		got, _ := json.Marshal(renderArgs(t, tc.usage))
		if string(got) != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.usage, got, tc.want)
		}
	}
}

// TestCommandDocsEveryRow renders COMMAND DOCS and COMMAND INFO for every
// row in both protocols and checks each reply parses and every argument has
// a name and a known type (what redis-cli's hints need).
func TestCommandDocsEveryRow(t *testing.T) {
	rows := allRows()
	if len(rows) == 0 {
		t.Fatal("no rows")
	}
	var check func(name string, args any)
	check = func(name string, args any) {
		list, _ := args.([]any)
		for _, a := range list {
			m := flatMap(a)
			typ := fmt.Sprint(m["type"])
			if fmt.Sprint(m["name"]) == "" || !docArgTypes[typ] {
				t.Errorf("%s: argument %v has no name or an unknown type", name, m)
			}
			if typ == "oneof" || typ == "block" {
				check(name, m["arguments"])
			}
		}
	}
	for _, c := range rows {
		for _, proto := range []int{2, 3} {
			w := Writer{proto: proto}
			writeCommandDocs(&w, c)
			writeCommandInfo(&w, c)
			r := bufio.NewReader(bytes.NewReader(w.Bytes()))
			docs, err := readRESP(r)
			if err != nil {
				t.Fatalf("%s docs (RESP%d): %v", c.fullName, proto, err)
			}
			if _, err := readRESP(r); err != nil {
				t.Fatalf("%s info (RESP%d): %v", c.fullName, proto, err)
			}
			if r.Buffered() != 0 {
				t.Errorf("%s (RESP%d): %d stray bytes", c.fullName, proto, r.Buffered())
			}
			m := flatMap(docs)
			if m["summary"] == nil || m["group"] == nil {
				t.Errorf("%s: docs lack summary or group: %v", c.fullName, m)
			}
			check(c.fullName, m["arguments"])
		}
	}
}
