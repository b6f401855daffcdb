package server

import (
	"strings"
	"testing"
)

// Golden outputs captured from redis-server 7.0.15 (LATENCY HISTORY and
// LATENCY GRAPH of the same event, read in the same second).
func TestLatencyGraphMatchesRedis(t *testing.T) {
	tests := []struct {
		name    string
		samples []latencySample
		allTime int64
		now     int64
		want    string
	}{
		{
			name: "seven samples, one a second",
			samples: []latencySample{{1795761048, 5}, {1795761049, 12}, {1795761050, 3}, {1795761051, 30},
				{1795761052, 20}, {1795761053, 1}, {1795761054, 8}},
			allTime: 30, now: 1795761055,
			want: "command - high 30 ms, low 1 ms (all time high 30 ms)\n" +
				strings.Repeat("-", 80) + "\n" +
				"   #   \n" +
				"   |o  \n" +
				" o ||  \n" +
				"o|_||_#\n" +
				"       \n" +
				"7654321\n" +
				"sssssss\n",
		},
		{
			// All samples equal: relmax 0 counts as 1, every column at the
			// bottom step.
			name:    "flat",
			samples: []latencySample{{100, 7}, {160, 7}},
			allTime: 9, now: 100 + 3600*25,
			want: "command - high 7 ms, low 7 ms (all time high 9 ms)\n" +
				strings.Repeat("-", 80) + "\n" +
				"  \n  \n  \n__\n  \n11\ndd\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := latencyGraph("command", tt.samples, tt.allTime, tt.now); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// More samples than columns: the graph is drawn in chunks of 80 separated
// by a blank line, every chunk scaled to the whole sequence.
func TestLatencyGraphChunks(t *testing.T) {
	var samples []latencySample
	for i := int64(0); i < 100; i++ {
		samples = append(samples, latencySample{time: 1000 + i, latency: 1 + i%10})
	}
	got := latencyGraph("e", samples, 10, 1100)
	parts := strings.Split(strings.TrimSuffix(got, "\n"), "\n\n")
	if len(parts) != 2 {
		t.Fatalf("want 2 chunks, got %d:\n%s", len(parts), got)
	}
	first := strings.Split(parts[0], "\n")
	// header, dashes, 4 graph rows, blank, 3 label rows ("1m", "59s"…).
	if len(first) != 2+4+1+3 || len(first[2]) != 80 {
		t.Fatalf("first chunk shape: %q", first)
	}
	second := strings.Split(parts[1], "\n")
	if len(second[0]) != 20 {
		t.Fatalf("second chunk width %d, want 20: %q", len(second[0]), second)
	}
	if first[5][0] != '_' || first[2][9] != '#' {
		t.Fatalf("scaling: %q", first)
	}
}

func TestAgeLabel(t *testing.T) {
	for _, tt := range []struct {
		elapsed int64
		want    string
	}{{0, "0s"}, {59, "59s"}, {60, "1m"}, {3599, "59m"}, {3600, "1h"}, {86399, "23h"}, {86400, "1d"}} {
		if got := ageLabel(tt.elapsed); got != tt.want {
			t.Errorf("ageLabel(%d) = %q, want %q", tt.elapsed, got, tt.want)
		}
	}
}
