package config

import (
	"strings"
	"testing"
)

func TestNotifyFlags(t *testing.T) {
	tests := []struct {
		in, out string
		bad     bool
	}{
		{in: "", out: ""},
		{in: "KEA", out: "AKE"},
		{in: "KEAnm", out: "AKEm"}, // n is not shown next to A, as in Redis 7.0
		{in: "zxn$gK", out: "g$zxnK"},
		{in: "Ex", out: "xE"},
		{in: "g$lshzxetd", out: "A"},
		{in: "Q", bad: true},
	}
	for _, tt := range tests {
		f, err := ParseNotifyFlags(tt.in)
		if (err != nil) != tt.bad {
			t.Fatalf("ParseNotifyFlags(%q) error = %v", tt.in, err)
		}
		if tt.bad {
			continue
		}
		if got := FormatNotifyFlags(f); got != tt.out {
			t.Errorf("%q -> %q, want %q", tt.in, got, tt.out)
		}
	}
}

func TestClientOutputBufferLimitParam(t *testing.T) {
	tests := []struct {
		set, want, err string
	}{
		{set: "pubsub 1mb 0 0", want: "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 0 0"},
		{set: "replica 1 2 3 normal 4 5 6", want: "normal 4 5 6 slave 1 2 3 pubsub 33554432 8388608 60"},
		{set: "pubsub 1mb 0", err: "Wrong number of arguments in buffer limit configuration."},
		{set: "foo 1 1 1", err: "Invalid client class specified in buffer limit configuration."},
		{set: "pubsub 1 2 x", err: "Error in hard, soft or soft_seconds setting in buffer limit configuration."},
	}
	for _, tt := range tests {
		c := Default()
		err := c.Set("client-output-buffer-limit", tt.set)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Set(%q) error = %v, want %q", tt.set, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Set(%q): %v", tt.set, err)
		}
		if got, _ := c.Get("client-output-buffer-limit"); got != tt.want {
			t.Errorf("after %q: %q, want %q", tt.set, got, tt.want)
		}
	}
}
