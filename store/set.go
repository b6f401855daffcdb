package store

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"unsafe"
)

// Set is a set value with Redis 7.0's encodings: an intset (sorted int64s)
// while every member is the canonical decimal form of an int64 and the set
// holds at most set-max-intset-entries members, and a hashtable otherwise.
// A set never converts back to an intset, as in Redis (but see PopN).
//
// A small set of strings — at most setSmallEntries members, none longer
// than setSmallValue bytes, the limits Redis 7.2 gives its listpack sets —
// is kept compactly: one immutable string of the members in insertion
// order, each preceded by its length as a uvarint (the encoding of Hash's
// listpack), searched linearly. OBJECT ENCODING still reports "hashtable"
// for it, as Redis 7.0 does, and MemSize accounts it as a hashtable, so
// only the process's real memory sees the difference. It converts to the
// real hashtable for good once it outgrows the limits.
//
// The hashtable is a map from member to its position in a slice, so random
// picks are O(1) and a cursor can walk the slice (see Scan).
type Set struct {
	ints  []int64   // intset encoding, ascending
	lp    string    // small encoding
	ht    *setTable // hashtable encoding
	bytes int64     // running MemSize
	n     int32     // members in lp
	enc   uint8     // setIntset, setSmall or setHashtable
	// width is the intset's integer size in bytes (2, 4 or 8): like
	// Redis's intset encoding it grows with the values added and never
	// shrinks. It shapes the RDB blob DEBUG OBJECT measures.
	width uint8
}

// setTable is the hashtable encoding.
type setTable struct {
	index   map[string]int // member → index in members
	members []string
}

// Set encodings.
const (
	setIntset = iota
	setSmall
	setHashtable
)

// The small encoding's limits (Redis 7.2's set-max-listpack-entries and
// set-max-listpack-value defaults; Redis 7.0 has no such parameters).
const (
	setSmallEntries = 128
	setSmallValue   = 64
)

// Approximate costs for MemSize.
const (
	setBaseSize    = 48
	setIntSize     = 8
	setMemberExtra = 56 // map slot, slice slot and string header
)

// NewSet returns an empty set, intset-encoded as Redis creates one for
// SADD, SMOVE and the set operations.
func NewSet() *Set { return &Set{bytes: setBaseSize, width: 2} }

// Len is the number of members.
func (s *Set) Len() int {
	switch s.enc {
	case setSmall:
		return int(s.n)
	case setHashtable:
		return len(s.ht.members)
	}
	return len(s.ints)
}

// MemSize approximates the bytes the set holds.
func (s *Set) MemSize() int64 { return s.bytes }

// IsIntset reports whether the set is intset-encoded.
func (s *Set) IsIntset() bool { return s.enc == setIntset }

// Encoding is what OBJECT ENCODING reports.
func (s *Set) Encoding() string {
	if s.enc == setIntset {
		return "intset"
	}
	return "hashtable"
}

// Clone returns a deep copy with the same encoding. The small encoding's
// string is immutable, so the copy shares it.
func (s *Set) Clone() Container {
	c := *s
	c.ints = slices.Clone(s.ints)
	if s.ht != nil {
		c.ht = &setTable{members: slices.Clone(s.ht.members), index: make(map[string]int, len(s.ht.members))}
		for i, m := range c.ht.members {
			c.ht.index[m] = i
		}
	}
	return &c
}

// setInt parses b as Redis's string2ll does (the test an intset member must
// pass): an optional '-', no '+', no leading zeros, no spaces, within int64.
func setInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	p, neg := b, false
	if p[0] == '-' {
		neg, p = true, p[1:]
		if len(p) == 0 {
			return 0, false
		}
	}
	if p[0] < '1' || p[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, ch := range p {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		if v > (1<<64-1-9)/10 {
			return 0, false
		}
		v = v*10 + uint64(ch-'0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return int64(-v), true
	}
	if v > 1<<63-1 {
		return 0, false
	}
	return int64(v), true
}

// fromIntset leaves the intset encoding for the small one, or for the
// hashtable when the set has too many members for it.
func (s *Set) fromIntset() {
	ints := s.ints
	s.ints, s.bytes = nil, setBaseSize
	if len(ints) >= setSmallEntries {
		s.toTable(len(ints) + 1)
	} else {
		s.enc = setSmall
	}
	for _, v := range ints {
		s.addString(strconv.AppendInt(nil, v, 10))
	}
}

// toTable converts the small encoding (or an empty set) to the hashtable,
// with room for n members. The members are copied so that the small
// string can be freed.
func (s *Set) toTable(n int) {
	t := &setTable{index: make(map[string]int, n), members: make([]string, 0, n)}
	for off := 0; off < len(s.lp); {
		var m string
		m, off = lpString(s.lp, off)
		m = strings.Clone(m)
		t.index[m] = len(t.members)
		t.members = append(t.members, m)
	}
	s.ht, s.lp, s.n, s.enc = t, "", 0, setHashtable
}

// smallFind returns the offsets of member's entry in the small string, and
// whether it is there.
func (s *Set) smallFind(member []byte) (start, end int, ok bool) {
	for off := 0; off < len(s.lp); {
		m, next := lpString(s.lp, off)
		if m == string(member) {
			return off, next, true
		}
		off = next
	}
	return 0, 0, false
}

// addString adds a member to a set that is not an intset.
func (s *Set) addString(member []byte) bool {
	if s.enc == setSmall {
		if _, _, ok := s.smallFind(member); ok {
			return false
		}
		if len(member) <= setSmallValue && s.n < setSmallEntries {
			var b strings.Builder
			b.Grow(len(s.lp) + lpSize(len(member)))
			b.WriteString(s.lp)
			lpAppend(&b, member)
			s.lp = b.String()
			s.n++
			s.bytes += int64(len(member)) + setMemberExtra
			return true
		}
		s.toTable(int(s.n) + 1)
	}
	if _, ok := s.ht.index[string(member)]; ok {
		return false
	}
	m := string(member)
	s.ht.index[m] = len(s.ht.members)
	s.ht.members = append(s.ht.members, m)
	s.bytes += int64(len(m)) + setMemberExtra
	return true
}

// Add adds member and reports whether it was new. An intset converts when
// member is not an integer or the set would exceed maxIntset members
// (set-max-intset-entries).
func (s *Set) Add(member []byte, maxIntset int64) bool {
	if s.enc == setIntset {
		v, ok := setInt(member)
		if !ok {
			s.fromIntset()
			return s.addString(member)
		}
		i, found := slices.BinarySearch(s.ints, v)
		if found {
			return false
		}
		s.ints = slices.Insert(s.ints, i, v)
		s.width = max(s.width, intWidth(v))
		s.bytes += setIntSize
		if int64(len(s.ints)) > maxIntset {
			s.fromIntset()
		}
		return true
	}
	return s.addString(member)
}

// Remove deletes member and reports whether it was there.
func (s *Set) Remove(member []byte) bool {
	switch s.enc {
	case setSmall:
		start, end, ok := s.smallFind(member)
		if ok {
			s.smallCut(start, end)
		}
		return ok
	case setHashtable:
		i, ok := s.ht.index[string(member)]
		if ok {
			s.removeAt(i)
		}
		return ok
	}
	v, ok := setInt(member)
	if !ok {
		return false
	}
	i, found := slices.BinarySearch(s.ints, v)
	if !found {
		return false
	}
	s.ints = slices.Delete(s.ints, i, i+1)
	s.bytes -= setIntSize
	return true
}

// smallCut removes the small encoding's entry at lp[start:end].
func (s *Set) smallCut(start, end int) {
	s.n--
	// Small members (at most setSmallValue bytes) have a one-byte prefix.
	s.bytes -= int64(end-start-1) + setMemberExtra
	var b strings.Builder
	b.Grow(len(s.lp) - (end - start))
	b.WriteString(s.lp[:start])
	b.WriteString(s.lp[end:])
	s.lp = b.String()
}

// removeAt deletes the hashtable member at index i, moving the last member
// into its place.
func (s *Set) removeAt(i int) {
	t := s.ht
	m := t.members[i]
	last := len(t.members) - 1
	if i != last {
		moved := t.members[last]
		t.members[i] = moved
		t.index[moved] = i
	}
	t.members[last] = ""
	t.members = t.members[:last]
	delete(t.index, m)
	s.bytes -= int64(len(m)) + setMemberExtra
}

// Contains reports whether member is in the set.
func (s *Set) Contains(member []byte) bool {
	switch s.enc {
	case setSmall:
		_, _, ok := s.smallFind(member)
		return ok
	case setHashtable:
		_, ok := s.ht.index[string(member)]
		return ok
	}
	v, ok := setInt(member)
	if !ok {
		return false
	}
	_, found := slices.BinarySearch(s.ints, v)
	return found
}

// ForEach calls fn with every member, in ascending order for an intset,
// until fn returns false. The slice is valid only during the call and is
// read-only (it may share the set's memory), and fn must not change the
// set.
func (s *Set) ForEach(fn func(member []byte) bool) {
	switch s.enc {
	case setSmall:
		for off := 0; off < len(s.lp); {
			var m string
			m, off = lpString(s.lp, off)
			if !fn(readOnlyBytes(m)) {
				return
			}
		}
	case setHashtable:
		for _, m := range s.ht.members {
			if !fn([]byte(m)) {
				return
			}
		}
	default:
		var buf [20]byte
		for _, v := range s.ints {
			if !fn(strconv.AppendInt(buf[:0], v, 10)) {
				return
			}
		}
	}
}

// readOnlyBytes is m's bytes without a copy, capacity-limited so that an
// append copies; they must not be written.
func readOnlyBytes(m string) []byte {
	if m == "" {
		return []byte{}
	}
	return unsafe.Slice(unsafe.StringData(m), len(m))
}

// Members returns every member, in ForEach order.
func (s *Set) Members() []string {
	out := make([]string, 0, s.Len())
	switch s.enc {
	case setSmall:
		for off := 0; off < len(s.lp); {
			var m string
			m, off = lpString(s.lp, off)
			out = append(out, m)
		}
	case setHashtable:
		out = append(out, s.ht.members...)
	default:
		for _, v := range s.ints {
			out = append(out, strconv.FormatInt(v, 10))
		}
	}
	return out
}

// memberAt returns the i-th member in ForEach order, with its offsets in
// the small string when the set has that encoding.
func (s *Set) memberAt(i int) (m string, start, end int) {
	switch s.enc {
	case setSmall:
		for ; ; i-- {
			m, end = lpString(s.lp, start)
			if i == 0 {
				return m, start, end
			}
			start = end
		}
	case setHashtable:
		return s.ht.members[i], 0, 0
	}
	return strconv.FormatInt(s.ints[i], 10), 0, 0
}

// Random returns a member chosen uniformly at random, "" and false when
// the set is empty.
func (s *Set) Random() (string, bool) {
	n := s.Len()
	if n == 0 {
		return "", false
	}
	m, _, _ := s.memberAt(rand.IntN(n))
	return m, true
}

// Pop removes a random member and returns it.
func (s *Set) Pop() (string, bool) {
	n := s.Len()
	if n == 0 {
		return "", false
	}
	i := rand.IntN(n)
	m, start, end := s.memberAt(i)
	switch s.enc {
	case setSmall:
		s.smallCut(start, end)
	case setHashtable:
		s.removeAt(i)
	default:
		s.ints = slices.Delete(s.ints, i, i+1)
		s.bytes -= setIntSize
	}
	return m, true
}

// spopMoveStrategyMul is Redis's SPOP_MOVE_STRATEGY_MUL.
const spopMoveStrategyMul = 5

// PopN removes count random members (0 < count < Len) and calls emit with
// each, following Redis 7.0's SPOP strategies: when few members would
// remain, the remaining ones are moved into a new set that replaces this
// one's contents (so a hashtable holding only integers becomes an intset
// again, as in Redis), and the members left behind are emitted.
func (s *Set) PopN(count int, maxIntset int64, emit func(member string)) {
	remaining := s.Len() - count
	if remaining*spopMoveStrategyMul > count {
		for range count {
			m, _ := s.Pop()
			emit(m)
		}
		return
	}
	keep := NewSet()
	for range remaining {
		m, _ := s.Pop()
		keep.Add([]byte(m), maxIntset)
	}
	s.ForEach(func(m []byte) bool {
		emit(string(m))
		return true
	})
	*s = *keep
}

// Scan walks the set for SSCAN. An intset or a small set is returned whole
// with cursor 0, as Redis does for small encodings. A hashtable is walked
// from its last slot down to slot 0: cursor 0 starts at the top, any other
// cursor c resumes at slot c-1. Removals move the last member into the
// freed slot, which the walk has already passed, and additions land above
// it, so a member present for the whole walk is returned at least once.
func (s *Set) Scan(cursor uint64, count int, fn func(member []byte)) uint64 {
	if s.enc != setHashtable {
		s.ForEach(func(m []byte) bool {
			fn(m)
			return true
		})
		return 0
	}
	members := s.ht.members
	n := uint64(len(members))
	next := n
	if cursor != 0 && cursor-1 < n {
		next = cursor
	}
	// next is one past the slot to visit.
	for ; next > 0 && count > 0; count-- {
		next--
		fn([]byte(members[next]))
	}
	return next
}

// intWidth is the intset encoding a value needs (INTSET_ENC_INT16/32/64).
func intWidth(v int64) uint8 {
	switch {
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return 2
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return 4
	}
	return 8
}

// AppendIntsetBlob appends the intset's bytes as Redis lays them out (and
// saves them in an RDB file): the encoding and the length as little-endian
// uint32s, then each value little-endian in the encoding's width. It
// appends nothing for a hashtable.
func (s *Set) AppendIntsetBlob(dst []byte) []byte {
	if s.enc != setIntset {
		return dst
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(s.width))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(s.ints)))
	for _, v := range s.ints {
		switch s.width {
		case 2:
			dst = binary.LittleEndian.AppendUint16(dst, uint16(v))
		case 4:
			dst = binary.LittleEndian.AppendUint32(dst, uint32(v))
		default:
			dst = binary.LittleEndian.AppendUint64(dst, uint64(v))
		}
	}
	return dst
}
