package store

import (
	"bytes"
	"encoding/binary"
	"strings"
	"unsafe"
)

// Hash is a hash value (HSET and friends), modelled on Redis 7.0's two
// encodings:
//
//   - "listpack": a small hash is one immutable, pointer-free block holding
//     its field/value pairs in insertion order, each string preceded by its
//     length as a uvarint, searched linearly as Redis's listpack is. A new
//     field is appended, an overwritten field keeps its place, a deleted
//     field closes the gap, so HGETALL/HKEYS/HVALS/HSCAN list fields in
//     insertion order, as Redis does. A write builds a new block of the
//     exact size (one allocation) and never changes the old one, so the
//     strings Get, At, Pairs and Scan hand out stay valid and unchanged
//     after later writes.
//   - "hashtable": once the hash holds more than hash-max-listpack-entries
//     fields, or a field or value longer than hash-max-listpack-value bytes
//     is written, it converts for good (Redis never converts back). The
//     pairs then live in a dense slice indexed by a map; a delete moves the
//     last pair into the gap. Redis's dict order is not reproducible anyway,
//     so clients must not rely on the order of a hashtable-encoded hash.
//
// A hash in the store is its key's entry (layout.go): a 32-byte header
// pointing at the hash's block, which holds the pairs, then the key,
// length-prefixed like them, then the number of pairs as a uvarint. A
// small hash thus costs two allocations, the header and one pointer-free
// block. The key moves with each new block; a hashtable keeps it in the
// table.
//
// The thresholds come from the server's configuration; the store does not
// read it, so the methods that can grow the hash take them as arguments.
type Hash struct {
	// entryHead and entryTag are the entry's header fields when the hash
	// is in the store (layout.go), unused outside it.
	entryHead
	// p is, while listpack-encoded, the block: lpLen bytes of pairs, then
	// uvarint(len(key)) key uvarint(pairs); nil for an empty hash not in
	// the store. Once converted it is the *hashTable, and lpLen is
	// hashTableMark. One word for both keeps the header at 32 bytes.
	p     unsafe.Pointer
	lpLen uint32
	entryTag
	// n8 is the number of pairs of a listpack when under 255, read on
	// every write (Len, MemSize); 255 sends count to the block.
	n8 uint8
}

// n8Max in Hash.n8: the count is in the block only.
const n8Max = 255

// hashTableMark in Hash.lpLen says that p is a *hashTable.
const hashTableMark = ^uint32(0)

// hashMaxListpackBytes bounds a listpack's bytes: a write that would pass
// it converts the hash first, as Redis's lpSafeToAdd does at 1 GiB. It
// also keeps lpLen below hashTableMark. A variable for tests.
var hashMaxListpackBytes = 1 << 30

// hashTable is the large encoding.
type hashTable struct {
	pairs []HashPair
	index map[string]int
	bytes int64  // sum of field and value lengths
	key   string // the key of the entry holding the hash
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

// emptyHash is an empty hash new entries copy; never changed.
var emptyHash Hash

// table is the hashtable encoding, nil while listpack-encoded.
func (h *Hash) table() *hashTable {
	if h.lpLen == hashTableMark {
		return (*hashTable)(h.p)
	}
	return nil
}

// lp is the listpack encoding's pairs: uvarint(len) field uvarint(len)
// value …; "" for a hashtable.
func (h *Hash) lp() string {
	// One comparison for lpLen 0 (no pointer to the block's end) and
	// hashTableMark: both wrap to the top when 1 is taken.
	if h.lpLen-1 >= hashTableMark-1 {
		return ""
	}
	return unsafe.String((*byte)(h.p), int(h.lpLen))
}

// uvarintAt decodes the uvarint at offset off of the block p, which holds
// one there, and returns it with the offset past it.
func uvarintAt(p unsafe.Pointer, off int) (v, next int) {
	for shift := uint(0); ; shift += 7 {
		c := *(*byte)(unsafe.Add(p, off))
		off++
		v |= int(c&0x7f) << shift
		if c < 0x80 {
			return v, off
		}
	}
}

// uvarintSize is the encoded size of v.
func uvarintSize(v int) int { return lpSize(v) - v }

// keyAt is where a listpack's key starts in the block, and its length.
func (h *Hash) keyAt() (off, n int) {
	n, off = uvarintAt(h.p, int(h.lpLen))
	return off, n
}

// count is a listpack's number of pairs.
func (h *Hash) count() int {
	if h.n8 < n8Max {
		return int(h.n8)
	}
	return h.countSlow()
}

// countSlow is count from the block, where it follows the key.
func (h *Hash) countSlow() int {
	off, k := h.keyAt()
	n, _ := uvarintAt(h.p, off+k)
	return n
}

// keyPart is the length-prefixed key that follows the pairs in a
// listpack's block, which a new block copies.
func (h *Hash) keyPart() string {
	if h.p == nil {
		return "\x00" // the empty key
	}
	off, n := h.keyAt()
	return unsafe.String((*byte)(unsafe.Add(h.p, h.lpLen)), off+n-int(h.lpLen))
}

// key is the key of the entry the hash is ("" outside the store).
func (h *Hash) key() string {
	if k, ok := h.shortKey(); ok {
		return k
	}
	return h.keySlow()
}

// shortKey is key for a listpack's key of 1 to 127 bytes, the common case,
// small enough to inline: every index lookup that meets the entry reads
// its key (entry.key).
func (h *Hash) shortKey() (string, bool) {
	if h.lpLen < hashTableMark && h.p != nil {
		if n := *(*byte)(unsafe.Add(h.p, h.lpLen)); n-1 < 0x7f {
			return unsafe.String((*byte)(unsafe.Add(h.p, uintptr(h.lpLen)+1)), n), true
		}
	}
	return "", false
}

// keySlow is key for a hashtable, an empty key or a long one.
func (h *Hash) keySlow() string {
	if h.lpLen == hashTableMark {
		return (*hashTable)(h.p).key
	}
	if h.p == nil {
		return ""
	}
	off, n := h.keyAt()
	if n == 0 {
		return "" // and no pointer to the block's end
	}
	return unsafe.String((*byte)(unsafe.Add(h.p, off)), n)
}

// rekey makes key the hash's key: its entry is made or renamed.
func (h *Hash) rekey(key []byte) {
	if h.key() == string(key) {
		return
	}
	if t := h.table(); t != nil {
		t.key = string(key)
		return
	}
	lp, n := h.lp(), h.count()
	b := make([]byte, 0, len(lp)+lpSize(len(key))+uvarintSize(n))
	b = lpAppendBytes(append(b, lp...), key)
	b = binary.AppendUvarint(b, uint64(n))
	h.p = unsafe.Pointer(unsafe.SliceData(b))
}

// newLP returns an empty buffer for a listpack of size bytes followed by
// keyPart and the count n; commit makes it the hash's block.
func newLP(size, n int, keyPart string) []byte {
	return make([]byte, 0, size+uvarintSize(n)+len(keyPart))
}

// commit makes lp, freshly built, the hash's listpack of n pairs: keyPart
// and the count are appended and the block is never written again. A
// buffer with room to spare or too little is copied into one of the exact
// size.
func (h *Hash) commit(lp []byte, keyPart string, n int) {
	size := len(lp)
	if need := size + len(keyPart) + uvarintSize(n); cap(lp) != need {
		lp = append(make([]byte, 0, need), lp...)
	}
	blk := binary.AppendUvarint(append(lp, keyPart...), uint64(n))
	h.p, h.lpLen, h.n8 = unsafe.Pointer(unsafe.SliceData(blk)), uint32(size), uint8(min(n, n8Max))
}

// Len is the number of fields.
func (h *Hash) Len() int {
	if t := h.table(); t != nil {
		return len(t.pairs)
	}
	return h.count()
}

// MemSize approximates the bytes the hash holds, in O(1). For a listpack
// it counts the encoded pairs, whose two length prefixes per pair take the
// place of Redis's entry headers, plus hashListpackPairMem-2 per pair, so
// a hash of short fields and values costs hashListpackPairMem per pair
// beyond its bytes in either encoding's accounting.
func (h *Hash) MemSize() int64 {
	if t := h.table(); t != nil {
		return hashBase + t.bytes + hashTablePairMem*int64(len(t.pairs))
	}
	return hashBase + int64(h.lpLen) + (hashListpackPairMem-2)*int64(h.count())
}

// Encoding is "listpack" or "hashtable", as OBJECT ENCODING reports.
func (h *Hash) Encoding() string {
	if h.lpLen == hashTableMark {
		return "hashtable"
	}
	return "listpack"
}

// IsListpack reports whether the hash still has the small encoding, whose
// order is insertion order.
func (h *Hash) IsListpack() bool { return h.lpLen != hashTableMark }

// Clone returns an independent copy with the same encoding and order. A
// listpack's block is immutable, so the copy shares it (an entry taking
// the copy gives it a block with its own key).
func (h *Hash) Clone() Container {
	c := &Hash{p: h.p, lpLen: h.lpLen, n8: h.n8}
	if t := h.table(); t != nil {
		ct := &hashTable{
			pairs: append([]HashPair(nil), t.pairs...),
			index: make(map[string]int, len(t.index)),
			bytes: t.bytes,
			key:   t.key,
		}
		for k, v := range t.index {
			ct.index[k] = v
		}
		c.p = unsafe.Pointer(ct)
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

// lpAppendBytes appends s with its uvarint length prefix to dst.
func lpAppendBytes(dst, s []byte) []byte {
	n := uint(len(s))
	for ; n >= 0x80; n >>= 7 {
		dst = append(dst, byte(n)|0x80)
	}
	return append(append(dst, byte(n)), s...)
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
	if t := h.table(); t != nil {
		if i, ok := t.index[string(field)]; ok {
			return t.pairs[i].Value, true
		}
		return "", false
	}
	lp := h.lp()
	p, ok := lpFind(lp, field)
	if !ok {
		return "", false
	}
	v, _ := lpString(lp, p.value)
	return v, true
}

// Exists reports whether field is present.
func (h *Hash) Exists(field []byte) bool {
	if t := h.table(); t != nil {
		_, ok := t.index[string(field)]
		return ok
	}
	_, ok := lpFind(h.lp(), field)
	return ok
}

// convert switches to the hashtable encoding, keeping the current order of
// the pairs (which a hashtable does not promise anyway). The fields,
// values and key are copied so that the block can be freed.
func (h *Hash) convert() {
	if h.lpLen == hashTableMark {
		return
	}
	n := h.count()
	t := &hashTable{
		pairs: make([]HashPair, 0, n+1),
		index: make(map[string]int, n+1),
		key:   strings.Clone(h.key()),
	}
	h.ForEach(func(f, v string) {
		p := HashPair{Field: strings.Clone(f), Value: strings.Clone(v)}
		t.index[p.Field] = len(t.pairs)
		t.pairs = append(t.pairs, p)
		t.bytes += int64(len(f) + len(v))
	})
	h.p, h.lpLen, h.n8 = unsafe.Pointer(t), hashTableMark, 0
}

// FitArgs is Redis's hashTypeTryConversion: before a write of the given
// fields and values, a listpack hash converts when any of them is longer
// than maxValue bytes, whether or not the write then changes anything.
func (h *Hash) FitArgs(args [][]byte, maxValue int64) {
	if h.lpLen == hashTableMark {
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
// maxEntries fields (or its listpack more than hashMaxListpackBytes).
func (h *Hash) Set(field, value []byte, maxEntries, maxValue int64) (created bool) {
	if h.lpLen != hashTableMark && (int64(len(field)) > maxValue || int64(len(value)) > maxValue) {
		h.convert()
	}
	if t := h.table(); t != nil {
		return t.set(field, value)
	}
	lp := h.lp()
	if p, ok := lpFind(lp, field); ok {
		old, _ := lpString(lp, p.value)
		if old == string(value) {
			return false
		}
		size := len(lp) - (p.end - p.value) + lpSize(len(value))
		if size > hashMaxListpackBytes {
			h.convert()
			return h.table().set(field, value)
		}
		n, part := h.count(), h.keyPart()
		b := append(newLP(size, n, part), lp[:p.value]...)
		b = append(lpAppendBytes(b, value), lp[p.end:]...)
		h.commit(b, part, n)
		return false
	}
	n := h.count()
	size := len(lp) + lpSize(len(field)) + lpSize(len(value))
	if int64(n)+1 > maxEntries || size > hashMaxListpackBytes {
		h.convert()
		return h.table().set(field, value)
	}
	part := h.keyPart()
	b := append(newLP(size, n+1, part), lp...)
	b = lpAppendBytes(lpAppendBytes(b, field), value)
	h.commit(b, part, n+1)
	return true
}

// SetPairs is Set for each field/value pair of args in turn (HSET, HMSET)
// and returns how many fields were new. A listpack gets its new block
// built once for all the pairs, not once per pair.
func (h *Hash) SetPairs(args [][]byte, maxEntries, maxValue int64) (created int) {
	i := 0
	if h.lpLen != hashTableMark && len(args) > 2 {
		i, created = h.lpSetPairs(args, maxEntries, maxValue)
	}
	for ; i+1 < len(args); i += 2 {
		if h.Set(args[i], args[i+1], maxEntries, maxValue) {
			created++
		}
	}
	return created
}

// lpSetPairs applies the pairs of args to a listpack in one new block,
// stopping at the first pair that makes it convert. It returns that pair's
// index in args (len(args) when none did) and the number of new fields.
// When the pairs could take the listpack past hashMaxListpackBytes it does
// nothing and leaves them to Set, which checks each.
func (h *Hash) lpSetPairs(args [][]byte, maxEntries, maxValue int64) (next, created int) {
	// Room for every pair appended: an overwrite grows the listpack by less.
	lp, n := h.lp(), h.count()
	size := len(lp)
	for _, a := range args {
		size += lpSize(len(a))
	}
	if size > hashMaxListpackBytes {
		return 0, 0
	}
	part := h.keyPart()
	buf := append(newLP(size, n+len(args)/2, part), lp...)
	changed := false
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
			end := len(buf)
			buf = buf[:end+max(grow, 0)]
			copy(buf[p.end+grow:], buf[p.end:end])
			buf = buf[:end+grow]
			lpPut(buf[p.value:], v)
			changed = true
			continue
		}
		if int64(n)+1 > maxEntries {
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
		h.commit(buf, part, n)
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
	if t := h.table(); t != nil {
		return t.delete(field)
	}
	lp := h.lp()
	p, ok := lpFind(lp, field)
	if !ok {
		return false
	}
	n, part := h.count()-1, h.keyPart()
	b := append(newLP(len(lp)-(p.end-p.start), n, part), lp[:p.start]...)
	h.commit(append(b, lp[p.end:]...), part, n)
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
	if t := h.table(); t != nil {
		return t.pairs[i]
	}
	lp, off := h.lp(), 0
	for ; i > 0; i-- {
		_, voff := lpString(lp, off)
		_, off = lpString(lp, voff)
	}
	f, voff := lpString(lp, off)
	v, _ := lpString(lp, voff)
	return HashPair{Field: f, Value: v}
}

// ForEach calls fn for every pair in iteration order: insertion order for a
// listpack. It allocates nothing.
func (h *Hash) ForEach(fn func(field, value string)) {
	if t := h.table(); t != nil {
		for _, p := range t.pairs {
			fn(p.Field, p.Value)
		}
		return
	}
	lp := h.lp()
	for off := 0; off < len(lp); {
		f, voff := lpString(lp, off)
		v, end := lpString(lp, voff)
		fn(f, v)
		off = end
	}
}

// Pairs returns the pairs in iteration order: insertion order for a
// listpack. For a hashtable the slice belongs to the hash (read it only,
// inside the transaction); for a listpack it is built for the call. Prefer
// ForEach, which allocates nothing.
func (h *Hash) Pairs() []HashPair {
	if t := h.table(); t != nil {
		return t.pairs
	}
	n := h.count()
	if n == 0 {
		return nil
	}
	out := make([]HashPair, 0, n)
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
	t := h.table()
	if t == nil || count <= 0 {
		h.ForEach(func(f, v string) { fn(HashPair{Field: f, Value: v}) })
		return 0
	}
	pairs := t.pairs
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
