package server

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchZaddArgs is redis-benchmark's ZADD test with -r 100000:
// "ZADD myzset __rand_int__ element:__rand_int__", each placeholder an
// independent 12-digit random number below 100,000 (redis-benchmark.c).
func benchZaddArgs(n int, seed uint64) [][][]byte {
	r := rand.New(rand.NewPCG(seed, 1))
	return benchArgs(n, func(int) []string {
		return []string{"ZADD", "myzset", fmt.Sprintf("%012d", r.IntN(100000)), fmt.Sprintf("element:%012d", r.IntN(100000))}
	})
}

// BenchmarkDispatchZaddRandom replays that mix on a set already filled by
// 200,000 of the same commands (about 86,000 members), as the set is for
// most of a `make bench` run: nearly every command moves an existing
// member to a new score, the rest insert.
func BenchmarkDispatchZaddRandom(b *testing.B) {
	benchDispatchAfter(b, benchZaddArgs(200000, 1), benchZaddArgs(1<<16, 2))
}
