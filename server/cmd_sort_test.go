package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSortScore(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"", 0, true},
		{"1", 1, true},
		{"  -2.5", -2.5, true},
		{"\t3", 3, true},
		{"0x10", 16, true},
		{"+5", 5, true},
		{"1e-300", 1e-300, true},
		{"0x1p-1040", 0x1p-1040, true}, // an exact subnormal: no ERANGE
		{"1\x00junk", 1, true},         // strtod stops at the NUL
		{"   ", 0, false},
		{"1 ", 0, false},
		{"abc", 0, false},
		{"nan", 0, false},
		{"1e400", 0, false},
		{"1e-400", 0, false},
		{"1e-310", 0, false}, // an inexact subnormal: ERANGE
		{"1_000", 0, false},
	}
	for _, tt := range tests {
		got, ok := sortScore([]byte(tt.in))
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("sortScore(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if f, ok := sortScore([]byte("-inf")); !ok || f > -1e308 {
		t.Errorf("sortScore(-inf) = %v, %v", f, ok)
	}
}

func TestPatternKey(t *testing.T) {
	tests := []struct {
		pattern, elem     string
		key, field        string
		hasField, derives bool
	}{
		{"w_*", "3", "w_3", "", false, true},
		{"*_w", "a", "a_w", "", false, true},
		{"u_*->age", "1", "u_1", "age", true, true},
		{"u_*->", "1", "u_1->", "", false, true},   // empty field: no dereference
		{"u->x_*", "1", "u->x_1", "", false, true}, // "->" before the star
		{"*->a->b", "k", "k", "a->b", true, true},  // the first "->" splits
		{"p*q\x00*r", "e", "pe" + "q\x00*r", "", false, true},
		{"#", "e", "", "", false, false},
		{"#\x00x", "e", "", "", false, false}, // C string: still "#"
		{"nosort", "e", "", "", false, false},
		{"a\x00*", "e", "", "", false, false}, // the star hides behind a NUL
	}
	for _, tt := range tests {
		key, field, hasField, ok := patternKey([]byte(tt.pattern), []byte(tt.elem))
		if ok != tt.derives || string(key) != tt.key || string(field) != tt.field || hasField != tt.hasField {
			t.Errorf("patternKey(%q, %q) = %q, %q, %v, %v; want %q, %q, %v, %v", tt.pattern, tt.elem,
				key, field, hasField, ok, tt.key, tt.field, tt.hasField, tt.derives)
		}
	}
}

func sortSplitArgs(s string) [][]byte {
	var out [][]byte
	for _, f := range strings.Fields(s) {
		out = append(out, []byte(f))
	}
	return out
}

func TestSortGetKeys(t *testing.T) {
	tests := []struct {
		argv string
		want []int
	}{
		{"SORT k", []int{1}},
		{"SORT k STORE d", []int{1, 3}},
		{"SORT k STORE d STORE e", []int{1, 5}},
		{"SORT k GET store STORE d", []int{1, 5}},
		{"SORT k BY store LIMIT 0 1 STORE d", []int{1, 8}},
		{"SORT k LIMIT store store STORE d", []int{1, 6}},
		{"SORT k STORE", []int{1}},
	}
	for _, tt := range tests {
		if got := sortGetKeys(sortSplitArgs(tt.argv)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("sortGetKeys(%q) = %v, want %v", tt.argv, got, tt.want)
		}
	}
}

func TestParseSortOpts(t *testing.T) {
	tests := []struct {
		argv     string
		readonly bool
		err      error
		check    func(o *sortOpts) bool
	}{
		{"SORT k", false, nil, func(o *sortOpts) bool { return o.limitCount == -1 && !o.desc && !o.alpha && o.by == nil }},
		{"SORT k desc ALPHA asc", false, nil, func(o *sortOpts) bool { return !o.desc && o.alpha }},
		{"SORT k BY nosort", false, nil, func(o *sortOpts) bool { return o.dontsort && string(o.by) == "nosort" }},
		{"SORT k BY w_* BY nosort", false, nil, func(o *sortOpts) bool { return o.dontsort }},
		{"SORT k BY nosort BY w_*", false, nil, func(o *sortOpts) bool { return o.dontsort && string(o.by) == "w_*" }},
		{"SORT k GET # GET a_*", false, nil, func(o *sortOpts) bool { return len(o.gets) == 2 }},
		{"SORT k LIMIT -1 5", false, nil, func(o *sortOpts) bool { return o.limitStart == -1 && o.limitCount == 5 }},
		{"SORT k STORE d", false, nil, func(o *sortOpts) bool { return string(o.store) == "d" }},
		{"SORT k STORE d", true, errSyntax, nil},
		{"SORT k LIMIT 1", false, errSyntax, nil},
		{"SORT k LIMIT x 1", false, errNotInteger, nil},
		{"SORT k BY", false, errSyntax, nil},
		{"SORT k foo", false, errSyntax, nil},
	}
	for _, tt := range tests {
		o, err := parseSortOpts(sortSplitArgs(tt.argv), tt.readonly)
		if err != tt.err {
			t.Errorf("%q (ro %v): err %v, want %v", tt.argv, tt.readonly, err, tt.err)
			continue
		}
		if err == nil && !tt.check(o) {
			t.Errorf("%q: unexpected options %+v", tt.argv, o)
		}
	}
}

// TestSortDocsMatchRedis checks the usage strings (with their pattern~1
// key_spec_index annotations) against Redis 7.0's COMMAND DOCS.
func TestSortDocsMatchRedis(t *testing.T) {
	golden := loadCommandGolden(t)
	tab := buildTable(commandGroups()...)
	for _, n := range []string{"sort", "sort_ro"} {
		want, ok := golden[n]
		if !ok {
			t.Fatalf("%s: not in the golden file", n)
		}
		gj, _ := json.Marshal(renderArgs(t, tab.byName[n].usage))
		wj, _ := json.Marshal(want.Arguments)
		if string(gj) != string(wj) {
			t.Errorf("%s:\n got %s\nwant %s", n, gj, wj)
		}
	}
}

func TestSortCommands(t *testing.T) {
	conn, rd, _ := cmdTestConn(t)
	do := func(args ...string) any { return cmdTestDo(t, conn, rd, args...) }
	arr := func(xs ...any) []any { return xs }
	setup := [][]string{
		{"RPUSH", "l", "3", "1", "2"},
		{"MSET", "w_1", "30", "w_2", "10", "w_3", "20"},
		{"HSET", "u_1", "name", "ann"},
		{"HSET", "u_3", "name", "cy"},
		{"SADD", "s", "b", "a", "c"},
		{"ZADD", "z", "1", "x", "2", "y", "3", "w"},
		{"SET", "str", "1"},
	}
	for _, c := range setup {
		do(c...)
	}
	tests := []struct {
		args []string
		want any
	}{
		{[]string{"SORT", "l"}, arr("1", "2", "3")},
		{[]string{"SORT", "l", "DESC", "LIMIT", "1", "5"}, arr("2", "1")},
		{[]string{"SORT", "l", "BY", "w_*"}, arr("2", "3", "1")},
		{[]string{"SORT", "l", "BY", "nosort", "DESC"}, arr("2", "1", "3")},
		{[]string{"SORT", "l", "BY", "w_*", "GET", "u_*->name", "GET", "#"}, arr(nil, "2", "cy", "3", "ann", "1")},
		{[]string{"SORT", "s", "ALPHA"}, arr("a", "b", "c")},
		{[]string{"SORT", "z", "BY", "nosort", "DESC"}, arr("w", "y", "x")},
		{[]string{"SORT_RO", "z", "ALPHA"}, arr("w", "x", "y")},
		{[]string{"OBJECT", "ENCODING", "z"}, "skiplist"},
		{[]string{"SORT", "s"}, fmt.Errorf("%s", errSortScore)},
		{[]string{"SORT", "str"}, fmt.Errorf("%s", errWrongType)},
		{[]string{"SORT_RO", "l", "STORE", "d"}, fmt.Errorf("%s", errSyntax)},
		{[]string{"SORT", "l", "GET", "u_*->name", "STORE", "d"}, int64(3)},
		{[]string{"LRANGE", "d", "0", "-1"}, arr("ann", "", "cy")},
		{[]string{"SORT", "s", "BY", "nosort", "STORE", "d"}, int64(3)},
		{[]string{"LRANGE", "d", "0", "-1"}, arr("a", "b", "c")},
		{[]string{"SORT", "nokey", "STORE", "d"}, int64(0)},
		{[]string{"EXISTS", "d"}, int64(0)},
	}
	for _, tt := range tests {
		got := do(tt.args...)
		if e, ok := tt.want.(error); ok {
			if ge, ok := got.(error); !ok || ge.Error() != e.Error() {
				t.Errorf("%v = %#v, want error %q", tt.args, got, e)
			}
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%v = %#v, want %#v", tt.args, got, tt.want)
		}
	}
}

// TestSortConcurrentWriters runs SORT … BY … GET while other clients keep
// changing the list and the keys the patterns read: the handler's own
// locking must neither deadlock nor race, and every reply must be a
// consistent snapshot (each GET answers the weight of its own element).
func TestSortConcurrentWriters(t *testing.T) {
	conn, rd, _ := cmdTestConn(t)
	do := func(args ...string) any { return cmdTestDo(t, conn, rd, args...) }
	for i := range 20 {
		do("RPUSH", "l", strconv.Itoa(i))
		do("SET", "w_"+strconv.Itoa(i), strconv.Itoa(100-i))
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 2)
	for g := range 2 {
		c2, err := net.Dial("tcp", conn.RemoteAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c2.Close() })
		rd2 := bufio.NewReader(c2)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				e := strconv.Itoa(20 + (n+g*7)%30)
				for _, cmd := range [][]string{{"RPUSH", "l", e}, {"SET", "w_" + e, e}, {"LPOP", "l"}} {
					if err := rawDo(c2, rd2, cmd...); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	for range 200 {
		got, ok := do("SORT", "l", "BY", "w_*", "GET", "#", "GET", "w_*").([]any)
		if !ok || len(got)%2 != 0 {
			t.Fatalf("SORT reply %#v", got)
		}
		prev := -1.0
		for i := 0; i < len(got); i += 2 {
			w := 0.0 // a weight not set yet sorts as 0, and GET answers nil
			if ws, ok := got[i+1].(string); ok {
				var err error
				if w, err = strconv.ParseFloat(ws, 64); err != nil {
					t.Fatalf("weight %q: %v", ws, err)
				}
			}
			if w < prev {
				t.Fatalf("not sorted by weight: %v", got)
			}
			prev = w
		}
	}
	close(stop)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
}

// rawDo sends one command and reads its reply, for goroutines (which must
// not call t.Fatal).
func rawDo(conn net.Conn, rd *bufio.Reader, args ...string) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write(b.Bytes()); err != nil {
		return err
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	v, err := readRESP(rd)
	if err != nil {
		return err
	}
	if e, ok := v.(error); ok {
		return fmt.Errorf("%v: %v", args, e)
	}
	return nil
}
