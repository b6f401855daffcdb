package store

import (
	"math"
	"strings"
	"testing"
)

func zsetOf(pairs ...any) *ZSet {
	z := NewZSet(false)
	for i := 0; i < len(pairs); i += 2 {
		z.Add([]byte(pairs[i+1].(string)), pairs[i].(float64), 0, 128, 64)
	}
	return z
}

func zsetMembers(z *ZSet) string {
	var b []string
	z.ForEach(func(m string, _ float64) { b = append(b, m) })
	return strings.Join(b, ",")
}

func TestZSetAddFlags(t *testing.T) {
	tests := []struct {
		name      string
		member    string
		score     float64
		flags     int
		wantRes   ZAddResult
		wantScore float64
		after     float64 // a's score afterwards
	}{
		{"new member", "n", 5, 0, ZAddAdded, 5, 2},
		{"update", "a", 3, 0, ZAddUpdated, 3, 3},
		{"same score", "a", 2, 0, ZAddSame, 2, 2},
		{"nx on existing", "a", 9, ZAddNX, ZAddNop, 2, 2},
		{"xx on missing", "n", 9, ZAddXX, ZAddNop, 0, 2},
		{"gt lower", "a", 1, ZAddGT, ZAddNop, 2, 2},
		{"gt higher", "a", 4, ZAddGT, ZAddUpdated, 4, 4},
		{"gt equal", "a", 2, ZAddGT, ZAddNop, 2, 2},
		{"lt higher", "a", 4, ZAddLT, ZAddNop, 2, 2},
		{"lt lower", "a", -1, ZAddLT, ZAddUpdated, -1, -1},
		{"incr", "a", 1.5, ZAddIncr, ZAddUpdated, 3.5, 3.5},
		{"incr zero", "a", 0, ZAddIncr, ZAddSame, 2, 2},
		{"incr gt zero", "a", 0, ZAddIncr | ZAddGT, ZAddNop, 2, 2},
		{"incr gt negative", "a", -1, ZAddIncr | ZAddGT, ZAddNop, 2, 2},
		{"incr to NaN", "inf", math.Inf(-1), ZAddIncr, ZAddNaN, 0, 2},
		{"NaN input", "a", math.NaN(), 0, ZAddNaN, 0, 2},
		{"gt on missing adds", "n", 1, ZAddGT, ZAddAdded, 1, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			z := zsetOf(1.0, "x", 2.0, "a", math.Inf(1), "inf")
			res, s := z.Add([]byte(tc.member), tc.score, tc.flags, 128, 64)
			if res != tc.wantRes || (res != ZAddNop && res != ZAddNaN && s != tc.wantScore) {
				t.Fatalf("Add = %v %v, want %v %v", res, s, tc.wantRes, tc.wantScore)
			}
			if got, _ := z.Score([]byte("a")); got != tc.after {
				t.Fatalf("score of a = %v, want %v", got, tc.after)
			}
		})
	}
}

func TestZSetEncoding(t *testing.T) {
	tests := []struct {
		name       string
		maxEntries int64
		maxValue   int64
		members    []string
		want       string
	}{
		{"small", 3, 5, []string{"a", "b", "c"}, "listpack"},
		{"too many", 3, 5, []string{"a", "b", "c", "d"}, "skiplist"},
		{"too long", 3, 5, []string{"a", "bbbbbb"}, "skiplist"},
		{"exactly max value", 3, 5, []string{"bbbbb"}, "listpack"},
		{"duplicates do not count", 2, 5, []string{"a", "a", "b", "b"}, "listpack"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			z := NewZSet(false)
			for i, m := range tc.members {
				z.Add([]byte(m), float64(i), 0, tc.maxEntries, tc.maxValue)
			}
			if got := z.Encoding(); got != tc.want {
				t.Fatalf("Encoding = %s, want %s", got, tc.want)
			}
			// Never back: removing everything but one keeps the encoding.
			for _, m := range tc.members[1:] {
				z.Remove([]byte(m))
			}
			if got := z.Encoding(); got != tc.want {
				t.Fatalf("Encoding after removals = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestZSetNegativeZero(t *testing.T) {
	negZero := math.Copysign(0, -1)
	lp := NewZSet(false)
	lp.Add([]byte("a"), negZero, 0, 128, 64)
	sl := NewZSet(true)
	sl.Add([]byte("a"), negZero, 0, 128, 64)
	if s, _ := lp.Score([]byte("a")); math.Signbit(s) {
		t.Error("listpack kept -0; Redis 7.0 stores it as the integer 0")
	}
	if s, _ := sl.Score([]byte("a")); !math.Signbit(s) {
		t.Error("skiplist lost the sign of -0")
	}
}

func TestZSetRanges(t *testing.T) {
	z := zsetOf(1.0, "a", 2.0, "b", 2.0, "c", 3.0, "d", math.Inf(1), "e")
	scoreTests := []struct {
		r      ScoreRange
		lo, hi int
	}{
		{ScoreRange{Min: math.Inf(-1), Max: math.Inf(1)}, 0, 5},
		{ScoreRange{Min: 2, Max: 2}, 1, 3},
		{ScoreRange{Min: 2, Max: 2, MinEx: true}, 3, 3},
		{ScoreRange{Min: 1, Max: 3, MinEx: true, MaxEx: true}, 1, 3},
		{ScoreRange{Min: 3, Max: 1}, 4, 4},
		{ScoreRange{Min: 10, Max: math.Inf(1)}, 4, 5},
	}
	for _, tc := range scoreTests {
		lo, hi := z.ScoreRanks(tc.r)
		if hi-lo != tc.hi-tc.lo || (tc.hi > tc.lo && lo != tc.lo) {
			t.Errorf("ScoreRanks(%+v) = [%d,%d), want [%d,%d)", tc.r, lo, hi, tc.lo, tc.hi)
		}
	}
	lex := zsetOf(0.0, "a", 0.0, "b", 0.0, "c", 0.0, "d")
	lexTests := []struct {
		r    LexRange
		want int
	}{
		{LexRange{Min: LexBound{Inf: -1, Ex: true}, Max: LexBound{Inf: 1, Ex: true}}, 4},
		{LexRange{Min: LexBound{Value: []byte("b")}, Max: LexBound{Value: []byte("c")}}, 2},
		{LexRange{Min: LexBound{Value: []byte("b"), Ex: true}, Max: LexBound{Value: []byte("c")}}, 1},
		{LexRange{Min: LexBound{Inf: 1, Ex: true}, Max: LexBound{Inf: -1, Ex: true}}, 0},
		{LexRange{Min: LexBound{Value: []byte("")}, Max: LexBound{Value: []byte("bz")}}, 2},
	}
	for _, tc := range lexTests {
		lo, hi := lex.LexRanks(tc.r)
		if hi-lo != tc.want {
			t.Errorf("LexRanks(%+v) = %d elements, want %d", tc.r, hi-lo, tc.want)
		}
	}
	var rev []string
	z.Range(1, 3, true, func(m string, _ float64) bool { rev = append(rev, m); return true })
	if got := strings.Join(rev, ","); got != "d,c,b" {
		t.Errorf("reverse Range(1,3) = %s, want d,c,b", got)
	}
	if n := z.RemoveRanks(1, 2); n != 2 || zsetMembers(z) != "a,d,e" {
		t.Errorf("RemoveRanks(1,2) = %d leaving %s", n, zsetMembers(z))
	}
}

func TestZSetScanLargeAndEqualScores(t *testing.T) {
	z := NewZSet(true)
	for i := 0; i < 500; i++ {
		z.Add([]byte{byte('a' + i%26), byte(i / 26)}, float64(i%7), 0, 0, 0)
	}
	seen := map[string]int{}
	var cursor uint64
	calls := 0
	for {
		cursor = z.Scan(cursor, 10, func(m string, _ float64) { seen[m]++ })
		calls++
		if cursor == 0 {
			break
		}
	}
	if len(seen) != 500 {
		t.Fatalf("scan saw %d members, want 500", len(seen))
	}
	if calls != 7 {
		t.Fatalf("scan took %d calls, want one per distinct score (7)", calls)
	}
	for m, n := range seen {
		if n != 1 {
			t.Fatalf("%q returned %d times", m, n)
		}
	}
}

func TestZSetFitEncoding(t *testing.T) {
	z := NewZSet(true)
	z.Put("a", math.Copysign(0, -1))
	z.Put("b", 1)
	z.FitEncoding(1, 64)
	if z.Encoding() != "skiplist" {
		t.Fatalf("2 members over max 1: %s", z.Encoding())
	}
	if s, _ := z.Score([]byte("a")); !math.Signbit(s) {
		t.Fatal("skiplist result lost -0")
	}
	z.FitEncoding(2, 64)
	if z.Encoding() != "listpack" {
		t.Fatalf("2 members under max 2: %s", z.Encoding())
	}
	if s, _ := z.Score([]byte("a")); math.Signbit(s) {
		t.Fatal("listpack result kept -0")
	}
}
