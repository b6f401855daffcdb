package server

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// TestLuaRespRoundTrip converts command replies into Lua values and back
// (RESP2 script mode): what a script returns from redis.call unchanged is
// what the command replied, except for the conversions Redis makes.
func TestLuaRespRoundTrip(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	tests := []struct{ in, want string }{
		{"+OK\r\n", "+OK\r\n"},
		{"-ERR bad\r\n", "-ERR bad\r\n"},
		{":42\r\n", ":42\r\n"},
		{":-7\r\n", ":-7\r\n"},
		{"$5\r\nhello\r\n", "$5\r\nhello\r\n"},
		{"$0\r\n\r\n", "$0\r\n\r\n"},
		{"$-1\r\n", "$-1\r\n"}, // null → false → null
		{"*-1\r\n", "$-1\r\n"}, // null array → false → null bulk
		{"*0\r\n", "*0\r\n"},   // empty array
		{"*2\r\n:1\r\n$1\r\na\r\n", "*2\r\n:1\r\n$1\r\na\r\n"},
		{"*2\r\n*1\r\n:1\r\n+x\r\n", "*2\r\n*1\r\n:1\r\n+x\r\n"},
		{"#t\r\n", ":1\r\n"},          // RESP3 true → Lua true → 1
		{"#f\r\n", "$-1\r\n"},         // RESP3 false → Lua false → null
		{",1.5\r\n", "$3\r\n1.5\r\n"}, // double table back as a double (a bulk in RESP2)
		{"_\r\n", "$-1\r\n"},          // RESP3 null → nil
	}
	for _, tt := range tests {
		v, rest, err := respToLua(L, []byte(tt.in))
		if err != nil || len(rest) != 0 {
			t.Fatalf("respToLua(%q): %v, %d bytes left", tt.in, err, len(rest))
		}
		var w Writer
		w.proto = 2
		luaToResp(&w, v, 2, L)
		if got := string(w.Bytes()); got != tt.want {
			t.Errorf("%q → %v → %q, want %q", tt.in, v, got, tt.want)
		}
	}
}

func TestLuaNumberConversions(t *testing.T) {
	tests := []struct {
		f    float64
		str  string
		want int64
	}{
		{1, "1", 1}, {3.99, "3.99", 3}, {-3.99, "-3.99", -3}, {1.5, "1.5", 1},
		{100, "100", 100}, {1e20, "1e+20", -9223372036854775808}, {0.1, "0.1", 0},
	}
	for _, tt := range tests {
		if got := luaNumberString(tt.f); got != tt.str {
			t.Errorf("luaNumberString(%v) = %q, want %q", tt.f, got, tt.str)
		}
		if got := luaToInt(tt.f); got != tt.want {
			t.Errorf("luaToInt(%v) = %d, want %d", tt.f, got, tt.want)
		}
	}
}

func TestEvalErrorsAndCache(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	c := dialRaw(t, addr)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"EVAL", "return 1", "-1"}, "ERR Number of keys can't be negative"},
		{[]string{"EVAL", "return 1", "2", "a"}, "ERR Number of keys can't be greater than number of args"},
		{[]string{"EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"}, "NOSCRIPT No matching script. Please use EVAL."},
		{[]string{"EVAL", "return redis.call('nosuch')", "0"},
			"ERR Unknown Redis command called from script script: 206396248e12c6e742fd7296250433c8d7343b74, on @user_script:1."},
		{[]string{"EVAL", "return x", "0"},
			"ERR user_script:1: Script attempted to access nonexistent global variable 'x' script: 03c387736bb5cc009ff35151572cee04677aa374, on @user_script:1."},
		{[]string{"EVAL", "return {KEYS[1], ARGV[1], #ARGV}", "1", "k", "v", "w"}, "[k v 2]"},
		{[]string{"SCRIPT", "LOAD", "return 'cached'"}, "952f49ffc8f7b098d8ab5da45d3164ca36ed18b1"},
		{[]string{"EVALSHA", "952F49FFC8F7B098D8AB5DA45D3164CA36ED18B1", "0"}, "cached"},
		{[]string{"SCRIPT", "EXISTS", "952f49ffc8f7b098d8ab5da45d3164ca36ed18b1", "00"}, "[1 0]"},
		{[]string{"SCRIPT", "FLUSH"}, "OK"},
		{[]string{"SCRIPT", "EXISTS", "952f49ffc8f7b098d8ab5da45d3164ca36ed18b1"}, "[0]"},
		{[]string{"EVAL_RO", "return redis.call('set', 'a', 'b')", "0"},
			"ERR Write commands are not allowed from read-only scripts. script: 1ec5c8569e0cb2caa15ae94d564a56e22a60ce3e, on @user_script:1."},
		{[]string{"SCRIPT", "KILL"}, "NOTBUSY No scripts in execution right now."},
	}
	for _, tt := range tests {
		if got := txDo(c, tt.args...); got != tt.want {
			t.Errorf("%q = %q, want %q", tt.args, got, tt.want)
		}
	}
}

// TestScriptIsAtomic: a script touching keys it did not declare is still
// atomic — a concurrent reader never sees it half done.
func TestScriptIsAtomic(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	w, r := dialRaw(t, addr), dialRaw(t, addr)
	const rounds = 300
	script := "for _, k in ipairs({'p','q','r','s'}) do redis.call('incr', k) end return 1"
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < rounds; i++ {
			txDo(w, "EVAL", script, "0")
		}
	}()
	for {
		got := txDo(r, "MGET", "p", "q", "r", "s")
		var a, b, c, d string
		fmt.Sscanf(got, "[%s %s %s %s]", &a, &b, &c, &d)
		if a != b || b != c || c != strings4(d) {
			t.Fatalf("MGET saw a partial script: %s", got)
		}
		if a == fmt.Sprint(rounds) {
			break
		}
	}
	wg.Wait()
}

// TestScriptKill: a script that loops forever makes other clients get
// -BUSY after the threshold; SCRIPT KILL stops it and the server goes on.
func TestScriptKill(t *testing.T) {
	_, addr, _ := startTestServer(t, nil, func(s *Server) { s.lua.busyMs.Store(100) })
	looper, other := dialRaw(t, addr), dialRaw(t, addr)
	looper.nc.Write(encodeRESP([]byte("EVAL"), []byte("while true do end"), []byte("0")))
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := txDo(other, "GET", "x")
		if got == string(errBusy) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never got BUSY; last reply %q", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := txDo(other, "SCRIPT", "SCRIPT"); got == "OK" {
		t.Fatalf("unknown subcommand accepted")
	}
	if got := txDo(other, "SCRIPT", "KILL"); got != "OK" {
		t.Fatalf("SCRIPT KILL = %q", got)
	}
	looper.nc.SetDeadline(time.Now().Add(10 * time.Second))
	v, err := readRESP(looper.br)
	if err != nil || !strings.HasPrefix(fmt.Sprint(v), "ERR Script killed by user with SCRIPT KILL... script: ") {
		t.Fatalf("killed script's reply = %v, %v", v, err)
	}
	if got := txDo(other, "SET", "x", "1"); got != "OK" {
		t.Fatalf("SET after the kill = %q", got)
	}
	if got := txDo(other, "SCRIPT", "KILL"); got != string(errNotBusy) {
		t.Fatalf("SCRIPT KILL with no script = %q", got)
	}
	if got := txDo(looper, "EVAL", "return redis.call('get', 'x')", "0"); got != "1" {
		t.Fatalf("EVAL after the kill = %q", got)
	}
	// A script that wrote cannot be killed.
	looper.nc.Write(encodeRESP([]byte("EVAL"), []byte("redis.call('set','y','1') local t0 = redis.call('time') local s0 = t0[1]*1000000+t0[2] while true do local t = redis.call('time') if t[1]*1000000+t[2]-s0 > 1500000 then break end end return 'done'"), []byte("0")))
	for {
		got := txDo(other, "SCRIPT", "KILL")
		if got == string(errUnkillable) {
			break
		}
		if time.Now().After(deadline.Add(20 * time.Second)) {
			t.Fatalf("never got UNKILLABLE; last reply %q", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	looper.nc.SetDeadline(time.Now().Add(60 * time.Second))
	if v, err := readRESP(looper.br); err != nil || fmt.Sprint(v) != "done" {
		t.Fatalf("unkillable script's reply = %v, %v", v, err)
	}
}
