package server

import (
	"encoding/binary"
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// The struct library scripts get in Redis (Roberto Ierusalimschy's struct
// 0.2 with Redis's fixes): pack, unpack and size over a format string,
// with the sizes of a 64-bit Linux build (short 2, int 4, long and size_t
// 8) and little-endian as the native order.

const (
	structMaxIntSize = 32
	structMaxAlign   = 8
)

type structHeader struct {
	big   bool
	align int
}

type structFmt struct {
	L   *lua.LState
	fn  string
	s   string
	pos int
}

func (f *structFmt) more() bool { return f.pos < len(f.s) && f.s[f.pos] != 0 }

func (f *structFmt) next() byte {
	c := f.s[f.pos]
	f.pos++
	return c
}

// num is getnum: a decimal size after an option, or def.
func (f *structFmt) num(def int) int {
	if f.pos >= len(f.s) || !isDigit(f.s[f.pos]) {
		return def
	}
	a := 0
	for f.pos < len(f.s) && isDigit(f.s[f.pos]) {
		d := int(f.s[f.pos] - '0')
		if a > math.MaxInt32/10 || a*10 > math.MaxInt32-d {
			f.L.RaiseError("integral size overflow")
		}
		a = a*10 + d
		f.pos++
	}
	return a
}

// optSize is optsize: the size of option opt (reading its number).
func (f *structFmt) optSize(opt byte) int {
	switch opt {
	case 'B', 'b':
		return 1
	case 'H', 'h':
		return 2
	case 'L', 'l', 'T':
		return 8
	case 'f':
		return 4
	case 'd':
		return 8
	case 'x':
		return 1
	case 'c':
		return f.num(1)
	case 'i', 'I':
		sz := f.num(4)
		if sz > structMaxIntSize {
			f.L.RaiseError("integral size %d is larger than limit of %d", sz, structMaxIntSize)
		}
		return sz
	}
	return 0
}

func structToAlign(n int, h *structHeader, opt byte, size int) int {
	if size == 0 || opt == 'c' {
		return 0
	}
	if size > h.align {
		size = h.align
	}
	return (size - (n & (size - 1))) & (size - 1)
}

// control is controloptions: endianness, alignment, spaces; anything else
// is an invalid option.
func (f *structFmt) control(opt byte, h *structHeader) {
	switch opt {
	case ' ':
	case '>':
		h.big = true
	case '<':
		h.big = false
	case '!':
		a := f.num(structMaxAlign)
		if a <= 0 || a&(a-1) != 0 {
			f.L.RaiseError("alignment %d is not a power of 2", a)
		}
		h.align = a
	default:
		luaArgError(f.L, 1, f.fn, "invalid format option '"+string(opt)+"'")
	}
}

func openStructLib(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("pack", L.NewFunction(structPack))
	t.RawSetString("unpack", L.NewFunction(structUnpack))
	t.RawSetString("size", L.NewFunction(structSize))
	return t
}

func putStructInt(buf []byte, n float64, big bool, size int) []byte {
	var v uint64
	if n < 0 {
		v = uint64(int64(n))
	} else {
		v = uint64(n)
	}
	b := make([]byte, size)
	for i := 0; i < size; i++ {
		j := i
		if big {
			j = size - 1 - i
		}
		b[j] = byte(v)
		v >>= 8
	}
	return append(buf, b...)
}

func structPack(L *lua.LState) int {
	f := &structFmt{L: L, fn: "pack", s: luaCheckString(L, 1, "pack")}
	h := structHeader{align: 1}
	arg := 2
	total := 0
	// Redis's pack pushes a nil before reading its arguments, so a
	// missing one shows as nil rather than "no value".
	if n := L.GetTop(); n >= 1 {
		L.SetTop(n + 1)
	}
	var buf []byte
	for f.more() {
		opt := f.next()
		size := f.optSize(opt)
		pad := structToAlign(total, &h, opt, size)
		total += pad
		for ; pad > 0; pad-- {
			buf = append(buf, 0)
		}
		switch opt {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			buf = putStructInt(buf, luaCheckNumber(L, arg, "pack"), h.big, size)
			arg++
		case 'x':
			buf = append(buf, 0)
		case 'f':
			bits := math.Float32bits(float32(luaCheckNumber(L, arg, "pack")))
			arg++
			if h.big {
				buf = binary.BigEndian.AppendUint32(buf, bits)
			} else {
				buf = binary.LittleEndian.AppendUint32(buf, bits)
			}
		case 'd':
			bits := math.Float64bits(luaCheckNumber(L, arg, "pack"))
			arg++
			if h.big {
				buf = binary.BigEndian.AppendUint64(buf, bits)
			} else {
				buf = binary.LittleEndian.AppendUint64(buf, bits)
			}
		case 'c', 's':
			s := luaCheckString(L, arg, "pack")
			arg++
			if size == 0 {
				size = len(s)
			}
			if len(s) < size {
				luaArgError(L, arg, "pack", "string too short")
			}
			buf = append(buf, s[:size]...)
			if opt == 's' {
				buf = append(buf, 0)
				size++
			}
		default:
			f.control(opt, &h)
		}
		total += size
	}
	L.Push(lua.LString(buf))
	return 1
}

func structGetInt(b string, big, signed bool, size int) float64 {
	var v uint64
	for i := 0; i < size; i++ {
		j := size - 1 - i
		if big {
			j = i
		}
		v = v<<8 | uint64(b[j])
	}
	if !signed {
		return float64(v)
	}
	if size*8-1 < 64 {
		mask := ^uint64(0) << (size*8 - 1)
		if v&mask != 0 {
			v |= mask
		}
	}
	return float64(int64(v))
}

func structUnpack(L *lua.LState) int {
	f := &structFmt{L: L, fn: "unpack", s: luaCheckString(L, 1, "unpack")}
	data := luaCheckString(L, 2, "unpack")
	pos := 1
	if L.Get(3) != lua.LNil {
		pos = int(luaCheckNumber(L, 3, "unpack"))
	}
	if pos <= 0 {
		luaArgError(L, 3, "unpack", "offset must be 1 or greater")
	}
	pos--
	ld := len(data)
	h := structHeader{align: 1}
	var out []lua.LValue
	for f.more() {
		opt := f.next()
		size := f.optSize(opt)
		pos += structToAlign(pos, &h, opt, size)
		if !(size <= ld && pos <= ld-size) {
			luaArgError(L, 2, "unpack", "data string too short")
		}
		switch opt {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			signed := opt >= 'a'
			out = append(out, lua.LNumber(structGetInt(data[pos:pos+size], h.big, signed, size)))
		case 'x':
		case 'f':
			b := []byte(data[pos : pos+4])
			var bits uint32
			if h.big {
				bits = binary.BigEndian.Uint32(b)
			} else {
				bits = binary.LittleEndian.Uint32(b)
			}
			out = append(out, lua.LNumber(float64(math.Float32frombits(bits))))
		case 'd':
			b := []byte(data[pos : pos+8])
			var bits uint64
			if h.big {
				bits = binary.BigEndian.Uint64(b)
			} else {
				bits = binary.LittleEndian.Uint64(b)
			}
			out = append(out, lua.LNumber(math.Float64frombits(bits)))
		case 'c':
			if size == 0 {
				var prev lua.LValue = lua.LNil
				if len(out) > 0 {
					prev = out[len(out)-1]
				}
				n, ok := prev.(lua.LNumber)
				if !ok {
					if s, isStr := prev.(lua.LString); isStr {
						if v, numeric := luaStringToNumber(string(s)); numeric {
							n, ok = lua.LNumber(v), true
						}
					}
				}
				if !ok {
					L.RaiseError("format 'c0' needs a previous size")
				}
				size = int(n)
				out = out[:len(out)-1]
				if !(size <= ld && pos <= ld-size) {
					luaArgError(L, 2, "unpack", "data string too short")
				}
			}
			out = append(out, lua.LString(data[pos:pos+size]))
		case 's':
			e := strings.IndexByte(data[pos:], 0)
			if e < 0 {
				L.RaiseError("unfinished string in data")
			}
			size = e + 1
			out = append(out, lua.LString(data[pos:pos+e]))
		default:
			f.control(opt, &h)
		}
		pos += size
	}
	for _, v := range out {
		L.Push(v)
	}
	L.Push(lua.LNumber(pos + 1))
	return len(out) + 1
}

func structSize(L *lua.LState) int {
	f := &structFmt{L: L, fn: "size", s: luaCheckString(L, 1, "size")}
	h := structHeader{align: 1}
	pos := 0
	for f.more() {
		opt := f.next()
		size := f.optSize(opt)
		pos += structToAlign(pos, &h, opt, size)
		if opt == 's' {
			luaArgError(L, 1, "size", "option 's' has no fixed size")
		} else if opt == 'c' && size == 0 {
			luaArgError(L, 1, "size", "option 'c0' has no fixed size")
		}
		if !isAlnum(opt) {
			f.control(opt, &h)
		}
		pos += size
	}
	L.Push(lua.LNumber(pos))
	return 1
}
