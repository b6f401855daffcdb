package store

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// zaddMix is redis-benchmark's ZADD test with -r 100000 as (member,
// score) pairs: "ZADD myzset __rand_int__ element:__rand_int__", each
// placeholder an independent random number below 100,000.
func zaddMix(n int, seed uint64) ([][]byte, []float64) {
	r := rand.New(rand.NewPCG(seed, 1))
	members, scores := make([][]byte, n), make([]float64, n)
	for i := range members {
		scores[i] = float64(r.IntN(100000))
		members[i] = fmt.Appendf(nil, "element:%012d", r.IntN(100000))
	}
	return members, scores
}

// BenchmarkZSetAddRandom is that mix on a set already filled by 200,000
// of the same adds (about 86,000 members): mostly score updates that move
// a member, some inserts. server's BenchmarkDispatchZaddRandom is the
// same through the command path.
func BenchmarkZSetAddRandom(b *testing.B) {
	z := NewZSet(true)
	fill, fillScores := zaddMix(200000, 1)
	for i := range fill {
		z.Add(fill[i], fillScores[i], 0, 128, 64)
	}
	members, scores := zaddMix(1<<16, 2)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i & (1<<16 - 1)
		z.Add(members[j], scores[j], 0, 128, 64)
	}
}
