package config

import (
	"crypto/tls"
	"strings"
	"testing"
)

func TestTLSVersions(t *testing.T) {
	tests := []struct {
		in     string
		lo, hi uint16
		bad    bool
	}{
		{"", tls.VersionTLS12, tls.VersionTLS13, false},
		{"TLSv1.2", tls.VersionTLS12, tls.VersionTLS12, false},
		{"tlsv1.3", tls.VersionTLS13, tls.VersionTLS13, false},
		{"TLSv1.3 TLSv1.2", tls.VersionTLS12, tls.VersionTLS13, false},
		{"TLSv1.1", 0, 0, true},
		{"SSLv3 TLSv1.2", 0, 0, true},
	}
	for _, tt := range tests {
		lo, hi, err := TLSVersions(tt.in)
		if (err != nil) != tt.bad {
			t.Errorf("TLSVersions(%q) error = %v, want error %v", tt.in, err, tt.bad)
			continue
		}
		if !tt.bad && (lo != tt.lo || hi != tt.hi) {
			t.Errorf("TLSVersions(%q) = %x..%x, want %x..%x", tt.in, lo, hi, tt.lo, tt.hi)
		}
	}
}

func TestValidateTLS(t *testing.T) {
	tests := []struct {
		name string
		set  map[string]string
		want string // substring of the error, "" for none
	}{
		{"off", map[string]string{}, ""},
		{"no cert", map[string]string{"tls-port": "6380"}, "needs tls-cert-file"},
		{"no ca", map[string]string{"tls-port": "6380", "tls-cert-file": "c", "tls-key-file": "k"}, "needs tls-ca-cert-file"},
		{"no client auth", map[string]string{"tls-port": "6380", "tls-cert-file": "c", "tls-key-file": "k", "tls-auth-clients": "no"}, ""},
		{"optional", map[string]string{"tls-port": "6380", "tls-cert-file": "c", "tls-key-file": "k", "tls-ca-cert-file": "ca", "tls-auth-clients": "optional"}, ""},
		{"same port", map[string]string{"tls-port": "6379", "tls-cert-file": "c", "tls-key-file": "k", "tls-auth-clients": "no"}, "also the port"},
		{"tls only", map[string]string{"port": "0", "tls-port": "6380", "tls-cert-file": "c", "tls-key-file": "k", "tls-auth-clients": "no"}, ""},
	}
	for _, tt := range tests {
		cfg := Default()
		for k, v := range tt.set {
			if err := cfg.Set(k, v); err != nil {
				t.Fatalf("%s: Set(%s, %s): %v", tt.name, k, v, err)
			}
		}
		err := cfg.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: Validate() = %v, want nil", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: Validate() = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

func TestSupervisedBySystemd(t *testing.T) {
	tests := []struct {
		mode, socket string
		want         bool
	}{
		{"no", "/run/notify", false},
		{"systemd", "", true},
		{"systemd", "/run/notify", true},
		{"auto", "", false},
		{"auto", "@notify", true},
		{"upstart", "/run/notify", false},
	}
	for _, tt := range tests {
		cfg := Default()
		if err := cfg.Set("supervised", tt.mode); err != nil {
			t.Fatal(err)
		}
		if got := cfg.SupervisedBySystemd(tt.socket); got != tt.want {
			t.Errorf("supervised %s, NOTIFY_SOCKET %q: %v, want %v", tt.mode, tt.socket, got, tt.want)
		}
	}
	if err := Default().Set("supervised", "launchd"); err == nil || !strings.Contains(err.Error(), "upstart, systemd, auto, no") {
		t.Errorf("supervised launchd: %v, want Redis's enum reason", err)
	}
}

func TestDisableCommands(t *testing.T) {
	tests := []struct{ in, want, bad string }{
		{"", "", ""},
		{"FLUSHALL flushdb  Config", "flushall flushdb config", ""},
		{"KEYS keys KEYS", "keys", ""},
		{"config|set", "", "subcommands"},
	}
	for _, tt := range tests {
		cfg := Default()
		err := cfg.Set("disable-commands", tt.in)
		if tt.bad != "" {
			if err == nil || !strings.Contains(err.Error(), tt.bad) {
				t.Errorf("disable-commands %q: %v, want an error about %s", tt.in, err, tt.bad)
			}
			continue
		}
		if err != nil {
			t.Errorf("disable-commands %q: %v", tt.in, err)
			continue
		}
		if got, _ := cfg.Get("disable-commands"); got != tt.want {
			t.Errorf("disable-commands %q reads back %q, want %q", tt.in, got, tt.want)
		}
	}
}
