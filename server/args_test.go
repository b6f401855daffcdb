package server

import (
	"errors"
	"math"
	"strconv"
	"testing"
)

// The accept/reject columns were checked against redis-server 7.0 (INCRBY
// for integers, ZADD for doubles).
func TestParseInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1", 1, true},
		{"-1", -1, true},
		{"42", 42, true},
		{"-42", -42, true},
		{"9223372036854775807", math.MaxInt64, true},
		{"-9223372036854775808", math.MinInt64, true},
		{"9223372036854775808", 0, false},  // max + 1
		{"-9223372036854775809", 0, false}, // min - 1
		{"18446744073709551615", 0, false}, // uint64 max
		{"18446744073709551616", 0, false}, // uint64 max + 1
		{"99999999999999999999", 0, false}, // 20 digits
		{"123456789012345678901", 0, false},
		{"-0", 0, false},
		{"+1", 0, false},
		{"007", 0, false},
		{"00", 0, false},
		{"-01", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"", 0, false},
		{"-", 0, false},
		{"1a", 0, false},
		{"0x10", 0, false},
		{"1.0", 0, false},
		{"1e3", 0, false},
		{"\x001", 0, false},
	}
	for _, tt := range tests {
		got, err := parseInt([]byte(tt.in))
		if tt.ok {
			if err != nil || got != tt.want {
				t.Errorf("parseInt(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
			continue
		}
		if !errors.Is(err, errNotInteger) {
			t.Errorf("parseInt(%q) = %d, %v; want errNotInteger", tt.in, got, err)
		}
	}
}

// Every int64 in canonical form parses back to itself.
func TestParseIntCanonical(t *testing.T) {
	for _, n := range []int64{0, 1, -1, 9, 10, -10, 1 << 31, -1 << 31, 1<<53 + 1, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1} {
		got, err := parseInt(strconv.AppendInt(nil, n, 10))
		if err != nil || got != n {
			t.Errorf("parseInt(%d) = %d, %v", n, got, err)
		}
	}
}

func TestParseFloat(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"1.5", 1.5, true},
		{"0", 0, true},
		{"-0", math.Copysign(0, -1), true},
		{"+1", 1, true},
		{".5", 0.5, true},
		{"5.", 5, true},
		{"1e+5", 1e5, true},
		{"1E5", 1e5, true},
		{"1e308", 1e308, true},
		{"0e-400", 0, true},
		{"1e-310", 1e-310, true},
		{"5e-324", 5e-324, true},
		{"0x10", 16, true},
		{"-0x10", -16, true},
		{"0x1p3", 8, true},
		{"0x1.8", 1.5, true},
		{"0x1p-1074", 5e-324, true},
		{"inf", math.Inf(1), true},
		{"-inf", math.Inf(-1), true},
		{"+inf", math.Inf(1), true},
		{"INF", math.Inf(1), true},
		{"infinity", math.Inf(1), true},
		{"Infinity", math.Inf(1), true},
		{"1e400", 0, false},  // overflow: ERANGE with HUGE_VAL
		{"-1e400", 0, false}, // overflow
		{"1e-400", 0, false}, // underflow to zero: ERANGE
		{"-1e-400", 0, false},
		{"2e-324", 0, false},
		{"0x1p-1080", 0, false},
		{"nan", 0, false},
		{"NaN", 0, false},
		{"", 0, false},
		{" 1", 0, false},
		{"\t1", 0, false},
		{"1 ", 0, false},
		{"1_0", 0, false},
		{"0x1_0p0", 0, false},
		{"1e", 0, false},
		{"0x", 0, false},
		{".", 0, false},
		{"abc", 0, false},
		{"1.5x", 0, false},
	}
	for _, tt := range tests {
		got, err := parseFloat([]byte(tt.in))
		if tt.ok {
			if err != nil || got != tt.want || math.Signbit(got) != math.Signbit(tt.want) {
				t.Errorf("parseFloat(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			continue
		}
		if !errors.Is(err, errNotFloat) {
			t.Errorf("parseFloat(%q) = %v, %v; want errNotFloat", tt.in, got, err)
		}
	}
}

func TestEqualFold(t *testing.T) {
	tests := []struct {
		arg, lower string
		want       bool
	}{
		{"EX", "ex", true},
		{"ex", "ex", true},
		{"eX", "ex", true},
		{"exx", "ex", false},
		{"e", "ex", false},
		{"", "", true},
		{"KEEPTTL", "keepttl", true},
		{"ÉX", "éx", false}, // only ASCII folds, like strcasecmp
	}
	for _, tt := range tests {
		if got := equalFold([]byte(tt.arg), tt.lower); got != tt.want {
			t.Errorf("equalFold(%q, %q) = %v, want %v", tt.arg, tt.lower, got, tt.want)
		}
	}
}
