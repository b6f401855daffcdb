package store

import (
	"fmt"
	"hash/maphash"
	"iter"
)

// A shard's key index: an open-addressing hash table of entry pointers.
//
// A Go map[string]*entry costs about 52 bytes a key here (a 24-byte slot,
// key string plus pointer, in tables half full after a doubling). The index
// keeps an 8-byte pointer and a 4-byte hash tag per slot; the key itself is
// compared through the entry (entry.key). The hash is the store's maphash
// of the key, the one that picks the shard (from its low bits); the tag is
// its top 32 bits with the lowest of them set, so that 0 marks an empty
// slot, and it is the key's position, which orders keys for SCAN.
//
// Collisions are resolved by linear probing with Robin Hood insertion: an
// entry far from its home slot takes the place of one nearer to its own, so
// a cluster holds its entries in home order and a lookup stops as soon as
// it meets an entry nearer home than it has come. A lookup reads tags only
// until one equals its own, so a miss dereferences no entry and a hit
// (almost always) one. Deletion shifts the rest of the cluster back by one
// slot (no tombstones).
//
// The home of a tag is tag·size / 2³², the tag scaled to the table size, so
// the size need not be a power of two and home order is tag order whatever
// the size (SCAN relies on that, see scan). The table grows by half when it
// would pass 85 % full, which keeps it 57–85 % full (1M keys over 256
// shards land just under a power of two: doubling would leave them 48 %
// full), and shrinks below a quarter full. Growing and shrinking rebuild the
// table at once under the shard lock; the tags make that a pass over the
// index's own arrays, touching no entry: about 0.1 ms for a shard of 4k
// keys, 1 ms for 40k (BenchmarkIndexGrow).

// posBits is the width of a key's position (its tag).
const posBits = 32

// posEnd is one past the last position: a finished scan.
const posEnd = 1 << posBits

const (
	indexMinSize = 8
	// The table grows by half when an insert would take it over
	// indexMaxLoad, and shrinks to twice its count below a quarter full.
	indexMaxLoadNum, indexMaxLoadDen = 17, 20 // 0.85
)

// index maps keys to their entries. The zero value with a seed is empty.
type index struct {
	slots []*entry
	tags  []uint32 // 0: empty slot
	n     int
	seed  maphash.Seed
}

// hash is key's hash, the one the store picks shards with.
func (x *index) hash(key string) uint64 { return maphash.String(x.seed, key) }

// tagOf is the tag of a key whose hash is h.
func tagOf(h uint64) uint32 { return uint32(h>>32) | 1 }

// len is the number of entries.
func (x *index) len() int { return x.n }

// reset empties the index and lets its tables go.
func (x *index) reset() { x.slots, x.tags, x.n = nil, nil, 0 }

// homeAt is the home slot, in a table of size slots, of position p.
func homeAt(p uint64, size int) int { return int(p * uint64(size) >> posBits) }

// firstPos is the first position whose home, in a table of size slots, is
// slot b or later: ⌈b·2³²/size⌉, posEnd for b == size.
func firstPos(b, size int) uint64 {
	return (uint64(b)<<posBits + uint64(size) - 1) / uint64(size)
}

// next is the slot after i, wrapping around.
func (x *index) next(i int) int {
	if i++; i == len(x.slots) {
		return 0
	}
	return i
}

// dist is how far slot i, holding tag t, is from t's home.
func (x *index) dist(i int, t uint32) int {
	d := i - homeAt(uint64(t), len(x.slots))
	if d < 0 {
		d += len(x.slots)
	}
	return d
}

// find is the slot holding key, whose hash is h, or -1.
func (x *index) find(h uint64, key string) int {
	if x.n == 0 {
		return -1
	}
	t := tagOf(h)
	i := homeAt(uint64(t), len(x.slots))
	for d := 0; ; d++ {
		m := x.tags[i]
		if m == 0 {
			return -1
		}
		if m == t {
			if x.slots[i].key() == key {
				return i
			}
		} else if x.dist(i, m) < d {
			return -1 // an entry nearer its home than key would be
		}
		i = x.next(i)
	}
}

// get returns key's entry, nil when it has none; h is key's hash.
func (x *index) get(h uint64, key string) *entry {
	if i := x.find(h, key); i >= 0 {
		return x.slots[i]
	}
	return nil
}

// put stores e under its key, whose hash is h, and returns the entry it
// replaced (in the same slot), nil when the key was new.
func (x *index) put(h uint64, e *entry) (old *entry) {
	if i := x.find(h, e.key()); i >= 0 {
		old, x.slots[i] = x.slots[i], e
		return old
	}
	if size := len(x.slots); (x.n+1)*indexMaxLoadDen > size*indexMaxLoadNum {
		x.rebuild(max(indexMinSize, size+size/2))
	}
	x.insert(tagOf(h), e)
	x.n++
	return nil
}

// insert places e, with tag t and known not to be present, by Robin Hood
// probing. The load bound guarantees an empty slot.
func (x *index) insert(t uint32, e *entry) {
	i := homeAt(uint64(t), len(x.slots))
	for d := 0; ; d++ {
		m := x.tags[i]
		if m == 0 {
			x.slots[i], x.tags[i] = e, t
			return
		}
		if md := x.dist(i, m); md < d {
			// e is further from home than the resident: it takes the
			// slot, and the resident moves on from its own distance.
			x.slots[i], e = e, x.slots[i]
			x.tags[i], t = t, m
			d = md
		}
		i = x.next(i)
	}
}

// del removes key, whose hash is h, and returns its entry, nil when absent.
func (x *index) del(h uint64, key string) *entry {
	i := x.find(h, key)
	if i < 0 {
		return nil
	}
	e := x.slots[i]
	// Backward shift: each following entry not at its home moves one
	// slot nearer to it, up to an empty slot or one at home.
	for j := x.next(i); x.tags[j] != 0 && x.dist(j, x.tags[j]) > 0; i, j = j, x.next(j) {
		x.slots[i], x.tags[i] = x.slots[j], x.tags[j]
	}
	x.slots[i], x.tags[i] = nil, 0
	x.n--
	if x.n == 0 {
		x.reset()
	} else if size := len(x.slots); size > indexMinSize && x.n < size/4 {
		x.rebuild(max(indexMinSize, 2*x.n))
	}
	return e
}

// rebuild moves every entry into a new table of size slots.
func (x *index) rebuild(size int) {
	oldSlots, oldTags := x.slots, x.tags
	x.slots, x.tags = make([]*entry, size), make([]uint32, size)
	for i, t := range oldTags {
		if t != 0 {
			x.insert(t, oldSlots[i])
		}
	}
}

// all yields every entry, in slot order. The index must not change during
// the iteration.
func (x *index) all(yield func(*entry) bool) {
	for i, t := range x.tags {
		if t != 0 && !yield(x.slots[i]) {
			return
		}
	}
}

// from yields every entry once, starting at slot start (reduced modulo the
// table size) and wrapping around: with a random start, the first entries
// are a random sample of neighbours, as Redis's dictGetSomeKeys takes them.
// The index must not change during the iteration.
func (x *index) from(start uint64) iter.Seq[*entry] {
	return func(yield func(*entry) bool) {
		size := len(x.slots)
		if x.n == 0 {
			return
		}
		i := int(start % uint64(size))
		for range size {
			if x.tags[i] != 0 && !yield(x.slots[i]) {
				return
			}
			i = x.next(i)
		}
	}
}

// scan visits the entries whose position is pos or later, one home slot at
// a time in position order, calling fn with each, until fn has returned
// true count times or more. It returns the position to carry on from (the
// first of the next home slot holding entries), posEnd when there is none.
//
// Every entry present for a whole scan (calls from position 0 until posEnd,
// with any changes in between) is visited exactly once: a call visits
// positions from pos up to the position it returns, and since home order is
// position order in a table of any size, the call after a rebuild starts at
// the home slot of that position and skips the earlier positions it holds.
func (x *index) scan(pos uint64, count int, fn func(*entry) bool) uint64 {
	size := len(x.slots)
	if x.n == 0 || pos >= posEnd {
		return posEnd
	}
	counted := 0
	for b := homeAt(pos, size); b < size; b++ {
		// b's entries follow those of earlier homes displaced past b.
		i := b
		for d := 0; x.tags[i] != 0; d++ {
			md := x.dist(i, x.tags[i])
			if md < d {
				break // the entries of later homes: b has none
			}
			if md == d {
				if counted >= count {
					// Done, and there is more: stop before this home
					// slot (so a scan that reached its last entry ends).
					return firstPos(b, size)
				}
				for ; x.tags[i] != 0 && x.dist(i, x.tags[i]) == d; i, d = x.next(i), d+1 {
					if uint64(x.tags[i]) >= pos && fn(x.slots[i]) {
						counted++
					}
				}
				break
			}
			i = x.next(i)
		}
	}
	return posEnd
}

// check verifies the table's invariants: every entry under its key's tag,
// the count, clusters in home order (Robin Hood), and the load within
// bounds.
func (x *index) check() error {
	size := len(x.slots)
	if len(x.tags) != size {
		return fmt.Errorf("index: %d slots, %d tags", size, len(x.tags))
	}
	n := 0
	for i, t := range x.tags {
		if t == 0 {
			if x.slots[i] != nil {
				return fmt.Errorf("index: slot %d empty but holds an entry", i)
			}
			continue
		}
		n++
		e := x.slots[i]
		if e == nil {
			return fmt.Errorf("index: slot %d tagged %#x holds nil", i, t)
		}
		if want := tagOf(x.hash(e.key())); t != want {
			return fmt.Errorf("index: key %q in slot %d tagged %#x, want %#x", e.key(), i, t, want)
		}
		if d := x.dist(i, t); d > 0 {
			p := (i + size - 1) % size
			if x.tags[p] == 0 || x.dist(p, x.tags[p]) < d-1 {
				return fmt.Errorf("index: key %q in slot %d at distance %d after a nearer or empty slot", e.key(), i, d)
			}
		}
	}
	if n != x.n {
		return fmt.Errorf("index: %d entries, count %d", n, x.n)
	}
	if size > 0 && n*indexMaxLoadDen > size*indexMaxLoadNum {
		return fmt.Errorf("index: %d entries in %d slots", n, size)
	}
	return nil
}
