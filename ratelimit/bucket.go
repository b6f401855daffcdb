package ratelimit

import (
	"bytes"
	"errors"
	"math"
	"math/bits"
	"strconv"
)

// ErrBucketTooLarge is returned when capacity × interval_ms does not fit in
// an int64, the unit the bucket counts in.
var ErrBucketTooLarge = errors.New("capacity times interval_ms is out of range")

// BucketParams are a token bucket's parameters: it holds at most Capacity
// tokens and gains Tokens tokens every IntervalMs milliseconds,
// continuously. All three must be >= 1 and Capacity × IntervalMs must fit
// in an int64 (Validate).
type BucketParams struct {
	Capacity   int64
	Tokens     int64
	IntervalMs int64
}

// Validate checks the parameters.
func (p BucketParams) Validate() error {
	if p.Capacity < 1 || p.Tokens < 1 || p.IntervalMs < 1 {
		return ErrZeroRate
	}
	if hi, lo := bits.Mul64(uint64(p.Capacity), uint64(p.IntervalMs)); hi != 0 || lo > math.MaxInt64 {
		return ErrBucketTooLarge
	}
	return nil
}

// full is the capacity in units (one token is IntervalMs units).
func (p BucketParams) full() int64 { return p.Capacity * p.IntervalMs }

// Bucket is a token bucket's state.
type Bucket struct {
	// Level is the content in units: Level / IntervalMs whole tokens. The
	// bucket gains Tokens units per millisecond, so refilling is exact
	// integer arithmetic.
	Level int64
	// Ts is the Unix time in milliseconds the level was computed for. It
	// never moves backwards, so a caller whose clock reading is older than
	// the last update cannot be credited the same time twice.
	Ts     int64
	Params BucketParams
}

// mulSat returns a×b for non-negative a and b, saturating at MaxInt64.
func mulSat(a, b int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(lo)
}

// mulDivSat returns a×b/c for non-negative a, b and positive c, saturating.
func mulDivSat(a, b, c int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, uint64(c))
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(q)
}

func ceilDiv(a, b int64) int64 { return a/b + b2i(a%b != 0) }

// Refill returns the bucket as of now under params p: a missing bucket is
// full; a bucket last used with other parameters keeps its fill level as a
// number of tokens (capped at the new capacity); time since Ts adds Tokens
// units per millisecond up to the capacity. A now earlier than Ts adds
// nothing and leaves Ts where it is.
func Refill(b Bucket, has bool, now int64, p BucketParams) Bucket {
	full := p.full()
	if !has {
		return Bucket{Level: full, Ts: now, Params: p}
	}
	if b.Params.IntervalMs != p.IntervalMs && b.Params.IntervalMs > 0 {
		b.Level = mulDivSat(b.Level, p.IntervalMs, b.Params.IntervalMs)
	}
	b.Params = p
	b.Level = min(max(b.Level, 0), full)
	if dt := now - b.Ts; dt > 0 {
		add := mulSat(dt, p.Tokens)
		if add >= full-b.Level {
			b.Level = full
		} else {
			b.Level += add
		}
		b.Ts = now
	}
	return b
}

// TakeResult is what RL.TAKE replies.
type TakeResult struct {
	Allowed   bool
	Limit     int64 // the capacity
	Remaining int64 // whole tokens left after the decision
	// RetryAfterMs is 0 when allowed, the milliseconds until the cost fits
	// when refused, and -1 when it never will (cost above capacity).
	RetryAfterMs int64
	// ResetAfterMs is the milliseconds until the bucket is full again; 0
	// when it is full.
	ResetAfterMs int64
}

// Full reports whether the bucket is full (its key can be deleted).
func (b Bucket) Full() bool { return b.Level >= b.Params.full() }

// ExpireAt is the Unix millisecond at which the bucket is full again, when
// a stored state can expire.
func (b Bucket) ExpireAt() int64 {
	return b.Ts + ceilDiv(b.Params.full()-b.Level, b.Params.Tokens)
}

// Report describes the bucket at now without changing it.
func (b Bucket) Report(now int64) TakeResult {
	ahead := max(b.Ts-now, 0) // a caller whose clock is behind the state's
	r := TakeResult{Allowed: true, Limit: b.Params.Capacity, Remaining: b.Level / b.Params.IntervalMs}
	if !b.Full() {
		r.ResetAfterMs = ahead + ceilDiv(b.Params.full()-b.Level, b.Params.Tokens)
	}
	return r
}

// retryAfter is how long until cost tokens fit, -1 when they never will.
func (b Bucket) retryAfter(now, cost int64) int64 {
	if cost > b.Params.Capacity {
		return -1
	}
	need := mulSat(cost, b.Params.IntervalMs)
	if need <= b.Level {
		return 0
	}
	return max(b.Ts-now, 0) + ceilDiv(need-b.Level, b.Params.Tokens)
}

// Take refills the bucket to now and takes cost tokens (cost >= 0) if they
// are all there, none otherwise. It returns the decision and the new state;
// the caller stores it (unless it is a dry run), deleting the key instead
// when the state is Full, and expiring it at ExpireAt otherwise.
func Take(b Bucket, has bool, now int64, p BucketParams, cost int64) (TakeResult, Bucket) {
	b = Refill(b, has, now, p)
	retry := b.retryAfter(now, max(cost, 0))
	if retry == 0 {
		b.Level -= mulSat(max(cost, 0), p.IntervalMs)
	}
	r := b.Report(now)
	r.Allowed = retry == 0
	r.RetryAfterMs = retry
	return r, b
}

// TakeAll takes cost tokens from every bucket or from none: it refills each
// to now, and consumes only when each has enough. results[i] describes
// bucket i after the decision (Allowed says whether that bucket alone had
// enough); refused is the index of the first bucket that had not, or -1.
// retryAfter is 0 when allowed, the longest wait among the refusing buckets
// otherwise, and -1 when one of them can never fit the cost.
func TakeAll(bs []Bucket, has []bool, now int64, ps []BucketParams, cost int64) (results []TakeResult, out []Bucket, refused int, retryAfter int64) {
	cost = max(cost, 0)
	out = make([]Bucket, len(bs))
	retries := make([]int64, len(bs))
	refused = -1
	for i := range bs {
		out[i] = Refill(bs[i], has[i], now, ps[i])
		retries[i] = out[i].retryAfter(now, cost)
		if retries[i] != 0 {
			if refused < 0 {
				refused = i
			}
			if retries[i] < 0 || retryAfter < 0 {
				retryAfter = -1
			} else {
				retryAfter = max(retryAfter, retries[i])
			}
		}
	}
	results = make([]TakeResult, len(bs))
	for i := range out {
		if refused < 0 {
			out[i].Level -= mulSat(cost, out[i].Params.IntervalMs)
		}
		results[i] = out[i].Report(now)
		results[i].Allowed = retries[i] == 0
		results[i].RetryAfterMs = retries[i]
	}
	return results, out, refused, retryAfter
}

// Refund refills the bucket to now and puts n tokens (n >= 0) back, capped
// at the capacity.
func Refund(b Bucket, now int64, n int64) Bucket {
	b = Refill(b, true, now, b.Params)
	add := mulSat(max(n, 0), b.Params.IntervalMs)
	if add >= b.Params.full()-b.Level {
		b.Level = b.Params.full()
	} else {
		b.Level += add
	}
	return b
}

const bucketPrefix = "rl1 "

// AppendBucket appends b's stored form: "rl1 level ts capacity tokens
// interval_ms".
func AppendBucket(dst []byte, b Bucket) []byte {
	dst = append(dst, bucketPrefix...)
	for i, n := range []int64{b.Level, b.Ts, b.Params.Capacity, b.Params.Tokens, b.Params.IntervalMs} {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = strconv.AppendInt(dst, n, 10)
	}
	return dst
}

// ParseBucket reads a stored bucket.
func ParseBucket(s []byte) (Bucket, error) {
	rest, ok := bytes.CutPrefix(s, []byte(bucketPrefix))
	if !ok {
		return Bucket{}, ErrBadState
	}
	var f [5]int64
	for i := range f {
		var field []byte
		if i < len(f)-1 {
			var found bool
			field, rest, found = bytes.Cut(rest, []byte{' '})
			if !found {
				return Bucket{}, ErrBadState
			}
		} else {
			field = rest
		}
		n, err := strconv.ParseInt(string(field), 10, 64)
		if err != nil {
			return Bucket{}, ErrBadState
		}
		f[i] = n
	}
	b := Bucket{Level: f[0], Ts: f[1], Params: BucketParams{Capacity: f[2], Tokens: f[3], IntervalMs: f[4]}}
	if b.Params.Validate() != nil || b.Level < 0 {
		return Bucket{}, ErrBadState
	}
	return b, nil
}

// IsBucket reports whether s looks like a stored bucket (RL.RESET uses it).
func IsBucket(s []byte) bool { return bytes.HasPrefix(s, []byte(bucketPrefix)) }
