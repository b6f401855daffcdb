package server

import (
	"io"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/store"
)

// benchClient builds a server and a client that is not attached to a
// network connection, so a benchmark measures dispatch, store and reply
// encoding alone.
func benchClient(b testing.TB) *client {
	b.Helper()
	cfg := config.Default()
	st, err := store.New(store.Options{Databases: cfg.Databases, Shards: cfg.Shards})
	if err != nil {
		b.Fatal(err)
	}
	srv := New(Options{Config: cfg, Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	a, _ := net.Pipe()
	c := &client{srv: srv, id: 1, conn: a, born: time.Now(), authenticated: true}
	c.user.Store(srv.acl.def) // the default user, as a real connection (acl.go)
	c.w.proto = 2
	c.db = st.DB(0)
	return c
}

func benchDispatch(b *testing.B, argvs [][][]byte) {
	c := benchClient(b)
	for _, argv := range argvs {
		c.srv.dispatch(c, argv) // warm up: create keys, size buffers
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

func benchArgs(n int, build func(i int) []string) [][][]byte {
	out := make([][][]byte, n)
	for i := range out {
		for _, s := range build(i) {
			out[i] = append(out[i], []byte(s))
		}
	}
	return out
}

func BenchmarkDispatchGet(b *testing.B) {
	benchDispatch(b, benchArgs(1024, func(i int) []string { return []string{"GET", "key:" + strconv.Itoa(i)} }))
}

func BenchmarkDispatchSet(b *testing.B) {
	benchDispatch(b, benchArgs(1024, func(i int) []string { return []string{"SET", "key:" + strconv.Itoa(i), "xxxxxxxxxxxxxxxxxxxx"} }))
}

func BenchmarkDispatchIncr(b *testing.B) {
	benchDispatch(b, benchArgs(1024, func(i int) []string { return []string{"INCR", "counter:" + strconv.Itoa(i)} }))
}

func BenchmarkDispatchPing(b *testing.B) {
	benchDispatch(b, benchArgs(1, func(int) []string { return []string{"PING"} }))
}

// TestHotPathAllocations holds the hot path to zero allocations: GET, SET
// and INCR on existing keys, through the command table into the store and
// the reply writer.
func TestHotPathAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race (sync.Pool drops items); run without -race")
	}
	cases := []struct {
		name string
		argv []string
	}{
		{"get", []string{"GET", "k"}},
		{"get-miss", []string{"GET", "missing"}},
		{"set", []string{"SET", "k", "0123456789abcdef"}},
		{"incr", []string{"INCR", "n"}},
		{"ping", []string{"PING"}},
	}
	c := benchClient(t)
	for _, tc := range cases {
		argv := benchArgs(1, func(int) []string { return tc.argv })[0]
		c.srv.dispatch(c, argv) // create the key and size the buffers
		allocs := testing.AllocsPerRun(200, func() {
			c.srv.dispatch(c, argv)
			c.w.Reset()
		})
		if allocs != 0 {
			t.Errorf("%s: %.1f allocations per command, want 0", tc.name, allocs)
		}
	}
}
