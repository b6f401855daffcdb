package difftest

import (
	"path/filepath"
	"testing"
)

// TestScripts runs every testdata/*.txt script against real Redis and the
// server under test, reusing the two servers across files (RESET and
// FLUSHALL on fresh connections before each file). Run it with -v to see the
// number of command lines compared.
func TestScripts(t *testing.T) {
	files, err := ScriptFiles("testdata")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.txt scripts")
	}
	// Parse everything first: a syntax error is a failure even without
	// redis-server.
	scripts := make([][]Step, len(files))
	for i, f := range files {
		if scripts[i], err = LoadScript(f); err != nil {
			t.Fatal(err)
		}
	}
	p := NewPair(t)
	if SelfMode() {
		t.Logf("DIFFTEST_SELF set: comparing redis-server with a second redis-server")
	}
	var total ScriptResult
	for i, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			res := RunScript(t, p.Fresh(t), name, scripts[i])
			total.Commands += res.Commands
			total.Compared += res.Compared
			t.Logf("%s: %d command lines compared (%d sent)", name, res.Compared, res.Commands)
		})
	}
	t.Logf("difftest: %d command lines compared (%d sent) in %d script files", total.Compared, total.Commands, len(files))
}

// TestCountCases parses the scripts without running them and logs how many
// command lines each one sends (go test -run TestCountCases -v). It needs no
// server.
func TestCountCases(t *testing.T) {
	files, err := ScriptFiles("testdata")
	if err != nil {
		t.Fatal(err)
	}
	total, compared := 0, 0
	for _, f := range files {
		steps, err := LoadScript(f)
		if err != nil {
			t.Fatal(err)
		}
		n, c := 0, 0
		for _, st := range steps {
			if st.Sends() {
				n++
				if st.Mode != ModeIgnore {
					c++
				}
			}
		}
		t.Logf("%s: %d command lines (%d compared)", filepath.Base(f), n, c)
		total += n
		compared += c
	}
	t.Logf("difftest: %d command lines (%d compared) in %d script files", total, compared, len(files))
}
