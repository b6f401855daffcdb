package server

import (
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// The cjson library scripts get in Redis (lua-cjson 2.1 as Redis ships it,
// without 7.2's decode_array_with_array_mt): encode and decode with the
// same output, limits and error texts. One difference cannot be helped:
// the keys of an encoded object come in gopher-lua's table order, not
// Lua 5.1's, so objects with several keys may list them in another order.

type cjsonConfig struct {
	sparseConvert  bool
	sparseRatio    int
	sparseSafe     int
	encodeMaxDepth int
	decodeMaxDepth int
	precision      int
}

func defaultCjsonConfig() *cjsonConfig {
	return &cjsonConfig{sparseRatio: 2, sparseSafe: 10, encodeMaxDepth: 1000, decodeMaxDepth: 1000, precision: 14}
}

// luaArgError raises Lua 5.1's luaL_argerror text.
func luaArgError(L *lua.LState, n int, fname, msg string) {
	L.RaiseError("bad argument #%d to '%s' (%s)", n, fname, msg)
}

// luaTypeName is lua_typename for a value (light userdata shows as userdata).
func luaTypeName(v lua.LValue) string {
	switch v.Type() {
	case lua.LTNil:
		return "nil"
	case lua.LTBool:
		return "boolean"
	case lua.LTNumber:
		return "number"
	case lua.LTString:
		return "string"
	case lua.LTTable:
		return "table"
	case lua.LTFunction:
		return "function"
	case lua.LTThread:
		return "thread"
	}
	return "userdata"
}

// luaCheckString is luaL_checklstring: strings, and numbers converted as
// Lua does.
func luaCheckString(L *lua.LState, n int, fname string) string {
	switch v := L.Get(n).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return luaNumberString(float64(v))
	}
	typ := luaTypeName(L.Get(n))
	if n > L.GetTop() {
		typ = "no value"
	}
	luaArgError(L, n, fname, "string expected, got "+typ)
	return ""
}

// luaCheckNumber is luaL_checknumber: numbers, and numeric strings.
func luaCheckNumber(L *lua.LState, n int, fname string) float64 {
	switch v := L.Get(n).(type) {
	case lua.LNumber:
		return float64(v)
	case lua.LString:
		if f, ok := luaStringToNumber(string(v)); ok {
			return f
		}
	}
	typ := luaTypeName(L.Get(n))
	if n > L.GetTop() {
		typ = "no value"
	}
	luaArgError(L, n, fname, "number expected, got "+typ)
	return 0
}

// luaStringToNumber is Lua 5.1's luaO_str2d: strtod (hex included) over
// the whole string but trailing white space.
func luaStringToNumber(s string) (float64, bool) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	f, n := cStrtod(s[i:])
	if n == 0 {
		return 0, false
	}
	rest := strings.TrimLeft(s[i+n:], " \t\n\v\f\r")
	return f, rest == ""
}

// cStrtod parses the longest prefix of s that C's strtod accepts (no
// leading white space) and returns the value and the bytes used, 0 when
// there is no number.
func cStrtod(s string) (float64, int) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	sign := func(f float64) float64 {
		if neg {
			return -f
		}
		return f
	}
	rest := strings.ToLower(s[i:])
	switch {
	case strings.HasPrefix(rest, "infinity"):
		return sign(math.Inf(1)), i + 8
	case strings.HasPrefix(rest, "inf"):
		return sign(math.Inf(1)), i + 3
	case strings.HasPrefix(rest, "nan"):
		n := i + 3
		if n < len(s) && s[n] == '(' {
			j := n + 1
			for j < len(s) && (isAlnum(s[j]) || s[j] == '_') {
				j++
			}
			if j < len(s) && s[j] == ')' {
				n = j + 1
			}
		}
		return math.NaN(), n
	}
	if len(rest) >= 3 && rest[0] == '0' && rest[1] == 'x' && (isHex(rest[2]) || (rest[2] == '.' && len(rest) > 3 && isHex(rest[3]))) {
		j := i + 2
		for j < len(s) && isHex(s[j]) {
			j++
		}
		if j < len(s) && s[j] == '.' {
			j++
			for j < len(s) && isHex(s[j]) {
				j++
			}
		}
		mant := s[i:j]
		exp := "p0"
		if j < len(s) && (s[j] == 'p' || s[j] == 'P') {
			k := j + 1
			if k < len(s) && (s[k] == '+' || s[k] == '-') {
				k++
			}
			if k < len(s) && isDigit(s[k]) {
				for k < len(s) && isDigit(s[k]) {
					k++
				}
				exp = s[j:k]
				j = k
			}
		}
		f, _ := strconv.ParseFloat(mant+exp, 64)
		return sign(f), j
	}
	j := i
	digits := 0
	for j < len(s) && isDigit(s[j]) {
		j++
		digits++
	}
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && isDigit(s[j]) {
			j++
			digits++
		}
	}
	if digits == 0 {
		return 0, 0
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigit(s[k]) {
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			j = k
		}
	}
	f, err := strconv.ParseFloat(s[i:j], 64)
	if err != nil && !math.IsInf(f, 0) && f != 0 {
		return 0, 0
	}
	return sign(f), j
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z') }

// cFormatG is C's printf("%.<prec>g").
func cFormatG(f float64, prec int) string {
	switch {
	case math.IsNaN(f):
		if math.Signbit(f) {
			return "-nan"
		}
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', prec, 64)
}

func openCjsonLib(L *lua.LState) *lua.LTable {
	return newCjsonTable(L, &lua.LUserData{})
}

// newCjsonTable builds a cjson module table with its own configuration;
// null is the cjson.null sentinel shared by every module of the state.
func newCjsonTable(L *lua.LState, null *lua.LUserData) *lua.LTable {
	cfg := defaultCjsonConfig()
	t := L.NewTable()
	set := func(name string, fn lua.LGFunction) { t.RawSetString(name, L.NewFunction(fn)) }
	set("encode", func(L *lua.LState) int {
		if L.GetTop() != 1 {
			luaArgError(L, 1, "encode", "expected 1 argument")
		}
		var e cjsonEncoder
		e.cfg, e.null, e.L = cfg, null, L
		e.value(L.Get(1), 0)
		L.Push(lua.LString(e.buf))
		return 1
	})
	set("decode", func(L *lua.LState) int {
		if L.GetTop() != 1 {
			luaArgError(L, 1, "decode", "expected 1 argument")
		}
		s := luaCheckString(L, 1, "decode")
		L.Push(cjsonDecode(L, cfg, null, s))
		return 1
	})
	set("new", func(L *lua.LState) int {
		L.Push(newCjsonTable(L, null))
		return 1
	})
	intOption := func(fname string, field *int, lo, hi int) lua.LGFunction {
		return func(L *lua.LState) int {
			if L.GetTop() > 1 {
				luaArgError(L, 2, fname, "found too many arguments")
			}
			if L.Get(1) != lua.LNil {
				v := luaCheckNumber(L, 1, fname)
				n := int(v)
				if n < lo || n > hi {
					luaArgError(L, 1, fname, "expected integer between "+strconv.Itoa(lo)+" and "+strconv.Itoa(hi))
				}
				*field = n
			}
			L.Push(lua.LNumber(*field))
			return 1
		}
	}
	set("encode_max_depth", intOption("encode_max_depth", &cfg.encodeMaxDepth, 1, math.MaxInt32))
	set("decode_max_depth", intOption("decode_max_depth", &cfg.decodeMaxDepth, 1, math.MaxInt32))
	set("encode_number_precision", intOption("encode_number_precision", &cfg.precision, 1, 14))
	set("encode_sparse_array", func(L *lua.LState) int {
		if L.GetTop() > 3 {
			luaArgError(L, 4, "encode_sparse_array", "found too many arguments")
		}
		if v := L.Get(1); v != lua.LNil {
			cfg.sparseConvert = lua.LVAsBool(v)
		}
		for i, f := range []*int{&cfg.sparseRatio, &cfg.sparseSafe} {
			if L.Get(i+2) != lua.LNil {
				n := int(luaCheckNumber(L, i+2, "encode_sparse_array"))
				if n < 0 || n > math.MaxInt32 {
					luaArgError(L, i+2, "encode_sparse_array", "expected integer between 0 and 2147483647")
				}
				*f = n
			}
		}
		L.Push(lua.LBool(cfg.sparseConvert))
		L.Push(lua.LNumber(cfg.sparseRatio))
		L.Push(lua.LNumber(cfg.sparseSafe))
		return 3
	})
	t.RawSetString("null", null)
	t.RawSetString("_NAME", lua.LString("cjson"))
	t.RawSetString("_VERSION", lua.LString("2.1.0"))
	return t
}

type cjsonEncoder struct {
	cfg  *cjsonConfig
	null *lua.LUserData
	L    *lua.LState
	buf  []byte
}

func (e *cjsonEncoder) fail(v lua.LValue, reason string) {
	e.L.RaiseError("Cannot serialise %s: %s", luaTypeName(v), reason)
}

func (e *cjsonEncoder) value(v lua.LValue, depth int) {
	switch v := v.(type) {
	case lua.LString:
		e.str(string(v))
	case lua.LNumber:
		e.number(v)
	case lua.LBool:
		if v {
			e.buf = append(e.buf, "true"...)
		} else {
			e.buf = append(e.buf, "false"...)
		}
	case *lua.LNilType:
		e.buf = append(e.buf, "null"...)
	case *lua.LTable:
		depth++
		if depth > e.cfg.encodeMaxDepth {
			e.L.RaiseError("Cannot serialise, excessive nesting (%d)", depth)
		}
		if n := e.arrayLength(v); n > 0 {
			e.buf = append(e.buf, '[')
			for i := 1; i <= n; i++ {
				if i > 1 {
					e.buf = append(e.buf, ',')
				}
				e.value(v.RawGetInt(i), depth)
			}
			e.buf = append(e.buf, ']')
			return
		}
		e.buf = append(e.buf, '{')
		first := true
		for k, val := v.Next(lua.LNil); k != lua.LNil; k, val = v.Next(k) {
			if !first {
				e.buf = append(e.buf, ',')
			}
			first = false
			switch k := k.(type) {
			case lua.LNumber:
				e.buf = append(e.buf, '"')
				e.number(k)
				e.buf = append(e.buf, '"', ':')
			case lua.LString:
				e.str(string(k))
				e.buf = append(e.buf, ':')
			default:
				e.fail(k, "table key must be a number or string")
			}
			e.value(val, depth)
		}
		e.buf = append(e.buf, '}')
	default:
		if v == e.null {
			e.buf = append(e.buf, "null"...)
			return
		}
		e.fail(v, "type not supported")
	}
}

// arrayLength is lua_array_length: the largest key when every key is a
// positive integer (-1 otherwise, or for a too sparse array when
// conversion is on), an error for a too sparse one when it is off.
func (e *cjsonEncoder) arrayLength(t *lua.LTable) int {
	maxKey, items := 0.0, 0
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		n, ok := k.(lua.LNumber)
		if !ok || n == 0 || math.Floor(float64(n)) != float64(n) || n < 1 {
			return -1
		}
		maxKey = max(maxKey, float64(n))
		items++
	}
	c := e.cfg
	if c.sparseRatio > 0 && maxKey > float64(items*c.sparseRatio) && maxKey > float64(c.sparseSafe) {
		if !c.sparseConvert {
			e.fail(t, "excessively sparse array")
		}
		return -1
	}
	return int(maxKey)
}

func (e *cjsonEncoder) number(n lua.LNumber) {
	f := float64(n)
	if math.IsInf(f, 0) || math.IsNaN(f) {
		e.fail(n, "must not be NaN or Inf")
	}
	e.buf = append(e.buf, cFormatG(f, e.cfg.precision)...)
}

func (e *cjsonEncoder) str(s string) {
	const hex = "0123456789abcdef"
	e.buf = append(e.buf, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\' || c == '/':
			e.buf = append(e.buf, '\\', c)
		case c == '\b':
			e.buf = append(e.buf, '\\', 'b')
		case c == '\f':
			e.buf = append(e.buf, '\\', 'f')
		case c == '\n':
			e.buf = append(e.buf, '\\', 'n')
		case c == '\r':
			e.buf = append(e.buf, '\\', 'r')
		case c == '\t':
			e.buf = append(e.buf, '\\', 't')
		case c < 0x20 || c == 0x7f:
			e.buf = append(e.buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			e.buf = append(e.buf, c)
		}
	}
	e.buf = append(e.buf, '"')
}

// JSON tokens, named as lua-cjson names them in its errors.
type cjsonTok int

const (
	tObjBegin cjsonTok = iota
	tObjEnd
	tArrBegin
	tArrEnd
	tString
	tNumber
	tBoolean
	tNull
	tColon
	tComma
	tEnd
	tWhitespace
	tError
	tUnknown
)

var cjsonTokNames = [...]string{"T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END", "T_STRING",
	"T_NUMBER", "T_BOOLEAN", "T_NULL", "T_COLON", "T_COMMA", "T_END", "T_WHITESPACE", "T_ERROR", "T_UNKNOWN"}

var cjsonSingle = map[byte]cjsonTok{'{': tObjBegin, '}': tObjEnd, '[': tArrBegin, ']': tArrEnd, ':': tColon, ',': tComma}

type cjsonToken struct {
	typ   cjsonTok
	index int
	str   string
	num   float64
	b     bool
	err   string
}

type cjsonDecoder struct {
	L     *lua.LState
	cfg   *cjsonConfig
	null  *lua.LUserData
	data  string
	pos   int
	depth int
}

func cjsonDecode(L *lua.LState, cfg *cjsonConfig, null *lua.LUserData, s string) lua.LValue {
	if len(s) >= 2 && (s[0] == 0 || s[1] == 0) {
		L.RaiseError("JSON parser does not support UTF-16 or UTF-32")
	}
	d := &cjsonDecoder{L: L, cfg: cfg, null: null, data: s}
	var tok cjsonToken
	d.next(&tok)
	v := d.value(&tok)
	d.next(&tok)
	if tok.typ != tEnd {
		d.parseError("the end", &tok)
	}
	return v
}

// at returns the byte at i, 0 past the end (the C string's terminator).
func (d *cjsonDecoder) at(i int) byte {
	if i < len(d.data) {
		return d.data[i]
	}
	return 0
}

func (d *cjsonDecoder) parseError(expected string, tok *cjsonToken) {
	found := cjsonTokNames[tok.typ]
	if tok.typ == tError {
		found = tok.err
	}
	d.L.RaiseError("Expected %s but found %s at character %d", expected, found, tok.index+1)
}

func (d *cjsonDecoder) tokenError(tok *cjsonToken, msg string) {
	tok.typ = tError
	tok.index = d.pos
	tok.err = msg
}

func (d *cjsonDecoder) next(tok *cjsonToken) {
	for {
		c := d.at(d.pos)
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			d.pos++
			continue
		}
		break
	}
	tok.index = d.pos
	c := d.at(d.pos)
	if c == 0 {
		tok.typ = tEnd
		return
	}
	if t, ok := cjsonSingle[c]; ok {
		tok.typ = t
		d.pos++
		return
	}
	rest := d.data[d.pos:]
	switch {
	case c == '"':
		d.string(tok)
	case c == '-' || isDigit(c):
		d.number(tok)
	case strings.HasPrefix(rest, "true"):
		tok.typ, tok.b = tBoolean, true
		d.pos += 4
	case strings.HasPrefix(rest, "false"):
		tok.typ, tok.b = tBoolean, false
		d.pos += 5
	case strings.HasPrefix(rest, "null"):
		tok.typ = tNull
		d.pos += 4
	case cjsonInvalidNumber(rest):
		d.number(tok)
	default:
		d.tokenError(tok, "invalid token")
	}
}

// cjsonInvalidNumber is json_is_invalid_number: numbers JSON forbids but
// strtod reads (leading +, hex, leading zeros, inf, nan).
func cjsonInvalidNumber(p string) bool {
	if p == "" {
		return false
	}
	if p[0] == '+' {
		return true
	}
	if p[0] == '-' {
		p = p[1:]
	}
	if p == "" {
		return false
	}
	if p[0] == '0' {
		if len(p) > 1 && (p[1]|0x20 == 'x' || isDigit(p[1])) {
			return true
		}
		return false
	}
	if p[0] <= '9' {
		return false
	}
	l := strings.ToLower(p)
	return strings.HasPrefix(l, "inf") || strings.HasPrefix(l, "nan")
}

func (d *cjsonDecoder) number(tok *cjsonToken) {
	rest := d.data[d.pos:]
	if i := strings.IndexByte(rest, 0); i >= 0 {
		rest = rest[:i]
	}
	f, n := cStrtod(rest)
	if n == 0 {
		d.tokenError(tok, "invalid number")
		return
	}
	tok.typ, tok.num = tNumber, f
	d.pos += n
}

func (d *cjsonDecoder) string(tok *cjsonToken) {
	d.pos++ // the opening quote
	var buf []byte
	for {
		c := d.at(d.pos)
		if c == '"' {
			break
		}
		if c == 0 {
			d.tokenError(tok, "unexpected end of string")
			return
		}
		if c == '\\' {
			switch e := d.at(d.pos + 1); e {
			case '"', '\\', '/':
				c = e
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'u':
				var ok bool
				if buf, ok = d.unicodeEscape(buf); !ok {
					d.tokenError(tok, "invalid unicode escape code")
					return
				}
				continue
			default:
				d.tokenError(tok, "invalid escape code")
				return
			}
			d.pos++
		}
		buf = append(buf, c)
		d.pos++
	}
	d.pos++ // the closing quote
	tok.typ, tok.str = tString, string(buf)
}

func (d *cjsonDecoder) hex4(at int) int {
	n := 0
	for i := 0; i < 4; i++ {
		c := d.at(at + i)
		var v byte
		switch {
		case isDigit(c):
			v = c - '0'
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			v = c | 0x20 - 'a' + 10
		default:
			return -1
		}
		n = n<<4 | int(v)
	}
	return n
}

// unicodeEscape decodes \uXXXX (a surrogate pair as two escapes) at pos
// into UTF-8.
func (d *cjsonDecoder) unicodeEscape(buf []byte) ([]byte, bool) {
	cp := d.hex4(d.pos + 2)
	if cp < 0 {
		return buf, false
	}
	n := 6
	if cp&0xF800 == 0xD800 {
		if cp&0x400 != 0 {
			return buf, false
		}
		if d.at(d.pos+6) != '\\' || d.at(d.pos+7) != 'u' {
			return buf, false
		}
		lo := d.hex4(d.pos + 8)
		if lo < 0 || lo&0xFC00 != 0xDC00 {
			return buf, false
		}
		cp = ((cp&0x3FF)<<10 | lo&0x3FF) + 0x10000
		n = 12
	}
	switch {
	case cp < 0x80:
		buf = append(buf, byte(cp))
	case cp < 0x800:
		buf = append(buf, byte(0xC0|cp>>6), byte(0x80|cp&0x3F))
	case cp < 0x10000:
		buf = append(buf, byte(0xE0|cp>>12), byte(0x80|(cp>>6)&0x3F), byte(0x80|cp&0x3F))
	default:
		buf = append(buf, byte(0xF0|cp>>18), byte(0x80|(cp>>12)&0x3F), byte(0x80|(cp>>6)&0x3F), byte(0x80|cp&0x3F))
	}
	d.pos += n
	return buf, true
}

func (d *cjsonDecoder) descend() {
	d.depth++
	if d.depth > d.cfg.decodeMaxDepth {
		d.L.RaiseError("Found too many nested data structures (%d) at character %d", d.depth, d.pos)
	}
}

func (d *cjsonDecoder) value(tok *cjsonToken) lua.LValue {
	switch tok.typ {
	case tObjBegin:
		return d.object()
	case tArrBegin:
		return d.array()
	case tString:
		return lua.LString(tok.str)
	case tNumber:
		return lua.LNumber(tok.num)
	case tBoolean:
		return lua.LBool(tok.b)
	case tNull:
		return d.null
	}
	d.parseError("value", tok)
	return lua.LNil
}

func (d *cjsonDecoder) object() lua.LValue {
	d.descend()
	t := d.L.NewTable()
	var tok cjsonToken
	d.next(&tok)
	if tok.typ == tObjEnd {
		d.depth--
		return t
	}
	for {
		if tok.typ != tString {
			d.parseError("object key string", &tok)
		}
		key := tok.str
		d.next(&tok)
		if tok.typ != tColon {
			d.parseError("colon", &tok)
		}
		d.next(&tok)
		t.RawSetString(key, d.value(&tok))
		d.next(&tok)
		if tok.typ == tObjEnd {
			d.depth--
			return t
		}
		if tok.typ != tComma {
			d.parseError("comma or object end", &tok)
		}
		d.next(&tok)
	}
}

func (d *cjsonDecoder) array() lua.LValue {
	d.descend()
	t := d.L.NewTable()
	var tok cjsonToken
	d.next(&tok)
	if tok.typ == tArrEnd {
		d.depth--
		return t
	}
	for i := 1; ; i++ {
		t.RawSetInt(i, d.value(&tok))
		d.next(&tok)
		if tok.typ == tArrEnd {
			d.depth--
			return t
		}
		if tok.typ != tComma {
			d.parseError("comma or array end", &tok)
		}
		d.next(&tok)
	}
}
