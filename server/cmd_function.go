package server

import (
	"time"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/store"
)

// FUNCTION and its subcommands (functions.go runs them; DUMP and RESTORE
// are in function_dump.go).

func functionCommand() *command {
	sub := func(name string, arity int, flags cmdFlags, summary, complexity, usage, tips string, h handlerFunc) *command {
		return &command{name: name, arity: arity, flags: flags, acl: "@scripting", since: "7.0.0",
			summary: summary, complexity: complexity, usage: usage, tips: tips, handler: h}
	}
	return &command{name: "function", arity: -2, group: "scripting", since: "7.0.0",
		summary: "A container for function commands", complexity: "Depends on subcommand.",
		subs: []*command{
			sub("delete", 3, flagWrite|flagNoScript, "Delete a function by name", "O(1)", "library-name",
				"request_policy:all_shards response_policy:all_succeeded", cmdFunctionDelete),
			sub("dump", 2, flagNoScript, "Dump all functions into a serialized binary payload",
				"O(N) where N is the number of functions", "", "", cmdFunctionDump),
			sub("flush", -2, flagWrite|flagNoScript, "Deleting all functions",
				"O(N) where N is the number of functions deleted", "[ASYNC | SYNC]",
				"request_policy:all_shards response_policy:all_succeeded", cmdFunctionFlush),
			sub("help", 2, flagLoading|flagStale, "Show helpful text about the different subcommands", "O(1)", "", "", cmdFunctionHelp),
			sub("kill", 2, flagNoScript|flagAllowBusy, "Kill the function currently in execution.", "O(1)", "",
				"request_policy:all_shards response_policy:one_succeeded", cmdFunctionKill),
			sub("list", -2, flagNoScript, "List information about all the functions",
				"O(N) where N is the number of functions", "[LIBRARYNAME library-name-pattern] [WITHCODE]",
				"nondeterministic_output_order", cmdFunctionList),
			sub("load", -3, flagWrite|flagDenyOOM|flagNoScript, "Create a function with the given arguments (name, code, description)",
				"O(1) (considering compilation time is redundant)", "[REPLACE] function-code",
				"request_policy:all_shards response_policy:all_succeeded", cmdFunctionLoad),
			sub("restore", -3, flagWrite|flagDenyOOM|flagNoScript, "Restore all the functions on the given payload",
				"O(N) where N is the number of functions on the payload", "serialized-value policy=[FLUSH | APPEND | REPLACE]",
				"request_policy:all_shards response_policy:all_succeeded", cmdFunctionRestore),
			sub("stats", 2, flagNoScript|flagAllowBusy, "Return information about the function currently running (name, description, duration)",
				"O(1)", "", "nondeterministic_output request_policy:all_shards response_policy:special", cmdFunctionStats),
		}}
}

func cmdFunctionLoad(c *client, _ *store.Tx, argv [][]byte) error {
	replace := false
	i := 2
	for ; i < len(argv)-1; i++ {
		if !equalFold(argv[i], "replace") {
			return respError(sanitize("ERR Unknown option given: " + string(argv[i])))
		}
		replace = true
	}
	if i >= len(argv) {
		return respError("ERR Function code is missing")
	}
	e := &c.srv.lua
	e.mu.Lock()
	defer e.mu.Unlock()
	name, err := c.srv.loadLibrary(string(argv[i]), replace)
	if err != nil {
		return err
	}
	c.w.BulkString(name)
	return nil
}

func cmdFunctionDelete(c *client, _ *store.Tx, argv [][]byte) error {
	e := &c.srv.lua
	e.mu.Lock()
	defer e.mu.Unlock()
	lib := e.libs[string(argv[2])]
	if lib == nil {
		return respError("ERR Library not found")
	}
	e.unlinkLibrary(lib)
	c.w.OK()
	return nil
}

func cmdFunctionFlush(c *client, _ *store.Tx, argv [][]byte) error {
	if len(argv) > 3 {
		return errSubcommandSyntax("FUNCTION", argv[1])
	}
	if len(argv) == 3 && !equalFold(argv[2], "sync") && !equalFold(argv[2], "async") {
		return respError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
	}
	e := &c.srv.lua
	e.mu.Lock()
	defer e.mu.Unlock()
	e.flushFunctions()
	c.w.OK()
	return nil
}

func cmdFunctionKill(c *client, _ *store.Tx, _ [][]byte) error {
	if err := c.srv.lua.kill(true); err != nil {
		return err
	}
	c.w.OK()
	return nil
}

func cmdFunctionList(c *client, _ *store.Tx, argv [][]byte) error {
	withCode := false
	var pattern []byte
	for i := 2; i < len(argv); i++ {
		switch {
		case !withCode && equalFold(argv[i], "withcode"):
			withCode = true
		case pattern == nil && equalFold(argv[i], "libraryname"):
			if i >= len(argv)-1 {
				return respError("ERR library name argument was not given")
			}
			i++
			pattern = argv[i]
		default:
			return respError(sanitize("ERR Unknown argument " + string(argv[i])))
		}
	}
	e := &c.srv.lua
	e.mu.Lock()
	defer e.mu.Unlock()
	var libs []*luaLibrary
	for _, lib := range e.libs {
		if pattern == nil || config.Glob(string(pattern), lib.name, true) {
			libs = append(libs, lib)
		}
	}
	c.w.Array(len(libs))
	for _, lib := range libs {
		if withCode {
			c.w.Map(4)
		} else {
			c.w.Map(3)
		}
		c.w.BulkString("library_name")
		c.w.BulkString(lib.name)
		c.w.BulkString("engine")
		c.w.BulkString("LUA")
		c.w.BulkString("functions")
		c.w.Array(len(lib.funcs))
		for _, f := range lib.funcs {
			c.w.Map(3)
			c.w.BulkString("name")
			c.w.BulkString(f.name)
			c.w.BulkString("description")
			if f.desc == nil {
				c.w.Null()
			} else {
				c.w.BulkString(*f.desc)
			}
			c.w.BulkString("flags")
			n := 0
			for _, fl := range scriptFlagNames {
				if f.flags&fl.flag != 0 {
					n++
				}
			}
			c.w.Set(n)
			for _, fl := range scriptFlagNames {
				if f.flags&fl.flag != 0 {
					c.w.Simple(fl.name)
				}
			}
		}
		if withCode {
			c.w.BulkString("library_code")
			c.w.BulkString(lib.code)
		}
	}
	return nil
}

// cmdFunctionStats runs without the gate while a script is busy, so it
// reads only what luaEngine keeps for it outside mu.
func cmdFunctionStats(c *client, _ *store.Tx, _ [][]byte) error {
	e := &c.srv.lua
	c.w.Map(2)
	c.w.BulkString("running_script")
	e.killMu.Lock()
	if e.running.Load() && e.isFunc.Load() {
		c.w.Map(3)
		c.w.BulkString("name")
		c.w.BulkString(e.runName)
		c.w.BulkString("command")
		c.w.Array(len(e.runArgv))
		for _, a := range e.runArgv {
			c.w.Bulk(a)
		}
		c.w.BulkString("duration_ms")
		c.w.Int(time.Now().UnixMilli() - e.startMs.Load())
	} else {
		c.w.Null()
	}
	e.killMu.Unlock()
	c.w.BulkString("engines")
	c.w.Map(1)
	c.w.BulkString("LUA")
	c.w.Map(2)
	c.w.BulkString("libraries_count")
	c.w.Int(e.libCount.Load())
	c.w.BulkString("functions_count")
	c.w.Int(e.funcCount.Load())
	return nil
}

var functionHelp = []string{
	"FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"LOAD [REPLACE] <FUNCTION CODE>",
	"    Create a new library with the given library name and code.",
	"DELETE <LIBRARY NAME>",
	"    Delete the given library.",
	"LIST [LIBRARYNAME PATTERN] [WITHCODE]",
	"    Return general information on all the libraries:",
	"    * Library name",
	"    * The engine used to run the Library",
	"    * Library description",
	"    * Functions list",
	"    * Library code (if WITHCODE is given)",
	"    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
	"STATS",
	"    Return information about the current function running:",
	"    * Function name",
	"    * Command used to run the function",
	"    * Duration in MS that the function is running",
	"    If no function is running, return nil",
	"    In addition, returns a list of available engines.",
	"KILL",
	"    Kill the current running function.",
	"FLUSH [ASYNC|SYNC]",
	"    Delete all the libraries.",
	"    When called without the optional mode argument, the behavior is determined by the",
	"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
	"    * ASYNC: Asynchronously flush the libraries.",
	"    * SYNC: Synchronously flush the libraries.",
	"DUMP",
	"    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
	"RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
	"    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
	"    control how to handle existing libraries (default APPEND):",
	"    * FLUSH: delete all existing libraries.",
	"    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
	"    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
	"      libraries with the new libraries (notice that even on this option there is a chance of failure",
	"      in case of functions name collision with another library).",
	"HELP",
	"    Prints this help.",
}

func cmdFunctionHelp(c *client, _ *store.Tx, _ [][]byte) error {
	c.w.Array(len(functionHelp))
	for _, l := range functionHelp {
		c.w.Simple(l)
	}
	return nil
}
