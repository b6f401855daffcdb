package store

import (
	"bytes"
	"strings"
	"unsafe"
)

// Hash is a hash value (HSET and friends), modelled on Redis 7.0's two
// encodings:
//
//   - "listpack": a small hash is one immutable string holding its
//     field/value pairs in insertion order, each string preceded by its
//     length as a uvarint, searched linearly as Redis's listpack is. A new
//     field is appended, an overwritten field keeps its place, a deleted
//     field closes the gap, so HGETALL/HKEYS/HVALS/HSCAN list fields in
//     insertion order, as Redis does. A write builds a new string of the
//     exact size (one allocation) and never changes the old one, so the
//     strings Get, At, Pairs and Scan hand out stay valid and unchanged
//     after later writes, and the hash costs one pointer-free block.
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
	lp string     // listpack encoding: uvarint(len) field uvarint(len) value …
	n  int        // pairs in lp
	ht *hashTable // nil while listpack-encoded
}

// hashTable is the large encoding.
type hashTable struct {
	pairs []HashPair
	index map[string]int
	bytes int64 // sum of field and value lengths
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
func (h *Hash) Len() int {
	if h.ht != nil {
		return len(h.ht.pairs)
	}
	return h.n
}

// MemSize approximates the bytes the hash holds, in O(1). For a listpack
// it counts the encoded string, whose two length prefixes per pair take
// the place of Redis's entry headers, plus hashListpackPairMem-2 per pair,
// so a hash of short fields and values costs hashListpackPairMem per pair
// beyond its bytes in either encoding's accounting.
func (h *Hash) MemSize() int64 {
	if h.ht != nil {
		return hashBase + h.ht.bytes + hashTablePairMem*int64(len(h.ht.pairs))
	}
	return hashBase + int64(len(h.lp)) + (hashListpackPairMem-2)*int64(h.n)
}

// Encoding is "listpack" or "hashtable", as OBJECT ENCODING reports.
func (h *Hash) Encoding() string {
	if h.ht != nil {
		return "hashtable"
	}
	return "listpack"
}

// IsListpack reports whether the hash still has the small encoding, whose
// order is insertion order.
func (h *Hash) IsListpack() bool { return h.ht == nil }

// Clone returns an independent copy with the same encoding and order. A
// listpack's string is immutable, so the copy shares it.
func (h *Hash) Clone() Container {
	c := &Hash{lp: h.lp, n: h.n}
	if h.ht != nil {
		c.ht = &hashTable{
			pairs: append([]HashPair(nil), h.ht.pairs...),
			index: make(map[string]int, len(h.ht.index)),
			bytes: h.ht.bytes,
		}
		for k, v := range h.ht.index {
			c.ht.index[k] = v
		}
	}
	return c
}

// lpString decodes the length-prefixed string at off in lp (a listpack
// string, or a []byte one is being built in) and returns it with the
// offset just past it.
func lpString[S ~string | ~[]byte](lp S, off int) (s S, next int) {
	var n, shift uint
	for {
		b := lp[off]
		off++
		n |= uint(b&0x7f) << shift
		if b < 0x80 {
			break
		}
		shift += 7
	}
	end := off + int(n)
	return lp[off:end], end
}

// lpAppend appends s with its uvarint length prefix.
func lpAppend(b *strings.Builder, s []byte) {
	n := uint(len(s))
	for n >= 0x80 {
		b.WriteByte(byte(n) | 0x80)
		n >>= 7
	}
	b.WriteByte(byte(n))
	b.Write(s)
}

// lpPut writes s with its uvarint length prefix at the start of dst, which
// has room for it, and returns the bytes written.
func lpPut(dst, s []byte) int {
	i, n := 0, uint(len(s))
	for ; n >= 0x80; n >>= 7 {
		dst[i] = byte(n) | 0x80
		i++
	}
	dst[i] = byte(n)
	return i + 1 + copy(dst[i+1:], s)
}

// lpSize is the encoded size of a string of n bytes.
func lpSize(n int) int {
	size := 1 + n
	for ; n >= 0x80; n >>= 7 {
		size++
	}
	return size
}

// lpPair locates a pair of a listpack: the offsets of its start, of its
// value's length prefix, and of its end.
type lpPair struct {
	start, value, end int
}

// lpFind returns field's pair in the listpack, and whether it is there.
func (h *Hash) lpFind(field []byte) (lpPair, bool) { return lpFind(h.lp, field) }

func lpFind[S ~string | ~[]byte](lp S, field []byte) (lpPair, bool) {
	for off := 0; off < len(lp); {
		f, voff := lpString(lp, off)
		_, end := lpString(lp, voff)
		if string(f) == string(field) {
			return lpPair{off, voff, end}, true
		}
		off = end
	}
	return lpPair{}, false
}

// Get returns field's value.
func (h *Hash) Get(field []byte) (string, bool) {
	if h.ht != nil {
		if i, ok := h.ht.index[string(field)]; ok {
			return h.ht.pairs[i].Value, true
		}
		return "", false
	}
	p, ok := h.lpFind(field)
	if !ok {
		return "", false
	}
	v, _ := lpString(h.lp, p.value)
	return v, true
}

// Exists reports whether field is present.
func (h *Hash) Exists(field []byte) bool {
	if h.ht != nil {
		_, ok := h.ht.index[string(field)]
		return ok
	}
	_, ok := h.lpFind(field)
	return ok
}

// convert switches to the hashtable encoding, keeping the current order of
// the pairs (which a hashtable does not promise anyway). The fields and
// values are copied so that the listpack string can be freed.
func (h *Hash) convert() {
	if h.ht != nil {
		return
	}
	t := &hashTable{pairs: make([]HashPair, 0, h.n+1), index: make(map[string]int, h.n+1)}
	h.ForEach(func(f, v string) {
		p := HashPair{Field: strings.Clone(f), Value: strings.Clone(v)}
		t.index[p.Field] = len(t.pairs)
		t.pairs = append(t.pairs, p)
		t.bytes += int64(len(f) + len(v))
	})
	h.ht, h.lp, h.n = t, "", 0
}

// FitArgs is Redis's hashTypeTryConversion: before a write of the given
// fields and values, a listpack hash converts when any of them is longer
// than maxValue bytes, whether or not the write then changes anything.
func (h *Hash) FitArgs(args [][]byte, maxValue int64) {
	if h.ht != nil {
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
// maxValue, and when the new field would make it hold more than
// maxEntries fields.
func (h *Hash) Set(field, value []byte, maxEntries, maxValue int64) (created bool) {
	if h.ht == nil && (int64(len(field)) > maxValue || int64(len(value)) > maxValue) {
		h.convert()
	}
	if h.ht != nil {
		return h.ht.set(field, value)
	}
	if p, ok := h.lpFind(field); ok {
		old, _ := lpString(h.lp, p.value)
		if old == string(value) {
			return false
		}
		var b strings.Builder
		b.Grow(len(h.lp) - (p.end - p.value) + lpSize(len(value)))
		b.WriteString(h.lp[:p.value])
		lpAppend(&b, value)
		b.WriteString(h.lp[p.end:])
		h.lp = b.String()
		return false
	}
	if int64(h.n+1) > maxEntries {
		h.convert()
		return h.ht.set(field, value)
	}
	var b strings.Builder
	b.Grow(len(h.lp) + lpSize(len(field)) + lpSize(len(value)))
	b.WriteString(h.lp)
	lpAppend(&b, field)
	lpAppend(&b, value)
	h.lp = b.String()
	h.n++
	return true
}

// SetPairs is Set for each field/value pair of args in turn (HSET, HMSET)
// and returns how many fields were new. A listpack gets its new string
// built once for all the pairs, not once per pair.
func (h *Hash) SetPairs(args [][]byte, maxEntries, maxValue int64) (created int) {
	i := 0
	if h.ht == nil && len(args) > 2 {
		i, created = h.lpSetPairs(args, maxEntries, maxValue)
	}
	for ; i+1 < len(args); i += 2 {
		if h.Set(args[i], args[i+1], maxEntries, maxValue) {
			created++
		}
	}
	return created
}

// lpSetPairs applies the pairs of args to a listpack in one new string,
// stopping at the first pair that makes it convert. It returns that pair's
// index in args (len(args) when none did) and the number of new fields.
func (h *Hash) lpSetPairs(args [][]byte, maxEntries, maxValue int64) (next, created int) {
	// Room for every pair appended: an overwrite grows the string by less.
	size := len(h.lp)
	for _, a := range args {
		size += lpSize(len(a))
	}
	buf := make([]byte, len(h.lp), size)
	copy(buf, h.lp)
	n, changed := h.n, false
	for ; next+1 < len(args); next += 2 {
		f, v := args[next], args[next+1]
		if int64(len(f)) > maxValue || int64(len(v)) > maxValue {
			break
		}
		if p, ok := lpFind(buf, f); ok {
			if old, _ := lpString(buf, p.value); bytes.Equal(old, v) {
				continue
			}
			// Move the pairs after the value to fit the new one.
			grow := lpSize(len(v)) - (p.end - p.value)
			tail := len(buf)
			buf = buf[:tail+max(grow, 0)]
			copy(buf[p.end+grow:], buf[p.end:tail])
			buf = buf[:tail+grow]
			lpPut(buf[p.value:], v)
			changed = true
			continue
		}
		if int64(n+1) > maxEntries {
			break
		}
		at := len(buf)
		buf = buf[:at+lpSize(len(f))+lpSize(len(v))]
		at += lpPut(buf[at:], f)
		lpPut(buf[at:], v)
		n++
		created++
		changed = true
	}
	if changed {
		if len(buf) == cap(buf) {
			// Exactly the size: the buffer becomes the string, never
			// written again.
			h.lp = unsafe.String(unsafe.SliceData(buf), len(buf))
		} else {
			h.lp = string(buf)
		}
		h.n = n
	}
	return next, created
}

// set is Set on the hashtable encoding.
func (t *hashTable) set(field, value []byte) (created bool) {
	if i, ok := t.index[string(field)]; ok {
		p := &t.pairs[i]
		t.bytes += int64(len(value) - len(p.Value))
		p.Value = string(value)
		return false
	}
	f := string(field)
	t.pairs = append(t.pairs, HashPair{Field: f, Value: string(value)})
	t.bytes += int64(len(field) + len(value))
	t.index[f] = len(t.pairs) - 1
	return true
}

// Delete removes field and reports whether it was present.
func (h *Hash) Delete(field []byte) bool {
	if h.ht != nil {
		return h.ht.delete(field)
	}
	p, ok := h.lpFind(field)
	if !ok {
		return false
	}
	h.n--
	if h.n == 0 {
		h.lp = ""
		return true
	}
	var b strings.Builder
	b.Grow(len(h.lp) - (p.end - p.start))
	b.WriteString(h.lp[:p.start])
	b.WriteString(h.lp[p.end:])
	h.lp = b.String()
	return true
}

// delete is Delete on the hashtable encoding.
func (t *hashTable) delete(field []byte) bool {
	i, ok := t.index[string(field)]
	if !ok {
		return false
	}
	p := t.pairs[i]
	t.bytes -= int64(len(p.Field) + len(p.Value))
	last := len(t.pairs) - 1
	delete(t.index, p.Field)
	if i != last {
		t.pairs[i] = t.pairs[last]
		t.index[t.pairs[i].Field] = i
	}
	t.pairs[last] = HashPair{}
	t.pairs = t.pairs[:last]
	return true
}

// At returns the i-th pair in iteration order (0 <= i < Len()); with a
// uniform i it gives HRANDFIELD's random pick. It is O(i) on a listpack.
func (h *Hash) At(i int) HashPair {
	if h.ht != nil {
		return h.ht.pairs[i]
	}
	off := 0
	for ; i > 0; i-- {
		_, voff := lpString(h.lp, off)
		_, off = lpString(h.lp, voff)
	}
	f, voff := lpString(h.lp, off)
	v, _ := lpString(h.lp, voff)
	return HashPair{Field: f, Value: v}
}

// ForEach calls fn for every pair in iteration order: insertion order for a
// listpack. It allocates nothing.
func (h *Hash) ForEach(fn func(field, value string)) {
	if h.ht != nil {
		for _, p := range h.ht.pairs {
			fn(p.Field, p.Value)
		}
		return
	}
	for off := 0; off < len(h.lp); {
		f, voff := lpString(h.lp, off)
		v, end := lpString(h.lp, voff)
		fn(f, v)
		off = end
	}
}

// Pairs returns the pairs in iteration order: insertion order for a
// listpack. For a hashtable the slice belongs to the hash (read it only,
// inside the transaction); for a listpack it is built for the call. Prefer
// ForEach, which allocates nothing.
func (h *Hash) Pairs() []HashPair {
	if h.ht != nil {
		return h.ht.pairs
	}
	if h.n == 0 {
		return nil
	}
	out := make([]HashPair, 0, h.n)
	h.ForEach(func(f, v string) { out = append(out, HashPair{Field: f, Value: v}) })
	return out
}

// Scan visits up to count pairs from cursor and returns the cursor to pass
// next, 0 when the walk is complete. A listpack hash is returned whole in
// one call with cursor 0, as Redis does. A hashtable walks its dense slice
// from the end: the cursor is the number of positions still to visit, so a
// pair present for the whole walk is seen at least once even when other
// pairs are deleted (a delete only moves the last pair down) or added (they
// land above the cursor) between calls.
func (h *Hash) Scan(cursor uint64, count int, fn func(p HashPair)) uint64 {
	if h.ht == nil || count <= 0 {
		h.ForEach(func(f, v string) { fn(HashPair{Field: f, Value: v}) })
		return 0
	}
	pairs := h.ht.pairs
	n := uint64(len(pairs))
	if cursor == 0 || cursor > n {
		cursor = n
	}
	for ; cursor > 0 && count > 0; count-- {
		cursor--
		fn(pairs[cursor])
	}
	return cursor
}
