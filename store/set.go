package store

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
)

// Set is a set value with Redis 7.0's two encodings: an intset (sorted
// int64s) while every member is the canonical decimal form of an int64 and
// the set holds at most set-max-intset-entries members, and a hashtable
// otherwise. A set never converts back to an intset, as in Redis.
//
// The hashtable is a map from member to its position in a slice, so random
// picks are O(1) and a cursor can walk the slice (see Scan).
type Set struct {
	ints    []int64        // intset encoding (ht == nil), ascending
	ht      map[string]int // hashtable encoding: member → index in members
	members []string       // hashtable members
	bytes   int64          // running MemSize
	// width is the intset's integer size in bytes (2, 4 or 8): like
	// Redis's intset encoding it grows with the values added and never
	// shrinks. It shapes the RDB blob DEBUG OBJECT measures.
	width uint8
}

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
	if s.ht != nil {
		return len(s.members)
	}
	return len(s.ints)
}

// MemSize approximates the bytes the set holds.
func (s *Set) MemSize() int64 { return s.bytes }

// IsIntset reports whether the set is intset-encoded.
func (s *Set) IsIntset() bool { return s.ht == nil }

// Encoding is what OBJECT ENCODING reports.
func (s *Set) Encoding() string {
	if s.ht != nil {
		return "hashtable"
	}
	return "intset"
}

// Clone returns a deep copy with the same encoding.
func (s *Set) Clone() Container {
	c := &Set{bytes: s.bytes, width: s.width}
	if s.ht != nil {
		c.members = slices.Clone(s.members)
		c.ht = make(map[string]int, len(s.members))
		for i, m := range c.members {
			c.ht[m] = i
		}
		return c
	}
	c.ints = slices.Clone(s.ints)
	return c
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

// convert turns an intset into a hashtable.
func (s *Set) convert() {
	s.ht = make(map[string]int, len(s.ints)+1)
	s.members = make([]string, 0, len(s.ints)+1)
	s.bytes = setBaseSize
	for _, v := range s.ints {
		s.htAdd(strconv.FormatInt(v, 10))
	}
	s.ints = nil
}

func (s *Set) htAdd(m string) bool {
	if _, ok := s.ht[m]; ok {
		return false
	}
	s.ht[m] = len(s.members)
	s.members = append(s.members, m)
	s.bytes += int64(len(m)) + setMemberExtra
	return true
}

// Add adds member and reports whether it was new. An intset converts to a
// hashtable when member is not an integer or the set would exceed
// maxIntset members (set-max-intset-entries).
func (s *Set) Add(member []byte, maxIntset int64) bool {
	if s.ht == nil {
		if v, ok := setInt(member); ok {
			i, found := slices.BinarySearch(s.ints, v)
			if found {
				return false
			}
			s.ints = slices.Insert(s.ints, i, v)
			s.width = max(s.width, intWidth(v))
			s.bytes += setIntSize
			if int64(len(s.ints)) > maxIntset {
				s.convert()
			}
			return true
		}
		s.convert()
	}
	if _, ok := s.ht[string(member)]; ok {
		return false
	}
	return s.htAdd(string(member))
}

// Remove deletes member and reports whether it was there.
func (s *Set) Remove(member []byte) bool {
	if s.ht == nil {
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
	i, ok := s.ht[string(member)]
	if !ok {
		return false
	}
	s.removeAt(i)
	return true
}

// removeAt deletes the hashtable member at index i, moving the last member
// into its place.
func (s *Set) removeAt(i int) {
	m := s.members[i]
	last := len(s.members) - 1
	if i != last {
		moved := s.members[last]
		s.members[i] = moved
		s.ht[moved] = i
	}
	s.members[last] = ""
	s.members = s.members[:last]
	delete(s.ht, m)
	s.bytes -= int64(len(m)) + setMemberExtra
}

// Contains reports whether member is in the set.
func (s *Set) Contains(member []byte) bool {
	if s.ht == nil {
		v, ok := setInt(member)
		if !ok {
			return false
		}
		_, found := slices.BinarySearch(s.ints, v)
		return found
	}
	_, ok := s.ht[string(member)]
	return ok
}

// ForEach calls fn with every member, in ascending order for an intset,
// until fn returns false. The slice is valid only during the call, and fn
// must not change the set.
func (s *Set) ForEach(fn func(member []byte) bool) {
	if s.ht == nil {
		var buf [20]byte
		for _, v := range s.ints {
			if !fn(strconv.AppendInt(buf[:0], v, 10)) {
				return
			}
		}
		return
	}
	for _, m := range s.members {
		if !fn([]byte(m)) {
			return
		}
	}
}

// Members returns a copy of every member, in ForEach order.
func (s *Set) Members() []string {
	out := make([]string, 0, s.Len())
	if s.ht == nil {
		for _, v := range s.ints {
			out = append(out, strconv.FormatInt(v, 10))
		}
		return out
	}
	return append(out, s.members...)
}

// memberAt returns the i-th member in ForEach order.
func (s *Set) memberAt(i int) string {
	if s.ht == nil {
		return strconv.FormatInt(s.ints[i], 10)
	}
	return s.members[i]
}

// Random returns a member chosen uniformly at random, "" and false when
// the set is empty.
func (s *Set) Random() (string, bool) {
	n := s.Len()
	if n == 0 {
		return "", false
	}
	return s.memberAt(rand.IntN(n)), true
}

// Pop removes a random member and returns it.
func (s *Set) Pop() (string, bool) {
	n := s.Len()
	if n == 0 {
		return "", false
	}
	i := rand.IntN(n)
	m := s.memberAt(i)
	if s.ht == nil {
		s.ints = slices.Delete(s.ints, i, i+1)
		s.bytes -= setIntSize
	} else {
		s.removeAt(i)
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

// Scan walks the set for SSCAN. An intset is returned whole with cursor 0,
// as Redis does for small encodings. A hashtable is walked from its last
// slot down to slot 0: cursor 0 starts at the top, any other cursor c
// resumes at slot c-1. Removals move the last member into the freed slot,
// which the walk has already passed, and additions land above it, so a
// member present for the whole walk is returned at least once.
func (s *Set) Scan(cursor uint64, count int, fn func(member []byte)) uint64 {
	if s.ht == nil {
		s.ForEach(func(m []byte) bool {
			fn(m)
			return true
		})
		return 0
	}
	n := uint64(len(s.members))
	next := n
	if cursor != 0 && cursor-1 < n {
		next = cursor
	}
	// next is one past the slot to visit.
	for ; next > 0 && count > 0; count-- {
		next--
		fn([]byte(s.members[next]))
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
	if s.ht != nil {
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
