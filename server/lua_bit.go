package server

import (
	"math"

	lua "github.com/yuin/gopher-lua"
)

// The bit library scripts get in Redis (LuaBitOp 1.0.2): 32-bit operations
// on Lua numbers. An argument is turned into 32 bits the way LuaBitOp does
// on a double: add 2^52+2^51 and keep the low word of the result, which
// rounds to the nearest integer (ties to even) and wraps modulo 2^32.
// Results are signed 32-bit numbers.

// bitArg is LuaBitOp's barg as Redis builds it: luaL_checknumber, then
// the rounding trick.
func bitArg(L *lua.LState, i int, fname string) uint32 {
	n := luaCheckNumber(L, i, fname)
	return uint32(math.Float64bits(n + 6755399441055744.0))
}

func bitRet(L *lua.LState, b uint32) int {
	L.Push(lua.LNumber(int32(b)))
	return 1
}

func openBitLib(L *lua.LState) *lua.LTable {
	fold := func(name string, op func(a, b uint32) uint32) lua.LGFunction {
		return func(L *lua.LState) int {
			b := bitArg(L, 1, name)
			for i := L.GetTop(); i > 1; i-- {
				b = op(b, bitArg(L, i, name))
			}
			return bitRet(L, b)
		}
	}
	shift := func(name string, op func(b uint32, n uint) uint32) lua.LGFunction {
		return func(L *lua.LState) int {
			b, n := bitArg(L, 1, name), bitArg(L, 2, name)&31
			return bitRet(L, op(b, uint(n)))
		}
	}
	fns := map[string]lua.LGFunction{
		"tobit":  func(L *lua.LState) int { return bitRet(L, bitArg(L, 1, "tobit")) },
		"bnot":   func(L *lua.LState) int { return bitRet(L, ^bitArg(L, 1, "bnot")) },
		"band":   fold("band", func(a, b uint32) uint32 { return a & b }),
		"bor":    fold("bor", func(a, b uint32) uint32 { return a | b }),
		"bxor":   fold("bxor", func(a, b uint32) uint32 { return a ^ b }),
		"lshift": shift("lshift", func(b uint32, n uint) uint32 { return b << n }),
		"rshift": shift("rshift", func(b uint32, n uint) uint32 { return b >> n }),
		"arshift": shift("arshift", func(b uint32, n uint) uint32 {
			return uint32(int32(b) >> n)
		}),
		"rol": shift("rol", func(b uint32, n uint) uint32 { return b<<n | b>>((32-n)&31) }),
		"ror": shift("ror", func(b uint32, n uint) uint32 { return b>>n | b<<((32-n)&31) }),
		"bswap": func(L *lua.LState) int {
			b := bitArg(L, 1, "bswap")
			return bitRet(L, b>>24|(b>>8)&0xff00|(b&0xff00)<<8|b<<24)
		},
		"tohex": func(L *lua.LState) int {
			b := bitArg(L, 1, "tohex")
			n := int32(8)
			if L.GetTop() >= 2 {
				n = int32(bitArg(L, 2, "tohex"))
			}
			digits := "0123456789abcdef"
			if n < 0 {
				n = -n
				digits = "0123456789ABCDEF"
			}
			if n > 8 {
				n = 8
			}
			if n < 0 { // -MinInt32: C's loop writes nothing
				n = 0
			}
			buf := make([]byte, n)
			for i := int(n) - 1; i >= 0; i-- {
				buf[i] = digits[b&15]
				b >>= 4
			}
			L.Push(lua.LString(buf))
			return 1
		},
	}
	t := L.NewTable()
	for name, fn := range fns {
		t.RawSetString(name, L.NewFunction(fn))
	}
	return t
}
