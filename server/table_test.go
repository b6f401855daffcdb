package server

import (
	"strings"
	"testing"

	"github.com/cachalotdb/cachalot/store"
)

// tableRows lists every row of the table, containers first and then their
// subcommands.
func tableRows(tbl *commandTable) []*command {
	var rows []*command
	for _, c := range tbl.sorted {
		rows = append(rows, c)
		rows = append(rows, c.subs...)
	}
	return rows
}

func TestCommandTableRows(t *testing.T) {
	tbl := buildTable(commandGroups()...)
	if len(tbl.sorted) == 0 || len(tbl.sorted) != len(tbl.byName) {
		t.Fatalf("table has %d sorted rows and %d names", len(tbl.sorted), len(tbl.byName))
	}
	seen := map[string]bool{}
	for _, c := range tableRows(tbl) {
		name := c.fullName
		if name == "" {
			t.Errorf("row %q has no fullName", c.name)
			name = c.name
		}
		if seen[name] {
			t.Errorf("%s: registered twice", name)
		}
		seen[name] = true
		if c.name == "" || c.name != strings.ToLower(c.name) || strings.ContainsAny(c.name, " |\t") {
			t.Errorf("%s: name %q must be lower case without spaces or '|'", name, c.name)
		}
		if c.arity == 0 {
			t.Errorf("%s: arity 0", name)
		}
		if c.parent != nil {
			if want := c.parent.name + "|" + c.name; c.fullName != want {
				t.Errorf("subcommand fullName %q, want %q", c.fullName, want)
			}
			if c.parent.subIndex[c.name] != c {
				t.Errorf("%s: not indexed under its parent", name)
			}
			// A subcommand's arity counts the container's name too.
			if c.arity > 0 && c.arity < 2 || c.arity < 0 && c.arity > -2 {
				t.Errorf("%s: arity %d leaves no room for the subcommand name", name, c.arity)
			}
		} else if tbl.byName[c.name] != c {
			t.Errorf("%s: byName does not point at the row", name)
		}
		if len(c.subs) > 0 {
			// The dispatcher resolves argv[1] as the subcommand, so a
			// container runs itself only when called alone (arity -1, as
			// COMMAND) and then needs a handler; otherwise its arity is -2.
			switch {
			case c.arity == -1 && c.handler == nil:
				t.Errorf("%s: container with arity -1 needs a handler", name)
			case c.arity != -1 && c.arity != -2:
				t.Errorf("%s: container arity %d, want -2 (or -1)", name, c.arity)
			}
			for _, sc := range c.subs {
				if sc.parent != c {
					t.Errorf("%s: subcommand %q has parent %v", name, sc.name, sc.parent)
				}
				if len(sc.subs) > 0 {
					t.Errorf("%s: subcommands nest only one level", sc.fullName)
				}
			}
		} else if c.handler == nil {
			t.Errorf("%s: no handler", name)
		}
		checkKeyPositions(t, name, c)
		if c.has(flagReadonly) && c.has(flagWrite) {
			t.Errorf("%s: both readonly and write", name)
		}
	}
}

// checkKeyPositions applies Redis's rules for legacy (first, last, step)
// key positions.
func checkKeyPositions(t *testing.T, name string, c *command) {
	t.Helper()
	if c.keys != nil {
		return // movable keys: the function decides
	}
	if c.first < 0 {
		t.Errorf("%s: first key %d", name, c.first)
	}
	if c.first == 0 {
		if c.last != 0 || c.step != 0 {
			t.Errorf("%s: no first key but last %d step %d", name, c.last, c.step)
		}
		return
	}
	if c.step < 1 {
		t.Errorf("%s: step %d", name, c.step)
	}
	if c.last > 0 && c.last < c.first {
		t.Errorf("%s: last key %d before first %d", name, c.last, c.first)
	}
	minArgs := c.arity
	if minArgs < 0 {
		minArgs = -minArgs
	}
	if c.has(flagNoMandatoryKeys) || !c.hasKeys() {
		return // optional keys, or NOT_KEY specs (SUNSUBSCRIBE's channels)
	}
	// The smallest legal call names the first key…
	if c.first >= minArgs {
		t.Errorf("%s: first key %d is outside the %d arguments arity guarantees", name, c.first, minArgs)
	}
	// …and a fixed-arity call names every key inside argv.
	if c.arity > 0 && c.last >= c.arity {
		t.Errorf("%s: last key %d is outside arity %d", name, c.last, c.arity)
	}
	if c.last < 0 && c.arity > 0 {
		t.Errorf("%s: fixed arity %d with a last key counted from the end", name, c.arity)
	}
	// The smallest legal call's positions all land inside argv.
	argv := make([][]byte, minArgs)
	for i := range argv {
		argv[i] = []byte("x")
	}
	for _, p := range c.keyPositions(argv, nil) {
		if p <= 0 || p >= minArgs {
			t.Errorf("%s: key position %d outside a %d-argument call", name, p, minArgs)
		}
	}
}

func TestCommandTableLookup(t *testing.T) {
	tbl := buildTable(commandGroups()...)
	for _, c := range tbl.sorted {
		for _, spelled := range []string{c.name, strings.ToUpper(c.name), mixedCase(c.name)} {
			if got := tbl.lookup([]byte(spelled)); got != c {
				t.Errorf("lookup(%q) = %v, want the %s row", spelled, got, c.name)
			}
		}
		for _, sc := range c.subs {
			if got := c.subLookup([]byte(strings.ToUpper(sc.name))); got != sc {
				t.Errorf("%s subLookup(%q) = %v", c.name, strings.ToUpper(sc.name), got)
			}
		}
	}
	for _, missing := range []string{"", "nosuchcommand", strings.Repeat("g", 40), "get\x00"} {
		if got := tbl.lookup([]byte(missing)); got != nil {
			t.Errorf("lookup(%q) = %s, want nil", missing, got.name)
		}
	}
}

func mixedCase(s string) string {
	b := []byte(s)
	for i := range b {
		if i%2 == 0 && 'a' <= b[i] && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

// The dispatcher resolves every request's name; for names that fit its
// stack buffer that must not allocate.
func TestCommandTableLookupAllocs(t *testing.T) {
	tbl := buildTable(commandGroups()...)
	names := [][]byte{[]byte("GET"), []byte("set"), []byte("Ping"), []byte("nosuchcommand")}
	for _, name := range names {
		allocs := testing.AllocsPerRun(200, func() { tbl.lookup(name) })
		if allocs != 0 {
			t.Errorf("lookup(%q) allocates %v times per call", name, allocs)
		}
	}
	if tbl.lookup([]byte("GET")) == nil {
		t.Fatal("GET is not registered")
	}
}

func TestBuildTableRejectsDuplicates(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("buildTable accepted a duplicate name")
		}
	}()
	h := func(*client, *store.Tx, [][]byte) error { return nil }
	buildTable([]*command{{name: "dup", arity: 1, handler: h}}, []*command{{name: "dup", arity: 1, handler: h}})
}
