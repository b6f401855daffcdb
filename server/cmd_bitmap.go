package server

// Bitmap commands: https://redis.io/commands/?group=bitmap
//
// Bitmaps are strings; bit 0 is the most significant bit of byte 0. The
// handlers follow Redis 7.0's bitops.c: the order of its checks (argument
// parsing before or after the key lookup) decides which reply a bad request
// gets, so each handler keeps it.

import (
	"math"
	"math/bits"

	"github.com/cachalotdb/cachalot/store"
)

func bitmapCommands() []*command {
	return []*command{
		{name: "setbit", arity: 4, flags: flagWrite | flagDenyOOM, first: 1, last: 1, step: 1, keySpecFlags: "RW ACCESS UPDATE",
			acl: "@bitmap", group: "bitmap", since: "2.2.0", summary: "Sets or clears the bit at offset in the string value stored at key",
			complexity: "O(1)", usage: "key offset value:integer", handler: cmdSetbit},
		{name: "getbit", arity: 3, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RO ACCESS",
			acl: "@bitmap", group: "bitmap", since: "2.2.0", summary: "Returns the bit value at offset in the string value stored at key",
			complexity: "O(1)", usage: "key offset", handler: cmdGetbit},
		{name: "bitcount", arity: -2, flags: flagReadonly, first: 1, last: 1, step: 1, keySpecFlags: "RO ACCESS",
			acl: "@bitmap", group: "bitmap", since: "2.6.0", summary: "Count set bits in a string", complexity: "O(N)",
			history: [][2]string{{"7.0.0", "Added the `BYTE|BIT` option."}},
			usage:   "key index=[start:integer end:integer index_unit=[BYTE | BIT]@7.0.0]", handler: cmdBitcount},
		{name: "bitpos", arity: -3, flags: flagReadonly, first: 1, last: 1, step: 1, keySpecFlags: "RO ACCESS",
			acl: "@bitmap", group: "bitmap", since: "2.8.7", summary: "Find first bit set or clear in a string", complexity: "O(N)",
			history: [][2]string{{"7.0.0", "Added the `BYTE|BIT` option."}},
			usage:   "key bit:integer index=[start:integer end_index=[end:integer index_unit=[BYTE | BIT]@7.0.0]]", handler: cmdBitpos},
		{name: "bitop", arity: -4, flags: flagWrite | flagDenyOOM, first: 2, last: -1, step: 1, keySpecFlags: "OW UPDATE | RO ACCESS",
			acl: "@bitmap", group: "bitmap", since: "2.6.0", summary: "Perform bitwise operations between strings", complexity: "O(N)",
			usage: "operation destkey key [key ...]", handler: cmdBitop},
		{name: "bitfield", arity: -2, flags: flagWrite | flagDenyOOM, first: 1, last: 1, step: 1, keySpecFlags: "RW ACCESS UPDATE VARIABLE_FLAGS",
			acl: "@bitmap", group: "bitmap", since: "3.2.0", summary: "Perform arbitrary bitfield integer operations on strings",
			complexity: "O(1) for each subcommand specified",
			usage: "key [operation=(GET encoding offset | write=(wrap_sat_fail=[OVERFLOW <WRAP | SAT | FAIL>] " +
				"write_operation=<SET encoding offset value:integer | INCRBY encoding offset increment:integer>)) ...]",
			handler: cmdBitfield},
		{name: "bitfield_ro", arity: -2, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RO ACCESS",
			acl: "@bitmap", group: "bitmap", since: "6.0.0", summary: "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
			complexity: "O(1) for each subcommand specified",
			usage:      "key [GET encoding offset [GET encoding offset ...]]", handler: cmdBitfieldRO},
	}
}

// parseBitOffset is Redis's getBitOffsetFromArgument: a bit offset below
// proto-max-bulk-len bytes; with hash, "#N" means N times the field width.
func parseBitOffset(c *client, arg []byte, hash bool, width int) (uint64, error) {
	use := hash && width > 0 && len(arg) > 0 && arg[0] == '#'
	if use {
		arg = arg[1:]
	}
	off, ok := string2ll(arg)
	if !ok {
		return 0, errBitOffset
	}
	if use {
		off *= int64(width) // wraps on overflow, as the C multiplication does
	}
	if off < 0 || off>>3 >= c.srv.Config().ProtoMaxBulkLen {
		return 0, errBitOffset
	}
	return uint64(off), nil
}

func cmdSetbit(c *client, tx *store.Tx, argv [][]byte) error {
	off, err := parseBitOffset(c, argv[2], false, 0)
	if err != nil {
		return err
	}
	on, ok := string2ll(argv[3])
	if !ok || on&^1 != 0 {
		return errBitValue
	}
	buf, grew, err := tx.GrowString(argv[1], int(off>>3)+1)
	if err != nil {
		return err
	}
	old := getBit(buf, off)
	setBit(buf, off, on == 1)
	if grew || old != (on == 1) {
		c.propDirty() // AOF (propagate.go)
	}
	c.w.Int(int64(boolInt(old)))
	return nil
}

func cmdGetbit(c *client, tx *store.Tx, argv [][]byte) error {
	off, err := parseBitOffset(c, argv[2], false, 0)
	if err != nil {
		return err
	}
	val, _, err := tx.GetString(argv[1])
	if err != nil {
		return err
	}
	c.w.Int(int64(boolInt(off>>3 < uint64(len(val)) && getBit(val, off))))
	return nil
}

func getBit(b []byte, off uint64) bool { return b[off>>3]&(0x80>>(off&7)) != 0 }

func setBit(b []byte, off uint64, on bool) {
	if on {
		b[off>>3] |= 0x80 >> (off & 7)
	} else {
		b[off>>3] &^= 0x80 >> (off & 7)
	}
}

// bitRange resolves BITCOUNT/BITPOS start and end (inclusive, negative
// counting from the end, in bytes or bits) against a string of n bytes, as
// Redis 7.0 clamps them. It returns the range in bits; empty when lo > hi.
func bitRange(n, start, end int64, isBit bool) (lo, hi int64) {
	total := n
	if isBit {
		total <<= 3
	}
	if start < 0 {
		start += total
	}
	if end < 0 {
		end += total
	}
	start = max(start, 0)
	end = max(end, 0)
	if end >= total {
		end = total - 1
	}
	if start > end {
		return 1, 0
	}
	if isBit {
		return start, end
	}
	return start << 3, end<<3 + 7
}

// popcountRange counts the set bits of b in bits lo..hi (inclusive).
func popcountRange(b []byte, lo, hi int64) int64 {
	if lo > hi {
		return 0
	}
	first, last := lo>>3, hi>>3
	var n int
	for _, x := range b[first : last+1] {
		n += bits.OnesCount8(x)
	}
	// Take away the bits of the edge bytes outside the range.
	n -= bits.OnesCount8(b[first] & ^byte(0xff>>(lo&7)))
	n -= bits.OnesCount8(b[last] & byte(0xff>>(hi&7+1)))
	return int64(n)
}

// parseBitUnit parses BYTE | BIT.
func parseBitUnit(arg []byte) (isBit bool, err error) {
	switch a := cstr(arg); {
	case equalFold(a, "bit"):
		return true, nil
	case equalFold(a, "byte"):
		return false, nil
	}
	return false, errSyntax
}

func cmdBitcount(c *client, tx *store.Tx, argv [][]byte) error {
	val, ok, err := tx.GetString(argv[1])
	if err != nil {
		return err
	}
	if !ok {
		c.w.Int(0)
		return nil
	}
	n := int64(len(val))
	switch len(argv) {
	case 2:
		c.w.Int(popcountRange(val, 0, n<<3-1))
		return nil
	case 4, 5:
	default:
		return errSyntax
	}
	start, err := parseInt(argv[2])
	if err != nil {
		return err
	}
	end, err := parseInt(argv[3])
	if err != nil {
		return err
	}
	isBit := false
	if len(argv) == 5 {
		if isBit, err = parseBitUnit(argv[4]); err != nil {
			return err
		}
	}
	if start < 0 && end < 0 && start > end {
		c.w.Int(0)
		return nil
	}
	lo, hi := bitRange(n, start, end, isBit)
	c.w.Int(popcountRange(val, lo, hi))
	return nil
}

// bitpos finds the first bit equal to bit in bits lo..hi of b, or -1.
func bitpos(b []byte, bit bool, lo, hi int64) int64 {
	for i := lo; i <= hi; {
		if i&7 == 0 && i+7 <= hi {
			x := b[i>>3]
			if !bit {
				x = ^x
			}
			if x != 0 {
				return i + int64(bits.LeadingZeros8(x))
			}
			i += 8
			continue
		}
		if getBit(b, uint64(i)) == bit {
			return i
		}
		i++
	}
	return -1
}

func cmdBitpos(c *client, tx *store.Tx, argv [][]byte) error {
	bitArg, ok := string2ll(argv[2])
	if !ok {
		return errNotInteger
	}
	if bitArg != 0 && bitArg != 1 {
		return errBitposBit
	}
	bit := bitArg == 1
	val, ok, err := tx.GetString(argv[1])
	if err != nil {
		return err
	}
	if !ok {
		c.w.Int(map[bool]int64{true: -1, false: 0}[bit])
		return nil
	}
	n := int64(len(val))
	var start, end int64
	endGiven, isBit := false, false
	switch len(argv) {
	case 3:
		start, end = 0, n-1
	case 4, 5, 6:
		if start, err = parseInt(argv[3]); err != nil {
			return err
		}
		if len(argv) == 6 {
			if isBit, err = parseBitUnit(argv[5]); err != nil {
				return err
			}
		}
		if len(argv) >= 5 {
			if end, err = parseInt(argv[4]); err != nil {
				return err
			}
			endGiven = true
		} else {
			end = n - 1
		}
	default:
		return errSyntax
	}
	lo, hi := bitRange(n, start, end, isBit)
	if lo > hi {
		c.w.Int(-1)
		return nil
	}
	pos := bitpos(val, bit, lo, hi)
	if pos < 0 && !bit && !endGiven {
		// Without an explicit end the string reads as padded with zeros.
		pos = hi + 1
	}
	c.w.Int(pos)
	return nil
}

// Bitwise operations of BITOP.
const (
	bitopAnd = iota
	bitopOr
	bitopXor
	bitopNot
)

func cmdBitop(c *client, tx *store.Tx, argv [][]byte) error {
	var op int
	switch name := cstr(argv[1]); {
	case equalFold(name, "and"):
		op = bitopAnd
	case equalFold(name, "or"):
		op = bitopOr
	case equalFold(name, "xor"):
		op = bitopXor
	case equalFold(name, "not"):
		op = bitopNot
	default:
		return errSyntax
	}
	if op == bitopNot && len(argv) != 4 {
		return errBitopNot
	}
	srcs := make([][]byte, 0, len(argv)-3)
	maxLen := 0
	for _, k := range argv[3:] {
		val, _, err := tx.GetString(k)
		if err != nil {
			return err
		}
		srcs = append(srcs, val) // a missing key reads as an empty string
		maxLen = max(maxLen, len(val))
	}
	dst := argv[2]
	if maxLen == 0 {
		tx.Delete(dst)
		c.w.Int(0)
		return nil
	}
	res := make([]byte, maxLen)
	for i := range res {
		var x byte
		for j, s := range srcs {
			var b byte
			if i < len(s) {
				b = s[i]
			}
			switch {
			case j == 0:
				x = b
			case op == bitopAnd:
				x &= b
			case op == bitopOr:
				x |= b
			case op == bitopXor:
				x ^= b
			}
		}
		if op == bitopNot {
			x = ^x
		}
		res[i] = x
	}
	tx.SetString(dst, res, store.SetOptions{Encoding: store.EncodingRaw})
	c.w.Int(int64(maxLen))
	return nil
}

// Overflow behaviours of BITFIELD.
const (
	bfWrap = iota
	bfSat
	bfFail
)

// bitfieldOp is one parsed GET, SET or INCRBY.
type bitfieldOp struct {
	op     byte // 'g', 's', 'i'
	signed bool
	width  int
	offset uint64
	value  int64
	ovf    int
}

// parseBitfieldType is Redis's getBitfieldTypeFromArgument: i1..i64, u1..u63.
func parseBitfieldType(arg []byte) (signed bool, width int, err error) {
	arg = cstr(arg)
	if len(arg) == 0 {
		return false, 0, errBitfieldType
	}
	switch arg[0] {
	case 'i', 'I':
		signed = true
	case 'u', 'U':
	default:
		return false, 0, errBitfieldType
	}
	n, ok := string2ll(arg[1:])
	if !ok || n < 1 || (signed && n > 64) || (!signed && n > 63) {
		return false, 0, errBitfieldType
	}
	return signed, int(n), nil
}

func cmdBitfield(c *client, tx *store.Tx, argv [][]byte) error {
	return bitfield(c, tx, argv, false)
}

func cmdBitfieldRO(c *client, tx *store.Tx, argv [][]byte) error {
	return bitfield(c, tx, argv, true)
}

func bitfield(c *client, tx *store.Tx, argv [][]byte, roCmd bool) error {
	var ops []bitfieldOp
	ovf := bfWrap
	readonly := true
	var highest uint64
	for j := 2; j < len(argv); j++ {
		rem := len(argv) - j - 1
		sub := cstr(argv[j])
		var op bitfieldOp
		switch {
		case equalFold(sub, "get") && rem >= 2:
			op.op = 'g'
		case equalFold(sub, "set") && rem >= 3:
			op.op = 's'
		case equalFold(sub, "incrby") && rem >= 3:
			op.op = 'i'
		case equalFold(sub, "overflow") && rem >= 1:
			j++
			switch t := cstr(argv[j]); {
			case equalFold(t, "wrap"):
				ovf = bfWrap
			case equalFold(t, "sat"):
				ovf = bfSat
			case equalFold(t, "fail"):
				ovf = bfFail
			default:
				return errBitfieldOverflow
			}
			continue
		default:
			return errSyntax
		}
		var err error
		if op.signed, op.width, err = parseBitfieldType(argv[j+1]); err != nil {
			return err
		}
		if op.offset, err = parseBitOffset(c, argv[j+2], true, op.width); err != nil {
			return err
		}
		if op.op != 'g' {
			readonly = false
			highest = max(highest, op.offset+uint64(op.width)-1)
			if op.value, err = parseInt(argv[j+3]); err != nil {
				return err
			}
			j += 3
		} else {
			j += 2
		}
		op.ovf = ovf
		ops = append(ops, op)
	}

	var buf []byte
	if readonly {
		val, _, err := tx.GetString(argv[1])
		if err != nil {
			return err
		}
		buf = val
	} else {
		if roCmd {
			return errBitfieldRO
		}
		var err error
		var grew bool
		if buf, grew, err = tx.GrowString(argv[1], int(highest>>3)+1); err != nil {
			return err
		}
		if grew {
			c.propDirty() // AOF (propagate.go)
		}
	}

	c.w.Array(len(ops))
	for _, op := range ops {
		if op.op == 'g' {
			u := getBitfield(buf, op.offset, op.width)
			if op.signed {
				c.w.Int(signExtend(u, op.width))
			} else {
				c.w.Int(int64(u))
			}
			continue
		}
		var newval uint64
		var reply int64
		var overflow bool
		old := getBitfield(buf, op.offset, op.width)
		if op.signed {
			oldv := signExtend(old, op.width)
			var nv int64
			if op.op == 'i' {
				nv, overflow = signedFieldAdd(oldv, op.value, op.width, op.ovf)
				reply = nv
			} else {
				nv, overflow = signedFieldAdd(op.value, 0, op.width, op.ovf)
				reply = oldv
			}
			newval = uint64(nv)
		} else {
			if op.op == 'i' {
				newval, overflow = unsignedFieldAdd(old, op.value, op.width, op.ovf)
				reply = int64(newval)
			} else {
				newval, overflow = unsignedFieldAdd(uint64(op.value), 0, op.width, op.ovf)
				reply = int64(old)
			}
		}
		if overflow && op.ovf == bfFail {
			c.w.Null()
			continue
		}
		c.w.Int(reply)
		setBitfield(buf, op.offset, op.width, newval)
		if newval != old {
			c.propDirty() // AOF (propagate.go)
		}
	}
	return nil
}

// getBitfield reads width bits at offset, most significant first; bits past
// the end of b read as zero.
func getBitfield(b []byte, offset uint64, width int) uint64 {
	var v uint64
	for i := 0; i < width; i++ {
		o := offset + uint64(i)
		var bit uint64
		if o>>3 < uint64(len(b)) && getBit(b, o) {
			bit = 1
		}
		v = v<<1 | bit
	}
	return v
}

// setBitfield writes the low width bits of v at offset; b must be long enough.
func setBitfield(b []byte, offset uint64, width int, v uint64) {
	for i := 0; i < width; i++ {
		setBit(b, offset+uint64(i), v>>(width-1-i)&1 == 1)
	}
}

func signExtend(u uint64, width int) int64 {
	if width < 64 && u&(1<<(width-1)) != 0 {
		u |= math.MaxUint64 << width
	}
	return int64(u)
}

// unsignedFieldAdd adds incr to an unsigned field value (SET passes the new
// value with incr 0), applying the overflow behaviour as Redis's
// checkUnsignedBitfieldOverflow does. It returns the value to store and
// whether it overflowed.
func unsignedFieldAdd(value uint64, incr int64, width, ovf int) (uint64, bool) {
	maxv := uint64(1)<<width - 1
	maxIncr := int64(maxv - value)
	minIncr := -int64(value)
	wrap := func() uint64 { return (value + uint64(incr)) & maxv }
	switch {
	case value > maxv || (incr > 0 && incr > maxIncr):
		if ovf == bfSat {
			return maxv, true
		}
		return wrap(), true
	case incr < 0 && incr < minIncr:
		if ovf == bfSat {
			return 0, true
		}
		return wrap(), true
	}
	return value + uint64(incr), false
}

// signedFieldAdd is unsignedFieldAdd for signed fields
// (checkSignedBitfieldOverflow).
func signedFieldAdd(value, incr int64, width, ovf int) (int64, bool) {
	maxv := int64(math.MaxInt64)
	if width < 64 {
		maxv = 1<<(width-1) - 1
	}
	minv := -maxv - 1
	maxIncr := int64(uint64(maxv) - uint64(value))
	minIncr := minv - value
	wrap := func() int64 {
		c := uint64(value) + uint64(incr)
		if width < 64 {
			mask := uint64(math.MaxUint64) << width
			if c&(1<<(width-1)) != 0 {
				c |= mask
			} else {
				c &^= mask
			}
		}
		return int64(c)
	}
	switch {
	case value > maxv || (width != 64 && incr > maxIncr) || (value >= 0 && incr > 0 && incr > maxIncr):
		if ovf == bfSat {
			return maxv, true
		}
		return wrap(), true
	case value < minv || (width != 64 && incr < minIncr) || (value < 0 && incr < 0 && incr < minIncr):
		if ovf == bfSat {
			return minv, true
		}
		return wrap(), true
	}
	return value + incr, false
}
