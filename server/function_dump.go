package server

import (
	"bytes"
	"sort"
	"strings"

	"github.com/cachalotdb/cachalot/store"
)

// FUNCTION DUMP and FUNCTION RESTORE, with Redis 7.0's payload: for each
// library the RDB_OPCODE_FUNCTION2 byte and its code as an RDB string
// (rdbstring.go), then the RDB version and a CRC-64 (as DUMP's). Libraries
// are dumped in name order (Redis: its dict's order, which varies).

// dumpFunctions is the payload of FUNCTION DUMP. The caller holds e.mu.
func (e *luaEngine) dumpFunctions() []byte {
	var p []byte
	for _, name := range sortedLibraryNames(e.libs) {
		p = append(p, rdbOpcodeFunction2)
		p = appendRDBString(p, []byte(e.libs[name].code))
	}
	return appendDumpFooter(p)
}

func sortedLibraryNames(libs map[string]*luaLibrary) []string {
	names := make([]string, 0, len(libs))
	for name := range libs {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func cmdFunctionDump(c *client, _ *store.Tx, _ [][]byte) error {
	e := &c.srv.lua
	e.mu.Lock()
	p := e.dumpFunctions()
	e.mu.Unlock()
	c.w.Bulk(p)
	return nil
}

type restorePolicy int

const (
	restoreAppend restorePolicy = iota
	restoreReplace
	restoreFlush
)

// cmdFunctionRestore is functionRestoreCommand: every library of the
// payload is built apart (a bad one aborts the whole restore), then they
// join the live ones by the policy, or replace them all (FLUSH).
func cmdFunctionRestore(c *client, _ *store.Tx, argv [][]byte) error {
	if len(argv) > 4 {
		return errSubcommandSyntax("FUNCTION", argv[1])
	}
	policy := restoreAppend
	if len(argv) == 4 {
		switch {
		case equalFold(argv[3], "append"):
		case equalFold(argv[3], "replace"):
			policy = restoreReplace
		case equalFold(argv[3], "flush"):
			policy = restoreFlush
		default:
			return respError("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
		}
	}
	data := argv[2]
	if _, ok := verifyDumpPayload(data); !ok {
		return respError("ERR DUMP payload version or checksum are wrong")
	}
	s := c.srv
	e := &s.lua
	e.mu.Lock()
	defer e.mu.Unlock()
	s.functionVM()
	libs := make(map[string]*luaLibrary)
	funcs := make(map[string]*luaFunction)
	r := &rdbReader{p: data}
	// Everything up to the 10-byte footer is libraries; a string may run
	// into the footer, as in Redis, which reads the payload as a whole.
	for len(data)-r.pos > 10 {
		op, _ := r.read(1)
		var code []byte
		switch op[0] {
		case rdbOpcodeFunction2:
			var ok bool
			if code, ok = r.readString(); !ok {
				return respError("ERR Failed loading library payload")
			}
		case rdbOpcodeFunction:
			var err error
			if code, err = r.readPreGALibrary(); err != nil {
				return err
			}
		default:
			return respError("ERR given type is not a function")
		}
		lib, _, err := s.buildLibrary(string(code), libs, funcs, false)
		if err != nil {
			return err
		}
		libs[lib.name] = lib
		for _, f := range lib.funcs {
			funcs[strings.ToLower(f.name)] = f
		}
	}
	if policy == restoreFlush {
		for _, old := range e.libs {
			e.unlinkLibrary(old)
		}
	} else if err := e.joinLibraries(libs, policy == restoreReplace); err != nil {
		return err
	}
	for _, name := range sortedLibraryNames(libs) {
		e.linkLibrary(libs[name])
	}
	c.w.OK()
	return nil
}

// joinLibraries is libraryJoin's checks: a library of the same name is an
// error, or with replace is unlinked; then no function may collide with
// a live one. On error, everything is as it was.
func (e *luaEngine) joinLibraries(libs map[string]*luaLibrary, replace bool) error {
	var replaced []*luaLibrary
	revert := func() {
		for _, old := range replaced {
			e.linkLibrary(old)
		}
	}
	names := sortedLibraryNames(libs)
	for _, name := range names {
		old := e.libs[name]
		if old == nil {
			continue
		}
		if !replace {
			return respError(sanitize("ERR Library " + name + " already exists"))
		}
		e.unlinkLibrary(old)
		replaced = append(replaced, old)
	}
	for _, name := range names {
		for _, f := range libs[name].funcs {
			if e.funcs[strings.ToLower(f.name)] != nil {
				revert()
				return respError(sanitize("ERR Function " + f.name + " already exists"))
			}
		}
	}
	return nil
}

// readPreGALibrary reads a library in the format of Redis 7.0's release
// candidates (RDB_OPCODE_FUNCTION): name, engine, an optional description
// and the code without its shebang, which rdbFunctionLoad rebuilds (with
// "%s", so each part ends at a NUL byte).
func (r *rdbReader) readPreGALibrary() ([]byte, error) {
	name, ok := r.readString()
	if !ok {
		return nil, respError("ERR Failed loading library name")
	}
	engine, ok := r.readString()
	if !ok {
		return nil, respError("ERR Failed loading engine name")
	}
	hasDesc, _, ok := r.readLen()
	if !ok {
		return nil, respError("ERR Failed loading library description indicator")
	}
	if hasDesc != 0 {
		if _, ok := r.readString(); !ok {
			return nil, respError("ERR Failed loading library description")
		}
	}
	blob, ok := r.readString()
	if !ok {
		return nil, respError("ERR Failed loading library blob")
	}
	cstr := func(b []byte) []byte {
		if i := bytes.IndexByte(b, 0); i >= 0 {
			return b[:i]
		}
		return b
	}
	code := append([]byte("#!"), cstr(engine)...)
	code = append(append(code, " name="...), cstr(name)...)
	code = append(append(code, '\n'), cstr(blob)...)
	return code, nil
}
