// Command memkeys measures what a key costs in the store, without a server:
// it loads -keys keys through the store API, the way SET and HSET do, and
// prints the Go heap and the process RSS per key, before and after a forced
// garbage collection, next to the empty store.
//
//	go run ./bench/memkeys                       # 1M strings, key:N, 100-byte values
//	go run ./bench/memkeys -kind hash            # 1M hashes of 10 fields
//	go run ./bench/memkeys -kind set             # 1M sets of 10 strings
//	go run ./bench/memkeys -kind zset            # 1M sorted sets of 10 members
//	go run ./bench/memkeys -memprofile mem.out   # then: go tool pprof -sample_index=inuse_space mem.out
//
// The keys and values are those bench/run.sh loads into both servers, so the
// figures compare with its memory rows. "live" is the heap the last GC found
// reachable (runtime/metrics /gc/heap/live:bytes), "objects" the bytes in
// allocated objects, "rss" the resident set from /proc/self/statm.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/cachalotdb/cachalot/store"
)

func main() {
	keys := flag.Int("keys", 1_000_000, "keys to load")
	kind := flag.String("kind", "string", "string (100-byte values), hash (10 fields, 10-byte values), set or zset (10 members of 10 bytes)")
	shards := flag.Int("shards", 256, "shards per database (the server's default)")
	memprofile := flag.String("memprofile", "", "write a heap profile here after loading")
	flag.Parse()

	st, err := store.New(store.Options{Databases: 16, Shards: *shards})
	if err != nil {
		fail(err)
	}
	db := st.DB(0)
	runtime.GC()
	base := sample()

	start := time.Now()
	switch *kind {
	case "string":
		loadStrings(db, *keys)
	case "hash":
		loadHashes(db, *keys)
	case "set":
		loadSets(db, *keys)
	case "zset":
		loadZSets(db, *keys)
	default:
		fail(fmt.Errorf("unknown -kind %q", *kind))
	}
	elapsed := time.Since(start)
	if got := db.Len(); got != *keys {
		fail(fmt.Errorf("loaded %d keys, want %d", got, *keys))
	}

	loaded := sample()
	gcStart := time.Now()
	runtime.GC()
	gcTime := time.Since(gcStart)
	collected := sample()
	debug.FreeOSMemory()
	freed := sample()

	fmt.Printf("%d %s keys loaded in %v (GOGC=%s, GOMEMLIMIT=%s)\n", *keys, *kind,
		elapsed.Round(time.Millisecond), os.Getenv("GOGC"), os.Getenv("GOMEMLIMIT"))
	fmt.Printf("%-22s %12s %12s %12s %12s\n", "bytes per key", "live", "objects", "heap sys", "rss")
	for _, row := range []struct {
		name string
		s    memSample
	}{{"after loading", loaded}, {"after runtime.GC", collected}, {"after FreeOSMemory", freed}} {
		n := float64(*keys)
		fmt.Printf("%-22s %12.1f %12.1f %12.1f %12.1f\n", row.name,
			float64(row.s.live-base.live)/n, float64(row.s.objects-base.objects)/n,
			float64(row.s.heapSys-base.heapSys)/n, float64(row.s.rss-base.rss)/n)
	}
	fmt.Printf("objects per key: %.2f; GC cycles while loading: %d; a full GC takes %v; store used_memory per key: %.1f\n",
		float64(collected.count-base.count)/float64(*keys), loaded.gcs-base.gcs,
		gcTime.Round(time.Microsecond), float64(st.UsedBytes())/float64(*keys))

	if *memprofile != "" {
		f, err := os.Create(*memprofile)
		if err != nil {
			fail(err)
		}
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			fail(err)
		}
		f.Close()
	}
	runtime.KeepAlive(st)
}

// loadStrings stores key:0… with the 100-byte values bench/run.sh uses,
// through the path SET takes.
func loadStrings(db *store.DB, n int) {
	key := make([]byte, 0, 32)
	val := make([]byte, 0, 128)
	for i := 0; i < n; i++ {
		key = strconv.AppendInt(append(key[:0], "key:"...), int64(i), 10)
		val = fmt.Appendf(val[:0], "v%099d", i)
		err := db.Update([][]byte{key}, func(tx *store.Tx) error {
			tx.SetString(key, val, store.SetOptions{})
			return nil
		})
		if err != nil {
			fail(err)
		}
	}
}

// hashFields is the number of fields of each hash.
const hashFields = 10

// loadHashes stores hash:0… with fields field:0…field:9 and 10-byte values
// v000000000, as bench/run.sh does, through the path HSET takes (with Redis's
// default listpack limits: 128 entries, 64 bytes).
func loadHashes(db *store.DB, n int) {
	key := make([]byte, 0, 32)
	args := make([][]byte, 2*hashFields) // field, value, field, value…
	for j := 0; j < hashFields; j++ {
		args[2*j] = []byte("field:" + strconv.Itoa(j))
	}
	for i := 0; i < n; i++ {
		key = strconv.AppendInt(append(key[:0], "hash:"...), int64(i), 10)
		for j := 0; j < hashFields; j++ {
			args[2*j+1] = fmt.Appendf(args[2*j+1][:0], "v%09d", i*hashFields+j)
		}
		err := db.Update([][]byte{key}, func(tx *store.Tx) error {
			c, err := tx.Container(key, store.KindHash, func() store.Container { return store.NewHash() })
			if err != nil {
				return err
			}
			c.(*store.Hash).SetPairs(args, 128, 64)
			return nil
		})
		if err != nil {
			fail(err)
		}
	}
}

// loadSets stores set:0… with 10 members m000000000… (not integers), through
// the path SADD takes.
func loadSets(db *store.DB, n int) {
	key := make([]byte, 0, 32)
	var members [hashFields][]byte
	for i := 0; i < n; i++ {
		key = strconv.AppendInt(append(key[:0], "set:"...), int64(i), 10)
		for j := range members {
			members[j] = fmt.Appendf(members[j][:0], "m%09d", i*hashFields+j)
		}
		err := db.Update([][]byte{key}, func(tx *store.Tx) error {
			c, err := tx.Container(key, store.KindSet, func() store.Container { return store.NewSet() })
			if err != nil {
				return err
			}
			s := c.(*store.Set)
			for _, m := range members {
				s.Add(m, 512)
			}
			return nil
		})
		if err != nil {
			fail(err)
		}
	}
}

// loadZSets stores zset:0… with 10 members m000000000… scored 0…9, through
// the path ZADD takes (zset-max-listpack-entries 128, -value 64).
func loadZSets(db *store.DB, n int) {
	key := make([]byte, 0, 32)
	var members [hashFields][]byte
	for i := 0; i < n; i++ {
		key = strconv.AppendInt(append(key[:0], "zset:"...), int64(i), 10)
		for j := range members {
			members[j] = fmt.Appendf(members[j][:0], "m%09d", i*hashFields+j)
		}
		err := db.Update([][]byte{key}, func(tx *store.Tx) error {
			c, err := tx.Container(key, store.KindZSet, func() store.Container { return store.NewZSet(false) })
			if err != nil {
				return err
			}
			z := c.(*store.ZSet)
			for j, m := range members {
				z.Add(m, float64(j), 0, 128, 64)
			}
			return nil
		})
		if err != nil {
			fail(err)
		}
	}
}

type memSample struct {
	live, objects, heapSys, rss, count uint64
	gcs                                uint64
}

var metricNames = []string{
	"/gc/heap/live:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/total:bytes",
	"/gc/heap/objects:objects",
	"/gc/cycles/total:gc-cycles",
}

func sample() memSample {
	ms := make([]metrics.Sample, len(metricNames))
	for i, name := range metricNames {
		ms[i].Name = name
	}
	metrics.Read(ms)
	return memSample{
		live: ms[0].Value.Uint64(), objects: ms[1].Value.Uint64(), heapSys: ms[2].Value.Uint64(),
		count: ms[3].Value.Uint64(), gcs: ms[4].Value.Uint64(), rss: rssBytes(),
	}
}

// rssBytes is the resident set size from /proc/self/statm (pages).
func rssBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "memkeys:", err)
	os.Exit(1)
}
