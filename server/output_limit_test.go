package server

import (
	"testing"
	"time"
)

func TestOverOutputLimitSoftAndHard(t *testing.T) {
	lim := outLimit{class: "normal", hard: 1000, soft: 100, secs: 2 * time.Second}
	t0 := time.Unix(1000, 0)
	steps := []struct {
		n     int64
		at    time.Duration
		close bool
	}{
		{50, 0, false},                 // under both
		{150, 0, false},                // over soft: the clock starts
		{150, 2 * time.Second, false},  // exactly soft-seconds: not yet
		{150, 2*time.Second + 1, true}, // longer than soft-seconds
		{50, 3 * time.Second, false},   // back under: clock reset
		{150, 4 * time.Second, false},  // over again: a new clock
		{1001, 4 * time.Second, true},  // over hard: at once
		{150, 7 * time.Second, true},   // the soft clock kept running
	}
	var c client
	for i, s := range steps {
		if got := c.overOutputLimit(lim, s.n, t0.Add(s.at)); got != s.close {
			t.Fatalf("step %d (%d bytes at %v): close %v, want %v", i, s.n, s.at, got, s.close)
		}
	}
	if (&client{}).overOutputLimit(outLimit{}, 1<<40, t0) {
		t.Error("no limits configured, yet closed")
	}
}
