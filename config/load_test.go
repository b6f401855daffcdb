package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeConfig writes content to config.toml in a fresh temporary directory
// and returns its path.
func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// loadArgs runs Load with captured output.
func loadArgs(args ...string) (*Config, Action, string, string, error) {
	var stdout, stderr bytes.Buffer
	cfg, action, err := Load(args, "1.2.3", &stdout, &stderr)
	return cfg, action, stdout.String(), stderr.String(), err
}

func TestLoadWithoutArgumentsGivesDefaults(t *testing.T) {
	cfg, action, stdout, stderr, err := loadArgs()
	if err != nil || action != Run {
		t.Fatalf("Load() = %v, %v", action, err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Errorf("Load() = %+v, want defaults", cfg)
	}
	if stdout != "" || stderr != "" {
		t.Errorf("Load() printed stdout=%q stderr=%q", stdout, stderr)
	}
}

func TestLoadPrecedence(t *testing.T) {
	path := writeConfig(t, `
port = 7000
maxmemory = "1gb"
maxmemory-policy = "allkeys-lfu"
appendonly = true
hz = 20
`)
	tests := []struct {
		name  string
		args  []string
		check func(*Config) string // returns a complaint or ""
	}{
		{
			name: "file over defaults",
			args: []string{"--config", path},
			check: func(c *Config) string {
				if c.Port != 7000 || c.Maxmemory != 1<<30 || c.MaxmemoryPolicy != "allkeys-lfu" || !c.Appendonly || c.Hz != 20 {
					return "file values not applied"
				}
				if c.Databases != 16 || c.Appendfsync != "everysec" {
					return "defaults lost for keys the file does not set"
				}
				return ""
			},
		},
		{
			name: "flags over file",
			args: []string{"--port", "7001", "--config", path, "--maxmemory=2gb", "--appendonly", "no"},
			check: func(c *Config) string {
				if c.Port != 7001 || c.Maxmemory != 2<<30 || c.Appendonly {
					return "flags did not override the file"
				}
				if c.MaxmemoryPolicy != "allkeys-lfu" || c.Hz != 20 {
					return "unset flags reset file values"
				}
				return ""
			},
		},
		{
			name: "flags over defaults",
			args: []string{"--maxmemory-policy", "allkeys-lru", "--databases", "4", "--slowlog-log-slower-than", "-1"},
			check: func(c *Config) string {
				if c.MaxmemoryPolicy != "allkeys-lru" || c.Databases != 4 || c.SlowlogLogSlowerThan != -1 {
					return "flags not applied"
				}
				return ""
			},
		},
		{
			name: "last repeated flag wins",
			args: []string{"--port", "7002", "--port", "7003"},
			check: func(c *Config) string {
				if c.Port != 7003 {
					return "expected the last --port"
				}
				return ""
			},
		},
	}
	for _, tt := range tests {
		cfg, action, _, _, err := loadArgs(tt.args...)
		if err != nil || action != Run {
			t.Errorf("%s: Load(%q) = %v, %v", tt.name, tt.args, action, err)
			continue
		}
		if complaint := tt.check(cfg); complaint != "" {
			t.Errorf("%s: %s: %+v", tt.name, complaint, cfg)
		}
	}
}

func TestLoadTOMLValueForms(t *testing.T) {
	tests := []struct {
		toml  string
		param string
		want  string // CONFIG GET form
	}{
		{`appendonly = true`, "appendonly", "yes"},
		{`appendonly = false`, "appendonly", "no"},
		{`appendonly = "yes"`, "appendonly", "yes"},
		{`appendonly = "NO"`, "appendonly", "no"},
		{`maxmemory = 1073741824`, "maxmemory", "1073741824"},
		{`maxmemory = "2gb"`, "maxmemory", "2147483648"},
		{`maxmemory = "100"`, "maxmemory", "100"},
		{`bind = "127.0.0.1 ::1"`, "bind", "127.0.0.1 ::1"},
		{`bind = ["127.0.0.1", "-::1"]`, "bind", "127.0.0.1 -::1"},
		{`enable-debug-command = true`, "enable-debug-command", "yes"},
		{`enable-debug-command = "local"`, "enable-debug-command", "local"},
		{`timeout = 60`, "timeout", "60"},
		{`Port = 7000`, "port", "7000"}, // keys are case-insensitive like Redis names
		{`save = "900 1 300 10"`, "save", "900 1 300 10"},
	}
	for _, tt := range tests {
		cfg, _, _, _, err := loadArgs("--config", writeConfig(t, tt.toml))
		if err != nil {
			t.Errorf("%s: %v", tt.toml, err)
			continue
		}
		if got, _ := cfg.Get(tt.param); got != tt.want {
			t.Errorf("%s: %s = %q, want %q", tt.toml, tt.param, got, tt.want)
		}
	}
}

func TestLoadTOMLRefusals(t *testing.T) {
	tests := []struct {
		toml    string
		wantErr string // exact error text; the file is named config.toml
	}{
		{`maxmemry = "1gb"`, `config.toml: unknown parameter "maxmemry"`},
		{`[server]
port = 1`, `config.toml: unknown parameter "server"`},
		{`maxmemory = "lots"`, `config.toml: maxmemory: argument must be a memory value`},
		{`maxmemory = -1`, `config.toml: maxmemory: argument must be a memory value`},
		{`maxmemory = 1.5`, `config.toml: maxmemory: expected an integer number of bytes or a size string such as "2gb", got a float`},
		{`port = "6380"`, `config.toml: port: expected an integer, got a string`},
		{`port = 70000`, `config.toml: port: argument must be between 0 and 65535 inclusive`},
		{`port = true`, `config.toml: port: expected an integer, got a boolean`},
		{`port = [1]`, `config.toml: port: expected an integer, got an array`},
		{`port = {a = 1}`, `config.toml: port: expected an integer, got a table`},
		{`port = 1979-05-27`, `config.toml: port: expected an integer, got a date/time`},
		{`appendonly = 1`, `config.toml: appendonly: expected a boolean or "yes"/"no", got an integer`},
		{`appendonly = "true"`, `config.toml: appendonly: argument must be 'yes' or 'no'`},
		{`appendfsync = true`, `config.toml: appendfsync: expected one of "everysec", "always", "no", got a boolean`},
		{`maxmemory-policy = "lru"`, `config.toml: maxmemory-policy: argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction`},
		{`hz = 0`, `config.toml: hz: argument must be between 1 and 500 inclusive`},
		{`dir = 5`, `config.toml: dir: expected a string, got an integer`},
		{`bind = ["127.0.0.1", 5]`, `config.toml: bind: array elements must be non-empty strings without spaces`},
		{`bind = ["a b"]`, `config.toml: bind: array elements must be non-empty strings without spaces`},
		{`bind = []`, `config.toml: bind: argument must name at least one address (use "*" for all interfaces)`},
		{`daemonize = true`, `config.toml: daemonize: daemonize yes is not supported: cachalot stays in the foreground; run it under systemd (Type=simple) or another supervisor`},
		{"port = 1\nPORT = 2", `config.toml: keys "PORT" and "port" both set parameter port`},
		{`port = 0`, `invalid configuration: configured to not listen anywhere: port is 0 and unixsocket is empty`},
	}
	for _, tt := range tests {
		path := writeConfig(t, tt.toml)
		cfg, _, _, _, err := loadArgs("--config", path)
		if err == nil {
			t.Errorf("%s: Load succeeded with %+v, want error", tt.toml, cfg)
			continue
		}
		if cfg != nil {
			t.Errorf("%s: Load returned a config along with an error", tt.toml)
		}
		got := strings.ReplaceAll(err.Error(), path, "config.toml")
		if got != tt.wantErr {
			t.Errorf("%s:\n got: %s\nwant: %s", tt.toml, got, tt.wantErr)
		}
	}
}

func TestLoadTOMLReportsEveryBadKey(t *testing.T) {
	path := writeConfig(t, `
maxmemry = 1
port = "x"
hz = 1000
databases = 8
`)
	_, _, _, _, err := loadArgs("--config", path)
	if err == nil {
		t.Fatal("want error")
	}
	for _, want := range []string{`unknown parameter "maxmemry"`, "port: expected an integer", "hz: argument must be between 1 and 500 inclusive"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if !errors.Is(err, ErrUnknownParam) {
		t.Error("joined error does not match ErrUnknownParam")
	}
	var perr *ParamError
	if !errors.As(err, &perr) {
		t.Error("joined error holds no *ParamError")
	}
}

func TestLoadTOMLSyntaxErrorNamesFileAndLine(t *testing.T) {
	path := writeConfig(t, "port = 6380\nhz = 10\nmaxmemory = = 1\n")
	_, _, _, _, err := loadArgs("--config", path)
	if err == nil {
		t.Fatal("want error")
	}
	if want := path + ":3:"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q does not start with %q", err, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.toml")
	_, _, _, _, err := loadArgs("--config", path)
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("Load with a missing file = %v", err)
	}
	if _, _, _, _, err := loadArgs("--config", ""); err == nil {
		t.Error("Load with --config \"\" succeeded")
	}
}

func TestLoadFlagRefusals(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string // substring
	}{
		{[]string{"--maxmemory", "lots"}, `invalid argument "lots" for "--maxmemory" flag: argument must be a memory value`},
		{[]string{"--port", "99999"}, "argument must be between 0 and 65535 inclusive"},
		{[]string{"--appendonly", "true"}, "argument must be 'yes' or 'no'"},
		{[]string{"--maxmemory-policy", "lru"}, "argument(s) must be one of the following:"},
		{[]string{"--daemonize", "yes"}, "systemd"},
		{[]string{"--maxmemry", "1gb"}, "unknown flag: --maxmemry"},
		{[]string{"--port"}, "flag needs an argument"},
		{[]string{"redis.conf"}, `unexpected argument "redis.conf"`},
		{[]string{"--", "--port", "1"}, `unexpected argument "--port"`},
		{[]string{"--port", "0"}, "not listen anywhere"},
	}
	for _, tt := range tests {
		cfg, _, _, _, err := loadArgs(tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Load(%q) = %v, want error containing %q", tt.args, err, tt.wantErr)
		}
		if cfg != nil {
			t.Errorf("Load(%q) returned a config along with an error", tt.args)
		}
	}
}

func TestLoadFlagErrorBeatsFileError(t *testing.T) {
	// A bad flag is reported even when the file is fine, and a good flag
	// cannot rescue a bad file.
	path := writeConfig(t, `hz = 0`)
	_, _, _, _, err := loadArgs("--config", path, "--hz", "10")
	if err == nil || !strings.Contains(err.Error(), "hz: argument must be between 1 and 500 inclusive") {
		t.Errorf("Load = %v, want the file's hz error", err)
	}
}

func TestLoadHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"--port", "1", "--help"}} {
		cfg, action, stdout, stderr, err := loadArgs(args...)
		if err != nil || action != PrintedHelp || cfg != nil {
			t.Errorf("Load(%q) = %v, %v, %v; want PrintedHelp", args, cfg, action, err)
			continue
		}
		if stderr != "" {
			t.Errorf("Load(%q) wrote to stderr: %q", args, stderr)
		}
		for _, want := range []string{"Usage: cachalot", "--config PATH", "--version", "--help"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("help lacks %q", want)
			}
		}
		defaults := Default()
		for _, p := range Params() {
			if !strings.Contains(stdout, "--"+p.Name+" ") || !strings.Contains(stdout, p.Help) {
				t.Errorf("help lacks flag or help text for %s", p.Name)
			}
			def := p.get(defaults)
			if !strings.Contains(stdout, "(default "+def+")") && !strings.Contains(stdout, `(default "`+def+`")`) {
				t.Errorf("help lacks the default %q of %s", def, p.Name)
			}
		}
	}
	// Help must not read the config file: it should work even when the
	// file is broken.
	if _, action, _, _, err := loadArgs("--config", "/nonexistent/cachalot.toml", "--help"); err != nil || action != PrintedHelp {
		t.Errorf("--help with a missing config = %v, %v", action, err)
	}
}

func TestLoadVersion(t *testing.T) {
	cfg, action, stdout, _, err := loadArgs("--version")
	if err != nil || action != PrintedVersion || cfg != nil {
		t.Fatalf("Load(--version) = %v, %v, %v", cfg, action, err)
	}
	if stdout != "cachalot 1.2.3\n" {
		t.Errorf("version output = %q", stdout)
	}
}

func TestLoadWarnsThatSaveIsIgnored(t *testing.T) {
	cfg, _, _, stderr, err := loadArgs("--save", "900 1")
	if err != nil || cfg.Save != "900 1" {
		t.Fatalf("Load(--save) = %+v, %v", cfg, err)
	}
	if !strings.Contains(stderr, "save") || !strings.Contains(stderr, "ignored") {
		t.Errorf("no warning about save on stderr: %q", stderr)
	}
	if _, _, _, stderr, _ := loadArgs("--save", ""); stderr != "" {
		t.Errorf(`save "" should not warn, got %q`, stderr)
	}
}

func TestActionString(t *testing.T) {
	for action, want := range map[Action]string{Run: "run", PrintedHelp: "printed help", PrintedVersion: "printed version", Action(9): "Action(9)"} {
		if got := action.String(); got != want {
			t.Errorf("Action(%d).String() = %q, want %q", int(action), got, want)
		}
	}
}
