package server

import (
	"context"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Functions (FUNCTION LOAD, FCALL…), Redis 7.0's libraries of named Lua
// functions. They live in their own Lua state, apart from EVAL's (SCRIPT
// FLUSH leaves them alone), guarded like it by luaEngine.mu. A library's
// body runs once, at FUNCTION LOAD, seeing only the small load API
// (redis.register_function, redis.log…); the functions it registers are
// closures that later run, through FCALL, with the whole scripting API.

type luaLibrary struct {
	name  string
	code  string
	funcs []*luaFunction // in registration order
}

type luaFunction struct {
	name  string
	desc  *string
	flags scriptFlags
	fn    *lua.LFunction
	lib   *luaLibrary
}

// functionLoadTimeout bounds the run of a library's body, as Redis's
// LOAD_TIMEOUT_MS.
const functionLoadTimeout = 500 * time.Millisecond

// functionVM returns the functions' state, creating it on first use. The
// caller holds e.mu.
func (s *Server) functionVM() *luaVM {
	e := &s.lua
	if e.fvm == nil {
		e.fvm = s.newLuaVM(true)
		e.libs = make(map[string]*luaLibrary)
		e.funcs = make(map[string]*luaFunction)
	}
	return e.fvm
}

// validFunctionName is functionsVerifyName: letters, digits and
// underscores, at least one.
func validFunctionName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isAlnum(c) && c != '_' {
			return false
		}
	}
	return true
}

const errLibraryNameText = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"

// libraryMetadata is functionExtractLibMetaData: the engine and name from
// the "#!lua name=<lib>" line, and the code after it (from its line feed,
// so line numbers stay the user's).
func libraryMetadata(code string) (engine, name, body string, err error) {
	if !strings.HasPrefix(code, "#!") {
		return "", "", "", respError("ERR Missing library metadata")
	}
	end := strings.IndexByte(code, '\n')
	if end < 0 {
		return "", "", "", respError("ERR Invalid library metadata")
	}
	parts, ok := splitArgs([]byte(code[:end]))
	if !ok || len(parts) == 0 {
		return "", "", "", respError("ERR Invalid library metadata")
	}
	engine = string(parts[0])[2:]
	gotName := false
	for _, p := range parts[1:] {
		if len(p) >= 5 && strings.EqualFold(string(p[:5]), "name=") {
			if gotName {
				return "", "", "", respError("ERR Invalid metadata value, name argument was given multiple times")
			}
			name, gotName = string(p[5:]), true
			continue
		}
		return "", "", "", respError(sanitize("ERR Invalid metadata value given: " + string(p)))
	}
	if !gotName {
		return "", "", "", respError("ERR Library name was not given")
	}
	return engine, name, code[end:], nil
}

// loadLibrary is FUNCTION LOAD: it builds the library (buildLibrary) and
// links it, replacing one of the same name when replace is set. The caller
// holds e.mu and no gate write lock is needed: the library's body cannot
// call commands.
func (s *Server) loadLibrary(code string, replace bool) (string, error) {
	e := &s.lua
	s.functionVM()
	lib, old, err := s.buildLibrary(code, e.libs, e.funcs, replace)
	if err != nil {
		return "", err
	}
	if old != nil {
		e.unlinkLibrary(old)
	}
	e.linkLibrary(lib)
	return lib.name, nil
}

// buildLibrary is functionsCreateWithLibraryCtx up to the linking: it
// checks the metadata, runs the library's body to collect its functions,
// and checks them against the set of libraries and functions (by lower-case
// name) they are to join: the live ones, or those FUNCTION RESTORE
// gathers. old is the library of the same name that the new one replaces.
// The caller holds e.mu.
func (s *Server) buildLibrary(code string, libs map[string]*luaLibrary, funcs map[string]*luaFunction, replace bool) (lib, old *luaLibrary, err error) {
	engine, name, body, err := libraryMetadata(code)
	if err != nil {
		return nil, nil, err
	}
	if !validFunctionName(name) {
		return nil, nil, respError("ERR " + errLibraryNameText)
	}
	if !strings.EqualFold(engine, "lua") {
		return nil, nil, respError(sanitize("ERR Engine '" + engine + "' not found"))
	}
	vm := s.functionVM()
	old = libs[name]
	if old != nil && !replace {
		return nil, nil, respError(sanitize("ERR Library '" + name + "' already exists"))
	}
	lib = &luaLibrary{name: name, code: code}
	if err := s.runLibraryBody(vm, lib, body); err != nil {
		return nil, nil, err
	}
	if len(lib.funcs) == 0 {
		return nil, nil, respError("ERR No functions registered")
	}
	for _, f := range lib.funcs {
		if other := funcs[strings.ToLower(f.name)]; other != nil && other.lib != old {
			return nil, nil, respError(sanitize("ERR Function " + f.name + " already exists"))
		}
	}
	return lib, old, nil
}

// runLibraryBody compiles and runs a library's body with the load API as
// its globals, collecting what it registers into lib.
func (s *Server) runLibraryBody(vm *luaVM, lib *luaLibrary, body string) error {
	e := &s.lua
	L := vm.L
	fn, err := L.Load(strings.NewReader(body), "user_function")
	if err != nil {
		msg := err.Error()
		if ae, ok := err.(*lua.ApiError); ok {
			msg = ae.Object.String()
		}
		return respError(sanitize("ERR Error compiling function: " + firstLine(msg)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), functionLoadTimeout)
	defer cancel()
	vm.cur = vm.loadAPI
	e.loading = lib
	L.SetContext(ctx)
	top := L.GetTop()
	L.Push(fn)
	err = L.PCall(0, 0, L.NewFunction(luaErrorHandler))
	L.SetTop(top)
	L.RemoveContext()
	e.loading = nil
	vm.cur = vm.globals
	if err == nil {
		return nil
	}
	msg := err.Error()
	if ctx.Err() != nil {
		msg = "ERR FUNCTION LOAD timeout"
	} else if ae, ok := err.(*lua.ApiError); ok {
		msg = ae.Object.String()
		if t, ok := ae.Object.(*lua.LTable); ok {
			msg = lua.LVAsString(t.RawGetString("err"))
		}
	}
	return respError(sanitize("ERR Error registering functions: " + msg))
}

func (e *luaEngine) linkLibrary(lib *luaLibrary) {
	e.libs[lib.name] = lib
	for _, f := range lib.funcs {
		e.funcs[strings.ToLower(f.name)] = f
	}
	e.countFunctions()
}

func (e *luaEngine) unlinkLibrary(lib *luaLibrary) {
	delete(e.libs, lib.name)
	for _, f := range lib.funcs {
		if key := strings.ToLower(f.name); e.funcs[key] != nil && e.funcs[key].lib == lib {
			delete(e.funcs, key)
		}
	}
	e.countFunctions()
}

// countFunctions updates what FUNCTION STATS reports: libraries, and the
// functions they registered (names differing only in case count twice, as
// in Redis, though FCALL, which ignores case, reaches only the last).
func (e *luaEngine) countFunctions() {
	n := 0
	for _, lib := range e.libs {
		n += len(lib.funcs)
	}
	e.libCount.Store(int64(len(e.libs)))
	e.funcCount.Store(int64(n))
}

// flushFunctions is FUNCTION FLUSH: every library goes, with the state.
func (e *luaEngine) flushFunctions() {
	if e.fvm != nil {
		e.fvm.L.Close()
		e.fvm = nil
	}
	e.libs, e.funcs = nil, nil
	e.libCount.Store(0)
	e.funcCount.Store(0)
}

// luaRegisterFunction is redis.register_function, in its positional form
// (name, callback) and its named one ({function_name=, callback=,
// flags=, description=}). Errors are raised as error replies, which
// FUNCTION LOAD reports after "Error registering functions: ".
func (s *Server) luaRegisterFunction(L *lua.LState) int {
	lib := s.lua.loading
	if lib == nil {
		luaRaise(L, "ERR redis.register_function can only be called on FUNCTION LOAD command")
	}
	f := &luaFunction{lib: lib}
	switch L.GetTop() {
	case 1:
		t, ok := L.Get(1).(*lua.LTable)
		if !ok {
			luaRaise(L, "ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).")
		}
		gotName := false
		for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
			key, ok := luaStringish(k)
			if !ok {
				luaRaise(L, "ERR named argument key given to redis.register_function is not a string")
			}
			switch strings.ToLower(key) {
			case "function_name":
				name, ok := luaStringish(v)
				if !ok {
					luaRaise(L, "ERR function_name argument given to redis.register_function must be a string")
				}
				f.name, gotName = name, true
			case "description":
				desc, ok := luaStringish(v)
				if !ok {
					luaRaise(L, "ERR description argument given to redis.register_function must be a string")
				}
				f.desc = &desc
			case "callback":
				fn, ok := v.(*lua.LFunction)
				if !ok {
					luaRaise(L, "ERR callback argument given to redis.register_function must be a function")
				}
				f.fn = fn
			case "flags":
				ft, ok := v.(*lua.LTable)
				if !ok {
					luaRaise(L, "ERR flags argument to redis.register_function must be a table representing function flags")
				}
				for i := 1; ; i++ {
					fv := ft.RawGetInt(i)
					if fv == lua.LNil {
						break
					}
					name, ok := luaStringish(fv)
					flag, known := lookupScriptFlag(name, true)
					if !ok || !known {
						luaRaise(L, "ERR unknown flag given")
					}
					f.flags |= flag
				}
			default:
				luaRaise(L, "ERR unknown argument given to redis.register_function")
			}
		}
		if !gotName {
			luaRaise(L, "ERR redis.register_function must get a function name argument")
		}
		if f.fn == nil {
			luaRaise(L, "ERR redis.register_function must get a callback argument")
		}
	case 2:
		name, ok := luaStringish(L.Get(1))
		if !ok {
			luaRaise(L, "ERR first argument to redis.register_function must be a string")
		}
		fn, ok := L.Get(2).(*lua.LFunction)
		if !ok {
			luaRaise(L, "ERR second argument to redis.register_function must be a function")
		}
		f.name, f.fn = name, fn
	default:
		luaRaise(L, "ERR wrong number of arguments to redis.register_function")
	}
	// Redis 7.0 reports a bad function name with the library names' text.
	if !validFunctionName(f.name) {
		luaRaise(L, "ERR "+errLibraryNameText)
	}
	for _, other := range lib.funcs {
		if other.name == f.name {
			luaRaise(L, "ERR Function already exists in the library")
		}
	}
	lib.funcs = append(lib.funcs, f)
	return 0
}

// luaStringish is lua_isstring + lua_tostring: strings, and numbers as
// Lua prints them.
func luaStringish(v lua.LValue) (string, bool) {
	switch v := v.(type) {
	case lua.LString:
		return string(v), true
	case lua.LNumber:
		return luaNumberString(float64(v)), true
	}
	return "", false
}

// fcallGeneric is FCALL and FCALL_RO.
func (s *Server) fcallGeneric(c *client, argv [][]byte, readOnly bool) error {
	took := s.beginExclusive(c)
	defer s.endExclusive(c, took)
	e := &s.lua
	e.mu.Lock()
	defer e.mu.Unlock()
	var f *luaFunction
	if e.funcs != nil {
		f = e.funcs[strings.ToLower(string(argv[1]))]
	}
	if f == nil {
		return respError("ERR Function not found")
	}
	n, err := parseInt(argv[2])
	if err != nil {
		return respError("ERR Bad number of keys provided")
	}
	if n > int64(len(argv)-3) {
		return errNumKeysTooMany
	}
	if n < 0 {
		return errNumKeysNegative
	}
	keys, args := argv[3:3+n], argv[3+n:]
	run, err := s.prepareRun(c, f.flags, readOnly)
	if err != nil {
		return err
	}
	run.argv = argv
	run.row = s.table.lookup(argv[0])
	return s.runLua(c, e.fvm, f.fn, run, keys, args, f.name)
}
