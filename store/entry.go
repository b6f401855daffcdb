package store

import (
	"strconv"
	"sync/atomic"
)

// Kind is the type of a value, as TYPE reports it.
type Kind uint8

// The kinds of value a key can hold. KindNone is a missing key.
const (
	KindNone Kind = iota
	KindString
	KindList
	KindHash
	KindSet
	KindZSet
)

// String returns the name TYPE replies with.
func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindList:
		return "list"
	case KindHash:
		return "hash"
	case KindSet:
		return "set"
	case KindZSet:
		return "zset"
	default:
		return "none"
	}
}

// Container is a non-string value (list, hash, set, sorted set). Each type
// lives in its own file of this package and keeps its own byte count, so the
// store can account memory without walking it.
type Container interface {
	// Len is the number of elements; a container that reaches 0 is deleted
	// with its key, as in Redis.
	Len() int
	// MemSize approximates the bytes the value holds.
	MemSize() int64
	// Encoding is what OBJECT ENCODING reports (listpack, hashtable…).
	Encoding() string
	// Clone returns a deep copy (COPY).
	Clone() Container
}

// Encoding mirrors Redis's object encodings, which OBJECT ENCODING reports and
// some clients and tests inspect.
type Encoding uint8

// String encodings. EncodingAuto picks int/embstr/raw as Redis's
// tryObjectEncoding does for a freshly set value; EncodingEmbstr is what Redis's
// createStringObject gives (embstr up to 44 bytes, raw above); EncodingRaw is
// what an in-place edit (APPEND, SETRANGE) leaves.
const (
	EncodingAuto Encoding = iota
	EncodingEmbstr
	EncodingRaw
	EncodingInt
)

// embstrLimit is Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT.
const embstrLimit = 44

// entryOverhead approximates the bytes an entry costs beyond its key and value:
// the index slot, the entry struct and the slice headers. It feeds used_memory.
const entryOverhead = 80

// entry is one key's value and metadata. It is reached only under its shard's
// lock; access is atomic so that readers holding a read lock can update it.
//
// The struct holds no pointers, so that a string key costs one allocation
// the garbage collector never scans (see layout.go): an inline entry is this
// header followed by the key's bytes and then the value's. Lists, sets,
// sorted sets (and strings too long for the 32-bit lengths) live in a
// boxedEntry, which begins with this header. A hash is its own entry: Hash
// has entryHead and entryTag where entry has them, and its own fields in
// place of the three lengths and the padding byte. str and obj read the
// value whatever the form.
type entry struct {
	entryHead
	keyLen uint32 // formInline: key bytes after the header
	strLen uint32 // formInline: value bytes after the key
	strCap uint32 // formInline: value bytes reserved after the key
	entryTag
}

// entryHead is the start of every entry's header.
type entryHead struct {
	expireAt int64 // Unix ms; 0 means no expiry
	access   atomic.Uint32
	ttlIdx   int32 // position in shard.ttlKeys, -1 when expireAt == 0
}

// entryTag is the end of every entry's header: what the entry holds.
type entryTag struct {
	kind Kind
	enc  Encoding
	form entryForm
}

// size is the entry's contribution to used_memory.
func (e *entry) size(key string) int64 { return e.sizeLen(len(key)) }

// sizeLen is size for a key of keyLen bytes.
func (e *entry) sizeLen(keyLen int) int64 {
	n := int64(keyLen + cap(e.str()) + entryOverhead)
	if obj := e.obj(); obj != nil {
		n += obj.MemSize()
	}
	return n
}

// encodingName is what OBJECT ENCODING prints.
func (e *entry) encodingName() string {
	if obj := e.obj(); obj != nil {
		return obj.Encoding()
	}
	switch e.enc {
	case EncodingInt:
		return "int"
	case EncodingRaw:
		return "raw"
	case EncodingEmbstr:
		return "embstr"
	}
	return "raw"
}

// resolveEncoding applies Redis's rules for the encoding of a string value.
func resolveEncoding(val []byte, enc Encoding) Encoding {
	switch enc {
	case EncodingAuto:
		if len(val) <= 20 && isCanonicalInt(val) {
			return EncodingInt
		}
		if len(val) <= embstrLimit {
			return EncodingEmbstr
		}
		return EncodingRaw
	case EncodingEmbstr:
		if len(val) <= embstrLimit {
			return EncodingEmbstr
		}
		return EncodingRaw
	}
	return enc
}

// isCanonicalInt reports whether val is the canonical decimal form of an
// int64 (no sign on zero, no leading zeros, no spaces), as Redis's string2ll
// requires before storing a string as an integer.
func isCanonicalInt(val []byte) bool {
	if len(val) == 0 || len(val) > 20 {
		return false
	}
	if len(val) == 1 && val[0] == '0' {
		return true
	}
	digits := val
	if digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || digits[0] < '1' || digits[0] > '9' {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	if len(digits) < 19 {
		return true // fewer than 19 digits always fits in an int64
	}
	_, err := strconv.ParseInt(string(val), 10, 64)
	return err == nil
}
