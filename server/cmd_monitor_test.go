package server

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// Golden lines as redis-server 7.0 printed them for the same calls.
func TestMonitorLineFormat(t *testing.T) {
	at := time.Unix(1795754598, 256493000)
	tests := []struct {
		argv []string
		want string
	}{
		{[]string{"set", `k"x`, "a\tb\x01"}, `+1795754598.256493 [0 127.0.0.1:43820] "set" "k\"x" "a\tb\x01"` + "\r\n"},
		{[]string{"get", "a\\b\r\n\a\b\xff"}, `+1795754598.256493 [0 127.0.0.1:43820] "get" "a\\b\r\n\a\b\xff"` + "\r\n"},
	}
	for _, tt := range tests {
		var argv [][]byte
		for _, a := range tt.argv {
			argv = append(argv, []byte(a))
		}
		if got := string(monitorLine(nil, at, 0, "127.0.0.1:43820", argv)); got != tt.want {
			t.Errorf("monitorLine(%q)\n got %q\nwant %q", tt.argv, got, tt.want)
		}
	}
	if got := string(monitorLine(nil, time.Unix(5, 42000), 3, "unix:/tmp/s", [][]byte{[]byte("ping")})); got != "+5.000042 [3 unix:/tmp/s] \"ping\"\r\n" {
		t.Errorf("microsecond padding: %q", got)
	}
}

func TestSlowlogTruncation(t *testing.T) {
	var l slowLog
	c := &client{addr: "127.0.0.1:1", name: "n"}
	argv := [][]byte{[]byte("rpush"), []byte("l")}
	for i := 1; i <= 35; i++ {
		argv = append(argv, []byte(strconv.Itoa(i)))
	}
	l.push(c, argv, 5, 2)
	l.push(c, [][]byte{[]byte("set"), []byte("big"), []byte(strings.Repeat("x", 200))}, 6, 2)
	l.push(c, [][]byte{[]byte("auth"), []byte("secret")}, 7, 2)
	if len(l.entries) != 2 {
		t.Fatalf("max len 2 kept %d entries", len(l.entries))
	}
	if e := l.entries[0]; e.id != 2 || string(e.argv[1]) != "(redacted)" {
		t.Errorf("newest entry %d %q", e.id, e.argv)
	}
	big := l.entries[1].argv[2]
	if want := strings.Repeat("x", 128) + "... (72 more bytes)"; string(big) != want {
		t.Errorf("long string kept as %q", big)
	}
	var m slowLog
	m.push(c, argv, 5, 10)
	e := m.entries[0].argv
	if len(e) != 32 || string(e[31]) != "... (6 more arguments)" || string(e[30]) != "29" {
		t.Errorf("argv kept %d args, last %q", len(e), e[len(e)-1])
	}
}

func TestLatencyHistBuckets(t *testing.T) {
	for _, ns := range []int64{0, 1023, 1024, 1500, 2047, 2048, 1e6, 5e9, 1e12} {
		i := latBucket(ns)
		if ns >= latBucketUpper(i) && i != latHistBuckets-1 {
			t.Errorf("%d ns in bucket %d with upper bound %d", ns, i, latBucketUpper(i))
		}
		if i > 0 && ns < latBucketUpper(i-1) {
			t.Errorf("%d ns in bucket %d but below the previous bound %d", ns, i, latBucketUpper(i-1))
		}
	}
	var h latencyHist
	for i := 0; i < 99; i++ {
		h.observe(10 * time.Microsecond)
	}
	h.observe(10 * time.Millisecond)
	c, total := h.counts()
	if p50 := percentileUsec(&c, total, 50); p50 < 10 || p50 > 12.5 {
		t.Errorf("p50 = %v µs, want the bucket holding 10 µs", p50)
	}
	if p999 := percentileUsec(&c, total, 99.9); p999 < 10000 || p999 > 12500 {
		t.Errorf("p99.9 = %v µs, want the bucket holding 10 ms", p999)
	}
}
