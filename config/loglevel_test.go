package config

import (
	"log/slog"
	"testing"
)

func TestSlogLevel(t *testing.T) {
	tests := []struct {
		name string
		want slog.Level
	}{
		{"debug", slog.LevelDebug},
		{"verbose", slog.LevelDebug},
		{"notice", slog.LevelInfo},
		{"warning", slog.LevelWarn},
		{"nothing", slog.LevelError + 100},
	}
	for _, tt := range tests {
		if got := SlogLevel(tt.name); got != tt.want {
			t.Errorf("SlogLevel(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
