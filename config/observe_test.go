package config

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestMetricsKeyPrefixes(t *testing.T) {
	tests := []struct {
		name    string
		args    []string // Load arguments; a TOML body goes through a file
		toml    string
		want    string // CONFIG GET form
		wantErr bool
	}{
		{name: "default", want: ""},
		{name: "flag", args: []string{"--metrics-key-prefixes", "session:,user:"}, want: "session:,user:"},
		{name: "flag with spaces and duplicates", args: []string{"--metrics-key-prefixes", "a:, b: ,a:"}, want: "a:,b:"},
		{name: "toml array", toml: `metrics-key-prefixes = ["session:", "user:"]`, want: "session:,user:"},
		{name: "toml string", toml: `metrics-key-prefixes = "x:,y:"`, want: "x:,y:"},
		{name: "toml empty array", toml: `metrics-key-prefixes = []`, want: ""},
		{name: "toml number", toml: `metrics-key-prefixes = 3`, wantErr: true},
		{name: "too many", args: []string{"--metrics-key-prefixes", manyPrefixes(33)}, wantErr: true},
		{name: "at the limit", args: []string{"--metrics-key-prefixes", manyPrefixes(32)}, want: manyPrefixes(32)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.toml != "" {
				args = append(args, "--config", writeConfig(t, tt.toml))
			}
			cfg, _, _, _, err := loadArgs(args...)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Load(%q) accepted it", args)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := cfg.Get("metrics-key-prefixes"); got != tt.want {
				t.Fatalf("metrics-key-prefixes = %q, want %q", got, tt.want)
			}
		})
	}
}

func manyPrefixes(n int) string {
	var p []string
	for i := 0; i < n; i++ {
		p = append(p, "p"+strconv.Itoa(i)+":")
	}
	return strings.Join(p, ",")
}

func TestKeyPrefixesList(t *testing.T) {
	cfg := Default()
	if cfg.KeyPrefixes() != nil {
		t.Fatalf("default: %q", cfg.KeyPrefixes())
	}
	// CONFIG SET path: Set with the comma form, read back as a list.
	if err := cfg.Set("metrics-key-prefixes", "user:,session:"); err != nil {
		t.Fatal(err)
	}
	if got := cfg.KeyPrefixes(); !reflect.DeepEqual(got, []string{"user:", "session:"}) {
		t.Fatalf("KeyPrefixes = %q", got)
	}
	if err := cfg.Set("metrics-key-prefixes", ""); err != nil || cfg.KeyPrefixes() != nil {
		t.Fatalf("clearing: %v, %q", err, cfg.KeyPrefixes())
	}
}
