package server

import (
	"strings"
	"sync/atomic"

	"github.com/cachalotdb/cachalot/store"
)

// cmdFlags are Redis's command flags (server.h CMD_*), plus a few of
// cachalot's own that steer the dispatcher.
type cmdFlags uint32

const (
	flagWrite cmdFlags = 1 << iota
	flagReadonly
	flagDenyOOM
	flagAdmin
	flagPubsub
	flagNoScript
	flagBlocking
	flagLoading
	flagStale
	flagSkipMonitor
	flagSkipSlowlog
	flagFast
	flagNoAuth
	flagMayReplicate
	flagNoMandatoryKeys
	flagNoMulti
	flagMovableKeys
	flagAllowBusy
	flagNoAsyncLoading

	// flagOwnLocks: the handler takes its own store locks (it spans
	// databases or the whole keyspace), so the dispatcher locks nothing.
	flagOwnLocks
)

// flagNames are the words COMMAND prints, in Redis's order.
var flagNames = []struct {
	flag cmdFlags
	name string
}{
	{flagWrite, "write"}, {flagReadonly, "readonly"}, {flagDenyOOM, "denyoom"},
	{flagAdmin, "admin"}, {flagPubsub, "pubsub"}, {flagNoScript, "noscript"},
	{flagBlocking, "blocking"}, {flagLoading, "loading"}, {flagStale, "stale"},
	{flagSkipMonitor, "skip_monitor"}, {flagSkipSlowlog, "skip_slowlog"},
	{flagFast, "fast"}, {flagNoAuth, "no_auth"}, {flagMayReplicate, "may_replicate"},
	{flagNoMandatoryKeys, "no_mandatory_keys"}, {flagNoMulti, "no_multi"},
	{flagMovableKeys, "movablekeys"}, {flagAllowBusy, "allow_busy"},
	{flagNoAsyncLoading, "no_async_loading"},
}

// handlerFunc runs one command. tx holds the locks on the keys the row names
// (nil for keyless rows and flagOwnLocks rows). A handler either writes one
// complete reply and returns nil, or writes nothing and returns an error,
// which the dispatcher sends.
type handlerFunc func(c *client, tx *store.Tx, argv [][]byte) error

// command is one row of the command table.
type command struct {
	name  string // lower case; subcommands are "container|sub" in fullName
	arity int    // N: exactly N args counting the name; -N: at least N
	flags cmdFlags
	// Key positions as Redis's legacy (first, last, step); last < 0 counts
	// from the end. keys, when set, replaces them (movable keys).
	first, last, step int
	keys              func(argv [][]byte) []int
	// keySpecFlags are the key-spec flags COMMAND INFO prints for each key
	// ("RW", "ACCESS", "UPDATE"…), space-separated. Rows whose keys have
	// different flags list one spec per key position, separated by " | "
	// ("RW ACCESS DELETE | OW INSERT" for RENAME); the last spec covers
	// the rest of the range.
	keySpecFlags string
	acl          string // ACL categories beyond those the flags imply, space-separated ("@string")
	group        string // COMMAND DOCS group ("string", "generic"…)
	since        string
	summary      string
	complexity   string
	// usage describes the arguments in Redis's syntax (e.g. "key value
	// [NX | XX]"); COMMAND DOCS renders it as the argument tree.
	usage string
	// COMMAND INFO / COMMAND DOCS extras (cmd_command.go renders them):
	// tips are the command tips, space-separated
	// ("nondeterministic_output request_policy:all_shards"); history is
	// DOCS's {version, change} list; docFlags ("deprecated syscmd"),
	// deprecatedSince and replacedBy as in Redis's docs; keySpecs replaces
	// the key specs derived from first/last/step and keySpecFlags when
	// those can't express Redis's (keyword/keynum searches, notes).
	tips            string
	history         [][2]string
	docFlags        string
	deprecatedSince string
	replacedBy      string
	keySpecs        []keySpec
	handler         handlerFunc
	subs            []*command

	fullName string // set by buildTable: "get", "config|get"
	parent   *command
	subIndex map[string]*command

	stats cmdStats

	prop propRule // how a write propagates to the AOF (propagate.go)

	aclInfo *aclCmd // ACL id, categories, key and channel rules (acl.go)
}

// cmdStats are the runtime counters INFO commandstats reports.
type cmdStats struct {
	hist          latencyHist // per-call durations (metrics.go)
	calls         atomic.Int64
	usec          atomic.Int64
	rejectedCalls atomic.Int64
	failedCalls   atomic.Int64
}

func (c *command) has(f cmdFlags) bool { return c.flags&f != 0 }

// keyPositions returns the argv indexes of the keys a call names.
func (c *command) keyPositions(argv [][]byte, dst []int) []int {
	if c.keys != nil {
		return append(dst, c.keys(argv)...)
	}
	if c.first == 0 {
		return dst
	}
	last := c.last
	if last < 0 {
		last = len(argv) + last
	}
	step := c.step
	if step < 1 {
		step = 1
	}
	for i := c.first; i <= last && i < len(argv); i += step {
		dst = append(dst, i)
	}
	return dst
}

// commandTable is the whole table, indexed by lower-case name.
type commandTable struct {
	byName map[string]*command
	sorted []*command // for COMMAND, in a stable order
}

// buildTable indexes the command groups. It panics on a duplicate name,
// which is a programming error caught by every test run.
func buildTable(groups ...[]*command) *commandTable {
	t := &commandTable{byName: make(map[string]*command)}
	for _, g := range groups {
		for _, c := range g {
			if _, dup := t.byName[c.name]; dup {
				panic("server: command registered twice: " + c.name)
			}
			c.fullName = c.name
			if len(c.subs) > 0 {
				c.subIndex = make(map[string]*command, len(c.subs))
				for _, sc := range c.subs {
					sc.parent = c
					sc.fullName = c.name + "|" + sc.name
					sc.group = firstNonEmpty(sc.group, c.group)
					c.subIndex[sc.name] = sc
				}
			}
			t.byName[c.name] = c
			t.sorted = append(t.sorted, c)
		}
	}
	return t
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// lookup finds a command by name without allocating for names that fit the
// stack buffer.
func (t *commandTable) lookup(name []byte) *command {
	var tmp [32]byte
	if len(name) <= len(tmp) {
		for i, ch := range name {
			if 'A' <= ch && ch <= 'Z' {
				ch += 'a' - 'A'
			}
			tmp[i] = ch
		}
		return t.byName[string(tmp[:len(name)])]
	}
	return t.byName[strings.ToLower(string(name))]
}

// subLookup finds a subcommand of c.
func (c *command) subLookup(name []byte) *command {
	return c.subIndex[strings.ToLower(string(name))]
}

// aclCategories derives the categories Redis implies from the flags (as
// setImplicitACLCategories does) and adds the row's own.
func (c *command) aclCategories() []string {
	var cats []string
	if c.acl != "" {
		cats = strings.Fields(c.acl)
	}
	add := func(cat string) {
		for _, x := range cats {
			if x == cat {
				return
			}
		}
		cats = append(cats, cat)
	}
	if c.has(flagWrite) {
		add("@write")
	}
	if c.has(flagReadonly) && !strings.Contains(c.acl, "@scripting") {
		add("@read")
	}
	if c.has(flagAdmin) {
		add("@admin")
		add("@dangerous")
	}
	if c.has(flagPubsub) {
		add("@pubsub")
	}
	if c.has(flagFast) {
		add("@fast")
	}
	if c.has(flagBlocking) {
		add("@blocking")
	}
	if !c.has(flagFast) {
		add("@slow")
	}
	return cats
}
