package config

import "log/slog"

// SlogLevel maps Redis's loglevel names onto slog levels: debug and verbose
// are Debug, notice is Info, warning is Warn, and nothing silences the log.
func SlogLevel(loglevel string) slog.Level {
	switch loglevel {
	case "debug", "verbose":
		return slog.LevelDebug
	case "warning":
		return slog.LevelWarn
	case "nothing":
		return slog.LevelError + 100
	}
	return slog.LevelInfo
}
