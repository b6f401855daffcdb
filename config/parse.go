package config

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// Reason strings shared with Redis's CONFIG SET replies. The server wraps
// them as "ERR CONFIG SET failed (possibly related to argument '<name>') - <reason>".
const (
	ReasonMemory    = "argument must be a memory value"
	ReasonInteger   = "argument couldn't be parsed into an integer"
	ReasonYesNo     = "argument must be 'yes' or 'no'"
	ReasonImmutable = "can't set immutable config"
)

// memoryUnits maps Redis's size suffixes (matched case-insensitively) to
// their multipliers. Single letters are decimal, "b"-suffixed are binary,
// exactly as redis.conf documents.
var memoryUnits = map[string]int64{
	"":   1,
	"b":  1,
	"k":  1000,
	"kb": 1024,
	"m":  1000 * 1000,
	"mb": 1024 * 1024,
	"g":  1000 * 1000 * 1000,
	"gb": 1024 * 1024 * 1024,
}

// errMemory is returned by ParseMemory for every malformed size; its text is
// Redis's reason so it can be surfaced unchanged.
var errMemory = errors.New(ReasonMemory)

// ParseMemory parses a memory size the way Redis's memtoull does: decimal
// digits followed by an optional unit (b, k, kb, m, mb, g, gb; any case),
// e.g. "100", "64mb", "1GB". Signs, spaces, fractions and unknown units are
// rejected.
//
// It is stricter than Redis in two places, both to refuse values that are
// almost certainly mistakes: a missing number ("" or "gb") is an error rather
// than 0, and a result that does not fit in int64 is an error rather than a
// silent wrap-around.
func ParseMemory(s string) (int64, error) {
	digitsEnd := 0
	for digitsEnd < len(s) && isDigit(s[digitsEnd]) {
		digitsEnd++
	}
	if digitsEnd == 0 {
		return 0, errMemory
	}
	multiplier, ok := memoryUnits[strings.ToLower(s[digitsEnd:])]
	if !ok {
		return 0, errMemory
	}
	n, err := strconv.ParseInt(s[:digitsEnd], 10, 64)
	if err != nil || n > math.MaxInt64/multiplier {
		return 0, errMemory
	}
	return n * multiplier, nil
}

// parseInteger parses a decimal integer with the strictness of Redis's
// string2ll: an optional '-', no '+', no spaces, no leading zeros, and no
// overflow. Strictness matters because CONFIG SET must refuse exactly what
// Redis refuses.
func parseInteger(s string) (int64, error) {
	errInteger := errors.New(ReasonInteger)
	if s == "0" {
		return 0, nil
	}
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || digits[0] < '1' || digits[0] > '9' {
		return 0, errInteger
	}
	for i := 1; i < len(digits); i++ {
		if !isDigit(digits[i]) {
			return 0, errInteger
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, errInteger
	}
	return n, nil
}

// parseYesNo parses a Redis boolean. Redis compares case-insensitively
// (yesnotoi uses strcasecmp), so "YES" is accepted too.
func parseYesNo(s string) (bool, error) {
	switch {
	case strings.EqualFold(s, "yes"):
		return true, nil
	case strings.EqualFold(s, "no"):
		return false, nil
	}
	return false, errors.New(ReasonYesNo)
}

// formatYesNo renders a boolean the way CONFIG GET prints it.
func formatYesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
