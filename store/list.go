package store

import "bytes"

// List is a list value. Element bytes are copied into append-only byte
// chunks and the list proper is a ring buffer of pointer-free entries
// (chunk, offset, length): a push copies into the current chunk instead of
// allocating, and the GC has no per-element pointer to scan on a list of
// millions (the reason Redis packs elements into quicklist nodes). Pushes
// and pops at either end are O(1) amortised, indexing is O(1), and an
// insert or removal in the middle shifts the shorter side of the ring.
// OBJECT ENCODING reports "quicklist", as Redis 7.0 does for every list.
//
// Chunk bytes are never overwritten: a removed element's bytes become
// garbage, a chunk left without live bytes is dropped, and once garbage
// outweighs the live bytes the elements are repacked into fresh chunks.
// So a slice from At stays intact (read it only while the list is
// unchanged, as the API promises), and one from a pop is the caller's.
//
// Positions taken by the methods are 0-based from the head and must be in
// range; Redis's negative indexes are resolved by the caller (see
// ResolveIndex).
type List struct {
	ring  []listEntry // len(ring) is 0 or a power of two
	head  int         // position of element 0 in ring
	n     int
	bytes int64 // sum of the elements' lengths

	chunks [][]byte // cap is the chunk's size, len its filled part; nil once dropped
	live   []int    // per chunk, the bytes of elements still in the list
	free   []int32  // ids of dropped chunks, reused before growing chunks
	cur    int32    // the chunk pushes append to, when hasCur
	hasCur bool
	arena  int64 // sum of the held chunks' sizes
}

// listEntry locates one element; chunk is -1 for an empty element, which
// needs no bytes.
type listEntry struct {
	n     int
	chunk int32
	off   uint32 // < listChunkMax, or 0 in a chunk of its own
}

const (
	listBaseSize  = 64
	listEntrySize = 16
	listMinCap    = 8
	// Shared chunks start small, so that a short list stays small, and
	// double up to listChunkMax (Redis's default quicklist node is 8KB).
	listChunkMin = 64
	listChunkMax = 8 << 10
	// Elements this long get a chunk of their own: no copying on repack,
	// and removing one frees it at once.
	listBigElem = listChunkMax / 4
)

// emptyElem is what At returns for an empty element: non-nil, and with no
// capacity, so a caller's append cannot write into it.
var emptyElem = []byte{}

// NewList returns an empty list.
func NewList() *List { return &List{} }

// Len is the number of elements.
func (l *List) Len() int { return l.n }

// MemSize approximates the bytes the list holds, in O(1).
func (l *List) MemSize() int64 {
	return listBaseSize + l.arena + int64(len(l.ring))*listEntrySize + int64(len(l.chunks))*32
}

// Encoding is what OBJECT ENCODING reports.
func (l *List) Encoding() string { return "quicklist" }

// Clone returns a deep copy.
func (l *List) Clone() Container {
	c := &List{}
	c.reserve(l.n)
	for i := 0; i < l.n; i++ {
		c.PushRight(l.At(i))
	}
	return c
}

func (l *List) mask() int { return len(l.ring) - 1 }

func (l *List) slot(i int) int { return (l.head + i) & l.mask() }

// get returns an entry's bytes, capped so that appending reallocates.
func (l *List) get(e listEntry) []byte {
	if e.chunk < 0 {
		return emptyElem
	}
	end := int(e.off) + e.n
	return l.chunks[e.chunk][e.off:end:end]
}

// At returns element i (0 <= i < Len). The slice is the list's own: read
// it only while the list is unchanged.
func (l *List) At(i int) []byte { return l.get(l.ring[l.slot(i)]) }

// newChunk adds an empty chunk of the given size and returns its id.
func (l *List) newChunk(size int) int32 {
	return l.adopt(make([]byte, 0, size))
}

// adopt makes c a chunk of the list, its filled part counted live.
func (l *List) adopt(c []byte) int32 {
	l.arena += int64(cap(c))
	if k := len(l.free); k > 0 {
		id := l.free[k-1]
		l.free = l.free[:k-1]
		l.chunks[id], l.live[id] = c, len(c)
		return id
	}
	l.chunks = append(l.chunks, c)
	l.live = append(l.live, len(c))
	return int32(len(l.chunks) - 1)
}

func (l *List) dropChunk(id int32) {
	l.arena -= int64(cap(l.chunks[id]))
	l.chunks[id], l.live[id] = nil, 0
	l.free = append(l.free, id)
}

// store copies v into chunk space and returns its entry.
func (l *List) store(v []byte) listEntry {
	switch {
	case len(v) == 0:
		return listEntry{chunk: -1}
	case len(v) >= listBigElem:
		c := make([]byte, len(v))
		copy(c, v)
		return listEntry{n: len(v), chunk: l.adopt(c)}
	}
	if !l.hasCur || cap(l.chunks[l.cur])-len(l.chunks[l.cur]) < len(v) {
		size := listChunkMin
		if l.hasCur {
			old := l.cur
			size = min(2*cap(l.chunks[old]), listChunkMax)
			if l.live[old] == 0 {
				l.dropChunk(old)
			}
		}
		l.cur, l.hasCur = l.newChunk(max(size, len(v))), true
	}
	c := l.chunks[l.cur]
	off := len(c)
	l.chunks[l.cur] = append(c, v...)
	l.live[l.cur] += len(v)
	return listEntry{n: len(v), chunk: l.cur, off: uint32(off)}
}

// release accounts for an entry leaving the list; its bytes stay as they
// are, for whoever still holds them.
func (l *List) release(e listEntry) {
	if e.chunk < 0 {
		return
	}
	l.live[e.chunk] -= e.n
	if l.live[e.chunk] == 0 && !(l.hasCur && e.chunk == l.cur) {
		l.dropChunk(e.chunk)
	}
}

// maybeRepack copies the elements into fresh chunks once the garbage in
// partly live chunks outweighs the live bytes (plus slack for the chunks
// being filled, and per element so that lists of empty elements do not
// repack often). Repacking costs O(n + bytes), paid for by at least as
// much garbage, so it is O(1) amortised per byte removed.
func (l *List) maybeRepack() {
	if l.arena-l.bytes <= l.bytes+2*listChunkMax+int64(l.n)*listEntrySize {
		return
	}
	old := l.chunks
	l.chunks, l.live, l.free, l.cur, l.hasCur, l.arena = nil, nil, nil, 0, false, 0
	for i := 0; i < l.n; i++ {
		s := l.slot(i)
		e := l.ring[s]
		switch {
		case e.chunk < 0:
		case e.n >= listBigElem:
			e.chunk = l.adopt(old[e.chunk]) // a chunk of its own: no garbage
		default:
			end := int(e.off) + e.n
			e = l.store(old[e.chunk][e.off:end])
		}
		l.ring[s] = e
	}
}

// ResolveIndex turns a Redis index (negative counts from the tail) into a
// position, reporting whether it names an element.
func (l *List) ResolveIndex(index int64) (int, bool) {
	if index < 0 {
		index += int64(l.n)
	}
	if index < 0 || index >= int64(l.n) {
		return 0, false
	}
	return int(index), true
}

// ResolveRange turns Redis's start/stop (LRANGE, LTRIM) into the positions
// [from, to], reporting false when the range is empty.
func (l *List) ResolveRange(start, stop int64) (from, to int, ok bool) {
	n := int64(l.n)
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	if start < 0 {
		start = 0
	}
	if start > stop || start >= n {
		return 0, 0, false
	}
	if stop >= n {
		stop = n - 1
	}
	return int(start), int(stop), true
}

// reserve makes room in the ring for at least want elements.
func (l *List) reserve(want int) {
	if want <= len(l.ring) {
		return
	}
	c := max(listMinCap, len(l.ring))
	for c < want {
		c *= 2
	}
	l.resize(c)
}

// resize moves the entries into a ring of capacity c (a power of two
// >= n), head at 0.
func (l *List) resize(c int) {
	nr := make([]listEntry, c)
	for i := 0; i < l.n; i++ {
		nr[i] = l.ring[l.slot(i)]
	}
	l.ring, l.head = nr, 0
}

// maybeShrink halves the ring when it is mostly empty, and lets go of
// everything once the list is empty.
func (l *List) maybeShrink() {
	if l.n == 0 {
		l.clear()
		return
	}
	c := len(l.ring)
	if c > 4*listMinCap && l.n < c/4 {
		l.resize(c / 2)
	}
}

// PushLeft inserts a copy of v at the head.
func (l *List) PushLeft(v []byte) {
	l.reserve(l.n + 1)
	l.head = (l.head - 1) & l.mask()
	l.ring[l.head] = l.store(v)
	l.n++
	l.bytes += int64(len(v))
}

// PushRight appends a copy of v at the tail.
func (l *List) PushRight(v []byte) {
	l.reserve(l.n + 1)
	l.ring[l.slot(l.n)] = l.store(v)
	l.n++
	l.bytes += int64(len(v))
}

// PopLeft removes and returns the head element, which the caller may keep;
// false when the list is empty.
func (l *List) PopLeft() ([]byte, bool) {
	if l.n == 0 {
		return nil, false
	}
	e := l.ring[l.head]
	v := l.get(e)
	l.ring[l.head] = listEntry{}
	l.head = (l.head + 1) & l.mask()
	l.popped(e)
	return v, true
}

// PopRight removes and returns the tail element, which the caller may keep;
// false when the list is empty.
func (l *List) PopRight() ([]byte, bool) {
	if l.n == 0 {
		return nil, false
	}
	s := l.slot(l.n - 1)
	e := l.ring[s]
	v := l.get(e)
	l.ring[s] = listEntry{}
	l.popped(e)
	return v, true
}

// popped does the bookkeeping for e leaving at either end.
func (l *List) popped(e listEntry) {
	l.n--
	l.bytes -= int64(e.n)
	l.release(e)
	l.maybeShrink()
	l.maybeRepack()
}

// Set replaces element i (0 <= i < Len) with a copy of v.
func (l *List) Set(i int, v []byte) {
	s := l.slot(i)
	old := l.ring[s]
	l.ring[s] = l.store(v)
	l.bytes += int64(len(v) - old.n)
	l.release(old)
	l.maybeRepack()
}

// Insert puts a copy of v at position i (0 <= i <= Len), shifting the
// shorter side.
func (l *List) Insert(i int, v []byte) {
	switch i {
	case 0:
		l.PushLeft(v)
		return
	case l.n:
		l.PushRight(v)
		return
	}
	l.reserve(l.n + 1)
	if i < l.n/2 {
		// Shift elements [0, i) one step towards the head.
		l.head = (l.head - 1) & l.mask()
		for j := 0; j < i; j++ {
			l.ring[l.slot(j)] = l.ring[l.slot(j+1)]
		}
	} else {
		// Shift elements [i, n) one step towards the tail.
		for j := l.n; j > i; j-- {
			l.ring[l.slot(j)] = l.ring[l.slot(j-1)]
		}
	}
	l.ring[l.slot(i)] = l.store(v)
	l.n++
	l.bytes += int64(len(v))
}

// Index returns the position of the first element equal to v, searching
// from position from towards the tail, or -1.
func (l *List) Index(v []byte, from int) int {
	for i := from; i < l.n; i++ {
		e := l.ring[l.slot(i)]
		if e.n == len(v) && bytes.Equal(l.get(e), v) {
			return i
		}
	}
	return -1
}

// Remove deletes up to count elements equal to v, as LREM: count > 0 from
// the head, count < 0 from the tail, 0 all of them. It returns how many
// went.
func (l *List) Remove(count int64, v []byte) int {
	if l.n == 0 {
		return 0
	}
	drop := make([]bool, l.n)
	removed := 0
	limit := count
	if limit < 0 {
		limit = -limit
	}
	if count >= 0 {
		for i := 0; i < l.n && (count == 0 || int64(removed) < limit); i++ {
			if bytes.Equal(l.At(i), v) {
				drop[i] = true
				removed++
			}
		}
	} else {
		for i := l.n - 1; i >= 0 && int64(removed) < limit; i-- {
			if bytes.Equal(l.At(i), v) {
				drop[i] = true
				removed++
			}
		}
	}
	if removed == 0 {
		return 0
	}
	l.compact(drop)
	return removed
}

// compact keeps the elements whose drop flag is false, in order.
func (l *List) compact(drop []bool) {
	w := 0
	for r := 0; r < l.n; r++ {
		e := l.ring[l.slot(r)]
		if drop[r] {
			l.bytes -= int64(e.n)
			l.release(e)
			continue
		}
		l.ring[l.slot(w)] = e
		w++
	}
	for i := w; i < l.n; i++ {
		l.ring[l.slot(i)] = listEntry{}
	}
	l.n = w
	l.maybeShrink()
	l.maybeRepack()
}

// Trim keeps the elements in positions [from, to] and drops the rest; with
// from > to it empties the list.
func (l *List) Trim(from, to int) {
	if from > to || from >= l.n || to < 0 {
		l.clear()
		return
	}
	from = max(from, 0)
	to = min(to, l.n-1)
	for i := 0; i < from; i++ {
		l.dropAt(l.slot(i))
	}
	for i := to + 1; i < l.n; i++ {
		l.dropAt(l.slot(i))
	}
	l.head = l.slot(from)
	l.n = to - from + 1
	l.maybeShrink()
	l.maybeRepack()
}

// dropAt releases the element in ring slot s, leaving n to the caller.
func (l *List) dropAt(s int) {
	e := l.ring[s]
	l.bytes -= int64(e.n)
	l.release(e)
	l.ring[s] = listEntry{}
}

func (l *List) clear() {
	*l = List{}
}

// Range calls fn with the elements in positions [from, to], head to tail.
func (l *List) Range(from, to int, fn func(v []byte)) {
	for i := from; i <= to; i++ {
		fn(l.At(i))
	}
}

// Elements returns the elements head to tail. The slices are the list's
// own: valid only while the list is unchanged.
func (l *List) Elements() [][]byte {
	out := make([][]byte, l.n)
	for i := range out {
		out[i] = l.At(i)
	}
	return out
}
