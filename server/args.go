package server

import (
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

// parseFloat parses a double argument as Redis's getDoubleFromObject does
// (strtod, no trailing garbage, no leading space, not NaN).
func parseFloat(b []byte) (float64, error) {
	if len(b) == 0 || isSpace(b[0]) {
		return 0, errNotFloat
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			// strtod saturates to ±HUGE_VAL with ERANGE, which Redis rejects,
			// but returns subnormal underflow as a value.
			if f == 0 {
				return f, nil
			}
		}
		return 0, errNotFloat
	}
	if math.IsNaN(f) {
		return 0, errNotFloat
	}
	return f, nil
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
