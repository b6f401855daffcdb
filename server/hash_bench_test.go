package server

import (
	"strconv"
	"testing"
)

// Hash command benchmarks over small (listpack-encoded) hashes: the
// allocation counts are the figures to watch (docs/memory.md).

// benchSmallHashes is 512 hashes h:0… of three fields and values of ten
// bytes, then argv with i for the hash's number.
func benchSmallHashes(argv func(i int) []string) [][][]byte {
	return benchArgs(1024, func(i int) []string {
		if i < 512 {
			return []string{"HSET", "h:" + strconv.Itoa(i), "field:1", "v000000001", "field:2", "v000000002", "field:3", "v000000003"}
		}
		return argv(i - 512)
	})
}

// benchDispatchAfter runs setup once, then benchmarks argvs.
func benchDispatchAfter(b *testing.B, setup, argvs [][][]byte) {
	c := benchClient(b)
	for _, argv := range setup {
		c.srv.dispatch(c, argv)
	}
	for _, argv := range argvs {
		c.srv.dispatch(c, argv) // warm up: size buffers
	}
	c.w.Reset()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.srv.dispatch(c, argvs[i%len(argvs)])
		if c.w.Len() > 1<<16 {
			c.w.Reset()
		}
	}
}

func BenchmarkDispatchHget(b *testing.B) {
	all := benchSmallHashes(func(i int) []string { return []string{"HGET", "h:" + strconv.Itoa(i), "field:3"} })
	benchDispatchAfter(b, all[:512], all[512:])
}

func BenchmarkDispatchHsetOverwrite(b *testing.B) {
	benchDispatch(b, benchArgs(1024, func(i int) []string {
		return []string{"HSET", "h:" + strconv.Itoa(i%256), "field:" + strconv.Itoa(i%7), "v00000000" + strconv.Itoa(i%10)}
	}))
}

func BenchmarkDispatchHsetTenNew(b *testing.B) {
	argv := []string{"HSET", "h"}
	for j := 0; j < 10; j++ {
		argv = append(argv, "field:"+strconv.Itoa(j), "v00000000"+strconv.Itoa(j))
	}
	args := benchArgs(2, func(i int) []string {
		if i == 0 {
			return argv
		}
		return []string{"DEL", "h"}
	})
	benchDispatch(b, args)
}

func BenchmarkDispatchHgetall(b *testing.B) {
	all := benchSmallHashes(func(i int) []string { return []string{"HGETALL", "h:" + strconv.Itoa(i)} })
	benchDispatchAfter(b, all[:512], all[512:])
}
