package store

import (
	"math"
	"unsafe"
)

// Memory layout of entries.
//
// Most keys of a cache are strings, and a Go value built the obvious way (a
// key string, an entry struct, a value slice) costs three allocations, two
// of them scanned by every garbage collection. A string entry is instead
// one pointer-free allocation:
//
//	[entry header][key bytes][value bytes: strLen used, strCap reserved]
//
// The shard's index (index.go) holds only a pointer to the entry and finds
// the key through it (entry.key), so that pointer is all the collector
// follows per key, and the allocation itself is never scanned. The key bytes
// never change after the entry is made; the value bytes change in place
// while the new value fits the reserved room, otherwise the entry is rebuilt
// and takes the old one's place (shard.relocate), so callers that may grow a
// string continue with the entry they get back.
//
// A hash is its own entry: Hash (hash.go) is a 32-byte header laid out as
// entry is, with a pointer to the hash's block and the block's length in
// place of the three lengths (and a short count of pairs in its padding),
// so the header is a typed allocation the collector scans for that one
// pointer. The key is not in it: a listpack hash keeps its key in its
// pointer-free block, after the pairs, so a small hash is two allocations,
// the header and the block, and the *Hash a transaction hands out is the
// entry itself, stable for the entry's life whatever the writes do to the
// block. Nothing may read or write an entry's lengths before checking its
// form.
//
// Lists, sets and sorted sets, and strings whose key plus room do not fit
// maxInline, are a boxedEntry: the same header followed by ordinary Go
// fields (the key among them), allocated as a typed struct.

// entryForm says how an entry's value is stored.
type entryForm uint8

const (
	// formBare is the zero entry: no value (tests build these).
	formBare entryForm = iota
	// formInline: key and value bytes follow the header.
	formInline
	// formBoxed: the entry is the head of a boxedEntry.
	formBoxed
	// formHash: the entry is a Hash.
	formHash
)

// boxedEntry is an entry whose value needs Go pointers.
type boxedEntry struct {
	entry
	key string    // the entry's key
	str []byte    // a KindString value too long for formInline
	obj Container // the other kinds
}

// entryHeader is the size of the header an inline entry's bytes follow.
const entryHeader = int(unsafe.Sizeof(entry{}))

// A Hash is read as an entry: its shared fields must sit where entry's do
// (a negative difference does not compile as a uint), its n8 in entry's
// padding.
const (
	_ = uint(unsafe.Offsetof(entry{}.entryTag) - unsafe.Offsetof(Hash{}.entryTag))
	_ = uint(unsafe.Offsetof(Hash{}.entryTag) - unsafe.Offsetof(entry{}.entryTag))
	_ = uint(unsafe.Sizeof(entry{}) - unsafe.Sizeof(Hash{}))
	_ = uint(unsafe.Sizeof(Hash{}) - unsafe.Sizeof(entry{}))
)

// maxInline bounds the key bytes plus value room of an inline entry (its
// lengths are 32-bit). A variable so that tests can exercise the boxed form.
var maxInline = math.MaxInt32

// newStringEntry returns a string entry holding copies of key and val, with
// room for capacity (>= len(val)) value bytes, not yet in any shard.
func newStringEntry(key, val []byte, capacity int) *entry {
	var e *entry
	if len(key) > maxInline-capacity {
		b := &boxedEntry{key: string(key), str: append(make([]byte, 0, capacity), val...)}
		e = &b.entry
		e.form = formBoxed
	} else {
		// A []byte allocation is never scanned by the collector, which is
		// right: the header holds no pointers.
		buf := make([]byte, entryHeader+len(key)+capacity)
		copy(buf[entryHeader:], key)
		copy(buf[entryHeader+len(key):], val)
		e = (*entry)(unsafe.Pointer(unsafe.SliceData(buf)))
		e.keyLen, e.strLen, e.strCap = uint32(len(key)), uint32(len(val)), uint32(capacity)
		e.form = formInline
	}
	e.kind = KindString
	e.ttlIdx = -1
	return e
}

// newContainerEntry returns an entry for key holding c, of kind k. A *Hash
// is copied into a new Hash that is the entry and holds key: the caller
// goes on with the entry's obj, not with c.
func newContainerEntry(key []byte, c Container, k Kind) *entry {
	var e *entry
	if h, ok := c.(*Hash); ok {
		n := &Hash{p: h.p, lpLen: h.lpLen, n8: h.n8}
		n.rekey(key)
		e = (*entry)(unsafe.Pointer(n))
		e.form = formHash
	} else {
		b := &boxedEntry{key: string(key), obj: c}
		e = &b.entry
		e.form = formBoxed
	}
	e.kind = k
	e.ttlIdx = -1
	return e
}

// hash is the Hash a formHash entry is.
func (e *entry) hash() *Hash {
	if e.form != formHash {
		panic("store: hash of another entry")
	}
	return (*Hash)(unsafe.Pointer(e))
}

// box is the boxedEntry a formBoxed entry heads.
func (e *entry) box() *boxedEntry {
	if e.form != formBoxed {
		panic("store: box of an unboxed entry")
	}
	return (*boxedEntry)(unsafe.Pointer(e))
}

// tail is an inline entry's bytes after the header: key, then value room.
func (e *entry) tail() []byte {
	if e.form != formInline {
		return nil
	}
	n := int(e.keyLen) + int(e.strCap)
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(e), entryHeader)), n)
}

// str is a string entry's value; its capacity is the room reserved for it.
// Callers may change its bytes, not its length.
func (e *entry) str() []byte {
	switch e.form {
	case formInline:
		t := e.tail()
		return t[e.keyLen : e.keyLen+e.strLen : e.keyLen+e.strCap]
	case formBoxed:
		return e.box().str
	}
	return nil
}

// obj is a container entry's value, nil for strings.
func (e *entry) obj() Container {
	switch e.form {
	case formBoxed:
		return e.box().obj
	case formHash:
		return e.hash()
	}
	return nil
}

// key is the entry's key: for an inline entry a string over its own key
// bytes, which never change. Every index lookup reads it, so the inline
// case stays small enough to inline into the callers.
func (e *entry) key() string {
	if e.form == formInline && e.keyLen != 0 {
		return unsafe.String((*byte)(unsafe.Add(unsafe.Pointer(e), entryHeader)), e.keyLen)
	}
	return e.keyOther()
}

// keyOther is key for the other forms (and an empty inline key).
func (e *entry) keyOther() string {
	switch e.form {
	case formBoxed:
		return e.box().key
	case formHash:
		h := (*Hash)(unsafe.Pointer(e))
		if k, ok := h.shortKey(); ok {
			return k
		}
		return h.keySlow()
	}
	return ""
}

// setStr stores a copy of val as a string entry's value. It writes in place
// when val fits the reserved room without wasting much of it, and returns
// the entry to continue with: e, or its rebuilt replacement.
func (sh *shard) setStr(key []byte, e *entry, val []byte) *entry {
	room := cap(e.str())
	if room >= len(val) && room <= 2*len(val)+32 {
		return sh.setStrLen(key, e, len(val), copyFrom(val))
	}
	n := newStringEntry(key, val, len(val))
	sh.relocate(e, n)
	return n
}

// growStr makes a string entry's value n >= len bytes long, zero-filling the
// new bytes, with at least capacity bytes of room when it must rebuild, and
// returns the entry to continue with.
func (sh *shard) growStr(key []byte, e *entry, n, capacity int) *entry {
	if n <= cap(e.str()) {
		return sh.setStrLen(key, e, n, zeroFrom(len(e.str())))
	}
	n2 := newStringEntry(key, e.str(), max(capacity, n))
	sh.relocate(e, n2)
	return sh.setStrLen(key, n2, n, zeroFrom(len(e.str())))
}

// copyFrom and zeroFrom say how setStrLen fills the value.
type strFill struct {
	src  []byte
	from int // with src nil: zero the bytes from here to the new length
}

func copyFrom(src []byte) strFill { return strFill{src: src} }
func zeroFrom(i int) strFill      { return strFill{from: i} }

// setStrLen sets the value's length to n (within its room) and fills it.
func (sh *shard) setStrLen(key []byte, e *entry, n int, fill strFill) *entry {
	switch e.form {
	case formInline:
		e.strLen = uint32(n)
	case formBoxed:
		b := e.box()
		b.str = b.str[:n]
	default:
		panic("store: string value of a bare entry")
	}
	v := e.str()
	if fill.src != nil {
		copy(v, fill.src)
	} else {
		clear(v[fill.from:])
	}
	return e
}

// relocate puts n, a rebuilt copy of e under the same key, in e's place:
// same index slot, TTL index position, expiry, access clock and encoding.
// used_memory is the caller's to adjust.
func (sh *shard) relocate(e, n *entry) {
	n.expireAt = e.expireAt
	n.access.Store(e.access.Load())
	n.ttlIdx = e.ttlIdx
	n.kind, n.enc = e.kind, e.enc
	key := n.key()
	sh.idx.put(sh.idx.hash(key), n)
	if n.ttlIdx >= 0 {
		sh.ttlKeys[n.ttlIdx] = n
	}
}

// rekeyed returns e ready to be stored under another key (RENAME), not in
// any shard: a copy carrying the new key when e's key is inline, else e
// itself, renamed.
func (e *entry) rekeyed(key []byte) *entry {
	if e.form != formInline {
		switch e.form {
		case formBoxed:
			e.box().key = string(key)
		case formHash:
			e.hash().rekey(key) // a new block: strings handed out stay
		}
		return e
	}
	v := e.str()
	n := newStringEntry(key, v, cap(v))
	n.expireAt = e.expireAt
	n.access.Store(e.access.Load())
	n.enc = e.enc
	return n
}
