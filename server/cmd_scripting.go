package server

import (
	"github.com/cachalotdb/cachalot/store"
)

// EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (scripting.go runs them).
// The rows are flagOwnLocks: a script takes the server's gate exclusively
// and each redis.call locks its own keys, so the dispatcher must lock
// nothing; the keys function still serves COMMAND GETKEYS.

func scriptingCommands() []*command {
	evalRow := func(name, first, since, summary string, flags cmdFlags, spec keySpec, h handlerFunc) *command {
		return &command{name: name, arity: -3,
			flags: flags | flagNoScript | flagStale | flagSkipMonitor | flagNoMandatoryKeys | flagMovableKeys | flagOwnLocks,
			keys:  numkeysKeys(2), keySpecs: []keySpec{spec},
			acl: "@scripting", group: "scripting", since: since, summary: summary,
			complexity: "Depends on the script that is executed.",
			usage:      first + " numkeys [key [key ...]] [arg [arg ...]]",
			handler:    h}
	}
	rw := keySpec{notes: "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE",
		flags: "RW ACCESS UPDATE", index: 2, keynum: true, keyNumIdx: 0, firstKey: 1, numStep: 1}
	ro := keySpec{notes: "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS",
		flags: "RO ACCESS", index: 2, keynum: true, keyNumIdx: 0, firstKey: 1, numStep: 1}
	rwSha, roSha := rw, ro
	rwSha.notes, roSha.notes = "", ""
	sub := func(name string, arity int, flags cmdFlags, summary, complexity, usage, tips string, h handlerFunc) *command {
		return &command{name: name, arity: arity, flags: flags, acl: "@scripting", since: "2.6.0",
			summary: summary, complexity: complexity, usage: usage, tips: tips, handler: h}
	}
	return []*command{
		evalRow("eval", "script", "2.6.0", "Execute a Lua script server side", 0, rw,
			func(c *client, _ *store.Tx, argv [][]byte) error { return c.srv.evalGeneric(c, argv, false, false) }),
		evalRow("evalsha", "sha1", "2.6.0", "Execute a Lua script server side", 0, rwSha,
			func(c *client, _ *store.Tx, argv [][]byte) error { return c.srv.evalGeneric(c, argv, true, false) }),
		evalRow("eval_ro", "script", "7.0.0", "Execute a read-only Lua script server side", flagReadonly, ro,
			func(c *client, _ *store.Tx, argv [][]byte) error { return c.srv.evalGeneric(c, argv, false, true) }),
		evalRow("evalsha_ro", "sha1", "7.0.0", "Execute a read-only Lua script server side", flagReadonly, roSha,
			func(c *client, _ *store.Tx, argv [][]byte) error { return c.srv.evalGeneric(c, argv, true, true) }),
		withComplexity(evalRow("fcall", "function", "7.0.0", "Invoke a function", 0, rw,
			func(c *client, _ *store.Tx, argv [][]byte) error { return c.srv.fcallGeneric(c, argv, false) })),
		withComplexity(evalRow("fcall_ro", "function", "7.0.0", "Invoke a read-only function", flagReadonly, ro,
			func(c *client, _ *store.Tx, argv [][]byte) error { return c.srv.fcallGeneric(c, argv, true) })),
		functionCommand(),
		{name: "script", arity: -2, group: "scripting", since: "2.6.0",
			summary: "A container for Lua scripts management commands", complexity: "Depends on subcommand.",
			subs: []*command{
				sub("exists", -3, flagNoScript, "Check existence of scripts in the script cache.",
					"O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
					"sha1 [sha1 ...]", "request_policy:all_shards response_policy:agg_logical_and", cmdScriptExists),
				sub("flush", -2, flagNoScript, "Remove all the scripts from the script cache.",
					"O(N) with N being the number of scripts in cache", "[ASYNC | SYNC]",
					"request_policy:all_nodes response_policy:all_succeeded", cmdScriptFlush),
				withSince(sub("help", 2, flagLoading|flagStale, "Show helpful text about the different subcommands", "O(1)", "", "", cmdScriptHelp), "5.0.0"),
				sub("kill", 2, flagNoScript|flagAllowBusy, "Kill the script currently in execution.", "O(1)", "",
					"request_policy:all_shards response_policy:one_succeeded", cmdScriptKill),
				sub("load", 3, flagNoScript|flagStale, "Load the specified Lua script into the script cache.",
					"O(N) with N being the length in bytes of the script body.", "script",
					"request_policy:all_nodes response_policy:all_succeeded", cmdScriptLoad),
			}},
	}
}

func withComplexity(c *command) *command {
	c.complexity = "Depends on the function that is executed."
	return c
}

func withSince(c *command, since string) *command {
	c.since = since
	return c
}

func cmdScriptLoad(c *client, _ *store.Tx, argv [][]byte) error {
	e := &c.srv.lua
	e.mu.Lock()
	defer e.mu.Unlock()
	c.srv.luaState()
	sha, _, err := e.compile(argv[2])
	if err != nil {
		return err
	}
	c.w.BulkString(sha)
	return nil
}

func cmdScriptExists(c *client, _ *store.Tx, argv [][]byte) error {
	e := &c.srv.lua
	e.mu.Lock()
	defer e.mu.Unlock()
	c.w.Array(len(argv) - 2)
	for _, a := range argv[2:] {
		if e.scripts[string(lowerASCII(a))] != nil {
			c.w.Int(1)
		} else {
			c.w.Int(0)
		}
	}
	return nil
}

func cmdScriptFlush(c *client, _ *store.Tx, argv [][]byte) error {
	if len(argv) > 3 || (len(argv) == 3 && !equalFold(argv[2], "sync") && !equalFold(argv[2], "async")) {
		return errScriptFlushOption
	}
	e := &c.srv.lua
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.vm != nil {
		e.vm.L.Close()
		e.vm = nil
	}
	e.scripts = nil
	c.w.OK()
	return nil
}

func cmdScriptKill(c *client, _ *store.Tx, _ [][]byte) error {
	if err := c.srv.lua.kill(false); err != nil {
		return err
	}
	c.w.OK()
	return nil
}

var scriptHelp = []string{
	"SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"DEBUG (YES|SYNC|NO)",
	"    Set the debug mode for subsequent scripts executed.",
	"EXISTS <sha1> [<sha1> ...]",
	"    Return information about the existence of the scripts in the script cache.",
	"FLUSH [ASYNC|SYNC]",
	"    Flush the Lua scripts cache. Very dangerous on replicas.",
	"    When called without the optional mode argument, the behavior is determined by the",
	"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
	"    * ASYNC: Asynchronously flush the scripts cache.",
	"    * SYNC: Synchronously flush the scripts cache.",
	"KILL",
	"    Kill the currently executing Lua script.",
	"LOAD <script>",
	"    Load a script into the scripts cache without executing it.",
	"HELP",
	"    Prints this help.",
}

func cmdScriptHelp(c *client, _ *store.Tx, _ [][]byte) error {
	c.w.Array(len(scriptHelp))
	for _, l := range scriptHelp {
		c.w.Simple(l)
	}
	return nil
}
