package server

// DEBUG DIGEST and DEBUG DIGEST-VALUE compute the same SHA1-based
// signatures as Redis 7.0's debug.c, so identical data gives identical
// digests on both servers; DEBUG OBJECT's serializedlength is the size of
// the value's RDB encoding, LZF compression included.

import (
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"strconv"

	"github.com/cachalotdb/cachalot/store"
)

// digest is a 20-byte SHA1-sized accumulator.
type digest [sha1.Size]byte

// zeroDigestHex is what an empty dataset or a missing key digests to.
var zeroDigestHex = hex.EncodeToString(make([]byte, sha1.Size))

// xor folds SHA1(data) into d; the order of xors does not matter.
func (d *digest) xor(data []byte) {
	h := sha1.Sum(data)
	for i := range d {
		d[i] ^= h[i]
	}
}

// mix sets d to SHA1(d xor SHA1(data)), so the order of mixes matters.
func (d *digest) mix(data []byte) {
	d.xor(data)
	*d = sha1.Sum(d[:])
}

func (d *digest) String() string { return hex.EncodeToString(d[:]) }

// redisObjType is the value's type as Redis numbers them (OBJ_STRING = 0,
// OBJ_LIST, OBJ_SET, OBJ_ZSET, OBJ_HASH, …).
func redisObjType(k store.Kind) uint32 {
	switch k {
	case store.KindString:
		return 0
	case store.KindList:
		return 1
	case store.KindHash:
		return 4
	case store.KindSet:
		return 2
	case store.KindZSet:
		return 3
	}
	return 0
}

var expireMarker = []byte("!!expire!!")

// objectDigest mixes one value into d as Redis's xorObjectDigest: the
// type as a big-endian 32-bit number, then the value, then a marker when
// the key has an expire (its time is not part of the digest).
func objectDigest(d *digest, it store.Item) {
	var typ [4]byte
	binary.BigEndian.PutUint32(typ[:], redisObjType(it.Kind))
	d.mix(typ[:])
	switch it.Kind {
	case store.KindString:
		d.mix(it.Str)
	case store.KindList:
		for _, e := range it.Value.(*store.List).Elements() {
			d.mix(e)
		}
	case store.KindHash:
		hashDigest(d, it.Value.(*store.Hash))
	case store.KindSet:
		setDigest(d, it.Value.(*store.Set))
	case store.KindZSet:
		zsetDigest(d, it.Value.(*store.ZSet))
	}
	if it.ExpireAt != 0 {
		d.xor(expireMarker)
	}
}

// keyValueDigest is one key's contribution to the dataset digest.
func keyValueDigest(it store.Item) digest {
	var d digest
	d.mix([]byte(it.Key))
	objectDigest(&d, it)
	return d
}

// datasetDigest is DEBUG DIGEST: per database holding keys, the database
// number mixed into the result, then the SHA1 of every key/value digest
// xored in (xorDigest hashes what it folds in).
func datasetDigest(st *store.Store) string {
	var final digest
	for i := 0; i < st.Databases(); i++ {
		var acc digest
		any := false
		st.DB(i).ForEach(func(it store.Item) {
			any = true
			kv := keyValueDigest(it)
			acc.xor(kv[:])
		})
		if !any {
			continue
		}
		var id [4]byte
		binary.BigEndian.PutUint32(id[:], uint32(i))
		final.mix(id[:])
		for j := range final {
			final[j] ^= acc[j]
		}
	}
	return final.String()
}

// valueDigest is DEBUG DIGEST-VALUE for one key: zeros when it is missing.
func valueDigest(it store.Item, ok bool) string {
	var d digest
	if ok {
		objectDigest(&d, it)
	}
	return d.String()
}

// rdbLenSize is the size of an RDB length prefix (rdbSaveLen).
func rdbLenSize(n int) int {
	switch {
	case n < 1<<6:
		return 1
	case n < 1<<14:
		return 2
	case uint64(n) <= 0xffffffff:
		return 5
	}
	return 9
}

// rdbIntSize is the size of Redis's integer encoding of v, 0 when v does
// not fit 32 bits (rdbEncodeInteger).
func rdbIntSize(v int64) int {
	switch {
	case v >= -(1<<7) && v <= 1<<7-1:
		return 2
	case v >= -(1<<15) && v <= 1<<15-1:
		return 3
	case v >= -(1<<31) && v <= 1<<31-1:
		return 5
	}
	return 0
}

// rdbStringSize is the size rdbSaveRawString writes for s with rdbcompression
// on: an integer encoding for short canonical integers, LZF when it saves
// space for strings over 20 bytes, otherwise a length and the bytes.
func rdbStringSize(s []byte) int {
	if len(s) <= 11 {
		if v, ok := string2ll(s); ok && strconv.FormatInt(v, 10) == string(s) {
			if n := rdbIntSize(v); n > 0 {
				return n
			}
		}
	}
	if len(s) > 20 {
		if clen := lzfCompressedLen(s, len(s)-4); clen > 0 {
			return 1 + rdbLenSize(clen) + rdbLenSize(len(s)) + clen
		}
	}
	return rdbLenSize(len(s)) + len(s)
}

// serializedLength is DEBUG OBJECT's serializedlength for a value.
func serializedLength(it store.Item) int {
	switch it.Kind {
	case store.KindString:
		return rdbStringSize(it.Str)
	case store.KindSet:
		return setSerializedLength(it.Value.(*store.Set))
	}
	return 0
}

// LZF parameters as Redis builds liblzf: HLOG 16, VERY_FAST.
const (
	lzfHLog   = 16
	lzfHSize  = 1 << lzfHLog
	lzfMaxLit = 1 << 5
	lzfMaxOff = 1 << 13
	lzfMaxRef = 1<<8 + 1<<3
)

func lzfIdx(h uint32) uint32 { return ((h >> (3*8 - lzfHLog)) - h*5) & (lzfHSize - 1) }

// lzfCompressedLen runs liblzf's lzf_compress over in and returns the size
// of its output, or 0 when it would not fit in outLen bytes (Redis then
// stores the string uncompressed). Only the size is needed, so literal and
// back-reference bytes are counted rather than written.
func lzfCompressedLen(in []byte, outLen int) int {
	inLen := len(in)
	if inLen == 0 || outLen <= 0 {
		return 0
	}
	// htab holds 1+position of the last occurrence of each hash; 0 is
	// "none", so a reference can never point at in[0], just as liblzf's
	// "ref > in_data" test excludes it.
	htab := make([]uint32, lzfHSize)
	ip := 0
	op := 1 // the first literal run's length byte
	lit := 0
	if inLen < 3 {
		// Too short for a back-reference: one literal run.
		if 1+inLen > outLen {
			return 0
		}
		return 1 + inLen
	}
	hval := uint32(in[0])<<8 | uint32(in[1])
	for ip < inLen-2 {
		hval = hval<<8 | uint32(in[ip+2])
		slot := lzfIdx(hval)
		ref := int(htab[slot]) - 1
		htab[slot] = uint32(ip + 1)
		if ref > 0 && ip-ref-1 < lzfMaxOff && in[ref+2] == in[ip+2] &&
			in[ref] == in[ip] && in[ref+1] == in[ip+1] {
			length := 2
			maxLen := inLen - ip - length
			if maxLen > lzfMaxRef {
				maxLen = lzfMaxRef
			}
			if op+3+1 >= outLen {
				notLit := 0
				if lit == 0 {
					notLit = 1
				}
				if op-notLit+3+1 >= outLen {
					return 0
				}
			}
			if lit == 0 {
				op-- // undo the empty run
			}
			length = lzfMatchLen(in, ref, ip, maxLen)
			length -= 2
			ip++
			if length < 7 {
				op++
			} else {
				op += 2
			}
			op++ // low byte of off
			lit = 0
			op++ // start a new run
			ip += length + 1
			if ip >= inLen-2 {
				break
			}
			ip -= 2
			hval = uint32(in[ip])<<8 | uint32(in[ip+1])
			hval = hval<<8 | uint32(in[ip+2])
			htab[lzfIdx(hval)] = uint32(ip + 1)
			ip++
			hval = hval<<8 | uint32(in[ip+2])
			htab[lzfIdx(hval)] = uint32(ip + 1)
			ip++
		} else {
			if op >= outLen {
				return 0
			}
			lit++
			op++
			ip++
			if lit == lzfMaxLit {
				lit = 0
				op++
			}
		}
	}
	if op+3 > outLen {
		return 0
	}
	for ip < inLen {
		lit++
		op++
		ip++
		if lit == lzfMaxLit {
			lit = 0
			op++
		}
	}
	if lit == 0 {
		op--
	}
	return op
}

// lzfMatchLen extends a 3-byte match at ref/ip exactly as liblzf does,
// including its unrolled first 16 steps, which skip the maxLen bound.
func lzfMatchLen(in []byte, ref, ip, maxLen int) int {
	length := 2
	if maxLen > 16 {
		for k := 0; k < 16; k++ {
			length++
			if in[ref+length] != in[ip+length] {
				return length
			}
		}
	}
	for {
		length++
		if length >= maxLen || in[ref+length] != in[ip+length] {
			return length
		}
	}
}
