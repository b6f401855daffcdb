package persistence

import (
	"context"
	"testing"
)

func benchAppendWait(b *testing.B, p FsyncPolicy) {
	fs := newFaultFS()
	a, err := Open(Options{Dir: b.TempDir(), Fsync: p, FS: fs})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	b.SetParallelism(16) // 16 × GOMAXPROCS clients
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		argv := cmd("SET", "key:000000000001", "value-value-value-value-value-value")
		for pb.Next() {
			s := a.Append(1, 0, argv)
			if err := a.Wait(context.Background(), s); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(fs.syncs.Load())/float64(b.N), "fsyncs/op")
	b.ReportMetric(float64(fs.writes.Load())/float64(b.N), "writes/op")
}

// BenchmarkAppendWaitAlways: parallel clients each Append and Wait under
// appendfsync always; fsyncs/op shows the group commit.
func BenchmarkAppendWaitAlways(b *testing.B) { benchAppendWait(b, FsyncAlways) }

// BenchmarkAppendWaitEverysec is the same under everysec (Wait = written).
func BenchmarkAppendWaitEverysec(b *testing.B) { benchAppendWait(b, FsyncEverySec) }

// BenchmarkAppend is Append alone, the cost paid under the store's locks.
func BenchmarkAppend(b *testing.B) {
	a, err := Open(Options{Dir: b.TempDir(), Fsync: FsyncNo})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	argv := cmd("SET", "key:000000000001", "value-value-value-value-value-value")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		a.Append(1, 0, argv)
	}
}
