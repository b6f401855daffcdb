package server

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestFunctionKill: a function that loops forever makes other clients get
// the FUNCTION KILL flavour of -BUSY; SCRIPT KILL refuses to stop it,
// FUNCTION STATS shows it, FUNCTION KILL stops it.
func TestFunctionKill(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	looper, other := dialRaw(t, addr), dialRaw(t, addr)
	if got := txDo(other, "CONFIG", "SET", "lua-time-limit", "100"); got != "OK" {
		t.Fatalf("CONFIG SET lua-time-limit = %q", got)
	}
	if got := txDo(other, "CONFIG", "GET", "busy-reply-threshold"); got != "[busy-reply-threshold 100]" {
		t.Fatalf("CONFIG GET busy-reply-threshold = %q", got)
	}
	if got := txDo(other, "FUNCTION", "LOAD", "#!lua name=spin\nredis.register_function('spin', function() while true do end end)"); got != "spin" {
		t.Fatalf("FUNCTION LOAD = %q", got)
	}
	looper.nc.Write(encodeRESP([]byte("FCALL"), []byte("spin"), []byte("1"), []byte("k")))
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := txDo(other, "GET", "x")
		if got == string(errBusyFunction) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never got BUSY; last reply %q", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := txDo(other, "SCRIPT", "KILL"); got != string(errBusyFunction) {
		t.Fatalf("SCRIPT KILL on a function = %q", got)
	}
	if got := txDo(other, "FUNCTION", "STATS"); !strings.HasPrefix(got, "[running_script [name spin command [FCALL spin 1 k] duration_ms ") {
		t.Fatalf("FUNCTION STATS = %q", got)
	}
	if got := txDo(other, "FUNCTION", "KILL"); got != "OK" {
		t.Fatalf("FUNCTION KILL = %q", got)
	}
	looper.nc.SetDeadline(time.Now().Add(10 * time.Second))
	v, err := readRESP(looper.br)
	if err != nil || fmt.Sprint(v) != "ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2." {
		t.Fatalf("killed function's reply = %v, %v", v, err)
	}
	if got := txDo(other, "FUNCTION", "KILL"); got != string(errNotBusy) {
		t.Fatalf("FUNCTION KILL with nothing running = %q", got)
	}
	// FUNCTION KILL does not stop an EVAL script.
	looper.nc.Write(encodeRESP([]byte("EVAL"), []byte("while true do end"), []byte("0")))
	for {
		got := txDo(other, "FUNCTION", "KILL")
		if got == string(errBusy) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("FUNCTION KILL on a script never got BUSY; last reply %q", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := txDo(other, "SCRIPT", "KILL"); got != "OK" {
		t.Fatalf("SCRIPT KILL = %q", got)
	}
	looper.nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := readRESP(looper.br); err != nil {
		t.Fatal(err)
	}
	if got := txDo(other, "SET", "x", "1"); got != "OK" {
		t.Fatalf("SET after the kills = %q", got)
	}
}
