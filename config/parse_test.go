package config

import (
	"math"
	"testing"
)

func TestParseMemory(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{in: "0", want: 0},
		{in: "100", want: 100},
		{in: "100b", want: 100},
		{in: "100B", want: 100},
		{in: "1k", want: 1000},
		{in: "1K", want: 1000},
		{in: "1kb", want: 1024},
		{in: "1KB", want: 1024},
		{in: "1kB", want: 1024},
		{in: "2m", want: 2_000_000},
		{in: "2mb", want: 2 * 1024 * 1024},
		{in: "3g", want: 3_000_000_000},
		{in: "3gb", want: 3 * 1024 * 1024 * 1024},
		{in: "3Gb", want: 3 * 1024 * 1024 * 1024},
		{in: "007", want: 7}, // Redis's strtoull accepts leading zeros
		{in: "9223372036854775807", want: math.MaxInt64},
		{in: "8589934591gb", want: 8589934591 * 1024 * 1024 * 1024},

		{in: "", wantErr: true},
		{in: "gb", wantErr: true},
		{in: "-1", wantErr: true},
		{in: "-1gb", wantErr: true},
		{in: "+1", wantErr: true},
		{in: " 1", wantErr: true},
		{in: "1 ", wantErr: true},
		{in: "1 gb", wantErr: true},
		{in: "1.5gb", wantErr: true},
		{in: "1tb", wantErr: true},
		{in: "1kib", wantErr: true},
		{in: "1bb", wantErr: true},
		{in: "0x10", wantErr: true},
		{in: "abc", wantErr: true},
		{in: "9223372036854775808", wantErr: true},
		{in: "8589934592gb", wantErr: true},
		{in: "99999999999999999999999999", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseMemory(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParseMemory(%q) = %d, want error", tt.in, got)
			} else if err.Error() != ReasonMemory {
				t.Errorf("ParseMemory(%q) error = %q, want %q", tt.in, err, ReasonMemory)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestParseInteger(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{in: "0", want: 0},
		{in: "1", want: 1},
		{in: "-1", want: -1},
		{in: "6379", want: 6379},
		{in: "9223372036854775807", want: math.MaxInt64},
		{in: "-9223372036854775808", want: math.MinInt64},

		{in: "", wantErr: true},
		{in: "-", wantErr: true},
		{in: "-0", wantErr: true},
		{in: "+1", wantErr: true},
		{in: "01", wantErr: true},
		{in: " 1", wantErr: true},
		{in: "1 ", wantErr: true},
		{in: "1k", wantErr: true},
		{in: "1.0", wantErr: true},
		{in: "1e3", wantErr: true},
		{in: "9223372036854775808", wantErr: true},
		{in: "--1", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseInteger(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("parseInteger(%q) = %d, want error", tt.in, got)
			} else if err.Error() != ReasonInteger {
				t.Errorf("parseInteger(%q) error = %q, want %q", tt.in, err, ReasonInteger)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseInteger(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestParseYesNo(t *testing.T) {
	tests := []struct {
		in      string
		want    bool
		wantErr bool
	}{
		{in: "yes", want: true},
		{in: "YES", want: true},
		{in: "Yes", want: true},
		{in: "no", want: false},
		{in: "NO", want: false},

		{in: "", wantErr: true},
		{in: "true", wantErr: true},
		{in: "false", wantErr: true},
		{in: "1", wantErr: true},
		{in: "0", wantErr: true},
		{in: "y", wantErr: true},
		{in: " yes", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseYesNo(tt.in)
		if tt.wantErr {
			if err == nil || err.Error() != ReasonYesNo {
				t.Errorf("parseYesNo(%q) = %v, %v; want error %q", tt.in, got, err, ReasonYesNo)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseYesNo(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}
