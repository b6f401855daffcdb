package ratelimit

import (
	"errors"
	"math"
	"testing"
)

type takeStep struct {
	at   int64 // ms after t0
	cost int64
	p    BucketParams
	want TakeResult
	why  string
}

// TestTakeSequences replays token-bucket scripts. Units: one token is
// IntervalMs units; the bucket gains Tokens units per ms.
func TestTakeSequences(t *testing.T) {
	p10 := BucketParams{Capacity: 3, Tokens: 1, IntervalMs: 1000} // 3 tokens, 1/s
	scripts := []struct {
		name  string
		steps []takeStep
	}{
		{"burst then steady rate", []takeStep{
			{0, 1, p10, TakeResult{true, 3, 2, 0, 1000}, "full bucket: 3→2, 1 token short = 1000ms to full"},
			{0, 2, p10, TakeResult{true, 3, 0, 0, 3000}, "2→0"},
			{0, 1, p10, TakeResult{false, 3, 0, 1000, 3000}, "empty: 1 token takes 1000ms"},
			{400, 1, p10, TakeResult{false, 3, 0, 600, 2600}, "0.4 token there: 600ms more"},
			{1000, 1, p10, TakeResult{true, 3, 0, 0, 3000}, "1 token refilled, taken"},
		}},
		{"refill after idle caps at capacity", []takeStep{
			{0, 3, p10, TakeResult{true, 3, 0, 0, 3000}, "empty"},
			{60_000, 1, p10, TakeResult{true, 3, 2, 0, 1000}, "60 tokens' worth, capped at 3"},
		}},
		{"cost above capacity never fits", []takeStep{
			{0, 4, p10, TakeResult{false, 3, 3, -1, 0}, "4 > 3: retry -1, nothing taken"},
		}},
		{"cost 0 is always allowed", []takeStep{
			{0, 3, p10, TakeResult{true, 3, 0, 0, 3000}, ""},
			{0, 0, p10, TakeResult{true, 3, 0, 0, 3000}, ""},
		}},
		{"clock not moving", []takeStep{
			{5, 1, p10, TakeResult{true, 3, 2, 0, 1000}, ""},
			{5, 1, p10, TakeResult{true, 3, 1, 0, 2000}, ""},
			{5, 1, p10, TakeResult{true, 3, 0, 0, 3000}, ""},
			{5, 1, p10, TakeResult{false, 3, 0, 1000, 3000}, ""},
		}},
		{"clock behind the state credits nothing twice", []takeStep{
			{1000, 3, p10, TakeResult{true, 3, 0, 0, 3000}, "state Ts = t0+1000"},
			{500, 1, p10, TakeResult{false, 3, 0, 1500, 3500}, "a caller at t0+500: no refill, waits from Ts"},
			{2000, 1, p10, TakeResult{true, 3, 0, 0, 3000}, "1 token after Ts+1000"},
		}},
		{"huge rate", []takeStep{
			{0, 5, BucketParams{5, math.MaxInt64, 1}, TakeResult{true, 5, 0, 0, 1}, "refills fully within 1ms"},
			{1, 5, BucketParams{5, math.MaxInt64, 1}, TakeResult{true, 5, 0, 0, 1}, "dt×tokens saturates, no overflow"},
		}},
		{"tiny rate", []takeStep{
			{0, 1, BucketParams{1, 1, math.MaxInt64}, TakeResult{true, 1, 0, 0, math.MaxInt64}, "1 token per 2^63−1 ms"},
			{1000, 1, BucketParams{1, 1, math.MaxInt64}, TakeResult{false, 1, 0, math.MaxInt64 - 1000, math.MaxInt64 - 1000}, ""},
		}},
		{"parameters changed keep the token count", []takeStep{
			{0, 2, p10, TakeResult{true, 3, 1, 0, 2000}, "1 token left (1000 units)"},
			{0, 0, BucketParams{10, 10, 100}, TakeResult{true, 10, 1, 0, 90}, "1 token = 100 units; 900 units short at 10/ms"},
			{0, 0, BucketParams{1, 1, 1000}, TakeResult{true, 1, 1, 0, 0}, "capacity 1: full"},
		}},
	}
	for _, sc := range scripts {
		t.Run(sc.name, func(t *testing.T) {
			var b Bucket
			has := false
			for i, st := range sc.steps {
				r, nb := Take(b, has, t0+st.at, st.p, st.cost)
				if r != st.want {
					t.Errorf("step %d: got %+v, want %+v %s", i, r, st.want, st.why)
				}
				b, has = nb, true
				if round, err := ParseBucket(AppendBucket(nil, b)); err != nil || round != b {
					t.Errorf("step %d: state round trip %+v, %v", i, round, err)
				}
			}
		})
	}
}

func TestTakeAllIsAllOrNothing(t *testing.T) {
	user := BucketParams{Capacity: 2, Tokens: 1, IntervalMs: 1000}
	global := BucketParams{Capacity: 5, Tokens: 5, IntervalMs: 1000}
	bs := make([]Bucket, 2)
	has := []bool{false, false}
	ps := []BucketParams{user, global}
	var allowed int
	for i := 0; i < 4; i++ {
		res, out, refused, retry := TakeAll(bs, has, t0, ps, 1)
		if refused < 0 {
			allowed++
			bs, has = out, []bool{true, true}
			continue
		}
		if refused != 0 || retry != 1000 || res[0].Allowed || !res[1].Allowed {
			t.Fatalf("call %d: refused %d retry %d results %+v", i, refused, retry, res)
		}
		if out[1].Level != bs[1].Level {
			t.Fatalf("call %d: refused call consumed from the global bucket", i)
		}
	}
	if allowed != 2 {
		t.Fatalf("allowed %d, want 2 (the user bucket's capacity)", allowed)
	}
	_, _, refused, retry := TakeAll(bs, has, t0, ps, 9)
	if refused != 0 || retry != -1 {
		t.Fatalf("cost above capacity: refused %d retry %d", refused, retry)
	}
}

func TestRefundCapsAtCapacity(t *testing.T) {
	p := BucketParams{Capacity: 5, Tokens: 1, IntervalMs: 1000}
	_, b := Take(Bucket{}, false, t0, p, 4)
	if b = Refund(b, t0, 2); b.Report(t0).Remaining != 3 {
		t.Fatalf("after refund 2: %+v", b.Report(t0))
	}
	if b = Refund(b, t0, math.MaxInt64); !b.Full() || b.Report(t0).Remaining != 5 {
		t.Fatalf("after huge refund: %+v", b.Report(t0))
	}
}

func TestBucketValidateAndParse(t *testing.T) {
	for _, p := range []BucketParams{{0, 1, 1}, {1, 0, 1}, {1, 1, 0}, {-1, 1, 1}} {
		if err := p.Validate(); !errors.Is(err, ErrZeroRate) {
			t.Errorf("%+v: %v", p, err)
		}
	}
	if err := (BucketParams{math.MaxInt64, 1, 2}).Validate(); !errors.Is(err, ErrBucketTooLarge) {
		t.Errorf("overflowing capacity×interval: %v", err)
	}
	for _, bad := range []string{"", "rl1 ", "rl1 1 2 3 4", "rl1 1 2 3 4 5 6", "rl1 a 2 3 4 5", "rl1 1 2 0 4 5", "rl1 -1 2 3 4 5", "12345"} {
		if _, err := ParseBucket([]byte(bad)); !errors.Is(err, ErrBadState) {
			t.Errorf("ParseBucket(%q): %v", bad, err)
		}
	}
}
