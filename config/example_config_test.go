package config

import (
	"bytes"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

const exampleConfigPath = "../config.example.toml"

// The example file documents every parameter with its default; these checks
// keep it from drifting when parameters are added or defaults change.
func TestExampleConfigMatchesDefaults(t *testing.T) {
	var stdout, stderr bytes.Buffer
	cfg, action, err := Load([]string{"--config", exampleConfigPath}, "test", &stdout, &stderr)
	if err != nil || action != Run {
		t.Fatalf("loading %s: %v, %v", exampleConfigPath, action, err)
	}
	if cfg.File != exampleConfigPath {
		t.Errorf("File = %q, want %q", cfg.File, exampleConfigPath)
	}
	cfg.File = ""
	if !reflect.DeepEqual(cfg, Default()) {
		for _, p := range Params() {
			if got, want := p.get(cfg), p.get(Default()); got != want {
				t.Errorf("%s: example sets %s = %q, default is %q", exampleConfigPath, p.Name, got, want)
			}
		}
		t.Fatalf("%s does not load to Default()", exampleConfigPath)
	}
	if stderr.Len() != 0 {
		t.Errorf("loading the example printed warnings: %s", stderr.String())
	}
}

func TestExampleConfigListsEveryParameter(t *testing.T) {
	data, err := os.ReadFile(exampleConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for _, p := range Params() {
		if _, ok := doc[p.Name]; !ok {
			t.Errorf("%s does not set %q", exampleConfigPath, p.Name)
			continue
		}
		// The key must be documented by a comment directly above it.
		i := slices.IndexFunc(lines, func(line string) bool { return strings.HasPrefix(line, p.Name+" = ") })
		if i < 1 || !strings.HasPrefix(lines[i-1], "#") {
			t.Errorf("%s: %q has no comment right above it", exampleConfigPath, p.Name)
		}
	}
	if len(doc) != len(Params()) {
		t.Errorf("%s sets %d keys, the table has %d parameters", exampleConfigPath, len(doc), len(Params()))
	}
}
