package difftest

import (
	"bufio"
	"reflect"
	"strings"
	"testing"
)

// These tests check the harness itself and need no server.

func TestReadReply(t *testing.T) {
	cases := []string{
		"+OK\r\n",
		"-ERR unknown command 'x'\r\n",
		":-42\r\n",
		"$5\r\nhello\r\n",
		"$0\r\n\r\n",
		"$-1\r\n",
		"$4\r\na\r\nb\r\n",
		"*-1\r\n",
		"*0\r\n",
		"*3\r\n:1\r\n$1\r\na\r\n*2\r\n+x\r\n*0\r\n",
		"_\r\n",
		",3.14\r\n",
		",inf\r\n",
		"#t\r\n",
		"(3492890328409238509324850943850943825024385\r\n",
		"!21\r\nSYNTAX invalid syntax\r\n",
		"=15\r\ntxt:Some string\r\n",
		"%2\r\n+first\r\n:1\r\n+second\r\n%1\r\n+a\r\n_\r\n",
		"~2\r\n+a\r\n+b\r\n",
		">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nm\r\n",
		"|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n",
		"*2\r\n|1\r\n+ttl\r\n:3600\r\n:1\r\n:2\r\n",
		"$?\r\n;4\r\nHell\r\n;5\r\no wor\r\n;1\r\nd\r\n;0\r\n",
		"*?\r\n:1\r\n:2\r\n*?\r\n+x\r\n.\r\n.\r\n",
		"%?\r\n+a\r\n:1\r\n.\r\n",
	}
	for _, c := range cases {
		const trailer = "+NEXT\r\n"
		r := bufio.NewReader(strings.NewReader(c + trailer))
		got, err := ReadReply(r)
		if err != nil {
			t.Errorf("ReadReply(%q): %v", c, err)
			continue
		}
		if string(got) != c {
			t.Errorf("ReadReply(%q) = %q", c, got)
		}
		next, err := ReadReply(r)
		if err != nil || string(next) != trailer {
			t.Errorf("after %q: next reply %q, %v", c, next, err)
		}
	}
}

func TestReadReplyErrors(t *testing.T) {
	for _, c := range []string{
		"",
		"+OK\n",
		"$5\r\nhel",
		"$3\r\nabcd\r\n",
		"*2\r\n:1\r\n",
		"?what\r\n",
		"$x\r\n",
		"!-1\r\n",
		"%1\r\n+a\r\n",
	} {
		if got, err := ReadReply(bufio.NewReader(strings.NewReader(c))); err == nil {
			t.Errorf("ReadReply(%q) = %q, want an error", c, got)
		}
	}
}

func TestEncodeCommand(t *testing.T) {
	got := string(EncodeCommand("SET", "k", ""))
	want := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"
	if got != want {
		t.Errorf("EncodeCommand = %q, want %q", got, want)
	}
}

func TestSplitArgs(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   ", nil},
		{"PING", []string{"PING"}},
		{"  SET  k   v ", []string{"SET", "k", "v"}},
		{`SET k "a b"`, []string{"SET", "k", "a b"}},
		{`ECHO ""`, []string{"ECHO", ""}},
		{`ECHO "\n\r\t\b\a\"\\\q"`, []string{"ECHO", "\n\r\t\b\a\"\\q"}},
		{`ECHO "\x00\xFF\x4a\xzz"`, []string{"ECHO", "\x00\xff\x4axzz"}},
		{`ECHO 'it\'s "raw" \n'`, []string{"ECHO", `it's "raw" \n`}},
		{`ECHO ''`, []string{"ECHO", ""}},
		{`ECHO foo"bar baz"`, []string{"ECHO", "foobar baz"}},
		{"ECHO a\tb", []string{"ECHO", "a", "b"}},
	}
	for _, c := range cases {
		got, err := SplitArgs(c.in)
		if err != nil {
			t.Errorf("SplitArgs(%q): %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("SplitArgs(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for _, bad := range []string{`ECHO "abc`, `ECHO 'abc`, `ECHO "a"b`, `ECHO 'a'b`, `ECHO "abc\"`} {
		if got, err := SplitArgs(bad); err == nil {
			t.Errorf("SplitArgs(%q) = %q, want an error", bad, got)
		}
	}
}

func TestParseScript(t *testing.T) {
	src := "# comment\n\nPING\r\n  !sorted SMEMBERS s\n!resp3\n!resp2\n!skip-reply TIME\n!flushall\n!loose RANDOMKEY\n!error GET\n!sleep 5\n  # indented comment\n"
	steps, err := ParseScript([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	type short struct {
		Line int
		Mode Mode
		Args []string
	}
	var got []short
	for _, s := range steps {
		got = append(got, short{s.Line, s.Mode, s.Args})
	}
	want := []short{
		{3, ModeExact, []string{"PING"}},
		{4, ModeSorted, []string{"SMEMBERS", "s"}},
		{5, ModeResp3, nil},
		{6, ModeResp2, nil},
		{7, ModeIgnore, []string{"TIME"}},
		{8, ModeFlushAll, nil},
		{9, ModeLoose, []string{"RANDOMKEY"}},
		{10, ModeError, []string{"GET"}},
		{11, ModeSleep, nil},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseScript =\n%v\nwant\n%v", got, want)
	}
	for _, bad := range []string{"!bogus x\n", "!sorted\n", "!resp3 x\n", "SET k \"v\n", "!sleep x\n"} {
		if _, err := ParseScript([]byte(bad)); err == nil {
			t.Errorf("ParseScript(%q): want an error", bad)
		}
	}
}

func TestCompare(t *testing.T) {
	a := []byte("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n")
	b := []byte("*3\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n")
	if CompareExact(a, b) == "" {
		t.Error("CompareExact: reordered arrays compared equal")
	}
	if msg := CompareSorted(a, b); msg != "" {
		t.Errorf("CompareSorted: %s", msg)
	}
	if CompareSorted(a, []byte("*3\r\n$1\r\na\r\n$1\r\na\r\n$1\r\nb\r\n")) == "" {
		t.Error("CompareSorted: different multisets compared equal")
	}
	if CompareSorted(a, []byte("~3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n")) == "" {
		t.Error("CompareSorted: array and set compared equal")
	}
	m1 := []byte("%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n")
	m2 := []byte("%2\r\n+b\r\n:2\r\n+a\r\n:1\r\n")
	m3 := []byte("%2\r\n+b\r\n:1\r\n+a\r\n:2\r\n")
	if msg := CompareSorted(m1, m2); msg != "" {
		t.Errorf("CompareSorted maps: %s", msg)
	}
	if CompareSorted(m1, m3) == "" {
		t.Error("CompareSorted: maps with swapped values compared equal")
	}
	if CompareType([]byte(":1\r\n"), []byte(":2\r\n")) != "" || CompareType([]byte(":1\r\n"), []byte("+1\r\n")) == "" {
		t.Error("CompareType")
	}
	e := []byte("-ERR x\r\n")
	if CompareError(e, e) != "" || CompareError(e, []byte("-ERR y\r\n")) == "" || CompareError([]byte("+OK\r\n"), []byte("+OK\r\n")) == "" {
		t.Error("CompareError")
	}
	if ErrorText(e) != "ERR x" || ErrorText([]byte("!5\r\nERR z\r\n")) != "ERR z" {
		t.Error("ErrorText")
	}
}
