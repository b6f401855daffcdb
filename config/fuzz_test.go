package config

import (
	"io"
	"testing"
)

// loadSeeds are small on purpose: the fuzzer minimises every new input, and
// minimising a multi-kilobyte file (config.example.toml, say, which has its
// own test) stalls fuzzing for minutes.
var loadSeeds = []string{
	"",
	"port = 6380\nmaxmemory = \"2gb\"\nappendonly = true\n",
	"bind = [\"127.0.0.1\", \"-::1\"]\nshards = 1024\n",
	"maxmemory = 99999999999999999999\n",
	"port = 0\nunixsocket = \"/tmp/c.sock\"\n",
	"[table]\nkey = 1\n",
	"port = 1.5e3\nhz = \"x\"\n",
	"maxmemory-policy = \"ALLKEYS-LRU\"\nloglevel = \"Debug\"\n",
	"metrics-addr = \":6379\"\n",
	"a = = 1",
}

// FuzzLoadTOML feeds arbitrary bytes to Load as the config file. Load must
// never panic, and whenever it succeeds the Config must pass Validate and
// survive a Get/Set round trip unchanged.
//
// The file is served from memory: writing a real file per input costs 0.3
// to 5 ms on ext4 (rewriting a truncated file forces a flush), which starves
// the fuzzer. TestLoadSeedsFromRealFiles runs the same checks through real
// files and the exported Load.
func FuzzLoadTOML(f *testing.F) {
	for _, seed := range loadSeeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fromMemory := func(string) ([]byte, error) { return data, nil }
		cfg, action, err := load([]string{"--config", "fuzz.toml"}, "fuzz", io.Discard, io.Discard, fromMemory)
		checkLoadOutcome(t, cfg, action, err)
	})
}

func TestLoadSeedsFromRealFiles(t *testing.T) {
	for _, seed := range loadSeeds {
		cfg, action, err := Load([]string{"--config", writeConfig(t, seed)}, "fuzz", io.Discard, io.Discard)
		checkLoadOutcome(t, cfg, action, err)
	}
}

// checkLoadOutcome asserts the fuzz invariants on one Load result.
func checkLoadOutcome(t *testing.T, cfg *Config, action Action, err error) {
	t.Helper()
	if err != nil {
		if cfg != nil {
			t.Fatalf("Load returned a config along with error %v", err)
		}
		return
	}
	if action != Run {
		t.Fatalf("action = %v, want Run", action)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Load accepted a config that fails Validate: %v", err)
	}
	for _, p := range Params() {
		value := p.get(cfg)
		clone := cfg.Clone()
		if err := clone.Set(p.Name, value); err != nil {
			t.Fatalf("%s = %q does not parse back: %v", p.Name, value, err)
		}
		if again := p.get(clone); again != value {
			t.Fatalf("%s round trip changed %q to %q", p.Name, value, again)
		}
	}
}

// FuzzGlob checks that Glob never panics and agrees with the naive
// recursive reference matcher on short inputs.
func FuzzGlob(f *testing.F) {
	for _, seed := range [][2]string{
		{"*", ""},
		{"h?llo", "hello"},
		{"h[^e]llo", "hallo"},
		{"[a-", "b"},
		{"[\\", "\\"},
		{"*a*b*c*", "aXbYc"},
		{"\\", "\\"},
		{"[]]", "]"},
	} {
		f.Add(seed[0], seed[1], false)
		f.Add(seed[0], seed[1], true)
	}
	f.Fuzz(func(t *testing.T, pattern, s string, nocase bool) {
		got := Glob(pattern, s, nocase)
		// The reference is exponential, so only cross-check short inputs.
		if len(pattern) <= 12 && len(s) <= 12 {
			if want := globReference(pattern, s, nocase); got != want {
				t.Fatalf("Glob(%q, %q, %v) = %v, reference says %v", pattern, s, nocase, got, want)
			}
		}
	})
}
