package ratelimit

import (
	"errors"
	"math"
	"testing"
)

// t0 is the fake clock's start, on a whole second, in Unix milliseconds.
const t0 = 1_700_000_000_000

// step is one call of a scripted sequence: at ms after t0, take q tokens,
// expect the five integers of the reply.
type step struct {
	at   int64
	q    int64
	want [5]int64
	// p, when set, replaces the sequence's parameters from this step on
	// (parameters changed between calls for the same key).
	p *GCRAParams
	// limit/why: the derivation, for the reader.
	why string
}

type sequence struct {
	name  string
	p     GCRAParams
	round func(int64) int64 // CellSeconds (CL.THROTTLE) or CeilSeconds (GCRA)
	steps []step
}

func cell(burst, count, period int64) GCRAParams {
	ei, err := ThrottleEmission(count, period)
	if err != nil {
		panic(err)
	}
	return GCRAParams{MaxBurst: burst, Emission: ei}
}

func native(burst, count int64, period float64) GCRAParams {
	ei, err := GCRAEmission(count, period)
	if err != nil {
		panic(err)
	}
	return GCRAParams{MaxBurst: burst, Emission: ei}
}

func pp(p GCRAParams) *GCRAParams { return &p }

// Notation in the derivations: EI is the emission interval, DVT = EI ×
// (burst+1), rel = max(TAT, now) − now before the call, new = rel + EI × q.
// Allowed iff new ≤ DVT; then ttl = new, else ttl = rel and retry = new −
// DVT (−1 when EI × q > DVT). remaining = trunc((DVT − ttl) / EI) when
// DVT − ttl > −EI. CL.THROTTLE rounds seconds up only when the sub-second
// part has a whole millisecond; GCRA rounds up any fraction.
var sequences = []sequence{
	{name: "cl readme 15 30/60", p: cell(15, 30, 60), round: CellSeconds, steps: []step{
		{0, 1, [5]int64{0, 16, 15, -1, 2}, nil, "EI=2s DVT=32s; new=2s≤32s; rem=(32−2)/2=15; reset 2s"},
	}},
	{name: "cl redis-cell's own script, burst 4 at 1/s", p: cell(4, 1, 1), round: CellSeconds, steps: []step{
		{0, 6, [5]int64{1, 5, 5, -1, 0}, nil, "EI=1s DVT=5s; new=6s>5s and 6s>DVT so retry −1; ttl=rel=0; rem=5"},
		{0, 1, [5]int64{0, 5, 4, -1, 1}, nil, "new=1s; rem=(5−1)/1=4"},
		{0, 1, [5]int64{0, 5, 3, -1, 2}, nil, "new=2s"},
		{0, 1, [5]int64{0, 5, 2, -1, 3}, nil, "new=3s"},
		{0, 1, [5]int64{0, 5, 1, -1, 4}, nil, "new=4s"},
		{0, 1, [5]int64{0, 5, 0, -1, 5}, nil, "new=5s=DVT: still allowed"},
		{0, 1, [5]int64{1, 5, 0, 1, 5}, nil, "new=6s>5s: retry 1s; ttl=rel=5s; rem=0"},
		{3000, 1, [5]int64{0, 5, 2, -1, 3}, nil, "rel=2s, new=3s; rem=(5−3)=2"},
		{3100, 1, [5]int64{0, 5, 1, -1, 4}, nil, "TAT=t0+6s, rel=2.9s, new=3.9s; rem=trunc(1.1)=1; reset 3.9s→4"},
		{4000, 1, [5]int64{0, 5, 1, -1, 4}, nil, "TAT=t0+7s, rel=3s, new=4s; rem=1"},
		{8000, 1, [5]int64{0, 5, 4, -1, 1}, nil, "TAT=t0+8s=now: rel=0 (key expired), new=1s"},
		{9500, 1, [5]int64{0, 5, 4, -1, 1}, nil, "TAT=t0+9s<now: rel=0"},
		{9500, 0, [5]int64{0, 5, 4, -1, 1}, nil, "peek: rel=new=1s"},
		{9500, 2, [5]int64{0, 5, 2, -1, 3}, nil, "new=1+2=3s"},
		{9500, 5, [5]int64{1, 5, 2, 3, 3}, nil, "new=3+5=8s>5s; EI×5=5s≤DVT so retry=3s; ttl=3s; rem=2"},
	}},
	{name: "cl exact second, burst 0 at 1/s", p: cell(0, 1, 1), round: CellSeconds, steps: []step{
		{0, 1, [5]int64{0, 1, 0, -1, 1}, nil, "EI=DVT=1s; reset exactly 1.000s → 1, not 2"},
		{0, 1, [5]int64{1, 1, 0, 1, 1}, nil, "new=2s; retry exactly 1s → 1"},
		{1000, 1, [5]int64{0, 1, 0, -1, 1}, nil, "TAT=now: key expired, fresh"},
	}},
	{name: "cl one millisecond early", p: cell(0, 1, 1), round: CellSeconds, steps: []step{
		{0, 1, [5]int64{0, 1, 0, -1, 1}, nil, "EI=DVT=1s"},
		{999, 1, [5]int64{1, 1, 0, 1, 1}, nil, "rel=1ms, new=1.001s; retry 1ms → 1; reset 1ms → 1; rem=trunc(0.999)=0"},
	}},
	{name: "cl exact two seconds", p: cell(0, 1, 2), round: CellSeconds, steps: []step{
		{0, 1, [5]int64{0, 1, 0, -1, 2}, nil, "EI=DVT=2s; reset 2.000s → 2"},
		{0, 1, [5]int64{1, 1, 0, 2, 2}, nil, "new=4s, retry 2.000s → 2 (not 3)"},
		{1000, 1, [5]int64{1, 1, 0, 1, 1}, nil, "rel=1s, retry 1s, reset 1s"},
		{1001, 1, [5]int64{1, 1, 0, 1, 1}, nil, "rel=0.999s → 1"},
		{2000, 1, [5]int64{0, 1, 0, -1, 2}, nil, "expired: fresh"},
	}},
	{name: "cl sub-millisecond part is not rounded up", p: cell(0, 2000, 2001), round: CellSeconds, steps: []step{
		{0, 1, [5]int64{0, 1, 0, -1, 1}, nil, "EI=2001s/2000=1.0005s; ms part of 0.0005s is 0 → 1"},
		{0, 1, [5]int64{1, 1, 0, 1, 1}, nil, "retry 1.0005s → 1; reset 1.0005s → 1"},
	}},
	{name: "cl half second rounds up", p: cell(0, 2, 3), round: CellSeconds, steps: []step{
		{0, 1, [5]int64{0, 1, 0, -1, 2}, nil, "EI=1.5s; reset 1.5s → 2"},
		{0, 1, [5]int64{1, 1, 0, 2, 2}, nil, "retry 1.5s → 2"},
	}},
	{name: "cl quantity 0 on a missing key", p: cell(4, 1, 1), round: CellSeconds, steps: []step{
		{0, 0, [5]int64{0, 5, 5, -1, 0}, nil, "new=rel=0; rem=5/1; nothing stored"},
		{0, 5, [5]int64{0, 5, 0, -1, 5}, nil, "the whole capacity is still there: new=5s=DVT"},
		{0, 0, [5]int64{0, 5, 0, -1, 5}, nil, "peek: rel=new=5s≤DVT, allowed, rem 0"},
	}},
	{name: "cl quantity 0 on an empty bucket", p: cell(1, 1, 1), round: CellSeconds, steps: []step{
		{0, 2, [5]int64{0, 2, 0, -1, 2}, nil, "DVT=2s, new=2s"},
		{0, 0, [5]int64{0, 2, 0, -1, 2}, nil, "peek answers allowed even with no token left (redis-cell)"},
		{500, 0, [5]int64{0, 2, 0, -1, 2}, nil, "rel=1.5s; rem=trunc(0.5)=0; reset 1.5s→2"},
		{1000, 0, [5]int64{0, 2, 1, -1, 1}, nil, "rel=1s; rem=1"},
	}},
	{name: "cl quantity above the burst on a missing key", p: cell(2, 1, 1), round: CellSeconds, steps: []step{
		{0, 4, [5]int64{1, 3, 3, -1, 0}, nil, "DVT=3s, EI×4=4s>DVT: never fits, retry −1; ttl 0; rem 3"},
	}},
	{name: "cl quantity above the burst after a take", p: cell(2, 1, 1), round: CellSeconds, steps: []step{
		{0, 1, [5]int64{0, 3, 2, -1, 1}, nil, "new=1s"},
		{0, 4, [5]int64{1, 3, 2, -1, 1}, nil, "EI×4>DVT: retry −1; ttl=rel=1s; rem 2"},
	}},
	{name: "cl quantity equal to the capacity", p: cell(2, 1, 1), round: CellSeconds, steps: []step{
		{0, 3, [5]int64{0, 3, 0, -1, 3}, nil, "new=3s=DVT"},
		{0, 1, [5]int64{1, 3, 0, 1, 3}, nil, "new=4s, retry 1s"},
	}},
	{name: "cl multi-token request waits for enough", p: cell(4, 1, 1), round: CellSeconds, steps: []step{
		{0, 4, [5]int64{0, 5, 1, -1, 4}, nil, "new=4s"},
		{0, 3, [5]int64{1, 5, 1, 2, 4}, nil, "new=7s, retry 2s"},
		{2000, 3, [5]int64{0, 5, 0, -1, 5}, nil, "rel=2s, new=5s"},
	}},
	{name: "cl burst then steady rate", p: cell(2, 1, 1), round: CellSeconds, steps: []step{
		{0, 1, [5]int64{0, 3, 2, -1, 1}, nil, "new=1s"},
		{0, 1, [5]int64{0, 3, 1, -1, 2}, nil, "new=2s"},
		{0, 1, [5]int64{0, 3, 0, -1, 3}, nil, "new=3s"},
		{0, 1, [5]int64{1, 3, 0, 1, 3}, nil, "new=4s"},
		{1000, 1, [5]int64{0, 3, 0, -1, 3}, nil, "rel=2s new=3s"},
		{1500, 1, [5]int64{1, 3, 0, 1, 3}, nil, "rel=2.5s new=3.5s: retry 0.5s→1, reset 2.5s→3"},
		{2000, 1, [5]int64{0, 3, 0, -1, 3}, nil, "rel=2s new=3s"},
	}},
	{name: "cl refill after idle", p: cell(2, 1, 1), round: CellSeconds, steps: []step{
		{0, 3, [5]int64{0, 3, 0, -1, 3}, nil, "empty"},
		{10000, 1, [5]int64{0, 3, 2, -1, 1}, nil, "TAT long past (key expired at 3s): fresh"},
	}},
	{name: "cl partial refill seen by peeks", p: cell(2, 1, 1), round: CellSeconds, steps: []step{
		{0, 3, [5]int64{0, 3, 0, -1, 3}, nil, "empty"},
		{1000, 0, [5]int64{0, 3, 1, -1, 2}, nil, "rel=2s: rem=(3−2)=1"},
		{2500, 0, [5]int64{0, 3, 2, -1, 1}, nil, "rel=0.5s: rem=trunc(2.5)=2, reset 0.5s→1"},
	}},
	{name: "cl clock not moving, 10/s burst 9", p: cell(9, 10, 1), round: CellSeconds, steps: []step{
		{0, 1, [5]int64{0, 10, 9, -1, 1}, nil, "EI=100ms DVT=1s; new=0.1s→1"},
		{0, 1, [5]int64{0, 10, 8, -1, 1}, nil, "new=0.2s"},
		{0, 1, [5]int64{0, 10, 7, -1, 1}, nil, "0.3s"},
		{0, 1, [5]int64{0, 10, 6, -1, 1}, nil, "0.4s"},
		{0, 1, [5]int64{0, 10, 5, -1, 1}, nil, "0.5s"},
		{0, 1, [5]int64{0, 10, 4, -1, 1}, nil, "0.6s"},
		{0, 1, [5]int64{0, 10, 3, -1, 1}, nil, "0.7s"},
		{0, 1, [5]int64{0, 10, 2, -1, 1}, nil, "0.8s"},
		{0, 1, [5]int64{0, 10, 1, -1, 1}, nil, "0.9s"},
		{0, 1, [5]int64{0, 10, 0, -1, 1}, nil, "1.0s exactly → 1"},
		{0, 1, [5]int64{1, 10, 0, 1, 1}, nil, "new=1.1s: retry 0.1s → 1"},
	}},
	{name: "cl 100 per minute with a burst of 20", p: cell(20, 100, 60), round: CellSeconds, steps: []step{
		{0, 1, [5]int64{0, 21, 20, -1, 1}, nil, "EI=0.6s DVT=12.6s; rem=12/0.6=20; reset 0.6s→1"},
		{0, 20, [5]int64{0, 21, 0, -1, 13}, nil, "new=12.6s=DVT; reset 12.6s→13"},
		{0, 1, [5]int64{1, 21, 0, 1, 13}, nil, "retry 0.6s→1"},
	}},
	{name: "cl huge rate, 1ns emission", p: cell(0, 1_000_000_000, 1), round: CellSeconds, steps: []step{
		{0, 1, [5]int64{0, 1, 0, -1, 0}, nil, "EI=DVT=1ns: reset 1ns has no whole ms → 0"},
		{0, 1, [5]int64{1, 1, 0, 0, 0}, nil, "new=2ns: retry 1ns → 0"},
		{1, 1, [5]int64{0, 1, 0, -1, 0}, nil, "key expired at the next ms"},
	}},
	{name: "cl tiny rate, one per hundred years", p: cell(0, 1, 3_153_600_000), round: CellSeconds, steps: []step{
		{0, 1, [5]int64{0, 1, 0, -1, 3_153_600_000}, nil, "EI=DVT=3.1536e18ns, fits int64"},
		{0, 1, [5]int64{1, 1, 0, 3_153_600_000, 3_153_600_000}, nil, "new=6.3072e18ns (no overflow), retry EI"},
	}},
	{name: "cl period saturates at MaxDuration", p: cell(5, 1, math.MaxInt64), round: CellSeconds, steps: []step{
		{0, 1, [5]int64{0, 6, 0, -1, 4_611_686_019}, nil, "EI=DVT=2^62−1ns (saturated); reset 4611686018.427s→4611686019"},
		{0, 1, [5]int64{1, 6, 0, 4_611_686_019, 4_611_686_019}, nil, "new=2EI>DVT: limited, not wrapped"},
	}},
	{name: "cl huge burst", p: cell(math.MaxInt64, 1, 1), round: CellSeconds, steps: []step{
		{0, 1, [5]int64{0, math.MaxInt64, 4_611_686_017, -1, 1}, nil, "limit saturates; DVT=2^62−1ns; rem=trunc((DVT−1s)/1s)"},
	}},
	{name: "cl huge quantity", p: cell(0, 1, 1), round: CellSeconds, steps: []step{
		{0, math.MaxInt64, [5]int64{1, 1, 1, -1, 0}, nil, "EI×q saturates >DVT: never fits"},
	}},
	{name: "cl parameters changed between calls", p: cell(4, 1, 1), round: CellSeconds, steps: []step{
		{0, 3, [5]int64{0, 5, 2, -1, 3}, nil, "DVT=5s new=3s"},
		{0, 1, [5]int64{1, 2, 0, 2, 3}, pp(cell(1, 1, 1)), "burst 1: DVT=2s; rel=3s new=4s: retry 2s; DVT−ttl=−1s not >−EI: rem 0"},
		{0, 1, [5]int64{0, 10, 3, -1, 4}, pp(cell(9, 2, 1)), "EI=0.5s DVT=5s; new=3.5s; rem=trunc(1.5/0.5)=3; reset 3.5s→4"},
	}},
	{name: "cl rate raised between calls", p: cell(0, 1, 10), round: CellSeconds, steps: []step{
		{0, 1, [5]int64{0, 1, 0, -1, 10}, nil, "EI=DVT=10s"},
		{0, 1, [5]int64{1, 1, 0, 10, 10}, pp(cell(0, 10, 10)), "EI=DVT=1s; rel=10s new=11s: retry 10s; rem 0"},
	}},
	{name: "cl half-interval steps", p: cell(0, 1, 1), round: CellSeconds, steps: []step{
		{0, 1, [5]int64{0, 1, 0, -1, 1}, nil, "EI=DVT=1s"},
		{500, 1, [5]int64{1, 1, 0, 1, 1}, nil, "rel=0.5s new=1.5s: retry 0.5s→1, reset 0.5s→1"},
		{1000, 1, [5]int64{0, 1, 0, -1, 1}, nil, "fresh"},
	}},

	{name: "gcra 10 per minute burst 5", p: native(5, 10, 60), round: CeilSeconds, steps: []step{
		{0, 1, [5]int64{0, 6, 5, -1, 6}, nil, "EI=6s DVT=36s new=6s"},
		{0, 5, [5]int64{0, 6, 0, -1, 36}, nil, "new=36s=DVT"},
		{0, 1, [5]int64{1, 6, 0, 6, 36}, nil, "new=42s: retry 6s"},
	}},
	{name: "gcra sub-second period 0.5s", p: native(1, 1, 0.5), round: CeilSeconds, steps: []step{
		{0, 1, [5]int64{0, 2, 1, -1, 1}, nil, "EI=0.5s DVT=1s; reset 0.5s→1"},
		{0, 1, [5]int64{0, 2, 0, -1, 1}, nil, "new=1s=DVT"},
		{0, 1, [5]int64{1, 2, 0, 1, 1}, nil, "new=1.5s: retry 0.5s→1"},
		{500, 1, [5]int64{0, 2, 0, -1, 1}, nil, "rel=0.5s new=1s"},
	}},
	{name: "gcra sub-second period 0.1s", p: native(0, 1, 0.1), round: CeilSeconds, steps: []step{
		{0, 1, [5]int64{0, 1, 0, -1, 1}, nil, "EI=DVT=100ms"},
		{50, 1, [5]int64{1, 1, 0, 1, 1}, nil, "rel=50ms new=150ms: retry 50ms→1, reset 50ms→1"},
		{100, 1, [5]int64{0, 1, 0, -1, 1}, nil, "expired at 100ms: fresh"},
	}},
	{name: "gcra sub-millisecond period", p: native(0, 1, 0.0005), round: CeilSeconds, steps: []step{
		{0, 1, [5]int64{0, 1, 0, -1, 1}, nil, "EI=DVT=500µs; reset →1"},
		{0, 1, [5]int64{1, 1, 0, 1, 1}, nil, "new=1ms: retry 500µs→1"},
		{1, 1, [5]int64{0, 1, 0, -1, 1}, nil, "state expired at ceil(500µs)=1ms"},
	}},
	{name: "gcra rounds any fraction up", p: native(0, 2000, 2001), round: CeilSeconds, steps: []step{
		{0, 1, [5]int64{0, 1, 0, -1, 2}, nil, "EI=1.0005s → 2 (CL.THROTTLE says 1)"},
		{0, 1, [5]int64{1, 1, 0, 2, 2}, nil, "retry 1.0005s → 2"},
	}},
	{name: "gcra fractional period 1.5s for 3 tokens", p: native(1, 3, 1.5), round: CeilSeconds, steps: []step{
		{0, 1, [5]int64{0, 2, 1, -1, 1}, nil, "EI=0.5s DVT=1s"},
		{250, 1, [5]int64{0, 2, 0, -1, 1}, nil, "rel=0.25s new=0.75s; rem=trunc(0.25/0.5)=0"},
		{250, 1, [5]int64{1, 2, 0, 1, 1}, nil, "new=1.25s: retry 0.25s→1"},
	}},
	{name: "gcra TOKENS 0 peeks", p: native(2, 1, 1), round: CeilSeconds, steps: []step{
		{0, 0, [5]int64{0, 3, 3, -1, 0}, nil, "fresh peek"},
		{0, 2, [5]int64{0, 3, 1, -1, 2}, nil, "new=2s"},
		{0, 0, [5]int64{0, 3, 1, -1, 2}, nil, "peek: unchanged"},
	}},
	{name: "gcra TOKENS above the burst", p: native(0, 1, 1), round: CeilSeconds, steps: []step{
		{0, 2, [5]int64{1, 1, 1, -1, 0}, nil, "EI×2=2s>DVT=1s: never fits"},
	}},
	{name: "gcra exact second", p: native(0, 1, 1.0), round: CeilSeconds, steps: []step{
		{0, 1, [5]int64{0, 1, 0, -1, 1}, nil, "exactly 1s → 1"},
		{0, 1, [5]int64{1, 1, 0, 1, 1}, nil, "retry exactly 1s → 1"},
	}},
}

// TestGCRASequences replays each script against a simulated key: the
// state is stored when GCRA says so and expires, as the server's key does,
// at the first millisecond at or after the stored TAT.
func TestGCRASequences(t *testing.T) {
	if len(sequences) < 30 {
		t.Fatalf("only %d sequences", len(sequences))
	}
	for _, sq := range sequences {
		t.Run(sq.name, func(t *testing.T) {
			var tat, expireMs int64
			has := false
			p := sq.p
			for i, st := range sq.steps {
				if st.p != nil {
					p = *st.p
				}
				nowMs := t0 + st.at
				if has && nowMs >= expireMs {
					has = false
				}
				d, newTAT, store := GCRA(tat, has, nowMs*1e6, p, st.q)
				if store {
					tat, has = newTAT, true
					expireMs = newTAT/1e6 + b2i(newTAT%1e6 != 0)
				}
				got := [5]int64{b2i(d.Limited), d.Limit, d.Remaining, sq.round(d.RetryAfter), sq.round(d.ResetAfter)}
				if got != st.want {
					t.Errorf("step %d (t+%dms q=%d): got %v, want %v — %s", i, st.at, st.q, got, st.want, st.why)
				}
				if store && (d.Limited || st.q == 0) {
					t.Errorf("step %d: stored state for a limited request or a peek", i)
				}
			}
		})
	}
}

func TestEmissionErrors(t *testing.T) {
	for _, tc := range []struct{ count, period int64 }{
		{0, 1}, {1, 0}, {-1, 1}, {1, -5}, {2_000_000_000, 1}, {math.MaxInt64, 1},
	} {
		if _, err := ThrottleEmission(tc.count, tc.period); !errors.Is(err, ErrZeroRate) {
			t.Errorf("ThrottleEmission(%d, %d): err %v, want ErrZeroRate", tc.count, tc.period, err)
		}
	}
	for _, tc := range []struct {
		count  int64
		period float64
	}{
		{0, 1}, {1, 0}, {1, -0.5}, {1, math.Inf(1)}, {1, math.NaN()}, {1_000_000_000, 0.5},
	} {
		if _, err := GCRAEmission(tc.count, tc.period); !errors.Is(err, ErrZeroRate) {
			t.Errorf("GCRAEmission(%d, %g): err %v, want ErrZeroRate", tc.count, tc.period, err)
		}
	}
	if ei, err := GCRAEmission(1, 1e300); err != nil || ei != MaxDuration {
		t.Errorf("GCRAEmission(1, 1e300) = %d, %v; want MaxDuration", ei, err)
	}
}

func TestRounding(t *testing.T) {
	for _, tc := range []struct{ ns, cell, ceil, ms int64 }{
		{-1, -1, -1, -1},
		{0, 0, 0, 0},
		{1, 0, 1, 1},
		{999_999, 0, 1, 1},
		{1_000_000, 1, 1, 1},
		{1e9, 1, 1, 1000},
		{1e9 + 999_999, 1, 2, 1001},
		{1e9 + 1e6, 2, 2, 1001},
		{2e9, 2, 2, 2000},
	} {
		if got := CellSeconds(tc.ns); got != tc.cell {
			t.Errorf("CellSeconds(%d) = %d, want %d", tc.ns, got, tc.cell)
		}
		if got := CeilSeconds(tc.ns); got != tc.ceil {
			t.Errorf("CeilSeconds(%d) = %d, want %d", tc.ns, got, tc.ceil)
		}
		if got := CeilMillis(tc.ns); got != tc.ms {
			t.Errorf("CeilMillis(%d) = %d, want %d", tc.ns, got, tc.ms)
		}
	}
}

func TestTATState(t *testing.T) {
	b := AppendTAT(nil, 1_700_000_000_123_456_789)
	if string(b) != "1700000000123456789" {
		t.Fatalf("AppendTAT = %q", b)
	}
	if n, err := ParseTAT(b); err != nil || n != 1_700_000_000_123_456_789 {
		t.Fatalf("ParseTAT = %d, %v", n, err)
	}
	for _, bad := range []string{"", "abc", "1.5", "99999999999999999999"} {
		if _, err := ParseTAT([]byte(bad)); !errors.Is(err, ErrBadState) {
			t.Errorf("ParseTAT(%q): err %v", bad, err)
		}
	}
	// A stored TAT far in the future (a corrupt or hand-written value)
	// cannot overflow the arithmetic.
	d, _, _ := GCRA(math.MaxInt64, true, t0*1e6, GCRAParams{MaxBurst: 3, Emission: 1e9}, 1)
	if !d.Limited || d.ResetAfter != MaxDuration || d.Remaining != 0 {
		t.Errorf("far-future TAT: %+v", d)
	}
}
