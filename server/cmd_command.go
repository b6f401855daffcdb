package server

// COMMAND and its subcommands: introspection of the command table, replying
// in the shapes Redis 7.0 uses (COMMAND INFO's ten fields, COMMAND DOCS's
// maps, which redis-cli 7 reads for its hints).

import (
	"strings"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/store"
)

func introspectionCommands() []*command {
	sub := func(name string, arity int, since, summary, complexity, usage, tips string) *command {
		return &command{name: name, arity: arity, flags: flagLoading | flagStale, acl: "@connection",
			since: since, summary: summary, complexity: complexity, usage: usage, tips: tips, handler: cmdCommand}
	}
	return []*command{
		{name: "command", arity: -1, flags: flagLoading | flagStale, acl: "@connection", group: "server", since: "2.8.13",
			summary: "Get array of Redis command details", complexity: "O(N) where N is the total number of Redis commands",
			tips: "nondeterministic_output_order", handler: cmdCommand,
			subs: []*command{
				sub("getkeys", -4, "2.8.13", "Extract keys given a full Redis command",
					"O(N) where N is the number of arguments to the command", "", ""),
				sub("getkeysandflags", -4, "7.0.0", "Extract keys and access flags given a full Redis command",
					"O(N) where N is the number of arguments to the command", "", ""),
				sub("docs", -2, "7.0.0", "Get array of specific Redis command documentation",
					"O(N) where N is the number of commands to look up", "[command-name [command-name ...]]", "nondeterministic_output_order"),
				withHistory(sub("info", -2, "2.8.13", "Get array of specific Redis command details, or all when no argument is given.",
					"O(N) where N is the number of commands to look up", "[command-name [command-name ...]]", "nondeterministic_output_order"),
					[2]string{"7.0.0", "Allowed to be called with no argument to get info on all commands."}),
				sub("help", 2, "5.0.0", "Show helpful text about the different subcommands", "O(1)", "", ""),
				sub("count", 2, "2.8.13", "Get total number of Redis commands", "O(1)", "", ""),
				sub("list", -2, "7.0.0", "Get an array of Redis command names",
					"O(N) where N is the total number of Redis commands",
					"[FILTERBY <MODULE module-name | ACLCAT category | PATTERN pattern>]", "nondeterministic_output_order"),
			}},
	}
}

func withHistory(c *command, h ...[2]string) *command {
	c.history = h
	return c
}

// cmdCommand serves COMMAND and every subcommand: the dispatcher has
// already resolved and arity-checked argv[1].
func cmdCommand(c *client, _ *store.Tx, argv [][]byte) error {
	t := c.srv.table
	if len(argv) == 1 {
		c.w.Array(len(t.sorted))
		for _, cmd := range t.sorted {
			writeCommandInfo(&c.w, cmd)
		}
		return nil
	}
	switch {
	case equalFold(argv[1], "count"):
		c.w.Int(int64(len(t.sorted)))
	case equalFold(argv[1], "info"):
		if len(argv) == 2 {
			c.w.Array(len(t.sorted))
			for _, cmd := range t.sorted {
				writeCommandInfo(&c.w, cmd)
			}
			return nil
		}
		c.w.Array(len(argv) - 2)
		for _, name := range argv[2:] {
			if cmd := t.lookupFull(name); cmd != nil {
				writeCommandInfo(&c.w, cmd)
			} else {
				c.w.Null()
			}
		}
	case equalFold(argv[1], "docs"):
		var list []*command
		if len(argv) == 2 {
			list = t.sorted
		} else {
			for _, name := range argv[2:] {
				if cmd := t.lookupFull(name); cmd != nil {
					list = append(list, cmd)
				}
			}
		}
		c.w.Map(len(list))
		for _, cmd := range list {
			c.w.BulkString(cmd.fullName)
			writeCommandDocs(&c.w, cmd)
		}
	case equalFold(argv[1], "list"):
		return commandList(c, argv)
	case equalFold(argv[1], "getkeys"):
		return commandGetKeys(c, argv[2:], false)
	case equalFold(argv[1], "getkeysandflags"):
		return commandGetKeys(c, argv[2:], true)
	case equalFold(argv[1], "help"):
		c.w.Array(len(commandHelp))
		for _, l := range commandHelp {
			c.w.Simple(l)
		}
	default:
		return errUnknownSubcommand("command", argv[1])
	}
	return nil
}

var commandHelp = []string{
	"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"(no subcommand)",
	"    Return details about all Redis commands.",
	"COUNT",
	"    Return the total number of commands in this Redis server.",
	"LIST",
	"    Return a list of all commands in this Redis server.",
	"INFO [<command-name> ...]",
	"    Return details about multiple Redis commands.",
	"    If no command names are given, documentation details for all",
	"    commands are returned.",
	"DOCS [<command-name> ...]",
	"    Return documentation details about multiple Redis commands.",
	"    If no command names are given, documentation details for all",
	"    commands are returned.",
	"GETKEYS <full-command>",
	"    Return the keys from a full Redis command.",
	"GETKEYSANDFLAGS <full-command>",
	"    Return the keys and the access flags from a full Redis command.",
	"HELP",
	"    Prints this help.",
}

// lookupFull finds "name" or "container|sub" as COMMAND INFO/DOCS accept them.
func (t *commandTable) lookupFull(name []byte) *command {
	s := strings.ToLower(string(name))
	base, sub, hasSub := strings.Cut(s, "|")
	cmd := t.byName[base]
	if !hasSub || cmd == nil {
		return cmd
	}
	if strings.Contains(sub, "|") || cmd.subIndex == nil {
		return nil
	}
	return cmd.subIndex[sub]
}

// aclOrder is Redis's category table order, which COMMAND INFO follows.
var aclOrder = []string{
	"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
	"bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow",
	"blocking", "dangerous", "connection", "transaction", "scripting",
}

// sortedACL returns the row's categories (without '@') in Redis's order.
func (c *command) sortedACL() []string {
	have := make(map[string]bool)
	for _, cat := range c.aclCategories() {
		have[strings.ToLower(strings.TrimPrefix(cat, "@"))] = true
	}
	if have["fast"] {
		delete(have, "slow") // Redis adds @slow only to commands that aren't @fast
	}
	out := make([]string, 0, len(have))
	for _, cat := range aclOrder {
		if have[cat] {
			out = append(out, cat)
		}
	}
	return out
}

// flagWords are the command flags COMMAND INFO shows, in Redis 7.0's
// order; may_replicate is hidden as in Redis, flagOwnLocks is cachalot's.
func (c *command) flagWords() []string {
	var out []string
	for _, fn := range flagNames {
		if fn.flag == flagMayReplicate {
			continue
		}
		if c.has(fn.flag) {
			out = append(out, fn.name)
		}
	}
	return out
}

// writeCommandInfo writes COMMAND INFO's ten-element array for one row.
func writeCommandInfo(w *Writer, c *command) {
	w.Array(10)
	w.BulkString(c.fullName)
	w.Int(int64(c.arity))
	flags := c.flagWords()
	w.Set(len(flags))
	for _, f := range flags {
		w.Simple(f)
	}
	w.Int(int64(c.first))
	w.Int(int64(c.last))
	w.Int(int64(c.step))
	cats := c.sortedACL()
	w.Set(len(cats))
	for _, cat := range cats {
		w.Simple("@" + cat)
	}
	tips := strings.Fields(firstNonEmpty(c.tips, redisTips[c.fullName]))
	w.Set(len(tips))
	for _, t := range tips {
		w.BulkString(t)
	}
	specs := c.specs()
	w.Set(len(specs))
	for i := range specs {
		writeKeySpec(w, &specs[i])
	}
	if len(c.subs) == 0 {
		w.Set(0)
		return
	}
	w.Array(len(c.subs))
	for _, sc := range c.subs {
		writeCommandInfo(w, sc)
	}
}

// keySpec is one of Redis's key specifications. begin_search is an index
// (index > 0), a keyword search (keyword != "") or unknown (neither);
// find_keys is a range, a keynum or unknown (findUnknown).
type keySpec struct {
	notes string
	flags string // upper-case words: "RW ACCESS UPDATE"

	index     int
	keyword   string
	startFrom int

	keynum                       bool
	lastKey, keyStep, limit      int
	keyNumIdx, firstKey, numStep int
	findUnknown                  bool
}

// specs returns the row's key specs: its explicit ones, or those derived
// from first/last/step and keySpecFlags.
func (c *command) specs() []keySpec {
	if c.keySpecs != nil {
		return c.keySpecs
	}
	if c.first <= 0 {
		return nil
	}
	parts := strings.Split(c.keySpecFlags, "|")
	step := c.step
	if step < 1 {
		step = 1
	}
	out := make([]keySpec, len(parts))
	for i, p := range parts {
		ks := keySpec{flags: strings.TrimSpace(p), index: c.first + i*step, keyStep: 1}
		if i == len(parts)-1 {
			ks.keyStep = step
			if c.last < 0 {
				ks.lastKey = c.last
			} else if c.last > ks.index {
				ks.lastKey = c.last - ks.index
			}
		}
		out[i] = ks
	}
	if len(out) == 1 {
		out[0].notes = derivedKeySpecNotes[c.fullName]
	}
	return out
}

// keySpecFlagOrder is Redis's order for key-spec flags; the first four
// print in upper case, the rest in lower case.
var keySpecFlagOrder = []string{"RO", "RW", "OW", "RM", "ACCESS", "UPDATE", "INSERT", "DELETE", "NOT_KEY", "INCOMPLETE", "VARIABLE_FLAGS"}

func keySpecFlagWords(flags string) []string {
	have := make(map[string]bool)
	for _, f := range strings.Fields(flags) {
		have[strings.ToUpper(f)] = true
	}
	var out []string
	for i, f := range keySpecFlagOrder {
		if have[f] {
			if i >= 4 {
				f = strings.ToLower(f)
			}
			out = append(out, f)
		}
	}
	return out
}

func writeKeySpec(w *Writer, ks *keySpec) {
	n := 3
	if ks.notes != "" {
		n++
	}
	w.Map(n)
	if ks.notes != "" {
		w.BulkString("notes")
		w.BulkString(ks.notes)
	}
	w.BulkString("flags")
	fl := keySpecFlagWords(ks.flags)
	w.Set(len(fl))
	for _, f := range fl {
		w.Simple(f)
	}
	w.BulkString("begin_search")
	w.Map(2)
	w.BulkString("type")
	switch {
	case ks.index > 0:
		w.BulkString("index")
		w.BulkString("spec")
		w.Map(1)
		w.BulkString("index")
		w.Int(int64(ks.index))
	case ks.keyword != "":
		w.BulkString("keyword")
		w.BulkString("spec")
		w.Map(2)
		w.BulkString("keyword")
		w.BulkString(ks.keyword)
		w.BulkString("startfrom")
		w.Int(int64(ks.startFrom))
	default:
		w.BulkString("unknown")
		w.BulkString("spec")
		w.Map(0)
	}
	w.BulkString("find_keys")
	w.Map(2)
	w.BulkString("type")
	switch {
	case ks.findUnknown:
		w.BulkString("unknown")
		w.BulkString("spec")
		w.Map(0)
	case ks.keynum:
		w.BulkString("keynum")
		w.BulkString("spec")
		w.Map(3)
		w.BulkString("keynumidx")
		w.Int(int64(ks.keyNumIdx))
		w.BulkString("firstkey")
		w.Int(int64(ks.firstKey))
		w.BulkString("keystep")
		w.Int(int64(ks.numStep))
	default:
		w.BulkString("range")
		w.BulkString("spec")
		w.Map(3)
		w.BulkString("lastkey")
		w.Int(int64(ks.lastKey))
		w.BulkString("keystep")
		w.Int(int64(ks.keyStep))
		w.BulkString("limit")
		w.Int(int64(ks.limit))
	}
}

// writeCommandDocs writes one command's COMMAND DOCS map.
func writeCommandDocs(w *Writer, c *command) {
	args := usageArgs(c.usage)
	docFlags := strings.Fields(c.docFlags)
	n := 2 // summary, group
	for _, present := range []bool{c.since != "", c.complexity != "", len(docFlags) > 0,
		c.deprecatedSince != "", c.replacedBy != "", len(c.history) > 0, len(args) > 0, len(c.subs) > 0} {
		if present {
			n++
		}
	}
	w.Map(n)
	w.BulkString("summary")
	w.BulkString(c.summary)
	if c.since != "" {
		w.BulkString("since")
		w.BulkString(c.since)
	}
	w.BulkString("group")
	w.BulkString(c.group)
	if c.complexity != "" {
		w.BulkString("complexity")
		w.BulkString(c.complexity)
	}
	if len(docFlags) > 0 {
		w.BulkString("doc_flags")
		w.Set(len(docFlags))
		for _, f := range docFlags {
			w.Simple(f)
		}
	}
	if c.deprecatedSince != "" {
		w.BulkString("deprecated_since")
		w.BulkString(c.deprecatedSince)
	}
	if c.replacedBy != "" {
		w.BulkString("replaced_by")
		w.BulkString(c.replacedBy)
	}
	if len(c.history) > 0 {
		w.BulkString("history")
		w.Set(len(c.history))
		for _, h := range c.history {
			w.Array(2)
			w.BulkString(h[0])
			w.BulkString(h[1])
		}
	}
	if len(args) > 0 {
		w.BulkString("arguments")
		writeDocArgs(w, args)
	}
	if len(c.subs) > 0 {
		w.BulkString("subcommands")
		w.Map(len(c.subs))
		for _, sc := range c.subs {
			w.BulkString(sc.fullName)
			writeCommandDocs(w, sc)
		}
	}
}

// commandList serves COMMAND LIST [FILTERBY MODULE m | ACLCAT c | PATTERN p].
func commandList(c *client, argv [][]byte) error {
	var match func(*command) bool
	switch {
	case len(argv) == 2:
		match = func(*command) bool { return true }
	case len(argv) == 5 && equalFold(argv[2], "filterby"):
		arg := string(argv[4])
		switch {
		case equalFold(argv[3], "module"):
			match = func(*command) bool { return false } // no modules
		case equalFold(argv[3], "aclcat"):
			cat := strings.ToLower(arg)
			match = func(cmd *command) bool {
				for _, x := range cmd.sortedACL() {
					if x == cat {
						return true
					}
				}
				return false
			}
		case equalFold(argv[3], "pattern"):
			match = func(cmd *command) bool { return config.Glob(arg, cmd.fullName, true) }
		default:
			return errSyntax
		}
	default:
		return errSyntax
	}
	var names []string
	for _, cmd := range c.srv.table.sorted {
		if match(cmd) {
			names = append(names, cmd.fullName)
		}
		for _, sc := range cmd.subs {
			if match(sc) {
				names = append(names, sc.fullName)
			}
		}
	}
	c.w.BulkStrings(names)
	return nil
}

// commandGetKeys serves COMMAND GETKEYS / GETKEYSANDFLAGS for the command
// line args (args[0] is the command's name).
func commandGetKeys(c *client, args [][]byte, withFlags bool) error {
	cmd := c.srv.table.lookup(args[0])
	if cmd != nil && cmd.subIndex != nil && len(args) >= 2 {
		cmd = cmd.subLookup(args[1])
	}
	switch {
	case cmd == nil:
		return errInvalidCommandSpecified
	case !cmd.hasKeys():
		return errNoKeyArguments
	case (cmd.arity > 0 && cmd.arity != len(args)) || len(args) < -cmd.arity:
		return errInvalidArgsNumber
	}
	keys := cmd.keysWithFlags(args)
	if len(keys) == 0 {
		if cmd.has(flagNoMandatoryKeys) {
			c.w.Array(0)
			return nil
		}
		return errInvalidArgsSpecified
	}
	c.w.Array(len(keys))
	for _, k := range keys {
		if !withFlags {
			c.w.Bulk(args[k.pos])
			continue
		}
		c.w.Array(2)
		c.w.Bulk(args[k.pos])
		fl := keySpecFlagWords(k.flags)
		c.w.Set(len(fl))
		for _, f := range fl {
			c.w.Simple(f)
		}
	}
	return nil
}

// hasKeys mirrors Redis's doesCommandHaveKeys: a keys function, or a key
// spec that isn't NOT_KEY.
func (c *command) hasKeys() bool {
	if c.keys != nil {
		return true
	}
	for _, ks := range c.specs() {
		if !strings.Contains(strings.ToUpper(ks.flags), "NOT_KEY") {
			return true
		}
	}
	return false
}

type keyRef struct {
	pos   int
	flags string
}

// keysWithFlags finds the keys of a command line and each key's flags:
// positions from the row's keys function when it has one (what the
// dispatcher locks), else from evaluating its key specs as Redis does.
func (c *command) keysWithFlags(argv [][]byte) []keyRef {
	specs := c.specs()
	found := evalKeySpecs(specs, argv)
	var refs []keyRef
	if c.keys != nil {
		byPos := make(map[int]string, len(found))
		for _, k := range found {
			if _, ok := byPos[k.pos]; !ok {
				byPos[k.pos] = k.flags
			}
		}
		def := c.keySpecFlags
		if len(specs) > 0 {
			def = specs[0].flags
		}
		for _, p := range c.keys(argv) {
			fl, ok := byPos[p]
			if !ok {
				fl = def
			}
			refs = append(refs, keyRef{p, fl})
		}
	} else {
		refs = found
	}
	if vf := variableKeyFlags[c.fullName]; vf != nil {
		for i := range refs {
			refs[i].flags = vf(argv)
		}
	}
	return refs
}

// evalKeySpecs runs Redis's key-spec search over argv. A spec that can't
// be satisfied (out-of-range key count, missing keyword) yields no keys at
// all, as Redis's getKeysUsingKeySpecs does.
func evalKeySpecs(specs []keySpec, argv [][]byte) []keyRef {
	var out []keyRef
	argc := len(argv)
	for _, ks := range specs {
		if strings.Contains(strings.ToUpper(ks.flags), "NOT_KEY") {
			continue
		}
		var first int
		switch {
		case ks.index > 0:
			first = ks.index
		case ks.keyword != "":
			start, end := ks.startFrom, 1
			if start > 0 {
				end = argc - 1
			} else {
				start = argc + start
			}
			first = 0
			for i := start; i != end; {
				if i >= argc || i < 1 {
					break
				}
				if equalFold(argv[i], strings.ToLower(ks.keyword)) {
					first = i + 1
					break
				}
				if start <= end {
					i++
				} else {
					i--
				}
			}
			if first == 0 {
				continue
			}
		default:
			continue
		}
		var last, step int
		switch {
		case ks.findUnknown:
			continue
		case ks.keynum:
			if first+ks.keyNumIdx >= argc {
				return nil
			}
			n, ok := string2ll(argv[first+ks.keyNumIdx])
			if !ok || n < 0 || n > int64(argc) {
				return nil
			}
			first += ks.firstKey
			step = ks.numStep
			last = first + int(n) - 1
		default:
			switch {
			case ks.lastKey >= 0:
				last = first + ks.lastKey
			case ks.limit == 0:
				last = argc + ks.lastKey
			default:
				last = first + ((argc-first)/ks.limit + ks.lastKey)
			}
			step = ks.keyStep
		}
		if step < 1 {
			step = 1
		}
		if last >= argc || last < first || first >= argc {
			return nil
		}
		for i := first; i <= last; i += step {
			out = append(out, keyRef{i, ks.flags})
		}
	}
	return out
}

// variableKeyFlags resolve VARIABLE_FLAGS key specs per call, as Redis's
// setGetKeys and bitfieldGetKeys do.
var variableKeyFlags = map[string]func(argv [][]byte) string{
	"set": func(argv [][]byte) string {
		for _, a := range argv[min(3, len(argv)):] {
			if equalFold(a, "get") {
				return "RW ACCESS UPDATE"
			}
		}
		return "OW UPDATE"
	},
	"bitfield": func(argv [][]byte) string {
		for i := 2; i < len(argv); i++ {
			rem := len(argv) - i - 1
			switch a := argv[i]; {
			case equalFold(a, "get") && rem >= 2:
				i += 2
			case equalFold(a, "overflow") && rem >= 1:
				i++
			default:
				return "RW ACCESS UPDATE"
			}
		}
		return "RO ACCESS"
	},
}

// redisTips are Redis 7.0's command tips, used for rows that don't set
// their own tips field (COMMAND INFO shows them; they don't change what a
// command does).
var redisTips = map[string]string{
	"client|info":                   "nondeterministic_output",
	"client|list":                   "nondeterministic_output",
	"cluster|bumpepoch":             "nondeterministic_output",
	"cluster|count-failure-reports": "nondeterministic_output",
	"cluster|getkeysinslot":         "nondeterministic_output",
	"cluster|info":                  "nondeterministic_output",
	"cluster|links":                 "nondeterministic_output",
	"cluster|nodes":                 "nondeterministic_output",
	"cluster|replicas":              "nondeterministic_output",
	"cluster|shards":                "nondeterministic_output",
	"cluster|slaves":                "nondeterministic_output",
	"cluster|slots":                 "nondeterministic_output",
	"command":                       "nondeterministic_output_order",
	"command|docs":                  "nondeterministic_output_order",
	"command|info":                  "nondeterministic_output_order",
	"command|list":                  "nondeterministic_output_order",
	"config|set":                    "request_policy:all_nodes response_policy:all_succeeded",
	"dbsize":                        "request_policy:all_shards response_policy:agg_sum",
	"del":                           "request_policy:multi_shard response_policy:agg_sum",
	"dump":                          "nondeterministic_output",
	"exists":                        "request_policy:multi_shard response_policy:agg_sum",
	"flushall":                      "request_policy:all_shards response_policy:all_succeeded",
	"flushdb":                       "request_policy:all_shards response_policy:all_succeeded",
	"function|delete":               "request_policy:all_shards response_policy:all_succeeded",
	"function|flush":                "request_policy:all_shards response_policy:all_succeeded",
	"function|kill":                 "request_policy:all_shards response_policy:one_succeeded",
	"function|list":                 "nondeterministic_output_order",
	"function|load":                 "request_policy:all_shards response_policy:all_succeeded",
	"function|restore":              "request_policy:all_shards response_policy:all_succeeded",
	"function|stats":                "nondeterministic_output request_policy:all_shards response_policy:special",
	"hgetall":                       "nondeterministic_output_order",
	"hkeys":                         "nondeterministic_output_order",
	"hrandfield":                    "nondeterministic_output",
	"hscan":                         "nondeterministic_output",
	"hvals":                         "nondeterministic_output_order",
	"info":                          "nondeterministic_output request_policy:all_shards response_policy:special",
	"keys":                          "request_policy:all_shards nondeterministic_output_order",
	"lastsave":                      "nondeterministic_output",
	"latency|doctor":                "nondeterministic_output request_policy:all_nodes response_policy:special",
	"latency|graph":                 "nondeterministic_output request_policy:all_nodes response_policy:special",
	"latency|histogram":             "nondeterministic_output request_policy:all_nodes response_policy:special",
	"latency|history":               "nondeterministic_output request_policy:all_nodes response_policy:special",
	"latency|latest":                "nondeterministic_output request_policy:all_nodes response_policy:special",
	"latency|reset":                 "request_policy:all_nodes response_policy:all_succeeded",
	"memory|doctor":                 "nondeterministic_output request_policy:all_shards response_policy:special",
	"memory|malloc-stats":           "nondeterministic_output request_policy:all_shards response_policy:special",
	"memory|purge":                  "request_policy:all_shards response_policy:all_succeeded",
	"memory|stats":                  "nondeterministic_output request_policy:all_shards response_policy:special",
	"mget":                          "request_policy:multi_shard",
	"migrate":                       "nondeterministic_output",
	"module|list":                   "nondeterministic_output_order",
	"mset":                          "request_policy:multi_shard response_policy:all_succeeded",
	"msetnx":                        "request_policy:multi_shard response_policy:agg_min",
	"object|encoding":               "nondeterministic_output",
	"object|freq":                   "nondeterministic_output",
	"object|idletime":               "nondeterministic_output",
	"object|refcount":               "nondeterministic_output",
	"ping":                          "request_policy:all_shards response_policy:all_succeeded",
	"pttl":                          "nondeterministic_output",
	"randomkey":                     "request_policy:all_shards nondeterministic_output",
	"scan":                          "nondeterministic_output request_policy:special",
	"script|exists":                 "request_policy:all_shards response_policy:agg_logical_and",
	"script|flush":                  "request_policy:all_nodes response_policy:all_succeeded",
	"script|kill":                   "request_policy:all_shards response_policy:one_succeeded",
	"script|load":                   "request_policy:all_nodes response_policy:all_succeeded",
	"sdiff":                         "nondeterministic_output_order",
	"sinter":                        "nondeterministic_output_order",
	"slowlog|get":                   "request_policy:all_nodes nondeterministic_output",
	"slowlog|len":                   "request_policy:all_nodes response_policy:agg_sum nondeterministic_output",
	"slowlog|reset":                 "request_policy:all_nodes response_policy:all_succeeded",
	"smembers":                      "nondeterministic_output_order",
	"spop":                          "nondeterministic_output",
	"srandmember":                   "nondeterministic_output",
	"sscan":                         "nondeterministic_output",
	"sunion":                        "nondeterministic_output_order",
	"time":                          "nondeterministic_output",
	"touch":                         "request_policy:multi_shard response_policy:agg_sum",
	"ttl":                           "nondeterministic_output",
	"unlink":                        "request_policy:multi_shard response_policy:agg_sum",
	"wait":                          "request_policy:all_shards response_policy:agg_min",
	"xadd":                          "nondeterministic_output",
	"xautoclaim":                    "nondeterministic_output",
	"xclaim":                        "nondeterministic_output",
	"xinfo|consumers":               "nondeterministic_output",
	"xpending":                      "nondeterministic_output",
	"xtrim":                         "nondeterministic_output",
	"zrandmember":                   "nondeterministic_output",
	"zscan":                         "nondeterministic_output",
}

// derivedKeySpecNotes are Redis 7.0's notes on the key spec of commands
// whose single index/range spec cachalot derives from first/last/step.
var derivedKeySpecNotes = map[string]string{
	"bitfield": "This command allows both access and modification of the key",
	"getex":    "RW and UPDATE because it changes the TTL",
	"pfcount":  "RW because it may change the internal representation of the key, and propagate to replicas",
	"set":      "RW and ACCESS due to the optional `GET` argument",
	"xadd":     "UPDATE instead of INSERT because of the optional trimming feature",
}
