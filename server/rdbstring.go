package server

import (
	"encoding/binary"
	"strconv"
)

// The bits of Redis's RDB format that FUNCTION DUMP and FUNCTION RESTORE
// use: lengths, strings (plain, integer-encoded, LZF-compressed), the
// payload's footer (RDB version and CRC-64), and LZF itself. Written from
// the format's description in Redis 7.0's rdb.c, cluster.c, crc64.c and
// liblzf 3.6 (lzf_c.c, lzf_d.c), so that DUMP is byte-for-byte Redis's.

const (
	rdbVersion         = 10  // RDB_VERSION of Redis 7.0
	rdbOpcodeFunction  = 246 // RDB_OPCODE_FUNCTION: 7.0 release candidates
	rdbOpcodeFunction2 = 245 // RDB_OPCODE_FUNCTION2: one library's code

	rdbEncInt8  = 0
	rdbEncInt16 = 1
	rdbEncInt32 = 2
	rdbEncLZF   = 3
)

// --- CRC-64 (Jones polynomial, reflected, as Redis's crc64.c) ---

var crc64Table = func() (t [256]uint64) {
	const poly = 0x95ac9329ac4bc9b5 // 0xad93d23594c935a9 bit-reversed
	for i := range t {
		c := uint64(i)
		for k := 0; k < 8; k++ {
			if c&1 != 0 {
				c = c>>1 ^ poly
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()

// crc64 continues crc over p; crc64(0, "123456789") is 0xe9c6d914c4b8d9ca.
func crc64(crc uint64, p []byte) uint64 {
	for _, b := range p {
		crc = crc64Table[byte(crc)^b] ^ crc>>8
	}
	return crc
}

// --- payload footer (cluster.c createDumpPayload / verifyDumpPayload) ---

// appendDumpFooter appends the RDB version and the CRC-64 of everything
// before it, both little-endian.
func appendDumpFooter(p []byte) []byte {
	p = binary.LittleEndian.AppendUint16(p, rdbVersion)
	return binary.LittleEndian.AppendUint64(p, crc64(0, p))
}

// verifyDumpPayload checks the footer: a version Redis 7.0 can read and the
// checksum. It returns the version.
func verifyDumpPayload(p []byte) (uint16, bool) {
	if len(p) < 10 {
		return 0, false
	}
	footer := p[len(p)-10:]
	ver := binary.LittleEndian.Uint16(footer)
	if ver > rdbVersion {
		return ver, false
	}
	return ver, binary.LittleEndian.Uint64(footer[2:]) == crc64(0, p[:len(p)-8])
}

// --- lengths and strings (rdb.c rdbSaveLen / rdbSaveRawString) ---

func appendRDBLen(p []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(p, byte(n))
	case n < 1<<14:
		return append(p, byte(n>>8)|0x40, byte(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(p, 0x80), uint32(n))
	default:
		return binary.BigEndian.AppendUint64(append(p, 0x81), n)
	}
}

// appendRDBString writes s as rdbSaveRawString does with rdbcompression
// yes (Redis's default): as an integer when it is the canonical text of
// one that fits 32 bits, LZF-compressed when longer than 20 bytes and LZF
// saves at least 4 of them, verbatim otherwise.
func appendRDBString(p, s []byte) []byte {
	if len(s) <= 11 {
		if enc, ok := rdbIntEncoding(s); ok {
			return append(p, enc...)
		}
	}
	if len(s) > 20 {
		if c := lzfCompress(s, len(s)-4); c != nil {
			p = append(p, 0xc0|rdbEncLZF)
			p = appendRDBLen(p, uint64(len(c)))
			p = appendRDBLen(p, uint64(len(s)))
			return append(p, c...)
		}
	}
	return append(appendRDBLen(p, uint64(len(s))), s...)
}

// rdbIntEncoding is rdbTryIntegerEncoding: s must read back as itself.
func rdbIntEncoding(s []byte) ([]byte, bool) {
	v, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil || strconv.FormatInt(v, 10) != string(s) {
		return nil, false
	}
	switch {
	case v >= -1<<7 && v < 1<<7:
		return []byte{0xc0 | rdbEncInt8, byte(v)}, true
	case v >= -1<<15 && v < 1<<15:
		return binary.LittleEndian.AppendUint16([]byte{0xc0 | rdbEncInt16}, uint16(v)), true
	case v >= -1<<31 && v < 1<<31:
		return binary.LittleEndian.AppendUint32([]byte{0xc0 | rdbEncInt32}, uint32(v)), true
	}
	return nil, false
}

// rdbReader reads a payload as Redis's buffer rio does: a read past the
// end fails and reads nothing.
type rdbReader struct {
	p   []byte
	pos int
}

func (r *rdbReader) read(n uint64) ([]byte, bool) {
	if uint64(len(r.p)-r.pos) < n {
		return nil, false
	}
	b := r.p[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return b, true
}

// readLen is rdbLoadLenByRef: the length, or for an encoded value (top
// bits 11) its 6-bit encoding type with encoded set.
func (r *rdbReader) readLen() (n uint64, encoded, ok bool) {
	b, ok := r.read(1)
	if !ok {
		return 0, false, false
	}
	switch b[0] >> 6 {
	case 3:
		return uint64(b[0] & 0x3f), true, true
	case 0:
		return uint64(b[0] & 0x3f), false, true
	case 1:
		b2, ok := r.read(1)
		if !ok {
			return 0, false, false
		}
		return uint64(b[0]&0x3f)<<8 | uint64(b2[0]), false, true
	}
	switch b[0] {
	case 0x80:
		v, ok := r.read(4)
		if !ok {
			return 0, false, false
		}
		return uint64(binary.BigEndian.Uint32(v)), false, true
	case 0x81:
		v, ok := r.read(8)
		if !ok {
			return 0, false, false
		}
		return binary.BigEndian.Uint64(v), false, true
	}
	return 0, false, false // unknown length encoding
}

// readString is rdbGenericLoadStringObject for a plain string result.
func (r *rdbReader) readString() ([]byte, bool) {
	n, encoded, ok := r.readLen()
	if !ok {
		return nil, false
	}
	if !encoded {
		b, ok := r.read(n)
		if !ok {
			return nil, false
		}
		return append([]byte(nil), b...), true
	}
	switch n {
	case rdbEncInt8:
		b, ok := r.read(1)
		if !ok {
			return nil, false
		}
		return strconv.AppendInt(nil, int64(int8(b[0])), 10), true
	case rdbEncInt16:
		b, ok := r.read(2)
		if !ok {
			return nil, false
		}
		return strconv.AppendInt(nil, int64(int16(binary.LittleEndian.Uint16(b))), 10), true
	case rdbEncInt32:
		b, ok := r.read(4)
		if !ok {
			return nil, false
		}
		return strconv.AppendInt(nil, int64(int32(binary.LittleEndian.Uint32(b))), 10), true
	case rdbEncLZF:
		clen, _, ok := r.readLen()
		if !ok {
			return nil, false
		}
		ulen, _, ok := r.readLen()
		if !ok {
			return nil, false
		}
		c, ok := r.read(clen)
		if !ok {
			return nil, false
		}
		if ulen == 0 {
			// lzf_decompress's 0 ("failed") equals the expected length.
			return []byte{}, true
		}
		out, ok := lzfDecompress(c, ulen)
		if !ok || uint64(len(out)) != ulen {
			return nil, false
		}
		return out, true
	}
	return nil, false // unknown string encoding
}

// --- LZF (liblzf 3.6 as Redis 7.0 builds it: HLOG 16, VERY_FAST; its
// match test has no "ip + 4 < in_end" bound, which later copies added) ---

// lzfHLog, lzfIdx and the other parameters are digest.go's (DEBUG
// OBJECT's serializedlength counts the same compression).

// lzfCompress is lzf_compress(in, out_len): the compressed form when it
// fits in outLen bytes, else nil. It makes the same choices as liblzf, so
// the output is byte-identical (its hash table starts empty: liblzf's is
// not initialised, but a stale slot can only matter in contrived cases).
func lzfCompress(in []byte, outLen int) []byte {
	inLen := len(in)
	if inLen == 0 || outLen <= 0 {
		return nil
	}
	// liblzf may step one byte past out_end (a run header it reserves);
	// Redis allocates out_len+1. Keep room for that and a little more.
	out := make([]byte, outLen+4)
	htab := make([]int32, lzfHSize) // input positions; 0 never matches
	ip, op, lit := 0, 1, 0          // op 0 holds the first run's header
	var hval uint32
	if inLen >= 2 {
		hval = uint32(in[0])<<8 | uint32(in[1])
	}
	for ip < inLen-2 {
		hval = hval<<8 | uint32(in[ip+2])
		slot := lzfIdx(hval)
		ref := int(htab[slot])
		htab[slot] = int32(ip)
		off := ip - ref - 1
		if ref > 0 && off >= 0 && off < lzfMaxOff &&
			in[ref] == in[ip] && in[ref+1] == in[ip+1] && in[ref+2] == in[ip+2] {
			n := 2
			maxlen := inLen - ip - n
			if maxlen > lzfMaxRef {
				maxlen = lzfMaxRef
			}
			out[op-lit-1] = byte(lit - 1) // stop run
			if lit == 0 {
				op-- // undo the empty run
			}
			if op+3+1 >= outLen {
				return nil
			}
			if maxlen > 16 {
				// liblzf's unrolled loop: up to 16 bytes before
				// checking maxlen again.
				for k := 0; k < 16; k++ {
					n++
					if in[ref+n] != in[ip+n] {
						goto counted
					}
				}
			}
			for {
				n++
				if !(n < maxlen && in[ref+n] == in[ip+n]) {
					break
				}
			}
		counted:
			n -= 2 // stored length: octets - 2
			ip++
			if n < 7 {
				out[op] = byte(off>>8 + n<<5)
				op++
			} else {
				out[op] = byte(off>>8 + 7<<5)
				out[op+1] = byte(n - 7)
				op += 2
			}
			out[op] = byte(off)
			op++
			lit = 0
			op++ // start run
			ip += n + 1
			if ip >= inLen-2 {
				break
			}
			// VERY_FAST: hash the last two positions of the match.
			ip -= 2
			hval = uint32(in[ip])<<8 | uint32(in[ip+1])
			hval = hval<<8 | uint32(in[ip+2])
			htab[lzfIdx(hval)] = int32(ip)
			ip++
			hval = hval<<8 | uint32(in[ip+2])
			htab[lzfIdx(hval)] = int32(ip)
			ip++
			continue
		}
		if op >= outLen {
			return nil
		}
		lit++
		out[op] = in[ip]
		op++
		ip++
		if lit == lzfMaxLit {
			out[op-lit-1] = byte(lit - 1)
			lit = 0
			op++
		}
	}
	if op+3 > outLen {
		return nil
	}
	for ip < inLen {
		lit++
		out[op] = in[ip]
		op++
		ip++
		if lit == lzfMaxLit {
			out[op-lit-1] = byte(lit - 1)
			lit = 0
			op++
		}
	}
	out[op-lit-1] = byte(lit - 1)
	if lit == 0 {
		op--
	}
	return out[:op]
}

// lzfDecompress is lzf_decompress with CHECK_INPUT: the output, which
// may not exceed outLen bytes, or false for corrupt input. It never reads
// or writes out of bounds, whatever the input.
func lzfDecompress(in []byte, outLen uint64) ([]byte, bool) {
	if len(in) == 0 {
		return nil, false
	}
	capHint := outLen
	if max := uint64(len(in)) * 90; capHint > max {
		capHint = max // never trust a length the input cannot produce
	}
	out := make([]byte, 0, capHint)
	ip := 0
	for ip < len(in) {
		ctrl := int(in[ip])
		ip++
		if ctrl < 1<<5 {
			n := ctrl + 1
			if uint64(len(out)+n) > outLen || ip+n > len(in) {
				return nil, false
			}
			out = append(out, in[ip:ip+n]...)
			ip += n
			continue
		}
		n := ctrl >> 5
		back := (ctrl&0x1f)<<8 + 1
		if ip >= len(in) {
			return nil, false
		}
		if n == 7 {
			n += int(in[ip])
			ip++
			if ip >= len(in) {
				return nil, false
			}
		}
		back += int(in[ip])
		ip++
		if uint64(len(out)+n+2) > outLen || back > len(out) {
			return nil, false
		}
		ref := len(out) - back
		for k := 0; k < n+2; k++ { // byte by byte: the copy may overlap
			out = append(out, out[ref+k])
		}
	}
	return out, true
}
