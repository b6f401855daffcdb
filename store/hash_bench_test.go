package store

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// Store-level benchmarks of small (listpack) hashes through the paths HSET
// and HGET take: a transaction, Container or ReadContainer, then the Hash
// method. The allocation counts are the figures to watch (docs/memory.md).

// benchHashKeys is how many keys the benchmarks cycle through: few enough
// to stay in cache, or (BenchmarkHashGetManyKeys) too many to.
const (
	benchHashKeys     = 1024
	benchHashManyKeys = 1 << 18
)

func benchHashArgs(fields int) [][]byte {
	args := make([][]byte, 0, 2*fields)
	for j := 0; j < fields; j++ {
		args = append(args, []byte("field:"+strconv.Itoa(j)), []byte("v00000000"+strconv.Itoa(j)))
	}
	return args
}

// benchHashStore is a store with n hashes h:0… of the given fields (none
// when fields is 0), and their keys.
func benchHashStore(b *testing.B, n, fields int) (*DB, [][]byte) {
	s, _ := newTestStore(b, 1, 16)
	db := s.DB(0)
	keys := make([][]byte, n)
	args := benchHashArgs(fields)
	for i := range keys {
		keys[i] = []byte("h:" + strconv.Itoa(i))
		if fields > 0 {
			benchHset(b, db, keys[i], args)
		}
	}
	return db, keys
}

func newHashForBench() Container { return NewHash() }

func benchHset(b *testing.B, db *DB, key []byte, args [][]byte) {
	err := db.Update([][]byte{key}, func(tx *Tx) error {
		c, err := tx.Container(key, KindHash, newHashForBench)
		if err != nil {
			return err
		}
		c.(*Hash).SetPairs(args, 128, 64)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkHashSetTenNew is HSET of ten new fields on a new key, then DEL.
func BenchmarkHashSetTenNew(b *testing.B) {
	db, keys := benchHashStore(b, benchHashKeys, 0)
	args := benchHashArgs(10)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := keys[i%len(keys)]
		benchHset(b, db, k, args)
		db.Update([][]byte{k}, func(tx *Tx) error { tx.Delete(k); return nil })
	}
}

// BenchmarkHashSetOverwrite is HSET of one existing field to a new value.
func BenchmarkHashSetOverwrite(b *testing.B) {
	db, keys := benchHashStore(b, benchHashKeys, 10)
	vals := [][]byte{[]byte("v000000001"), []byte("v000000002")}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		// Each pass over the keys writes the other value.
		benchHset(b, db, keys[i%len(keys)], [][]byte{[]byte("field:3"), vals[i/len(keys)&1]})
	}
}

// BenchmarkHashGet is HGET of the fourth of ten fields.
func BenchmarkHashGet(b *testing.B) { benchHashGet(b, benchHashKeys) }

// BenchmarkHashGetManyKeys is BenchmarkHashGet over keys in random order,
// too many for the caches: it counts the memory reads a lookup makes.
func BenchmarkHashGetManyKeys(b *testing.B) { benchHashGet(b, benchHashManyKeys) }

func benchHashGet(b *testing.B, n int) {
	db, keys := benchHashStore(b, n, 10)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	field := []byte("field:3")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := keys[i%len(keys)]
		err := db.View([][]byte{k}, func(tx *Tx) error {
			c, err := tx.ReadContainer(k, KindHash)
			if err != nil {
				return err
			}
			if _, ok := c.(*Hash).Get(field); !ok {
				b.Fatal("field missing")
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
