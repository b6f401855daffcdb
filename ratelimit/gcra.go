package ratelimit

import (
	"errors"
	"math"
	"strconv"
)

// MaxDuration caps every duration (nanoseconds) the GCRA code computes, so
// that adding one to a Unix time in nanoseconds can never overflow int64:
// 2^62 ns is about 146 years. The sum of two such durations still fits.
const MaxDuration int64 = 1<<62 - 1

// ErrZeroRate is returned when the parameters give no emission interval: a
// count or period of zero or less, or a rate so high that one token takes
// less than a nanosecond.
var ErrZeroRate = errors.New("zero rates are not supported")

// ErrBadState is returned when a key holds a string that is not a state of
// the algorithm asked for.
var ErrBadState = errors.New("value is not a valid rate limiter state")

// satMul multiplies two non-negative numbers, saturating at MaxDuration.
func satMul(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a > MaxDuration/b {
		return MaxDuration
	}
	return a * b
}

// GCRAParams are a GCRA limiter's parameters.
type GCRAParams struct {
	// MaxBurst is how many tokens beyond the first may be taken at once;
	// the capacity is MaxBurst+1. Must be >= 0.
	MaxBurst int64
	// Emission is the emission interval in nanoseconds: the time one token
	// takes to come back. Must be > 0.
	Emission int64
}

// ThrottleEmission is redis-cell's emission interval for count tokens per
// period whole seconds: the period in nanoseconds divided by count in
// floating point and truncated (redis-cell's Rate::per_period). It returns
// ErrZeroRate when the result is not positive.
func ThrottleEmission(count, periodSec int64) (int64, error) {
	if count <= 0 || periodSec <= 0 {
		return 0, ErrZeroRate
	}
	ns := satMul(periodSec, 1e9)
	ei := int64(float64(ns) / float64(count))
	if ei <= 0 {
		return 0, ErrZeroRate
	}
	return min(ei, MaxDuration), nil
}

// GCRAEmission is the emission interval for count tokens per period
// seconds given as a double, truncated to whole nanoseconds.
func GCRAEmission(count int64, periodSec float64) (int64, error) {
	if count <= 0 || !(periodSec > 0) || math.IsInf(periodSec, 0) {
		return 0, ErrZeroRate
	}
	ei := periodSec * 1e9 / float64(count)
	if ei >= float64(MaxDuration) {
		return MaxDuration, nil
	}
	if ei < 1 {
		return 0, ErrZeroRate
	}
	return int64(ei), nil
}

// GCRADecision is the outcome of one GCRA call, in nanoseconds.
type GCRADecision struct {
	Limited   bool
	Limit     int64 // MaxBurst+1
	Remaining int64 // whole tokens left after the decision
	// RetryAfter is how long until the same request would be allowed: -1
	// when it was allowed, and -1 when it can never be (the quantity is
	// more than the capacity).
	RetryAfter int64
	// ResetAfter is how long until the bucket is full again.
	ResetAfter int64
}

// GCRA makes one decision. tat is the stored theoretical arrival time in Unix
// nanoseconds (ignored when has is false), now the current Unix time in
// nanoseconds, quantity the tokens asked for (0 peeks; negative counts as
// 0). It returns the decision and, when store is true, the TAT to store,
// which should expire at newTAT (the bucket is full from then on). A
// limited request or a peek stores nothing.
//
// This is redis-cell's algorithm: new_tat = max(tat, now) + emission ×
// quantity; the request is allowed when new_tat − now ≤ emission ×
// (max_burst+1). Everything is computed relative to now, saturating, so no
// parameters or stored value can overflow.
func GCRA(tat int64, has bool, now int64, p GCRAParams, quantity int64) (d GCRADecision, newTAT int64, store bool) {
	quantity = max(quantity, 0)
	d.Limit = p.MaxBurst + 1
	if p.MaxBurst == math.MaxInt64 {
		d.Limit = math.MaxInt64
	}
	d.RetryAfter = -1
	ei := max(p.Emission, 1)
	dvt := satMul(ei, d.Limit)
	inc := satMul(ei, quantity)

	// tatRel is max(tat, now) − now: how far ahead of now the schedule is.
	var tatRel int64
	if has && tat > now {
		tatRel = min(tat-now, MaxDuration)
	}
	newRel := tatRel + inc // both <= MaxDuration: cannot overflow
	var ttl int64
	if newRel > dvt {
		d.Limited = true
		if inc <= dvt {
			d.RetryAfter = newRel - dvt
		}
		ttl = tatRel
	} else {
		ttl = newRel
		if quantity > 0 {
			store = true
			newTAT = now + newRel
		}
	}
	if next := dvt - ttl; next > -ei {
		d.Remaining = next / ei // truncates toward zero, as redis-cell's cast
	}
	d.ResetAfter = ttl
	return d, newTAT, store
}

// CellSeconds rounds a duration in nanoseconds to whole seconds as
// redis-cell does: the whole seconds, plus one when the sub-second part has
// at least one whole millisecond. Negative durations (the -1 sentinel) give
// -1.
func CellSeconds(ns int64) int64 {
	if ns < 0 {
		return -1
	}
	s := ns / 1e9
	if (ns%1e9)/1e6 > 0 {
		s++
	}
	return s
}

// CeilSeconds rounds a duration in nanoseconds up to whole seconds; negative
// durations (the -1 sentinel) give -1.
func CeilSeconds(ns int64) int64 {
	if ns < 0 {
		return -1
	}
	return ns/1e9 + b2i(ns%1e9 != 0)
}

// CeilMillis rounds a duration in nanoseconds up to whole milliseconds.
func CeilMillis(ns int64) int64 {
	if ns < 0 {
		return -1
	}
	return ns/1e6 + b2i(ns%1e6 != 0)
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// ParseTAT reads a GCRA state: a decimal integer, as redis-cell writes it.
func ParseTAT(b []byte) (int64, error) {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, ErrBadState
	}
	return n, nil
}

// AppendTAT appends the state for tat to dst.
func AppendTAT(dst []byte, tat int64) []byte { return strconv.AppendInt(dst, tat, 10) }
