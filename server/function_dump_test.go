package server

import (
	"strings"
	"testing"
)

// TestFunctionRestoreAOF: a successful FUNCTION RESTORE reaches the AOF
// verbatim and a failed one does not, so a restart has exactly the
// restored libraries.
func TestFunctionRestoreAOF(t *testing.T) {
	dir := t.TempDir()
	srv, addr := startAOFServer(t, dir, "always", nil)
	c := dialRaw(t, addr)
	lib := "#!lua name=rlib\nredis.register_function('rf', function(keys, args) return 'restored' end)"
	var p []byte
	p = append(p, rdbOpcodeFunction2)
	p = appendDumpFooter(appendRDBString(p, []byte(lib)))
	if got := c.do("FUNCTION", "RESTORE", string(p)); got != "+OK\r\n" {
		t.Fatalf("FUNCTION RESTORE: %q", got)
	}
	if got := c.do("FUNCTION", "RESTORE", string(p)); got != "-ERR Library rlib already exists\r\n" {
		t.Fatalf("second FUNCTION RESTORE: %q", got)
	}
	bad := append([]byte(nil), p...)
	bad[3] ^= 1
	if got := c.do("FUNCTION", "RESTORE", string(bad), "FLUSH"); got != "-ERR DUMP payload version or checksum are wrong\r\n" {
		t.Fatalf("corrupt FUNCTION RESTORE: %q", got)
	}
	srv.CloseAOF()

	_, addr2 := startAOFServer(t, dir, "always", nil)
	d := dialRaw(t, addr2)
	if got := d.do("FCALL", "rf", "0"); got != "$8\r\n" {
		t.Fatalf("FCALL after restart: %q", got)
	}
	d.line()
	if got := d.do("FUNCTION", "DUMP"); got != "$"+itoa(len(p))+"\r\n" {
		t.Fatalf("FUNCTION DUMP after restart: %q, want %d bytes", got, len(p))
	}
	if got := d.line(); !strings.HasPrefix(got, "\xf5") {
		t.Fatalf("FUNCTION DUMP after restart: %q", got)
	}
}

// TestFunctionRestoreAllOrNothing: a payload whose second library fails
// leaves the libraries as they were, whatever the policy.
func TestFunctionRestoreAllOrNothing(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	c := dialRaw(t, addr)
	lib := func(name, fn string) string {
		return "#!lua name=" + name + "\nredis.register_function('" + fn + "', function() return '" + name + "' end)"
	}
	if got := c.do("FUNCTION", "LOAD", lib("a", "fa")); got != "$1\r\n" {
		t.Fatalf("FUNCTION LOAD: %q", got)
	}
	c.line()
	payload := func(codes ...string) string {
		var p []byte
		for _, code := range codes {
			p = appendRDBString(append(p, rdbOpcodeFunction2), []byte(code))
		}
		return string(appendDumpFooter(p))
	}
	cases := []struct{ payload, policy, want string }{
		{payload(lib("b", "fb"), "#!lua name=c\nreturn 1"), "FLUSH", "-ERR No functions registered\r\n"},
		{payload(lib("b", "fb"), lib("a", "fa2")), "APPEND", "-ERR Library a already exists\r\n"},
		{payload(lib("b", "FA")), "REPLACE", "-ERR Function FA already exists\r\n"},
		{payload(lib("b", "fb"), lib("b", "fc")), "FLUSH", "-ERR Library 'b' already exists\r\n"},
		{payload(lib("b", "fb")) + "x", "FLUSH", "-ERR DUMP payload version or checksum are wrong\r\n"},
	}
	for _, tc := range cases {
		if got := c.do("FUNCTION", "RESTORE", tc.payload, tc.policy); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.policy, got, tc.want)
		}
		if got := c.do("FCALL", "fa", "0"); got != "$1\r\n" {
			t.Fatalf("after %s: FCALL fa: %q", tc.policy, got)
		}
		c.line()
		if got := c.do("FCALL", "fb", "0"); got != "-ERR Function not found\r\n" {
			t.Fatalf("after %s: FCALL fb: %q", tc.policy, got)
		}
	}
	// REPLACE swaps library a for the payload's, FLUSH drops the rest.
	if got := c.do("FUNCTION", "RESTORE", payload(lib("a", "fa2"), lib("b", "fb")), "REPLACE"); got != "+OK\r\n" {
		t.Fatalf("REPLACE: %q", got)
	}
	if got := c.do("FCALL", "fa", "0"); got != "-ERR Function not found\r\n" {
		t.Fatalf("after REPLACE: FCALL fa: %q", got)
	}
	if got := c.do("FUNCTION", "RESTORE", payload(lib("c", "fc")), "FLUSH"); got != "+OK\r\n" {
		t.Fatalf("FLUSH: %q", got)
	}
	for fn, want := range map[string]string{"fa2": "-ERR Function not found\r\n", "fb": "-ERR Function not found\r\n", "fc": "$1\r\n"} {
		if got := c.do("FCALL", fn, "0"); got != want {
			t.Errorf("after FLUSH: FCALL %s: %q, want %q", fn, got, want)
		} else if want == "$1\r\n" {
			c.line()
		}
	}
}
