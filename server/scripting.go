package server

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Lua scripting (EVAL and friends) on gopher-lua, a Lua 5.1 as in Redis.
//
// One Lua state serves the whole server. A script runs holding the
// server's gate exclusively (multi.go), so scripts run one at a time and no
// other client's command runs meanwhile: a script is atomic whatever keys
// it touches, declared in KEYS or not (Sidekiq, asynq and BullMQ rely on
// that). redis.call runs a command through the ordinary table (the same
// resolve checks, execute path, locks and handlers) on a script client
// whose reply is captured and parsed back into Lua values, which makes the
// RESP → Lua conversion exactly the one for the reply a client would get.

// luaEngine is the server's Lua states (one for EVAL, one for functions),
// the script cache and the function libraries.
type luaEngine struct {
	mu      sync.Mutex            // guards vm, fvm, scripts, libs, funcs; held for a script's run
	vm      *luaVM                // EVAL's state, nil until first used or after SCRIPT FLUSH
	scripts map[string]*luaScript // by lower-case SHA1 hex
	// per-run state, valid while a script runs (under mu)
	run *scriptRun

	// Functions (functions.go): their own state, as in Redis.
	fvm       *luaVM
	libs      map[string]*luaLibrary  // by name (case-sensitive)
	funcs     map[string]*luaFunction // by lower-case name
	loading   *luaLibrary             // the library FUNCTION LOAD is running
	libCount  atomic.Int64            // read by FUNCTION STATS without mu
	funcCount atomic.Int64

	// Busy scripts: read without mu by other clients.
	running atomic.Bool
	startMs atomic.Int64 // when the running script started
	wrote   atomic.Bool  // the running script called a write command
	killed  atomic.Bool  // SCRIPT KILL stopped it
	isFunc  atomic.Bool  // the running script is a function (FCALL)
	busyMs  atomic.Int64 // busy threshold in ms for tests; 0 means the config's
	killMu  sync.Mutex
	cancel  context.CancelFunc // stops the running script
	runName string             // the running function's name (under killMu)
	runArgv [][]byte           // the running FCALL's arguments (under killMu)
}

// luaVM is one Lua state with Redis's protected globals: the globals table
// stays empty and reads go through __index to cur (the API for scripts, or
// the smaller one FUNCTION LOAD runs a library with).
type luaVM struct {
	L       *lua.LState
	globals *lua.LTable // the API scripts and functions see
	loadAPI *lua.LTable // the API a library's body sees while it loads
	cur     *lua.LTable
}

// defaultBusyMs is Redis's busy-reply-threshold (lua-time-limit) default.
const defaultBusyMs = 5000

// busy reports whether a script has run past the busy threshold
// (busy-reply-threshold, which CONFIG SET may change at run time).
func (s *Server) scriptBusy() bool {
	e := &s.lua
	if !e.running.Load() {
		return false
	}
	limit := e.busyMs.Load()
	if limit <= 0 {
		limit = int64(s.Config().BusyReplyThreshold)
	}
	return time.Now().UnixMilli()-e.startMs.Load() >= limit
}

// busyError is the -BUSY reply while a script runs past the threshold: it
// names the command that can stop it.
func (e *luaEngine) busyError() respError {
	if e.isFunc.Load() {
		return errBusyFunction
	}
	return errBusy
}

// kill is SCRIPT KILL (function false) and FUNCTION KILL (true).
func (e *luaEngine) kill(function bool) error {
	e.killMu.Lock()
	defer e.killMu.Unlock()
	if !e.running.Load() || e.cancel == nil {
		return errNotBusy
	}
	if e.wrote.Load() {
		return errUnkillable
	}
	if isFunc := e.isFunc.Load(); isFunc != function {
		if isFunc {
			return errBusyFunction
		}
		return errBusy
	}
	e.killed.Store(true)
	e.cancel()
	return nil
}

type luaScript struct {
	body  string
	fn    *lua.LFunction
	flags scriptFlags
}

// scriptRun is one running script.
type scriptRun struct {
	caller   *client
	lc       *client // the script's own client: its db, its reply buffer
	sha      string
	readOnly bool
	resp     int      // redis.setresp
	oom      bool     // memory was over maxmemory when the script started
	allowOOM bool     // the allow-oom flag
	argv     [][]byte // FCALL's arguments, for FUNCTION STATS
	row      *command // EVAL…/FCALL… itself, for its failed_calls
}

// scriptErrCounted is the field Redis 7.0 sets in the error table of an
// error already counted in errorstats (by the redis.call that refused or
// ran the command): the script's own reply then counts it only as a failed
// call (ERR_REPLY_FLAG_NO_STATS_UPDATE).
const scriptErrCounted = "ignore_error_stats_update"

// countedError is a script's error reply whose error was counted already:
// the dispatcher answers it and counts a failed call, not the error.
type countedError struct{ respError }

func (e countedError) Unwrap() error { return e.respError }

// errorCounted reports whether err was counted in errorstats already.
func errorCounted(err error) bool {
	_, ok := err.(countedError)
	return ok
}

func sha1hex(b []byte) string {
	h := sha1.Sum(b)
	return hex.EncodeToString(h[:])
}

// luaState returns the server's Lua engine, creating EVAL's state on first
// use. The caller holds e.mu.
func (s *Server) luaState() *luaEngine {
	e := &s.lua
	if e.vm == nil {
		e.vm = s.newLuaVM(false)
		e.scripts = make(map[string]*luaScript)
	}
	return e
}

// redisVersionNum is redis.REDIS_VERSION_NUM for redisVersionCompat:
// 0x00MMmmpp.
func redisVersionNum() int {
	n, shift := 0, 16
	for _, part := range strings.SplitN(redisVersionCompat, ".", 3) {
		v, _ := strconv.Atoi(part)
		n |= v << shift
		shift -= 8
	}
	return n
}

// newLuaVM builds a state with Redis's libraries and the redis table, then
// protects the globals and the library tables as Redis 7.0 does. A state
// for functions also gets the API FUNCTION LOAD runs libraries with.
func (s *Server) newLuaVM(functions bool) *luaVM {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	vm := &luaVM{L: L}
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
		{lua.DebugLibName, lua.OpenDebug},
	} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	// Redis removes loadfile and dofile.
	L.SetGlobal("loadfile", lua.LNil)
	L.SetGlobal("dofile", lua.LNil)
	L.SetGlobal("print", lua.LNil)
	// tostring prints numbers as Lua 5.1 does (%.14g: "nan", "inf",
	// 14 significant digits), not as Go does.
	if orig, ok := L.GetGlobal("tostring").(*lua.LFunction); ok {
		L.SetGlobal("tostring", L.NewFunction(func(L *lua.LState) int {
			if n, ok := L.Get(1).(lua.LNumber); ok {
				L.Push(lua.LString(luaNumberString(float64(n))))
				return 1
			}
			top := L.GetTop()
			L.Push(orig)
			for i := 1; i <= top; i++ {
				L.Push(L.Get(i))
			}
			L.Call(top, 1)
			return 1
		}))
	}
	L.SetGlobal("cjson", openCjsonLib(L))
	L.SetGlobal("cmsgpack", openCmsgpackLib(L))
	L.SetGlobal("bit", openBitLib(L))
	L.SetGlobal("struct", openStructLib(L))

	r := L.NewTable()
	reg := func(name string, fn lua.LGFunction) { r.RawSetString(name, L.NewFunction(fn)) }
	reg("call", func(L *lua.LState) int { return s.luaRedisCall(L, true) })
	reg("pcall", func(L *lua.LState) int { return s.luaRedisCall(L, false) })
	reg("error_reply", func(L *lua.LState) int {
		t := L.NewTable()
		t.RawSetString("err", lua.LString(L.CheckString(1)))
		L.Push(t)
		return 1
	})
	reg("status_reply", func(L *lua.LState) int {
		t := L.NewTable()
		t.RawSetString("ok", lua.LString(L.CheckString(1)))
		L.Push(t)
		return 1
	})
	reg("sha1hex", func(L *lua.LState) int {
		if L.GetTop() != 1 {
			luaRaise(L, "ERR wrong number of arguments")
		}
		L.Push(lua.LString(sha1hex([]byte(L.ToString(1)))))
		return 1
	})
	logFn := L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() < 2 {
			luaRaise(L, "ERR redis.log() requires two arguments or more.")
		}
		var parts []string
		for i := 2; i <= L.GetTop(); i++ {
			parts = append(parts, L.ToString(i))
		}
		s.log.Info(strings.Join(parts, " "), "source", "lua")
		return 0
	})
	r.RawSetString("log", logFn)
	reg("setresp", func(L *lua.LState) int {
		if L.GetTop() != 1 {
			luaRaise(L, "ERR redis.setresp() requires one argument.")
		}
		v := L.ToInt(1)
		if v != 2 && v != 3 {
			luaRaise(L, "ERR RESP version must be 2 or 3.")
		}
		if run := s.lua.run; run != nil {
			run.resp = v
		}
		return 0
	})
	reg("replicate_commands", func(L *lua.LState) int { L.Push(lua.LTrue); return 1 })
	reg("set_repl", func(L *lua.LState) int { return 0 })
	logLevels := map[string]int{"LOG_DEBUG": 0, "LOG_VERBOSE": 1, "LOG_NOTICE": 2, "LOG_WARNING": 3}
	for name, v := range logLevels {
		r.RawSetString(name, lua.LNumber(v))
	}
	for name, v := range map[string]int{"REPL_NONE": 0, "REPL_AOF": 1, "REPL_SLAVE": 2, "REPL_REPLICA": 2, "REPL_ALL": 3} {
		r.RawSetString(name, lua.LNumber(v))
	}
	r.RawSetString("REDIS_VERSION", lua.LString(redisVersionCompat))
	r.RawSetString("REDIS_VERSION_NUM", lua.LNumber(redisVersionNum()))
	L.SetGlobal("redis", r)

	// pcall hands scripts the message of a redis.call error, not the
	// error table, as Redis 7.0 does.
	if err := L.DoString(`local orig = pcall
local function fix(ok, ...)
  if not ok then
    local e = ...
    if type(e) == 'table' and e.err then return false, e.err end
  end
  return ok, ...
end
pcall = function(...) return fix(orig(...)) end`); err != nil {
		panic("server: lua setup: " + err.Error())
	}

	// Read-only globals, as with Redis 7.0's protected globals: the
	// globals table stays empty and reads go to a backing table through
	// __index, so assigning any global (existing or not) reaches
	// __newindex and fails, and reading a missing one fails. The library
	// tables (string, redis, cjson…) are read-only too.
	g := L.Get(lua.GlobalsIndex).(*lua.LTable)
	backing := L.NewTable()
	var names []lua.LValue
	g.ForEach(func(k, v lua.LValue) {
		if t, ok := v.(*lua.LTable); ok && k != lua.LString("_G") {
			v = readonlyTable(L, t, false)
		}
		backing.RawSet(k, v)
		names = append(names, k)
	})
	for _, k := range names {
		g.RawSet(k, lua.LNil)
	}
	vm.globals, vm.cur = backing, backing
	if functions {
		// A library's body sees only redis.register_function, redis.log,
		// the LOG_ levels and the version, and an error for anything else.
		lr := L.NewTable()
		lr.RawSetString("register_function", L.NewFunction(s.luaRegisterFunction))
		lr.RawSetString("log", logFn)
		for name, v := range logLevels {
			lr.RawSetString(name, lua.LNumber(v))
		}
		lr.RawSetString("REDIS_VERSION", lua.LString(redisVersionCompat))
		lr.RawSetString("REDIS_VERSION_NUM", lua.LNumber(redisVersionNum()))
		vm.loadAPI = L.NewTable()
		vm.loadAPI.RawSetString("redis", readonlyTable(L, lr, true))
	}
	mt := L.NewTable()
	mt.RawSetString("__newindex", L.NewFunction(luaReadonlyError))
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		v := vm.cur.RawGet(L.Get(2))
		if v == lua.LNil {
			L.RaiseError("Script attempted to access nonexistent global variable '%s'", L.ToString(2))
		}
		L.Push(v)
		return 1
	}))
	mt.RawSetString("__metatable", lua.LFalse)
	L.SetMetatable(g, mt)
	return vm
}

func luaReadonlyError(L *lua.LState) int {
	L.RaiseError("Attempt to modify a readonly table")
	return 0
}

// readonlyTable returns an empty proxy whose reads go to t and whose
// writes fail; strict makes reading a missing field fail too, as Redis's
// error metatable does.
func readonlyTable(L *lua.LState, t *lua.LTable, strict bool) *lua.LTable {
	proxy := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__newindex", L.NewFunction(luaReadonlyError))
	if strict {
		mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
			v := t.RawGet(L.Get(2))
			if v == lua.LNil {
				L.RaiseError("Script attempted to access nonexistent global variable '%s'", L.ToString(2))
			}
			L.Push(v)
			return 1
		}))
	} else {
		mt.RawSetString("__index", t)
	}
	mt.RawSetString("__metatable", lua.LFalse)
	L.SetMetatable(proxy, mt)
	return proxy
}

// luaRaise raises an error reply (a table with err) from a Go function,
// which EVAL reports with the script's trailer and pcall hands over as the
// message.
func luaRaise(L *lua.LState, msg string) {
	t := L.NewTable()
	t.RawSetString("err", lua.LString(msg))
	L.Error(t, 0)
}

// Script flags, from an EVAL script's shebang or register_function.
type scriptFlags uint8

const (
	flagScriptNoWrites scriptFlags = 1 << iota
	flagScriptAllowOOM
	flagScriptAllowStale
	flagScriptNoCluster
	flagScriptAllowCrossSlot
	flagScriptEvalCompat // an EVAL script without a shebang: today's rules
)

// scriptFlagNames lists the flags in Redis's order (FUNCTION LIST shows
// them so).
var scriptFlagNames = []struct {
	flag scriptFlags
	name string
}{
	{flagScriptNoWrites, "no-writes"},
	{flagScriptAllowOOM, "allow-oom"},
	{flagScriptAllowStale, "allow-stale"},
	{flagScriptNoCluster, "no-cluster"},
	{flagScriptAllowCrossSlot, "allow-cross-slot-keys"},
}

// scriptShebang is evalExtractShebangFlags: the flags of an EVAL script and
// the length of its "#!lua ..." line (0 without one).
func scriptShebang(body []byte) (scriptFlags, int, error) {
	if len(body) < 2 || body[0] != '#' || body[1] != '!' {
		return flagScriptEvalCompat, 0, nil
	}
	end := bytesIndexByte(body, '\n')
	if end < 0 {
		return 0, 0, respError("ERR Invalid script shebang")
	}
	parts, ok := splitArgs(body[:end])
	if !ok || len(parts) == 0 {
		return 0, 0, respError("ERR Invalid engine in script shebang")
	}
	if string(parts[0]) != "#!lua" {
		return 0, 0, respError(sanitize("ERR Unexpected engine in script shebang: " + string(parts[0])))
	}
	var flags scriptFlags
	for _, part := range parts[1:] {
		if !strings.HasPrefix(string(part), "flags=") {
			return 0, 0, respError(sanitize("ERR Unknown lua shebang option: " + string(part)))
		}
		list := string(part[6:])
		if list == "" {
			continue
		}
		for _, name := range strings.Split(list, ",") {
			f, ok := lookupScriptFlag(name, false)
			if !ok {
				return 0, 0, respError(sanitize("ERR Unexpected flag in script shebang: " + name))
			}
			flags |= f
		}
	}
	return flags, end, nil
}

func lookupScriptFlag(name string, nocase bool) (scriptFlags, bool) {
	for _, f := range scriptFlagNames {
		if f.name == name || (nocase && strings.EqualFold(f.name, name)) {
			return f.flag, true
		}
	}
	return 0, false
}

func bytesIndexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// compile returns the cached script for body, compiling it on a miss.
// The caller holds e.mu. A shebang line is left out of the compiled code
// but its line feed is kept, so line numbers stay the user's.
func (e *luaEngine) compile(body []byte) (string, *luaScript, error) {
	sha := sha1hex(body)
	if sc := e.scripts[sha]; sc != nil {
		return sha, sc, nil
	}
	flags, skip, err := scriptShebang(body)
	if err != nil {
		return "", nil, err
	}
	fn, err := e.vm.L.Load(strings.NewReader(string(body[skip:])), "user_script")
	if err != nil {
		msg := err.Error()
		if ae, ok := err.(*lua.ApiError); ok {
			msg = ae.Object.String()
		}
		return "", nil, respError("ERR Error compiling script (new function): " + firstLine(msg))
	}
	sc := &luaScript{body: string(body), fn: fn, flags: flags}
	e.scripts[sha] = sc
	return sha, sc, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// evalGeneric is EVAL, EVALSHA and their _RO forms.
func (s *Server) evalGeneric(c *client, argv [][]byte, bySHA, readOnly bool) error {
	n, err := parseInt(argv[2])
	if err != nil {
		return errNotInteger
	}
	if n < 0 {
		return errNumKeysNegative
	}
	if n > int64(len(argv)-3) {
		return errNumKeysTooMany
	}
	keys, args := argv[3:3+n], argv[3+n:]

	took := s.beginExclusive(c)
	defer s.endExclusive(c, took)
	e := &s.lua
	e.mu.Lock()
	defer e.mu.Unlock()
	s.luaState()

	var sha string
	var sc *luaScript
	if bySHA {
		sha = strings.ToLower(string(argv[1]))
		sc = e.scripts[sha]
		if sc == nil {
			return errNoScript
		}
	} else {
		sha, sc, err = e.compile(argv[1])
		if err != nil {
			return err
		}
	}
	run, err := s.prepareRun(c, sc.flags, readOnly)
	if err != nil {
		return err
	}
	run.sha = sha
	run.row = s.table.lookup(argv[0])
	g := e.vm.globals
	g.RawSetString("KEYS", bytesTable(e.vm.L, keys))
	g.RawSetString("ARGV", bytesTable(e.vm.L, args))
	return s.runLua(c, e.vm, sc.fn, run, nil, nil, "")
}

// scriptDenyOOM is Redis's getCommandFlags for the script commands
// (evalGetCommandFlags, fcallGetCommandFlags): a script or function that
// declares flags (a shebang line, register_function) may grow memory
// unless it has no-writes or allow-oom, so the command counts as denyoom
// before it runs. A script without a shebang, one whose shebang does not
// parse, an EVALSHA of an unknown SHA and an FCALL of an unknown function
// keep the command's own flags (not denyoom). The lookup waits for the
// engine; while a script is busy it answers false (the command gets -BUSY
// anyway).
func (s *Server) scriptDenyOOM(cmd *command, argv [][]byte) bool {
	if len(argv) < 2 {
		return false
	}
	declared := func(f scriptFlags) bool {
		return f&flagScriptEvalCompat == 0 && f&(flagScriptNoWrites|flagScriptAllowOOM) == 0
	}
	switch cmd.fullName {
	case "eval", "eval_ro":
		f, _, err := scriptShebang(argv[1])
		return err == nil && declared(f)
	case "evalsha", "evalsha_ro", "fcall", "fcall_ro":
	default:
		return false
	}
	e := &s.lua
	for wait := 20 * time.Microsecond; !e.mu.TryLock(); {
		if s.scriptBusy() {
			return false
		}
		time.Sleep(wait)
		if wait < time.Millisecond {
			wait *= 2
		}
	}
	defer e.mu.Unlock()
	if cmd.fullName == "fcall" || cmd.fullName == "fcall_ro" {
		f := e.funcs[strings.ToLower(string(argv[1]))]
		return f != nil && declared(f.flags)
	}
	sc := e.scripts[strings.ToLower(string(argv[1]))]
	return sc != nil && declared(sc.flags)
}

// prepareRun is scriptPrepareForRun: the checks a script's flags call for
// before it runs, and its run state. readOnly is EVAL_RO, EVALSHA_RO or
// FCALL_RO.
func (s *Server) prepareRun(c *client, flags scriptFlags, readOnly bool) (*scriptRun, error) {
	oom := s.Config().Maxmemory > 0 && s.store != nil && s.store.OverLimit()
	run := &scriptRun{caller: c, resp: 2, oom: oom}
	if flags&flagScriptEvalCompat == 0 {
		if flags&(flagScriptAllowOOM|flagScriptNoWrites) == 0 && oom {
			return nil, errScriptOOM
		}
		if flags&flagScriptNoWrites == 0 && readOnly {
			return nil, errScriptWriteRO
		}
		if flags&flagScriptNoWrites != 0 {
			readOnly = true
		}
		run.allowOOM = flags&flagScriptAllowOOM != 0
	}
	run.readOnly = readOnly
	return run, nil
}

// runLua runs fn on vm and writes its reply to c: an EVAL script (keys and
// args in KEYS and ARGV already, fname empty) or a function called with
// keys and args as its two arguments.
func (s *Server) runLua(c *client, vm *luaVM, fn *lua.LFunction, run *scriptRun, keys, args [][]byte, fname string) error {
	e := &s.lua
	L := vm.L
	lc := &client{srv: s, db: c.db, authenticated: true, id: -1}
	lc.user.Store(c.user.Load()) // redis.call runs with the caller's ACL user (acl.go)
	lc.w.proto = 2
	run.lc = lc
	e.run = run
	defer func() { e.run = nil }()

	ctx, cancel := context.WithCancel(context.Background())
	e.killMu.Lock()
	e.cancel = cancel
	e.wrote.Store(false)
	e.killed.Store(false)
	e.isFunc.Store(fname != "")
	e.runName = fname
	e.runArgv = nil
	if fname != "" {
		for _, a := range run.argv {
			e.runArgv = append(e.runArgv, append([]byte(nil), a...))
		}
	}
	e.startMs.Store(time.Now().UnixMilli())
	e.running.Store(true)
	e.killMu.Unlock()
	L.SetContext(ctx)
	defer func() {
		e.killMu.Lock()
		e.running.Store(false)
		e.isFunc.Store(false)
		e.cancel = nil
		e.runName, e.runArgv = "", nil
		e.killMu.Unlock()
		cancel()
		L.RemoveContext()
	}()

	top := L.GetTop()
	L.Push(fn)
	nargs := 0
	if fname != "" {
		L.Push(bytesTable(L, keys))
		L.Push(bytesTable(L, args))
		nargs = 2
	}
	err := L.PCall(nargs, 1, L.NewFunction(luaErrorHandler))
	defer L.SetTop(top)
	if err != nil {
		var obj lua.LValue = lua.LString(err.Error())
		if ae, ok := err.(*lua.ApiError); ok {
			obj = ae.Object
		}
		if e.killed.Load() {
			if t, ok := obj.(*lua.LTable); ok {
				t.RawSetString("err", lua.LString("ERR Script killed by user with SCRIPT KILL..."))
			}
		}
		name := run.sha
		if fname != "" {
			name = fname
		}
		counted := false
		if t, ok := obj.(*lua.LTable); ok && !e.killed.Load() {
			counted = lua.LVAsBool(t.RawGetString(scriptErrCounted))
		}
		if counted {
			return countedError{asRespError(scriptError(obj, name))}
		}
		return scriptError(obj, name)
	}
	var tally scriptErrTally
	luaToRespTally(&c.w, L.Get(-1), run.resp, L, &tally)
	// Errors in the reply: those not counted yet count now, and the call
	// failed once for them; each one counted already makes a failed call
	// of its own, as in Redis.
	for _, re := range tally.uncounted {
		s.countError(re)
	}
	if run.row != nil {
		failed := tally.counted
		if len(tally.uncounted) > 0 {
			failed++
		}
		run.row.stats.failedCalls.Add(int64(failed))
	}
	return nil
}

// luaErrorHandler turns a raised error into a table {err=, source=, line=}
// as Redis's __redis__err__handler does.
func luaErrorHandler(L *lua.LState) int {
	obj := L.Get(1)
	t, ok := obj.(*lua.LTable)
	if !ok {
		t = L.NewTable()
		t.RawSetString("err", lua.LString("ERR "+lua.LVAsString(L.ToStringMeta(obj))))
	}
	if t.RawGetString("line") == lua.LNil {
		for lvl := 0; ; lvl++ {
			dbg, ok := L.GetStack(lvl)
			if !ok {
				break
			}
			if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
				break
			}
			if dbg.What == "Lua" || dbg.What == "main" {
				t.RawSetString("source", lua.LString("@"+dbg.Source))
				t.RawSetString("line", lua.LNumber(dbg.CurrentLine))
				break
			}
		}
	}
	L.Push(t)
	return 1
}

// scriptError builds the error EVAL replies for a script that raised one:
// "<err> script: <sha>, on @user_script:<line>."
func scriptError(obj lua.LValue, sha string) error {
	t, ok := obj.(*lua.LTable)
	if !ok {
		return respError("ERR " + obj.String() + " script: " + sha)
	}
	msg := lua.LVAsString(t.RawGetString("err"))
	if msg == "" {
		msg = "ERR unknown error"
	}
	src := lua.LVAsString(t.RawGetString("source"))
	line := t.RawGetString("line")
	if src == "" {
		return respError(msg + " script: " + sha)
	}
	return respError(fmt.Sprintf("%s script: %s, on %s:%s.", msg, sha, src, lua.LVAsString(line)))
}

func bytesTable(L *lua.LState, items [][]byte) *lua.LTable {
	t := L.CreateTable(len(items), 0)
	for _, b := range items {
		t.Append(lua.LString(b))
	}
	return t
}

// luaRedisCall is redis.call (raise) and redis.pcall (return the error).
func (s *Server) luaRedisCall(L *lua.LState, raise bool) int {
	run := s.lua.run
	// failWith raises or returns an error table; counted marks an error
	// already counted in errorstats (Redis's ignore_error_stats_update
	// field, which scripts can see too).
	failWith := func(msg string, counted bool) int {
		t := L.NewTable()
		t.RawSetString("err", lua.LString(msg))
		if counted {
			t.RawSetString(scriptErrCounted, lua.LTrue)
		}
		if raise {
			if dbg, ok := L.GetStack(1); ok {
				if _, err := L.GetInfo("Sl", dbg, lua.LNil); err == nil {
					t.RawSetString("source", lua.LString("@"+dbg.Source))
					t.RawSetString("line", lua.LNumber(dbg.CurrentLine))
				}
			}
			L.Error(t, 0)
			return 0
		}
		L.Push(t)
		return 1
	}
	fail := func(msg string) int { return failWith(msg, false) }
	var cmd *command
	// reject is scriptCall's error path: once the command is looked up, a
	// refusal counts in errorstats and in the command's rejected_calls.
	reject := func(msg string) int {
		s.countError(respError(msg))
		if cmd != nil {
			cmd.stats.rejectedCalls.Add(1)
		}
		return failWith(msg, true)
	}
	n := L.GetTop()
	if n == 0 {
		return fail("ERR Please specify at least one argument for this redis lib call")
	}
	argv := make([][]byte, n)
	for i := 1; i <= n; i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			argv[i-1] = []byte(string(v))
		case lua.LNumber:
			// Redis formats number arguments with %.17g, not Lua's %.14g.
			argv[i-1] = []byte(cFormatG(float64(v), 17))
		default:
			return fail("ERR Lua redis lib command arguments must be strings or integers")
		}
	}
	if run == nil {
		return fail("ERR redis.call is only available inside a script")
	}
	cmd = s.table.lookup(argv[0])
	if cmd != nil && cmd.subIndex != nil && len(argv) >= 2 {
		cmd = cmd.subLookup(argv[1])
	}
	if cmd == nil {
		return reject("ERR Unknown Redis command called from script")
	}
	if (cmd.arity > 0 && len(argv) != cmd.arity) || len(argv) < -cmd.arity {
		return reject("ERR Wrong number of args calling Redis command from script")
	}
	if cmd.has(flagNoScript) {
		return reject(string(errNotFromScript))
	}
	if msg := s.aclScriptCheck(run.caller, run.lc, cmd, argv); msg != "" { // acl.go
		return reject(msg)
	}
	if run.readOnly && cmd.has(flagWrite) {
		return reject("ERR Write commands are not allowed from read-only scripts.")
	}
	// scriptVerifyOOM: over maxmemory when the script started, a command
	// that may grow memory is refused until the script has written.
	if !run.allowOOM && run.oom && cmd.has(flagDenyOOM) && !s.lua.wrote.Load() {
		return reject(string(errOOM))
	}
	if cmd.has(flagWrite) {
		s.lua.wrote.Store(true)
	}
	lc := run.lc
	lc.w.proto = run.resp
	lc.w.Reset()
	lc.multi.exclusive = true // the gate is held by the caller
	err := s.call(lc, cmd, argv, time.Now())
	if _, ok := err.(*blockRequest); ok {
		lc.w.Reset()
		lc.w.NullArray()
		err = nil
	}
	// The command's own error counts as in call(): in errorstats and in
	// its failed_calls.
	if err != nil {
		re := asRespError(err)
		s.countError(re)
		cmd.stats.failedCalls.Add(1)
		return failWith(string(re), true)
	}
	if out := lc.w.Bytes(); len(out) > 0 && out[0] == '-' {
		if i := bytes.IndexByte(out, '\r'); i > 0 {
			s.countError(respError(out[1:i]))
		}
		cmd.stats.failedCalls.Add(1)
	}
	v, _, perr := respToLua(L, lc.w.Bytes())
	if perr != nil {
		return fail("ERR " + perr.Error())
	}
	if t, ok := v.(*lua.LTable); ok && raise {
		if e := t.RawGetString("err"); e != lua.LNil {
			return failWith(lua.LVAsString(e), true)
		}
	}
	L.Push(v)
	return 1
}

// luaNumberString formats a Lua number as Lua 5.1's tostring (%.14g).
func luaNumberString(f float64) string {
	return cFormatG(f, 14)
}

var errBadReply = errors.New("bad reply from command")

// respToLua parses one RESP reply into a Lua value as Redis converts
// command replies for scripts.
func respToLua(L *lua.LState, b []byte) (lua.LValue, []byte, error) {
	if len(b) == 0 {
		return lua.LNil, b, errBadReply
	}
	i := strings.Index(string(b), "\r\n")
	if i < 0 {
		return lua.LNil, b, errBadReply
	}
	line, rest := string(b[1:i]), b[i+2:]
	switch b[0] {
	case '+':
		t := L.NewTable()
		t.RawSetString("ok", lua.LString(line))
		return t, rest, nil
	case '-':
		// A command's error reply: counted already when the command
		// replied it.
		t := L.NewTable()
		t.RawSetString("err", lua.LString(line))
		t.RawSetString(scriptErrCounted, lua.LTrue)
		return t, rest, nil
	case ':':
		n, _ := strconv.ParseInt(line, 10, 64)
		return lua.LNumber(n), rest, nil
	case '$', '=':
		n, _ := strconv.Atoi(line)
		if n < 0 {
			return lua.LFalse, rest, nil
		}
		if len(rest) < n+2 {
			return lua.LNil, rest, errBadReply
		}
		str := string(rest[:n])
		rest = rest[n+2:]
		if b[0] == '=' {
			t, v := L.NewTable(), L.NewTable()
			if len(str) >= 4 {
				v.RawSetString("format", lua.LString(str[:3]))
				v.RawSetString("string", lua.LString(str[4:]))
			}
			t.RawSetString("verbatim_string", v)
			return t, rest, nil
		}
		return lua.LString(str), rest, nil
	case '_':
		return lua.LNil, rest, nil
	case '#':
		return lua.LBool(line == "t"), rest, nil
	case ',':
		f, _ := strconv.ParseFloat(line, 64)
		switch line {
		case "inf":
			f = math.Inf(1)
		case "-inf":
			f = math.Inf(-1)
		}
		t := L.NewTable()
		t.RawSetString("double", lua.LNumber(f))
		return t, rest, nil
	case '(':
		t := L.NewTable()
		t.RawSetString("big_number", lua.LString(line))
		return t, rest, nil
	case '*', '~', '>':
		n, _ := strconv.Atoi(line)
		if n < 0 {
			return lua.LFalse, rest, nil
		}
		arr := L.CreateTable(n, 0)
		set := L.NewTable()
		for j := 0; j < n; j++ {
			var v lua.LValue
			var err error
			v, rest, err = respToLua(L, rest)
			if err != nil {
				return lua.LNil, rest, err
			}
			if b[0] == '~' {
				set.RawSet(v, lua.LTrue)
			} else {
				arr.RawSetInt(j+1, v)
			}
		}
		if b[0] == '~' {
			t := L.NewTable()
			t.RawSetString("set", set)
			return t, rest, nil
		}
		return arr, rest, nil
	case '%':
		n, _ := strconv.Atoi(line)
		m := L.NewTable()
		for j := 0; j < n; j++ {
			var k, v lua.LValue
			var err error
			if k, rest, err = respToLua(L, rest); err != nil {
				return lua.LNil, rest, err
			}
			if v, rest, err = respToLua(L, rest); err != nil {
				return lua.LNil, rest, err
			}
			m.RawSet(k, v)
		}
		t := L.NewTable()
		t.RawSetString("map", m)
		return t, rest, nil
	}
	return lua.LNil, rest, errBadReply
}

// luaToResp writes a script's return value as Redis converts it.
func luaToResp(w *Writer, v lua.LValue, resp int, L *lua.LState) {
	luaToRespTally(w, v, resp, L, nil)
}

// scriptErrTally is what a script's reply holds in error replies: those
// to count in errorstats, and those counted already (by the redis.call
// that produced them).
type scriptErrTally struct {
	uncounted []respError
	counted   int
}

// luaToRespTally is luaToResp noting the error replies it writes in tally
// (nil: not noted).
func luaToRespTally(w *Writer, v lua.LValue, resp int, L *lua.LState, tally *scriptErrTally) {
	switch v := v.(type) {
	case lua.LString:
		w.Bulk([]byte(string(v)))
	case lua.LBool:
		switch {
		case resp == 3:
			w.Bool(bool(v))
		case bool(v):
			w.Int(1)
		default:
			w.Null()
		}
	case lua.LNumber:
		w.Int(luaToInt(float64(v)))
	case *lua.LTable:
		if e := v.RawGetString("err"); e.Type() == lua.LTString {
			re := respError(lua.LVAsString(e))
			w.Error(re)
			if tally != nil {
				if lua.LVAsBool(v.RawGetString(scriptErrCounted)) {
					tally.counted++
				} else {
					tally.uncounted = append(tally.uncounted, re)
				}
			}
			return
		}
		if ok := v.RawGetString("ok"); ok.Type() == lua.LTString {
			w.Simple(lua.LVAsString(ok))
			return
		}
		{
			if d := v.RawGetString("double"); d.Type() == lua.LTNumber {
				w.Double(float64(d.(lua.LNumber)))
				return
			}
			if m, ok := v.RawGetString("map").(*lua.LTable); ok {
				var ks, vs []lua.LValue
				m.ForEach(func(k, val lua.LValue) { ks = append(ks, k); vs = append(vs, val) })
				w.Map(len(ks))
				for i := range ks {
					luaToRespTally(w, ks[i], resp, L, tally)
					luaToRespTally(w, vs[i], resp, L, tally)
				}
				return
			}
			if st, ok := v.RawGetString("set").(*lua.LTable); ok {
				var ks []lua.LValue
				st.ForEach(func(k, _ lua.LValue) { ks = append(ks, k) })
				w.Set(len(ks))
				for _, k := range ks {
					luaToRespTally(w, k, resp, L, tally)
				}
				return
			}
		}
		n := 0
		for v.RawGetInt(n+1) != lua.LNil {
			n++
		}
		w.Array(n)
		for i := 1; i <= n; i++ {
			luaToRespTally(w, v.RawGetInt(i), resp, L, tally)
		}
	default:
		w.Null()
	}
}

// luaToInt truncates a Lua number to an integer as Redis's (long long)
// cast does.
func luaToInt(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return math.MinInt64
	case f >= 9.223372036854775807e18, f < -9.223372036854775808e18:
		return math.MinInt64
	}
	return int64(f)
}
