package store

import (
	"sync/atomic"
	"time"
)

// Clock tells the store what time it is, in Unix milliseconds. Tests inject a
// fake one so TTL behaviour is checked without sleeping.
type Clock interface {
	NowMs() int64
}

// SystemClock reads the wall clock.
type SystemClock struct{}

// NowMs returns the current Unix time in milliseconds.
func (SystemClock) NowMs() int64 { return time.Now().UnixMilli() }

// FakeClock is a settable clock for tests.
// It is safe for concurrent use: the active expiry cycle reads it while a
// test advances it.
type FakeClock struct{ ms atomic.Int64 }

// NewFakeClock returns a clock stopped at ms.
func NewFakeClock(ms int64) *FakeClock {
	f := &FakeClock{}
	f.ms.Store(ms)
	return f
}

// NowMs returns the clock's current time.
func (f *FakeClock) NowMs() int64 { return f.ms.Load() }

// Advance moves the clock forward by d.
func (f *FakeClock) Advance(d time.Duration) { f.ms.Add(d.Milliseconds()) }
