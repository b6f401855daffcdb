package server

import (
	"math"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestCStrtod(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		n    int
	}{
		{"12", 12, 2}, {"-1.5e3x", -1500, 6}, {"1e", 1, 1}, {".5", 0.5, 2}, {"5.", 5, 2},
		{"0x10", 16, 4}, {"0x1p4", 16, 5}, {"0x", 0, 1}, {"-", 0, 0}, {"x", 0, 0},
		{"inf", math.Inf(1), 3}, {"-Infinity", math.Inf(-1), 9}, {"+7", 7, 2}, {"1e400", math.Inf(1), 5},
	}
	for _, tt := range tests {
		got, n := cStrtod(tt.in)
		if got != tt.want || n != tt.n {
			t.Errorf("cStrtod(%q) = %v, %d; want %v, %d", tt.in, got, n, tt.want, tt.n)
		}
	}
	if f, n := cStrtod("nan(x1)"); !math.IsNaN(f) || n != 7 {
		t.Errorf("cStrtod(nan(x1)) = %v, %d", f, n)
	}
}

func TestCFormatG(t *testing.T) {
	tests := []struct {
		f    float64
		prec int
		want string
	}{
		{0.1, 14, "0.1"}, {1.0 / 3, 14, "0.33333333333333"}, {1e20, 14, "1e+20"}, {1e14, 14, "1e+14"},
		{123456789012345, 14, "1.2345678901234e+14"}, {1e-5, 14, "1e-05"}, {math.Copysign(0, -1), 14, "-0"},
		{math.Inf(1), 14, "inf"}, {math.Inf(-1), 14, "-inf"}, {0.1, 17, "0.10000000000000001"},
	}
	for _, tt := range tests {
		if got := cFormatG(tt.f, tt.prec); got != tt.want {
			t.Errorf("cFormatG(%v, %d) = %q, want %q", tt.f, tt.prec, got, tt.want)
		}
	}
}

// TestLuaLibraries runs the libraries in a plain state: each chunk
// returns a string compared with the expected bytes.
func TestLuaLibraries(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	L.SetGlobal("cjson", openCjsonLib(L))
	L.SetGlobal("cmsgpack", openCmsgpackLib(L))
	L.SetGlobal("bit", openBitLib(L))
	L.SetGlobal("struct", openStructLib(L))
	tests := []struct{ code, want string }{
		{`return cjson.encode({1, "a", {}, cjson.null})`, `[1,"a",{},null]`},
		{`return cjson.encode(cjson.decode('{"k":[1.5,"\\u00e9"]}'))`, "{\"k\":[1.5,\"\xc3\xa9\"]}"},
		{`return cjson.encode("a/b\t")`, `"a\/b\t"`},
		{`return cmsgpack.pack(1, -1, 200, "ab", {1, 2}, true, 1.5)`, "\x01\xff\xcc\xc8\xa2ab\x92\x01\x02\xc3\xca\x3f\xc0\x00\x00"},
		{`local a, b = cmsgpack.unpack(cmsgpack.pack(-40000, "x")) return a .. b`, "-40000x"},
		{`return bit.tohex(bit.bor(0xf0, 0x0f), -4) .. bit.tobit(2^32 + 1)`, "00FF1"},
		{`return struct.pack(">hI3", -2, 65536)`, "\xff\xfe\x01\x00\x00"},
		{`local a, b, n = struct.unpack("<hB", "\254\255\7") return a .. " " .. b .. " " .. n`, "-2 7 4"},
		{`return tostring(struct.size("!4 b i d"))`, "16"},
	}
	for _, tt := range tests {
		if err := L.DoString(tt.code); err != nil {
			t.Errorf("%s: %v", tt.code, err)
			continue
		}
		got := L.Get(-1).String()
		L.Pop(1)
		if got != tt.want {
			t.Errorf("%s = %q, want %q", tt.code, got, tt.want)
		}
	}
}

func TestScriptShebang(t *testing.T) {
	tests := []struct {
		body  string
		flags scriptFlags
		skip  int
		err   string
	}{
		{"return 1", flagScriptEvalCompat, 0, ""},
		{"#!lua\nreturn 1", 0, 5, ""},
		{"#!lua flags=no-writes,allow-oom\nx", flagScriptNoWrites | flagScriptAllowOOM, 31, ""},
		{"#!lua flags=\nx", 0, 12, ""},
		{"#!lua", 0, 0, "ERR Invalid script shebang"},
		{"#!lua \"x\nx", 0, 0, "ERR Invalid engine in script shebang"},
		{"#!py\nx", 0, 0, "ERR Unexpected engine in script shebang: #!py"},
		{"#!lua flags=nope\nx", 0, 0, "ERR Unexpected flag in script shebang: nope"},
		{"#!lua name=x\nx", 0, 0, "ERR Unknown lua shebang option: name=x"},
	}
	for _, tt := range tests {
		flags, skip, err := scriptShebang([]byte(tt.body))
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if msg != tt.err || (err == nil && (flags != tt.flags || skip != tt.skip)) {
			t.Errorf("scriptShebang(%q) = %v, %d, %q; want %v, %d, %q", tt.body, flags, skip, msg, tt.flags, tt.skip, tt.err)
		}
	}
}

func TestLibraryMetadata(t *testing.T) {
	tests := []struct{ code, engine, name, body, err string }{
		{"#!lua name=lib\nx", "lua", "lib", "\nx", ""},
		{"#!LUA NAME=Lib\n", "LUA", "Lib", "\n", ""},
		{"x", "", "", "", "ERR Missing library metadata"},
		{"#!lua name=x", "", "", "", "ERR Invalid library metadata"},
		{"#!lua\nx", "", "", "", "ERR Library name was not given"},
		{"#!lua name=a name=b\n", "", "", "", "ERR Invalid metadata value, name argument was given multiple times"},
		{"#!lua foo\n", "", "", "", "ERR Invalid metadata value given: foo"},
	}
	for _, tt := range tests {
		engine, name, body, err := libraryMetadata(tt.code)
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if msg != tt.err || engine != tt.engine || name != tt.name || body != tt.body {
			t.Errorf("libraryMetadata(%q) = %q, %q, %q, %q", tt.code, engine, name, body, msg)
		}
	}
}
