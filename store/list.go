package store

import "bytes"

// List is a list value: a ring buffer of elements, so pushes and pops at
// either end are O(1) amortised, indexing is O(1), and an insert or removal
// in the middle shifts the shorter side. Every element is the List's own
// copy. OBJECT ENCODING reports "quicklist", as Redis 7.0 does for every
// list.
//
// Positions taken by the methods are 0-based from the head and must be in
// range; Redis's negative indexes are resolved by the caller (see
// ResolveIndex).
type List struct {
	buf   [][]byte // len(buf) is 0 or a power of two
	head  int      // position of element 0 in buf
	n     int
	bytes int64 // sum of the elements' lengths
}

// listElemOverhead approximates the per-element bookkeeping (slice header
// and allocation rounding) for MemSize.
const (
	listElemOverhead = 32
	listBaseSize     = 64
	listMinCap       = 8
)

// NewList returns an empty list.
func NewList() *List { return &List{} }

// Len is the number of elements.
func (l *List) Len() int { return l.n }

// MemSize approximates the bytes the list holds, in O(1).
func (l *List) MemSize() int64 {
	return listBaseSize + l.bytes + int64(l.n)*listElemOverhead + int64(len(l.buf))*24
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

func (l *List) mask() int { return len(l.buf) - 1 }

func (l *List) slot(i int) int { return (l.head + i) & l.mask() }

// At returns element i (0 <= i < Len). The slice is the list's own: read
// it only while the list is unchanged.
func (l *List) At(i int) []byte { return l.buf[l.slot(i)] }

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

// reserve makes room for at least want elements.
func (l *List) reserve(want int) {
	if want <= len(l.buf) {
		return
	}
	c := max(listMinCap, len(l.buf))
	for c < want {
		c *= 2
	}
	l.resize(c)
}

// resize moves the elements into a buffer of capacity c (a power of two
// >= n), head at 0.
func (l *List) resize(c int) {
	nb := make([][]byte, c)
	for i := 0; i < l.n; i++ {
		nb[i] = l.buf[l.slot(i)]
	}
	l.buf, l.head = nb, 0
}

// maybeShrink halves the buffer when it is mostly empty.
func (l *List) maybeShrink() {
	if l.n == 0 {
		l.buf, l.head = nil, 0
		return
	}
	c := len(l.buf)
	if c > 4*listMinCap && l.n < c/4 {
		l.resize(c / 2)
	}
}

func own(v []byte) []byte {
	out := make([]byte, len(v))
	copy(out, v)
	return out
}

// PushLeft inserts a copy of v at the head.
func (l *List) PushLeft(v []byte) {
	l.reserve(l.n + 1)
	l.head = (l.head - 1) & l.mask()
	l.buf[l.head] = own(v)
	l.n++
	l.bytes += int64(len(v))
}

// PushRight appends a copy of v at the tail.
func (l *List) PushRight(v []byte) {
	l.reserve(l.n + 1)
	l.buf[l.slot(l.n)] = own(v)
	l.n++
	l.bytes += int64(len(v))
}

// PopLeft removes and returns the head element, which the caller may keep;
// false when the list is empty.
func (l *List) PopLeft() ([]byte, bool) {
	if l.n == 0 {
		return nil, false
	}
	v := l.buf[l.head]
	l.buf[l.head] = nil
	l.head = (l.head + 1) & l.mask()
	l.n--
	l.bytes -= int64(len(v))
	l.maybeShrink()
	return v, true
}

// PopRight removes and returns the tail element, which the caller may keep;
// false when the list is empty.
func (l *List) PopRight() ([]byte, bool) {
	if l.n == 0 {
		return nil, false
	}
	s := l.slot(l.n - 1)
	v := l.buf[s]
	l.buf[s] = nil
	l.n--
	l.bytes -= int64(len(v))
	l.maybeShrink()
	return v, true
}

// Set replaces element i (0 <= i < Len) with a copy of v.
func (l *List) Set(i int, v []byte) {
	s := l.slot(i)
	l.bytes += int64(len(v)) - int64(len(l.buf[s]))
	l.buf[s] = own(v)
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
			l.buf[l.slot(j)] = l.buf[l.slot(j+1)]
		}
	} else {
		// Shift elements [i, n) one step towards the tail.
		for j := l.n; j > i; j-- {
			l.buf[l.slot(j)] = l.buf[l.slot(j-1)]
		}
	}
	l.buf[l.slot(i)] = own(v)
	l.n++
	l.bytes += int64(len(v))
}

// Index returns the position of the first element equal to v, searching
// from position from towards the tail, or -1.
func (l *List) Index(v []byte, from int) int {
	for i := from; i < l.n; i++ {
		if bytes.Equal(l.At(i), v) {
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
		s := l.slot(r)
		if drop[r] {
			l.bytes -= int64(len(l.buf[s]))
			continue
		}
		l.buf[l.slot(w)] = l.buf[s]
		w++
	}
	for i := w; i < l.n; i++ {
		l.buf[l.slot(i)] = nil
	}
	l.n = w
	l.maybeShrink()
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
		s := l.slot(i)
		l.bytes -= int64(len(l.buf[s]))
		l.buf[s] = nil
	}
	for i := to + 1; i < l.n; i++ {
		s := l.slot(i)
		l.bytes -= int64(len(l.buf[s]))
		l.buf[s] = nil
	}
	l.head = l.slot(from)
	l.n = to - from + 1
	l.maybeShrink()
}

func (l *List) clear() {
	l.buf, l.head, l.n, l.bytes = nil, 0, 0, 0
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
