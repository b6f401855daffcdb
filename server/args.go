package server

import (
	"bytes"
	"math"
	"strconv"
)

// parseInt parses an integer argument exactly as Redis's string2ll does: an
// optional '-', no '+', no leading zeros, no spaces, at most 20 bytes, within
// int64. Anything else is errNotInteger.
func parseInt(b []byte) (int64, error) {
	n, ok := string2ll(b)
	if !ok {
		return 0, errNotInteger
	}
	return n, nil
}

func string2ll(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := false
	p := b
	if p[0] == '-' {
		neg = true
		p = p[1:]
		if len(p) == 0 {
			return 0, false
		}
	}
	if p[0] < '1' || p[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, ch := range p {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		if v > (math.MaxUint64-9)/10 {
			return 0, false
		}
		v = v*10 + uint64(ch-'0')
	}
	if neg {
		if v > uint64(math.MaxInt64)+1 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// parseFloat parses a double argument as Redis's getDoubleFromObject does:
// the whole argument must be what strtod accepts (decimal or hex, with or
// without an exponent, "inf"/"infinity"), with no leading space, not NaN,
// and neither overflowing to ±HUGE_VAL nor underflowing to zero (strtod's
// ERANGE cases). Subnormal results are accepted, as glibc returns them.
func parseFloat(b []byte) (float64, error) {
	// strconv accepts digit-separating underscores, which strtod does not.
	if len(b) == 0 || isSpace(b[0]) || bytes.IndexByte(b, '_') >= 0 {
		return 0, errNotFloat
	}
	s := string(b)
	hex := isHexFloat(b)
	if hex && bytes.IndexAny(b, "pP") < 0 {
		s += "p0" // strtod reads "0x10"; strconv wants the binary exponent
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return 0, errNotFloat
	}
	if f == 0 && nonZeroMantissa(b, hex) {
		return 0, errNotFloat // underflow: strtod sets ERANGE and returns 0
	}
	return f, nil
}

// isHexFloat reports whether b starts, after an optional sign, with "0x".
func isHexFloat(b []byte) bool {
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		b = b[1:]
	}
	return len(b) > 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X')
}

// nonZeroMantissa reports whether the digits before the exponent of a
// well-formed number include a non-zero one.
func nonZeroMantissa(b []byte, hex bool) bool {
	if hex {
		b = b[bytes.IndexAny(b, "xX")+1:]
	}
	for _, c := range b {
		switch {
		case !hex && (c == 'e' || c == 'E'), hex && (c == 'p' || c == 'P'):
			return false
		case c >= '1' && c <= '9', hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')):
			return true
		}
	}
	return false
}

// equalFold compares an argument with a lower-case option name.
func equalFold(arg []byte, lower string) bool {
	if len(arg) != len(lower) {
		return false
	}
	for i := range arg {
		ch := arg[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != lower[i] {
			return false
		}
	}
	return true
}
