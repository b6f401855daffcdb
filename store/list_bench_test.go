package store

import (
	"runtime"
	"testing"
)

// BenchmarkListLong pushes onto and pops from one list of a few million
// elements, the shape redis-benchmark's LPUSH/LPOP tests produce; the GC
// cycles and pause time it reports show what the list's layout costs.
func BenchmarkListLong(b *testing.B) {
	const prefill = 3_000_000
	v := []byte("xxx")
	cases := []struct {
		name string
		op   func(l *List)
	}{
		{"PushLeft", func(l *List) { l.PushLeft(v) }},
		{"PushRight", func(l *List) { l.PushRight(v) }},
		{"PushPop", func(l *List) { l.PushLeft(v); l.PopRight() }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			l := NewList()
			for i := 0; i < prefill; i++ {
				l.PushRight(v)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.op(l)
			}
			b.StopTimer()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(after.NumGC-before.NumGC), "gcs")
			b.ReportMetric(float64(after.PauseTotalNs-before.PauseTotalNs)/float64(b.N), "gc-pause-ns/op")
			if l.Len() < prefill {
				b.Fatalf("list shrank to %d", l.Len())
			}
		})
	}
}
