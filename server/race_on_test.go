//go:build race

package server

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// allocation counts mean nothing in a -race build.
const raceEnabled = true
