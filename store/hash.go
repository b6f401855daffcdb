package store

// Hash is a hash value (HSET and friends), modelled on Redis 7.0's two
// encodings:
//
//   - "listpack": a small hash is an ordered sequence of field/value pairs,
//     searched linearly. A new field is appended, an overwritten field keeps
//     its place (the value is replaced in place), a deleted field closes the
//     gap, so HGETALL/HKEYS/HVALS/HSCAN list fields in insertion order, as
//     Redis's listpack does.
//   - "hashtable": once the hash holds more than hash-max-listpack-entries
//     fields, or a field or value longer than hash-max-listpack-value bytes
//     is written, it converts for good (Redis never converts back). The
//     pairs then live in a dense slice indexed by a map; a delete moves the
//     last pair into the gap. Redis's dict order is not reproducible anyway,
//     so clients must not rely on the order of a hashtable-encoded hash.
//
// The thresholds come from the server's configuration; the store does not
// read it, so the methods that can grow the hash take them as arguments.
type Hash struct {
	pairs []HashPair
	index map[string]int // nil while listpack-encoded
	bytes int64          // sum of field and value lengths
}

// HashPair is one field and its value.
type HashPair struct {
	Field string
	Value string
}

// Approximate per-pair costs beyond the field and value bytes: a listpack
// entry header for each, or a slice slot plus a map entry.
const (
	hashBase            = 48
	hashListpackPairMem = 8
	hashTablePairMem    = 80
)

// NewHash returns an empty listpack-encoded hash.
func NewHash() *Hash { return &Hash{} }

// Len is the number of fields.
func (h *Hash) Len() int { return len(h.pairs) }

// MemSize approximates the bytes the hash holds, in O(1).
func (h *Hash) MemSize() int64 {
	per := int64(hashListpackPairMem)
	if h.index != nil {
		per = hashTablePairMem
	}
	return hashBase + h.bytes + per*int64(len(h.pairs))
}

// Encoding is "listpack" or "hashtable", as OBJECT ENCODING reports.
func (h *Hash) Encoding() string {
	if h.index != nil {
		return "hashtable"
	}
	return "listpack"
}

// IsListpack reports whether the hash still has the small encoding, whose
// order is insertion order.
func (h *Hash) IsListpack() bool { return h.index == nil }

// Clone returns an independent copy with the same encoding and order.
func (h *Hash) Clone() Container {
	c := &Hash{pairs: append([]HashPair(nil), h.pairs...), bytes: h.bytes}
	if h.index != nil {
		c.index = make(map[string]int, len(h.index))
		for k, v := range h.index {
			c.index[k] = v
		}
	}
	return c
}

// find returns the position of field, or -1.
func (h *Hash) find(field []byte) int {
	if h.index != nil {
		if i, ok := h.index[string(field)]; ok {
			return i
		}
		return -1
	}
	for i := range h.pairs {
		if h.pairs[i].Field == string(field) {
			return i
		}
	}
	return -1
}

// Get returns field's value.
func (h *Hash) Get(field []byte) (string, bool) {
	if i := h.find(field); i >= 0 {
		return h.pairs[i].Value, true
	}
	return "", false
}

// Exists reports whether field is present.
func (h *Hash) Exists(field []byte) bool { return h.find(field) >= 0 }

// convert switches to the hashtable encoding (keeping the current order of
// the pairs, which a hashtable does not promise anyway).
func (h *Hash) convert() {
	if h.index != nil {
		return
	}
	h.index = make(map[string]int, len(h.pairs))
	for i, p := range h.pairs {
		h.index[p.Field] = i
	}
}

// FitArgs is Redis's hashTypeTryConversion: before a write of the given
// fields and values, a listpack hash converts when any of them is longer
// than maxValue bytes, whether or not the write then changes anything.
func (h *Hash) FitArgs(args [][]byte, maxValue int64) {
	if h.index != nil {
		return
	}
	for _, a := range args {
		if int64(len(a)) > maxValue {
			h.convert()
			return
		}
	}
}

// Set stores value under field and reports whether the field is new. A
// listpack hash converts first when field or value is longer than
// maxValue, and afterwards when it holds more than maxEntries fields.
func (h *Hash) Set(field, value []byte, maxEntries, maxValue int64) (created bool) {
	if h.index == nil && (int64(len(field)) > maxValue || int64(len(value)) > maxValue) {
		h.convert()
	}
	if i := h.find(field); i >= 0 {
		p := &h.pairs[i]
		h.bytes += int64(len(value) - len(p.Value))
		p.Value = string(value)
		return false
	}
	f := string(field)
	h.pairs = append(h.pairs, HashPair{Field: f, Value: string(value)})
	h.bytes += int64(len(field) + len(value))
	if h.index != nil {
		h.index[f] = len(h.pairs) - 1
	} else if int64(len(h.pairs)) > maxEntries {
		h.convert()
	}
	return true
}

// Delete removes field and reports whether it was present.
func (h *Hash) Delete(field []byte) bool {
	i := h.find(field)
	if i < 0 {
		return false
	}
	p := h.pairs[i]
	h.bytes -= int64(len(p.Field) + len(p.Value))
	last := len(h.pairs) - 1
	if h.index != nil {
		delete(h.index, p.Field)
		if i != last {
			h.pairs[i] = h.pairs[last]
			h.index[h.pairs[i].Field] = i
		}
	} else {
		copy(h.pairs[i:], h.pairs[i+1:])
	}
	h.pairs[last] = HashPair{}
	h.pairs = h.pairs[:last]
	return true
}

// At returns the i-th pair in iteration order (0 <= i < Len()); with a
// uniform i it gives HRANDFIELD's random pick.
func (h *Hash) At(i int) HashPair { return h.pairs[i] }

// Pairs returns the pairs in iteration order: insertion order for a
// listpack. The slice belongs to the hash: read it only, inside the
// transaction.
func (h *Hash) Pairs() []HashPair { return h.pairs }

// Scan visits up to count pairs from cursor and returns the cursor to pass
// next, 0 when the walk is complete. A listpack hash is returned whole in
// one call with cursor 0, as Redis does. A hashtable walks its dense slice
// from the end: the cursor is the number of positions still to visit, so a
// pair present for the whole walk is seen at least once even when other
// pairs are deleted (a delete only moves the last pair down) or added (they
// land above the cursor) between calls.
func (h *Hash) Scan(cursor uint64, count int, fn func(p HashPair)) uint64 {
	if h.index == nil || count <= 0 {
		for _, p := range h.pairs {
			fn(p)
		}
		return 0
	}
	n := uint64(len(h.pairs))
	if cursor == 0 || cursor > n {
		cursor = n
	}
	for ; cursor > 0 && count > 0; count-- {
		cursor--
		fn(h.pairs[cursor])
	}
	return cursor
}
