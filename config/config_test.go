package config

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDefaultValues(t *testing.T) {
	// CONFIG GET output of a fresh server, in Redis notation.
	want := map[string]string{
		"port":                        "6379",
		"bind":                        "127.0.0.1 -::1",
		"unixsocket":                  "",
		"requirepass":                 "",
		"databases":                   "16",
		"maxclients":                  "10000",
		"event-loops":                 "0",
		"timeout":                     "0",
		"tcp-keepalive":               "300",
		"loglevel":                    "notice",
		"logfile":                     "",
		"maxmemory":                   "0",
		"maxmemory-policy":            "noeviction",
		"maxmemory-samples":           "5",
		"maxmemory-eviction-tenacity": "10",
		"lfu-log-factor":              "10",
		"lfu-decay-time":              "1",
		"hash-max-listpack-entries":   "128",
		"hash-max-listpack-value":     "64",
		"set-max-intset-entries":      "512",
		"zset-max-listpack-entries":   "128",
		"zset-max-listpack-value":     "64",
		"list-max-listpack-size":      "-2",
		"list-compress-depth":         "0",
		"hll-sparse-max-bytes":        "3000",
		"appendonly":                  "no",
		"appendfsync":                 "everysec",
		"appendfilename":              "appendonly.aof",
		"appenddirname":               "appendonlydir",
		"dir":                         ".",
		"auto-aof-rewrite-percentage": "100",
		"auto-aof-rewrite-min-size":   "67108864",
		"aof-load-truncated":          "yes",
		"hz":                          "10",
		"proto-max-bulk-len":          "536870912",
		"client-query-buffer-limit":   "1073741824",
		"enable-debug-command":        "no",
		"shards":                      "256",
		"metrics-addr":                "127.0.0.1:9121",
		"metrics-pprof":               "no",
		"metrics-key-prefixes":        "",
		"latency-monitor-threshold":   "0",
		"log-format":                  "text",
		"notify-keyspace-events":      "",
		"client-output-buffer-limit":  "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
		"tracking-table-max-keys":     "1000000",
		"lazyfree-lazy-user-flush":    "no",
		"latency-tracking":            "yes",
		"slowlog-log-slower-than":     "10000",
		"slowlog-max-len":             "128",
		"aclfile":                     "",
		"acllog-max-len":              "128",
		"busy-reply-threshold":        "5000",
		"save":                        "",
		"protected-mode":              "yes",
		"daemonize":                   "no",
		"supervised":                  "no",
		"pidfile":                     "",
		"shutdown-timeout":            "10",
		"disable-commands":            "",
		"tls-port":                    "0",
		"tls-cert-file":               "",
		"tls-key-file":                "",
		"tls-ca-cert-file":            "",
		"tls-auth-clients":            "yes",
		"tls-protocols":               "",
	}
	cfg := Default()
	if len(Params()) != len(want) {
		t.Errorf("table has %d parameters, test expects %d", len(Params()), len(want))
	}
	for name, value := range want {
		got, ok := cfg.Get(name)
		if !ok {
			t.Errorf("Get(%q): unknown parameter", name)
			continue
		}
		if got != value {
			t.Errorf("Get(%q) = %q, want %q", name, got, value)
		}
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Default().Validate() = %v", err)
	}
	if cfg.TCPKeepalive != 300*time.Second {
		t.Errorf("TCPKeepalive = %v, want 5m", cfg.TCPKeepalive)
	}
}

func TestSetAndGet(t *testing.T) {
	tests := []struct {
		name, value string
		want        string // CONFIG GET output after a successful Set
	}{
		{"port", "6380", "6380"},
		{"port", "0", "0"},
		{"port", "65535", "65535"},
		{"PORT", "7000", "7000"}, // names are case-insensitive
		{"bind", "127.0.0.1 ::1", "127.0.0.1 ::1"},
		{"bind", "  *   -::*  ", "* -::*"},
		{"maxmemory", "2gb", "2147483648"},
		{"maxmemory", "2g", "2000000000"},
		{"maxmemory", "100mb", "104857600"},
		{"maxmemory", "1K", "1000"},
		{"maxmemory", "0", "0"},
		{"proto-max-bulk-len", "1mb", "1048576"},
		{"client-query-buffer-limit", "2gb", "2147483648"},
		{"appendonly", "yes", "yes"},
		{"appendonly", "YES", "yes"},
		{"appendonly", "no", "no"},
		{"maxmemory-policy", "allkeys-lru", "allkeys-lru"},
		{"maxmemory-policy", "ALLKEYS-LFU", "allkeys-lfu"}, // canonical spelling stored
		{"loglevel", "warning", "warning"},
		{"loglevel", "nothing", "nothing"},
		{"appendfsync", "always", "always"},
		{"enable-debug-command", "local", "local"},
		{"hz", "1", "1"},
		{"hz", "500", "500"},
		{"maxmemory-eviction-tenacity", "0", "0"},
		{"maxmemory-eviction-tenacity", "100", "100"},
		{"maxmemory-samples", "64", "64"},
		{"timeout", "30", "30"},
		{"tcp-keepalive", "0", "0"},
		{"shards", "1", "1"},
		{"shards", "65536", "65536"},
		{"shards", "1024", "1024"},
		{"metrics-addr", "127.0.0.1:9121", "127.0.0.1:9121"},
		{"metrics-addr", ":9121", ":9121"},
		{"metrics-addr", "[::1]:9121", "[::1]:9121"},
		{"metrics-addr", "", ""},
		{"slowlog-log-slower-than", "-1", "-1"},
		{"slowlog-log-slower-than", "0", "0"},
		{"slowlog-max-len", "0", "0"},
		{"save", "", ""},
		{"save", "3600 1  300 100", "3600 1 300 100"},
		{"daemonize", "no", "no"},
		{"requirepass", "s3cret with spaces", "s3cret with spaces"},
		{"dir", "/var/lib/cachalot", "/var/lib/cachalot"},
		{"appendfilename", "cachalot.aof", "cachalot.aof"},
		{"databases", "1", "1"},
		{"maxclients", "1", "1"},
		{"maxclients", "4294967295", "4294967295"},
	}
	for _, tt := range tests {
		cfg := Default()
		if err := cfg.Set(tt.name, tt.value); err != nil {
			t.Errorf("Set(%q, %q) = %v", tt.name, tt.value, err)
			continue
		}
		if got, _ := cfg.Get(tt.name); got != tt.want {
			t.Errorf("after Set(%q, %q), Get = %q, want %q", tt.name, tt.value, got, tt.want)
		}
		if err := cfg.Validate(); err != nil && tt.name != "port" {
			t.Errorf("after Set(%q, %q), Validate = %v", tt.name, tt.value, err)
		}
	}
}

func TestSetRefusesWithRedisReasons(t *testing.T) {
	policies := "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"
	tests := []struct {
		name, value string
		reason      string
	}{
		{"maxmemory", "abc", "argument must be a memory value"},
		{"maxmemory", "-1", "argument must be a memory value"},
		{"maxmemory", "1.5gb", "argument must be a memory value"},
		{"maxmemory", "", "argument must be a memory value"},
		{"proto-max-bulk-len", "1000", "argument must be between 1048576 and 9223372036854775807 inclusive"},
		{"client-query-buffer-limit", "1kb", "argument must be between 1048576 and 9223372036854775807 inclusive"},
		{"port", "abc", "argument couldn't be parsed into an integer"},
		{"port", "6379.0", "argument couldn't be parsed into an integer"},
		{"port", "+6379", "argument couldn't be parsed into an integer"},
		{"port", "65536", "argument must be between 0 and 65535 inclusive"},
		{"port", "-1", "argument must be between 0 and 65535 inclusive"},
		{"hz", "0", "argument must be between 1 and 500 inclusive"},
		{"hz", "501", "argument must be between 1 and 500 inclusive"},
		{"maxmemory-samples", "0", "argument must be between 1 and 2147483647 inclusive"},
		{"maxmemory-eviction-tenacity", "101", "argument must be between 0 and 100 inclusive"},
		{"databases", "0", "argument must be between 1 and 2147483647 inclusive"},
		{"maxclients", "0", "argument must be between 1 and 4294967295 inclusive"},
		{"timeout", "-1", "argument must be between 0 and 2147483647 inclusive"},
		{"slowlog-log-slower-than", "-2", "argument must be between -1 and 9223372036854775807 inclusive"},
		{"appendonly", "true", "argument must be 'yes' or 'no'"},
		{"appendonly", "1", "argument must be 'yes' or 'no'"},
		{"protected-mode", "", "argument must be 'yes' or 'no'"},
		{"maxmemory-policy", "lru", policies},
		{"maxmemory-policy", "", policies},
		{"loglevel", "info", "argument(s) must be one of the following: debug, verbose, notice, warning, nothing"},
		{"appendfsync", "sometimes", "argument(s) must be one of the following: everysec, always, no"},
		{"enable-debug-command", "maybe", "argument(s) must be one of the following: no, yes, local"},
		{"shards", "3", "argument must be a power of two between 1 and 65536 inclusive"},
		{"shards", "0", "argument must be a power of two between 1 and 65536 inclusive"},
		{"shards", "131072", "argument must be a power of two between 1 and 65536 inclusive"},
		{"shards", "x", "argument couldn't be parsed into an integer"},
		{"appendfilename", "", "appendfilename can't be empty"},
		{"appendfilename", "dir/file.aof", "appendfilename can't be a path, just a filename"},
		{"appenddirname", "", "appenddirname can't be empty"},
		{"appenddirname", "a/b", "appenddirname can't be a path, just a dirname"},
		{"save", "3600", "Invalid save parameters"},
		{"save", "0 1", "Invalid save parameters"},
		{"save", "60 -1", "Invalid save parameters"},
		{"save", "60 x", "Invalid save parameters"},
		{"bind", "", `argument must name at least one address (use "*" for all interfaces)`},
		{"bind", strings.Repeat("127.0.0.1 ", 17), "Too many bind addresses specified."},
		{"metrics-addr", "9121", `argument must be empty or host:port, e.g. "127.0.0.1:9121"`},
		{"metrics-addr", "localhost:0", `argument must be empty or host:port, e.g. "127.0.0.1:9121"`},
		{"metrics-addr", "localhost:http", `argument must be empty or host:port, e.g. "127.0.0.1:9121"`},
		{"dir", "", "argument must not be empty"},
	}
	for _, tt := range tests {
		cfg := Default()
		err := cfg.Set(tt.name, tt.value)
		var perr *ParamError
		if !errors.As(err, &perr) {
			t.Errorf("Set(%q, %q) = %v, want *ParamError", tt.name, tt.value, err)
			continue
		}
		if perr.Reason != tt.reason {
			t.Errorf("Set(%q, %q) reason = %q, want %q", tt.name, tt.value, perr.Reason, tt.reason)
		}
		if perr.Name != strings.ToLower(tt.name) {
			t.Errorf("Set(%q, %q) error names %q", tt.name, tt.value, perr.Name)
		}
		if want := perr.Name + ": " + tt.reason; err.Error() != want {
			t.Errorf("Set(%q, %q) error text = %q, want %q", tt.name, tt.value, err, want)
		}
		if !reflect.DeepEqual(cfg, Default()) {
			t.Errorf("Set(%q, %q) failed but changed the config", tt.name, tt.value)
		}
	}
}

func TestDaemonizeYesIsRefusedWithSystemdHint(t *testing.T) {
	err := Default().Set("daemonize", "yes")
	if err == nil || !strings.Contains(err.Error(), "systemd") {
		t.Fatalf("Set(daemonize, yes) = %v, want a refusal mentioning systemd", err)
	}
}

func TestSetUnknownParameter(t *testing.T) {
	err := Default().Set("maxmemry", "1gb")
	if !errors.Is(err, ErrUnknownParam) {
		t.Fatalf("Set(maxmemry) = %v, want ErrUnknownParam", err)
	}
	if got, want := err.Error(), `unknown parameter "maxmemry"`; got != want {
		t.Errorf("error text = %q, want %q", got, want)
	}
	if errors.Is(Default().Set("port", "x"), ErrUnknownParam) {
		t.Error("a bad value for a known parameter matches ErrUnknownParam")
	}
	if _, ok := Default().Get("maxmemry"); ok {
		t.Error("Get of an unknown parameter reported ok")
	}
}

func TestLookup(t *testing.T) {
	p, ok := Lookup("MaxMemory-Policy")
	if !ok || p.Name != "maxmemory-policy" || !p.Mutable {
		t.Errorf("Lookup(MaxMemory-Policy) = %+v, %v", p, ok)
	}
	p, ok = Lookup("databases")
	if !ok || p.Mutable {
		t.Errorf("databases should be known and immutable, got %+v, %v", p, ok)
	}
	if _, ok := Lookup("nope"); ok {
		t.Error("Lookup(nope) reported ok")
	}
}

func TestParamsTableIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range Params() {
		if p.Name != strings.ToLower(p.Name) || p.Name == "" {
			t.Errorf("parameter %q: names must be lower-case", p.Name)
		}
		if seen[p.Name] {
			t.Errorf("parameter %q listed twice", p.Name)
		}
		seen[p.Name] = true
		if p.Help == "" || p.metavar == "" || p.get == nil || p.set == nil {
			t.Errorf("parameter %q is missing help, metavar, get or set", p.Name)
		}
		// Every default must survive a round trip through its own parser.
		cfg := Default()
		if err := p.set(cfg, p.get(Default())); err != nil {
			t.Errorf("parameter %q: default does not parse: %v", p.Name, err)
		}
	}
}

func TestParamsReturnsACopy(t *testing.T) {
	params := Params()
	params[0].Name = "changed"
	params[0].Mutable = !params[0].Mutable
	if Params()[0].Name == "changed" {
		t.Fatal("changing the slice from Params changed the package table")
	}
}

func TestMatch(t *testing.T) {
	cfg := Default()
	tests := []struct {
		pattern string
		want    []string
	}{
		{"port", []string{"port"}},
		{"PORT", []string{"port"}},
		{"maxmemory*", []string{"maxmemory", "maxmemory-policy", "maxmemory-samples", "maxmemory-eviction-tenacity"}},
		{"lfu-*", []string{"lfu-log-factor", "lfu-decay-time"}},
		{"append*", []string{"appendonly", "appendfsync", "appendfilename", "appenddirname"}},
		{"*-max-*", []string{"acllog-max-len", "proto-max-bulk-len", "hash-max-listpack-entries", "hash-max-listpack-value", "set-max-intset-entries",
			"zset-max-listpack-entries", "zset-max-listpack-value", "list-max-listpack-size", "hll-sparse-max-bytes", "slowlog-max-len", "tracking-table-max-keys"}},
		{"d?r", []string{"dir"}},
		{"[dh]*", []string{"databases", "hz", "hash-max-listpack-entries", "hash-max-listpack-value", "hll-sparse-max-bytes", "dir", "daemonize", "disable-commands"}},
		{"[^a-s]*", []string{"unixsocket", "timeout", "tcp-keepalive", "zset-max-listpack-entries", "zset-max-listpack-value", "tracking-table-max-keys",
			"tls-port", "tls-cert-file", "tls-key-file", "tls-ca-cert-file", "tls-auth-clients", "tls-protocols"}},
		{"nope*", nil},
	}
	for _, tt := range tests {
		var names []string
		for _, pair := range cfg.Match(tt.pattern) {
			names = append(names, pair[0])
			if v, _ := cfg.Get(pair[0]); v != pair[1] {
				t.Errorf("Match(%q) value for %s = %q, Get says %q", tt.pattern, pair[0], pair[1], v)
			}
		}
		if !slices.Equal(names, tt.want) {
			t.Errorf("Match(%q) = %v, want %v", tt.pattern, names, tt.want)
		}
	}
	if got := len(cfg.Match("*")); got != len(Params()) {
		t.Errorf("Match(*) returned %d pairs, want all %d", got, len(Params()))
	}
}

// CONFIG GET prints sizes as plain bytes whatever unit they were set with.
func TestConfigGetPrintsSizesInBytes(t *testing.T) {
	cfg := Default()
	for _, set := range [][2]string{{"maxmemory", "1GB"}, {"proto-max-bulk-len", "1024kb"}, {"client-query-buffer-limit", "3mb"}} {
		if err := cfg.Set(set[0], set[1]); err != nil {
			t.Fatal(err)
		}
	}
	got := cfg.Match("*")
	want := map[string]string{
		"maxmemory":                 "1073741824",
		"proto-max-bulk-len":        "1048576",
		"client-query-buffer-limit": "3145728",
	}
	for _, pair := range got {
		if w, ok := want[pair[0]]; ok && pair[1] != w {
			t.Errorf("%s = %q, want %q", pair[0], pair[1], w)
		}
		delete(want, pair[0])
	}
	if len(want) != 0 {
		t.Errorf("Match missed %v", want)
	}
	if cfg.Maxmemory != 1<<30 {
		t.Errorf("Maxmemory field = %d", cfg.Maxmemory)
	}
}

func TestClone(t *testing.T) {
	orig := Default()
	clone := orig.Clone()
	if !reflect.DeepEqual(orig, clone) {
		t.Fatal("clone differs from original")
	}
	clone.Bind[0] = "0.0.0.0"
	clone.Port = 1
	if orig.Bind[0] != "127.0.0.1" || orig.Port != 6379 {
		t.Error("changing the clone changed the original")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string // substring; "" means valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"unix socket only", func(c *Config) { c.Port, c.Unixsocket = 0, "/tmp/cachalot.sock" }, ""},
		{"no listener", func(c *Config) { c.Port = 0 }, "not listen anywhere"},
		{"port out of range", func(c *Config) { c.Port = 70000 }, "port: argument must be between 0 and 65535 inclusive"},
		{"bad policy", func(c *Config) { c.MaxmemoryPolicy = "lru" }, "maxmemory-policy: argument(s) must be one of"},
		{"non-canonical enum", func(c *Config) { c.Loglevel = "DEBUG" }, `loglevel: value must be written as "debug"`},
		{"shards not power of two", func(c *Config) { c.Shards = 100 }, "shards: argument must be a power of two"},
		{"empty bind", func(c *Config) { c.Bind = nil }, "bind: argument must name at least one address"},
		{"daemonize", func(c *Config) { c.Daemonize = true }, "daemonize: daemonize yes is not supported"},
		{"fractional timeout", func(c *Config) { c.Timeout = 1500 * time.Millisecond }, "timeout: argument must be a whole number of seconds"},
		{"negative size", func(c *Config) { c.Maxmemory = -1 }, "maxmemory: argument must be a memory value"},
		{"metrics on redis port", func(c *Config) { c.MetricsAddr = "127.0.0.1:6379" }, "metrics-addr"},
		{"metrics wildcard on redis port", func(c *Config) { c.MetricsAddr = ":6379" }, "metrics-addr"},
		{"metrics on other host", func(c *Config) { c.MetricsAddr = "10.0.0.1:6379" }, ""},
		{"metrics on other port", func(c *Config) { c.MetricsAddr = "127.0.0.1:9121" }, ""},
	}
	for _, tt := range tests {
		cfg := Default()
		tt.mutate(cfg)
		err := cfg.Validate()
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: Validate() = %v, want nil", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: Validate() = %v, want error containing %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := Default()
	cfg.Hz = 0
	cfg.Databases = 0
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "hz:") || !strings.Contains(err.Error(), "databases:") {
		t.Fatalf("Validate() = %v, want both hz and databases reported", err)
	}
}
