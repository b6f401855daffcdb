package config

import "testing"

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		nocase     bool
		want       bool
	}{
		// Literals and empties.
		{"", "", false, true},
		{"", "a", false, false},
		{"a", "", false, false},
		{"abc", "abc", false, true},
		{"abc", "abd", false, false},
		{"abc", "ab", false, false},
		{"ab", "abc", false, false},

		// Star.
		{"*", "", false, true},
		{"*", "anything", false, true},
		{"**", "x", false, true},
		{"a*", "a", false, true},
		{"a*", "abc", false, true},
		{"*c", "abc", false, true},
		{"*c", "abcd", false, false},
		{"a*c", "ac", false, true},
		{"a*c", "abbbc", false, true},
		{"a*c", "abbbd", false, false},
		{"a*b*c", "axxbyyc", false, true},
		{"a*b*c", "axxcyyb", false, false},
		{"*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false, false},
		{"*ab", "aab", false, true}, // needs backtracking into the star
		{"*aab", "aaab", false, true},
		{"maxmemory*", "maxmemory-policy", false, true},
		{"*memory*", "maxmemory-samples", false, true},

		// Question mark: exactly one byte.
		{"?", "a", false, true},
		{"?", "", false, false},
		{"?", "ab", false, false},
		{"h?llo", "hello", false, true},
		{"h?llo", "hllo", false, false},
		{"*?", "", false, false},
		{"?*", "a", false, true},

		// Classes.
		{"h[ae]llo", "hello", false, true},
		{"h[ae]llo", "hallo", false, true},
		{"h[ae]llo", "hillo", false, false},
		{"h[^e]llo", "hallo", false, true},
		{"h[^e]llo", "hello", false, false},
		{"h[a-b]llo", "hbllo", false, true},
		{"h[a-b]llo", "hcllo", false, false},
		{"h[b-a]llo", "hallo", false, true}, // reversed range is swapped
		{"[0-9][0-9]", "42", false, true},
		{"[0-9]", "a", false, false},
		{"[a-cx-z]", "y", false, true},
		{"[a-cx-z]", "m", false, false},
		{"[^a-c]", "d", false, true},
		{"[^a-c]", "b", false, false},
		{"[]", "a", false, false},      // empty class matches nothing...
		{"[]a", "a", false, false},     // ...and consumes a byte
		{"[^]", "a", false, true},      // its negation matches anything
		{"[\\]]", "]", false, true},    // escaped ']' inside a class
		{"[\\^]", "^", false, true},    // escaped '^' is a member, not negation
		{"[a\\-z]", "-", false, true},  // escaped '-' is not a range
		{"[a\\-z]", "b", false, false}, // so b is not in it
		{"[-a]", "-", false, true},     // leading '-' is literal
		{"[a-]", "-", false, false},    // Redis reads "a-]" as the range a..]
		{"[a-]]", "]", false, true},    // ...which this closes
		{"[abc", "b", false, true},     // unterminated class runs to the end
		{"[abc", "bc", false, false},
		{"[", "a", false, false},
		{"[^", "a", false, true},
		{"[\\", "\\", false, true},
		{"a[bc]*", "ac", false, true},

		// Escapes outside classes.
		{"\\*", "*", false, true},
		{"\\*", "a", false, false},
		{"\\?", "?", false, true},
		{"\\?", "a", false, false},
		{"\\[a]", "[a]", false, true},
		{"\\a", "a", false, true},
		{"a\\", "a\\", false, true}, // a trailing backslash is literal
		{"a\\", "a", false, false},
		{"\\\\", "\\", false, true},

		// Case folding.
		{"MAXMEMORY", "maxmemory", false, false},
		{"MAXMEMORY", "maxmemory", true, true},
		{"MaxMem*", "maxmemory-policy", true, true},
		{"h[AE]llo", "hello", true, true},
		{"h[AE]llo", "hello", false, false},
		{"[A-C]", "b", true, true},
		{"[a-c]", "B", true, true},
		{"[a-c]", "B", false, false},
		{"[^A-C]", "b", true, false},
		{"\\A", "a", true, true},    // escape outside a class folds case
		{"[\\A]", "a", true, false}, // escape inside a class does not (Redis)
		{"[\\A]", "A", true, true},
		{"É", "é", true, false}, // only ASCII folds

		// Bytes, not runes.
		{"?", "é", false, false},
		{"??", "é", false, true},
		{"*\x00*", "a\x00b", false, true},
	}
	for _, tt := range tests {
		if got := Glob(tt.pattern, tt.s, tt.nocase); got != tt.want {
			t.Errorf("Glob(%q, %q, nocase=%v) = %v, want %v", tt.pattern, tt.s, tt.nocase, got, tt.want)
		}
	}
}

// globReference is a deliberately naive, recursive transcription of the
// matching rules, used to cross-check Glob's iterative backtracking in
// FuzzGlob. It is exponential in the worst case, so callers keep inputs
// short.
func globReference(pattern, s string, nocase bool) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			for len(pattern) > 0 && pattern[0] == '*' {
				pattern = pattern[1:]
			}
			for i := 0; i <= len(s); i++ {
				if globReference(pattern, s[i:], nocase) {
					return true
				}
			}
			return false
		}
		if len(s) == 0 {
			return false
		}
		switch pattern[0] {
		case '?':
			pattern = pattern[1:]
		case '[':
			rest, ok := referenceClass(pattern[1:], s[0], nocase)
			if !ok {
				return false
			}
			pattern = rest
		case '\\':
			if len(pattern) >= 2 {
				pattern = pattern[1:]
			}
			fallthrough
		default:
			if !sameByte(pattern[0], s[0], nocase) {
				return false
			}
			pattern = pattern[1:]
		}
		s = s[1:]
	}
	return len(s) == 0
}

// referenceClass matches c against a class body and returns the pattern
// after it.
func referenceClass(body string, c byte, nocase bool) (string, bool) {
	negate := false
	if len(body) > 0 && body[0] == '^' {
		negate, body = true, body[1:]
	}
	matched := false
	for {
		switch {
		case len(body) >= 2 && body[0] == '\\':
			matched = matched || body[1] == c
			body = body[2:]
		case len(body) == 0:
			return "", matched != negate
		case body[0] == ']':
			return body[1:], matched != negate
		case len(body) >= 3 && body[1] == '-':
			lo, hi := body[0], body[2]
			if lo > hi {
				lo, hi = hi, lo
			}
			b := c
			if nocase {
				lo, hi, b = toLower(lo), toLower(hi), toLower(b)
			}
			matched = matched || (lo <= b && b <= hi)
			body = body[3:]
		default:
			matched = matched || sameByte(body[0], c, nocase)
			body = body[1:]
		}
	}
}

func TestGlobAgreesWithReference(t *testing.T) {
	alphabet := []string{"", "a", "b", "A", "*", "?", "[", "]", "^", "-", "\\"}
	inputs := []string{"", "a", "b", "ab", "ba", "aab", "A", "-", "]", "\\", "a-b", "[a]"}
	// All patterns of up to three tokens from the alphabet.
	var patterns []string
	for _, x := range alphabet {
		for _, y := range alphabet {
			for _, z := range alphabet {
				patterns = append(patterns, x+y+z)
			}
		}
	}
	for _, p := range patterns {
		for _, s := range inputs {
			for _, nocase := range []bool{false, true} {
				if got, want := Glob(p, s, nocase), globReference(p, s, nocase); got != want {
					t.Errorf("Glob(%q, %q, %v) = %v, reference says %v", p, s, nocase, got, want)
				}
			}
		}
	}
}
