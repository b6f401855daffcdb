package config

// Glob reports whether s matches pattern using Redis's glob rules (those of
// stringmatchlen, used by KEYS, SCAN MATCH, PSUBSCRIBE and CONFIG GET):
// "*" matches any sequence of bytes including none, "?" any single byte,
// "[abc]" one byte from the set and "[^abc]" one byte not in it, "[a-z]" one
// byte in the range (a reversed range is swapped), and "\x" matches x
// literally, outside and inside brackets. For example:
//
//	Glob("maxmemory*", "maxmemory-policy", false) == true
//	Glob("h[^e]llo", "hallo", false) == true
//	Glob("MAX?EMORY", "maxmemory", true) == true
//
// Matching is byte-wise; nocase folds ASCII letters only, as C's tolower
// does in Redis. Redis quirks are kept on purpose so patterns behave the
// same against cachalot: an unterminated "[" class runs to the end of the
// pattern, a trailing "\" matches a backslash, and an escaped byte inside a
// class is compared case-sensitively even with nocase.
//
// Unlike Redis's recursive matcher, this one backtracks only to the last
// "*", so it runs in O(len(pattern)*len(s)) time without recursion; that is
// equivalent because every other token consumes exactly one byte. (Redis
// also gives up after 1000 nested stars, and never matches an empty s
// against "*", a corner its KEYS command special-cases anyway; Glob has
// neither oddity.)
func Glob(pattern, s string, nocase bool) bool {
	p, i := 0, 0
	// Where to resume after a mismatch: the pattern just past the last
	// star, and the next input position that star should swallow.
	starP, starI := -1, 0
	for i < len(s) {
		if p < len(pattern) {
			if pattern[p] == '*' {
				for p < len(pattern) && pattern[p] == '*' {
					p++
				}
				if p == len(pattern) {
					return true // a trailing star matches the rest
				}
				starP, starI = p, i
				continue
			}
			if next, ok := matchToken(pattern, p, s[i], nocase); ok {
				p, i = next, i+1
				continue
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last star swallow one more byte and retry from there.
		starI++
		p, i = starP, starI
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// matchToken matches the single-byte token at pattern[p] (anything but '*')
// against c and returns the index just past the token.
func matchToken(pattern string, p int, c byte, nocase bool) (int, bool) {
	switch pattern[p] {
	case '?':
		return p + 1, true
	case '[':
		return matchClass(pattern, p+1, c, nocase)
	case '\\':
		if p+1 < len(pattern) {
			p++ // escaped byte; a lone trailing backslash is literal
		}
	}
	return p + 1, sameByte(pattern[p], c, nocase)
}

// matchClass matches c against the bracket expression whose body starts at
// pattern[p] (just past '[') and returns the index just past the closing
// ']', or len(pattern) when the class is unterminated.
func matchClass(pattern string, p int, c byte, nocase bool) (int, bool) {
	negate := p < len(pattern) && pattern[p] == '^'
	if negate {
		p++
	}
	matched := false
	for ; ; p++ {
		switch {
		case p+1 < len(pattern) && pattern[p] == '\\':
			p++
			// Redis compares escaped class members case-sensitively.
			if pattern[p] == c {
				matched = true
			}
		case p < len(pattern) && pattern[p] == ']':
			return p + 1, matched != negate
		case p >= len(pattern):
			return len(pattern), matched != negate
		case p+2 < len(pattern) && pattern[p+1] == '-':
			lo, hi, b := pattern[p], pattern[p+2], c
			if lo > hi {
				lo, hi = hi, lo
			}
			if nocase {
				lo, hi, b = toLower(lo), toLower(hi), toLower(b)
			}
			if b >= lo && b <= hi {
				matched = true
			}
			p += 2
		default:
			if sameByte(pattern[p], c, nocase) {
				matched = true
			}
		}
	}
}

func sameByte(a, b byte, nocase bool) bool {
	if nocase {
		return toLower(a) == toLower(b)
	}
	return a == b
}

func toLower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}
