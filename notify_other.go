//go:build !linux

package main

import "time"

var processStart = time.Now()

// monotonicUsec is only meaningful to systemd, which runs on Linux.
func monotonicUsec() int64 { return time.Since(processStart).Microseconds() }
