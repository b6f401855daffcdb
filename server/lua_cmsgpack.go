package server

import (
	"encoding/binary"
	"math"

	lua "github.com/yuin/gopher-lua"
)

// The cmsgpack library scripts get in Redis (lua-cmsgpack 0.4.0 as Redis
// ships it): pack, unpack, unpack_one and unpack_limit, with its choices —
// str8 for short strings, float32 when a number survives the round trip,
// tables whose keys are exactly 1..n as arrays (the empty table too),
// nesting past 16 levels packed as nil. As with cjson, the entries of a
// map come in gopher-lua's table order.

const cmsgpackMaxNesting = 16

func openCmsgpackLib(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("pack", L.NewFunction(cmsgpackPack))
	t.RawSetString("unpack", L.NewFunction(func(L *lua.LState) int { return cmsgpackUnpack(L, "unpack", 0, 0, true) }))
	t.RawSetString("unpack_one", L.NewFunction(func(L *lua.LState) int {
		off := cmsgpackOptInt(L, 2, "unpack_one")
		return cmsgpackUnpack(L, "unpack_one", 1, off, false)
	}))
	t.RawSetString("unpack_limit", L.NewFunction(func(L *lua.LState) int {
		limit := cmsgpackOptInt(L, 2, "unpack_limit")
		off := cmsgpackOptInt(L, 3, "unpack_limit")
		return cmsgpackUnpack(L, "unpack_limit", limit, off, false)
	}))
	t.RawSetString("_NAME", lua.LString("cmsgpack"))
	t.RawSetString("_VERSION", lua.LString("lua-cmsgpack 0.4.0"))
	t.RawSetString("_COPYRIGHT", lua.LString("Copyright (C) 2012, Salvatore Sanfilippo"))
	t.RawSetString("_DESCRIPTION", lua.LString("MessagePack C implementation for Lua"))
	return t
}

// cmsgpackOptInt is luaL_optinteger with default 0.
func cmsgpackOptInt(L *lua.LState, n int, fname string) int {
	if L.Get(n) == lua.LNil {
		return 0
	}
	return int(luaCheckNumber(L, n, fname))
}

func cmsgpackPack(L *lua.LState) int {
	n := L.GetTop()
	if n == 0 {
		luaArgError(L, 0, "pack", "MessagePack pack needs input.")
	}
	var buf []byte
	for i := 1; i <= n; i++ {
		buf = cmsgpackEncode(buf, L.Get(i), 0)
	}
	L.Push(lua.LString(buf))
	return 1
}

func cmsgpackEncode(buf []byte, v lua.LValue, level int) []byte {
	switch v := v.(type) {
	case lua.LString:
		return cmsgpackBytes(buf, string(v))
	case lua.LBool:
		if v {
			return append(buf, 0xc3)
		}
		return append(buf, 0xc2)
	case lua.LNumber:
		f := float64(v)
		if !math.IsInf(f, 0) && !math.IsNaN(f) && float64(int64(f)) == f {
			return cmsgpackInt(buf, int64(f))
		}
		if f32 := float32(f); float64(f32) == f {
			buf = append(buf, 0xca)
			return binary.BigEndian.AppendUint32(buf, math.Float32bits(f32))
		}
		buf = append(buf, 0xcb)
		return binary.BigEndian.AppendUint64(buf, math.Float64bits(f))
	case *lua.LTable:
		if level == cmsgpackMaxNesting {
			return append(buf, 0xc0)
		}
		if n, ok := cmsgpackArrayLen(v); ok {
			buf = cmsgpackHeader(buf, n, 0x90, 0xdc, 0xdd)
			for j := 1; j <= n; j++ {
				buf = cmsgpackEncode(buf, v.RawGetInt(j), level+1)
			}
			return buf
		}
		n := 0
		v.ForEach(func(_, _ lua.LValue) { n++ })
		buf = cmsgpackHeader(buf, n, 0x80, 0xde, 0xdf)
		for k, val := v.Next(lua.LNil); k != lua.LNil; k, val = v.Next(k) {
			buf = cmsgpackEncode(buf, k, level+1)
			buf = cmsgpackEncode(buf, val, level+1)
		}
		return buf
	}
	return append(buf, 0xc0)
}

// cmsgpackArrayLen is table_is_an_array: every key a positive integer and
// the largest equal to their count, which it returns.
func cmsgpackArrayLen(t *lua.LTable) (int, bool) {
	count, maxKey := 0, 0.0
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		n, ok := k.(lua.LNumber)
		if !ok || n <= 0 || float64(int64(n)) != float64(n) {
			return 0, false
		}
		maxKey = max(maxKey, float64(n))
		count++
	}
	return count, maxKey == float64(count)
}

func cmsgpackHeader(buf []byte, n int, fix, b16, b32 byte) []byte {
	switch {
	case n <= 15:
		return append(buf, fix|byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(buf, b16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(buf, b32), uint32(n))
}

func cmsgpackBytes(buf []byte, s string) []byte {
	n := len(s)
	switch {
	case n < 32:
		buf = append(buf, 0xa0|byte(n))
	case n <= 0xff:
		buf = append(buf, 0xd9, byte(n))
	case n <= 0xffff:
		buf = binary.BigEndian.AppendUint16(append(buf, 0xda), uint16(n))
	default:
		buf = binary.BigEndian.AppendUint32(append(buf, 0xdb), uint32(n))
	}
	return append(buf, s...)
}

func cmsgpackInt(buf []byte, n int64) []byte {
	if n >= 0 {
		switch {
		case n <= 127:
			return append(buf, byte(n))
		case n <= 0xff:
			return append(buf, 0xcc, byte(n))
		case n <= 0xffff:
			return binary.BigEndian.AppendUint16(append(buf, 0xcd), uint16(n))
		case n <= 0xffffffff:
			return binary.BigEndian.AppendUint32(append(buf, 0xce), uint32(n))
		}
		return binary.BigEndian.AppendUint64(append(buf, 0xcf), uint64(n))
	}
	switch {
	case n >= -32:
		return append(buf, byte(int8(n)))
	case n >= -128:
		return append(buf, 0xd0, byte(int8(n)))
	case n >= -32768:
		return binary.BigEndian.AppendUint16(append(buf, 0xd1), uint16(int16(n)))
	case n >= -2147483648:
		return binary.BigEndian.AppendUint32(append(buf, 0xd2), uint32(int32(n)))
	}
	return binary.BigEndian.AppendUint64(append(buf, 0xd3), uint64(n))
}

type cmsgpackErr int

const (
	mpOK cmsgpackErr = iota
	mpEOF
	mpBadFmt
)

type cmsgpackCur struct {
	L   *lua.LState
	s   string
	p   int
	err cmsgpackErr
}

func (c *cmsgpackCur) left() int { return len(c.s) - c.p }

func (c *cmsgpackCur) need(n int) bool {
	if c.left() < n {
		c.err = mpEOF
		return false
	}
	return true
}

func cmsgpackUnpack(L *lua.LState, fname string, limit, offset int, all bool) int {
	s := luaCheckString(L, 1, fname)
	if offset < 0 || limit < 0 {
		L.RaiseError("Invalid request to unpack with offset of %d and limit of %d.", offset, len(s))
	}
	if offset > len(s) {
		L.RaiseError("Start offset %d greater than input length %d.", offset, len(s))
	}
	if all {
		limit = math.MaxInt32
	}
	c := &cmsgpackCur{L: L, s: s, p: offset}
	var out []lua.LValue
	for cnt := 0; c.left() > 0 && cnt < limit; cnt++ {
		v := c.decode()
		switch c.err {
		case mpEOF:
			L.RaiseError("Missing bytes in input.")
		case mpBadFmt:
			L.RaiseError("Bad data format in input.")
		}
		out = append(out, v)
	}
	if !all {
		next := len(s) - c.left()
		if c.left() == 0 {
			next = -1
		}
		L.Push(lua.LNumber(next))
	}
	for _, v := range out {
		L.Push(v)
	}
	if all {
		return len(out)
	}
	return len(out) + 1
}

func (c *cmsgpackCur) decode() lua.LValue {
	if !c.need(1) {
		return lua.LNil
	}
	b := c.s[c.p]
	be := func(n int) uint64 {
		var v uint64
		for i := 0; i < n; i++ {
			v = v<<8 | uint64(c.s[c.p+1+i])
		}
		return v
	}
	fixed := func(n int) (uint64, bool) {
		if !c.need(1 + n) {
			return 0, false
		}
		v := be(n)
		c.p += 1 + n
		return v, true
	}
	switch b {
	case 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3:
		size := 1 << (b & 3)
		v, ok := fixed(size)
		if !ok {
			return lua.LNil
		}
		if b < 0xd0 {
			return lua.LNumber(float64(v))
		}
		shift := 64 - 8*size
		return lua.LNumber(float64(int64(v<<shift) >> shift))
	case 0xc0:
		c.p++
		return lua.LNil
	case 0xc3:
		c.p++
		return lua.LTrue
	case 0xc2:
		c.p++
		return lua.LFalse
	case 0xca:
		v, ok := fixed(4)
		if !ok {
			return lua.LNil
		}
		return lua.LNumber(float64(math.Float32frombits(uint32(v))))
	case 0xcb:
		v, ok := fixed(8)
		if !ok {
			return lua.LNil
		}
		return lua.LNumber(math.Float64frombits(v))
	case 0xd9, 0xda, 0xdb:
		n, ok := fixed(1 << (b - 0xd9))
		if !ok {
			return lua.LNil
		}
		return c.str(int(n))
	case 0xdc, 0xdd:
		n, ok := fixed(2 << (b - 0xdc))
		if !ok {
			return lua.LNil
		}
		return c.array(int(n))
	case 0xde, 0xdf:
		n, ok := fixed(2 << (b - 0xde))
		if !ok {
			return lua.LNil
		}
		return c.dict(int(n))
	}
	switch {
	case b&0x80 == 0:
		c.p++
		return lua.LNumber(b)
	case b&0xe0 == 0xe0:
		c.p++
		return lua.LNumber(int8(b))
	case b&0xe0 == 0xa0:
		c.p++
		return c.str(int(b & 0x1f))
	case b&0xf0 == 0x90:
		c.p++
		return c.array(int(b & 0xf))
	case b&0xf0 == 0x80:
		c.p++
		return c.dict(int(b & 0xf))
	}
	c.err = mpBadFmt
	return lua.LNil
}

func (c *cmsgpackCur) str(n int) lua.LValue {
	if !c.need(n) {
		return lua.LNil
	}
	v := c.s[c.p : c.p+n]
	c.p += n
	return lua.LString(v)
}

func (c *cmsgpackCur) array(n int) lua.LValue {
	t := c.L.NewTable()
	for i := 1; i <= n; i++ {
		v := c.decode()
		if c.err != mpOK {
			return lua.LNil
		}
		t.RawSetInt(i, v)
	}
	return t
}

func (c *cmsgpackCur) dict(n int) lua.LValue {
	t := c.L.NewTable()
	for i := 0; i < n; i++ {
		k := c.decode()
		if c.err != mpOK {
			return lua.LNil
		}
		v := c.decode()
		if c.err != mpOK {
			return lua.LNil
		}
		if k == lua.LNil {
			c.L.RaiseError("table index is nil")
		}
		t.RawSet(k, v)
	}
	return t
}
