package server

// The HyperLogLog representation and estimator of Redis 7.0
// (hyperloglog.c), so that the same PFADDs leave the same bytes under a key
// on both servers and a value copied from Redis works here.
//
// The value is a string: a 16-byte header ("HYLL", the encoding byte, three
// unused bytes, the cached cardinality as 8 little-endian bytes whose top
// bit marks it stale) followed by 16384 six-bit registers, either packed
// (dense, 12288 bytes, least significant bits first) or run-length coded
// (sparse) with three opcodes:
//
//	ZERO   00xxxxxx           xxxxxx+1 zero registers (1..64)
//	XZERO  01xxxxxx yyyyyyyy  ((xxxxxx<<8)|yyyyyyyy)+1 zero registers (1..16384)
//	VAL    1vvvvvxx           xx+1 registers (1..4) holding vvvvv+1 (1..32)
//
// A sparse value turns dense when an update would take it past
// hll-sparse-max-bytes or needs a register value above 32.

import (
	"encoding/binary"
	"math"
)

const (
	hllP            = 14
	hllQ            = 64 - hllP
	hllRegisters    = 1 << hllP
	hllPMask        = hllRegisters - 1
	hllBits         = 6
	hllRegisterMax  = 1<<hllBits - 1
	hllHdrSize      = 16
	hllDenseSize    = hllHdrSize + (hllRegisters*hllBits+7)/8
	hllEncDense     = 0
	hllEncSparse    = 1
	hllMaxEncoding  = 1
	hllSeed         = 0xadc83b19
	hllAlphaInf     = 0.721347520444481703680 // 0.5/ln(2)
	hllSparseMaxVal = 32
	hllSparseMaxLen = 4
	hllZeroMaxLen   = 64
	hllXZeroMaxLen  = 16384

	// hllSparseMaxBytes is Redis's default hll-sparse-max-bytes (the
	// commands use the configured value, config.HllSparseMaxBytes).
	hllSparseMaxBytes = 3000
)

// murmurHash64A is Austin Appleby's MurmurHash64A as Redis uses it: 8-byte
// little-endian blocks, then the tail.
func murmurHash64A(key []byte, seed uint64) uint64 {
	const m = 0xc6a4a7935bd1e995
	const r = 47
	h := seed ^ (uint64(len(key)) * m)
	n := len(key) &^ 7
	for i := 0; i < n; i += 8 {
		k := binary.LittleEndian.Uint64(key[i:])
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
	}
	tail := key[n:]
	if len(tail) > 0 {
		for i := len(tail) - 1; i >= 0; i-- {
			h ^= uint64(tail[i]) << (8 * uint(i))
		}
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// hllPatLen returns the register an element addresses and the length of
// the "000…1" run that follows in its hash (1..hllQ+1).
func hllPatLen(ele []byte) (index int, count uint8) {
	hash := murmurHash64A(ele, hllSeed)
	index = int(hash & hllPMask)
	hash >>= hllP
	hash |= 1 << hllQ // the loop ends by bit hllQ at the latest
	count = 1
	for bit := uint64(1); hash&bit == 0; bit <<= 1 {
		count++
	}
	return index, count
}

// hllNew is an empty HLL: sparse, all registers zero, cached cardinality 0.
func hllNew() []byte {
	b := make([]byte, hllHdrSize, hllHdrSize+8)
	copy(b, "HYLL")
	b[4] = hllEncSparse
	for aux := hllRegisters; aux > 0; {
		n := min(aux, hllXZeroMaxLen)
		b = hllAppendXZero(b, n)
		aux -= n
	}
	return b
}

// hllIsValid is Redis's isHLLObjectOrReply check on a string value.
func hllIsValid(b []byte) bool {
	if len(b) < hllHdrSize || string(b[:4]) != "HYLL" || b[4] > hllMaxEncoding {
		return false
	}
	return b[4] != hllEncDense || len(b) == hllDenseSize
}

// Cached cardinality.

func hllCacheValid(b []byte) bool { return b[15]&0x80 == 0 }
func hllInvalidateCache(b []byte) { b[15] |= 0x80 }
func hllCachedCard(b []byte) uint64 {
	return binary.LittleEndian.Uint64(b[8:16])
}
func hllSetCachedCard(b []byte, card uint64) {
	binary.LittleEndian.PutUint64(b[8:16], card)
}

// Dense registers. regs is the register area; the last register's second
// byte lies past it (Redis reads the string's terminating NUL there), so
// it reads as zero and is never written (the value needs no bits there).

func hllDenseGet(regs []byte, i int) uint8 {
	byt := i * hllBits / 8
	fb := uint(i * hllBits & 7)
	b0 := uint(regs[byt])
	var b1 uint
	if byt+1 < len(regs) {
		b1 = uint(regs[byt+1])
	}
	return uint8((b0>>fb | b1<<(8-fb)) & hllRegisterMax)
}

func hllDenseSetReg(regs []byte, i int, v uint8) {
	byt := i * hllBits / 8
	fb := uint(i * hllBits & 7)
	val := uint(v)
	regs[byt] &^= byte(hllRegisterMax << fb)
	regs[byt] |= byte(val << fb)
	if byt+1 < len(regs) {
		regs[byt+1] &^= byte(hllRegisterMax >> (8 - fb))
		regs[byt+1] |= byte(val >> (8 - fb))
	}
}

// hllDenseSet raises register i to count; it reports whether it changed.
func hllDenseSet(regs []byte, i int, count uint8) bool {
	if count > hllDenseGet(regs, i) {
		hllDenseSetReg(regs, i, count)
		return true
	}
	return false
}

// Sparse opcodes.

func hllIsZero(op byte) bool  { return op&0xc0 == 0 }
func hllIsXZero(op byte) bool { return op&0xc0 == 0x40 }
func hllIsVal(op byte) bool   { return op&0x80 != 0 }
func hllZeroLen(op byte) int  { return int(op&0x3f) + 1 }
func hllValValue(op byte) int { return int(op>>2&0x1f) + 1 }
func hllValLen(op byte) int   { return int(op&3) + 1 }

// hllXZeroLen reads the XZERO at b[p]; a missing second byte reads as the
// NUL Redis's strings end with.
func hllXZeroLen(b []byte, p int) int {
	var lo int
	if p+1 < len(b) {
		lo = int(b[p+1])
	}
	return (int(b[p]&0x3f)<<8 | lo) + 1
}

func hllValOp(val, n int) byte { return byte((val-1)<<2|(n-1)) | 0x80 }

func hllAppendXZero(b []byte, n int) []byte {
	n--
	return append(b, byte(n>>8)|0x40, byte(n&0xff))
}

// hllAppendZeros appends the opcode for a run of n zero registers.
func hllAppendZeros(b []byte, n int) []byte {
	if n > hllZeroMaxLen {
		return hllAppendXZero(b, n)
	}
	return append(b, byte(n-1))
}

// hllSparseToDense returns b converted to the dense encoding (b itself when
// it is dense already); ok is false when the sparse data does not cover
// exactly hllRegisters registers.
func hllSparseToDense(b []byte) (dense []byte, ok bool) {
	if b[4] == hllEncDense {
		return b, true
	}
	dense = make([]byte, hllDenseSize)
	copy(dense, b[:hllHdrSize]) // magic, unused bytes and cached cardinality
	dense[4] = hllEncDense
	regs := dense[hllHdrSize:]
	idx := 0
	for p := hllHdrSize; p < len(b); {
		op := b[p]
		switch {
		case hllIsZero(op):
			idx += hllZeroLen(op)
			p++
		case hllIsXZero(op):
			idx += hllXZeroLen(b, p)
			p += 2
		default:
			n, v := hllValLen(op), hllValValue(op)
			if idx+n > hllRegisters {
				return nil, false
			}
			for ; n > 0; n-- {
				hllDenseSetReg(regs, idx, uint8(v))
				idx++
			}
			p++
		}
	}
	if idx != hllRegisters {
		return nil, false
	}
	return dense, true
}

// hllSparseSet raises register index of the sparse HLL b to count, the way
// Redis's hllSparseSet rewrites the opcodes (so the bytes come out the
// same). It returns the new value and 1 when a register changed, 0 when
// none did, -1 when b is corrupt. The result may be dense.
func hllSparseSet(b []byte, index int, count uint8, maxBytes int) ([]byte, int) {
	if count > hllSparseMaxVal {
		return hllPromote(b, index, count)
	}
	// Step 1: find the opcode covering index.
	p, end := hllHdrSize, len(b)
	first, span, prev := 0, 0, -1
	for p < end {
		oplen := 1
		op := b[p]
		switch {
		case hllIsZero(op):
			span = hllZeroLen(op)
		case hllIsVal(op):
			span = hllValLen(op)
		default:
			span = hllXZeroLen(b, p)
			oplen = 2
		}
		if index <= first+span-1 {
			break
		}
		prev = p
		p += oplen
		first += span
	}
	if span == 0 || p >= end {
		return b, -1
	}
	op := b[p]
	isZero, isXZero, isVal := hllIsZero(op), hllIsXZero(op), hllIsVal(op)
	var runlen int
	switch {
	case isZero:
		runlen = hllZeroLen(op)
	case isXZero:
		runlen = hllXZeroLen(b, p)
	default:
		runlen = hllValLen(op)
	}

	// Step 2: the trivial in-place cases, else split the opcode.
	switch {
	case isVal && hllValValue(op) >= int(count):
		return b, 0
	case isVal && runlen == 1, isZero && runlen == 1:
		b[p] = hllValOp(int(count), 1)
	default:
		var seqBuf [5]byte
		seq := seqBuf[:0]
		last := first + span - 1
		if isZero || isXZero {
			if index != first {
				seq = hllAppendZeros(seq, index-first)
			}
			seq = append(seq, hllValOp(int(count), 1))
			if index != last {
				seq = hllAppendZeros(seq, last-index)
			}
		} else {
			cur := hllValValue(op)
			if index != first {
				seq = append(seq, hllValOp(cur, index-first))
			}
			seq = append(seq, hllValOp(int(count), 1))
			if index != last {
				seq = append(seq, hllValOp(cur, last-index))
			}
		}
		// Step 3: put the new sequence in place of the old opcode.
		oldlen := 1
		if isXZero {
			oldlen = 2
		}
		delta := len(seq) - oldlen
		if delta > 0 && len(b)+delta > maxBytes {
			return hllPromote(b, index, count)
		}
		out := make([]byte, 0, len(b)+max(delta, 0)+8)
		out = append(out, b[:p]...)
		out = append(out, seq...)
		if p+oldlen < len(b) {
			out = append(out, b[p+oldlen:]...)
		}
		b = out[:len(b)+delta]
		end = len(b)
	}

	// Step 4: merge adjacent VAL opcodes of the same value, scanning up
	// to five opcodes from the one before the change.
	p = hllHdrSize
	if prev >= 0 {
		p = prev
	}
	for scan := 5; p < end && scan > 0; {
		scan--
		op := b[p]
		if hllIsXZero(op) {
			p += 2
			continue
		}
		if hllIsZero(op) {
			p++
			continue
		}
		if p+1 < end && hllIsVal(b[p+1]) {
			v1, v2 := hllValValue(op), hllValValue(b[p+1])
			if n := hllValLen(op) + hllValLen(b[p+1]); v1 == v2 && n <= hllSparseMaxLen {
				b[p+1] = hllValOp(v1, n)
				b = append(b[:p], b[p+1:]...)
				end--
				continue
			}
		}
		p++
	}
	hllInvalidateCache(b)
	return b, 1
}

// hllPromote turns b dense and sets the register there.
func hllPromote(b []byte, index int, count uint8) ([]byte, int) {
	dense, ok := hllSparseToDense(b)
	if !ok {
		return b, -1
	}
	hllDenseSet(dense[hllHdrSize:], index, count)
	return dense, 1
}

// hllAdd adds one element: 1 if a register changed, 0 if not, -1 when b is
// corrupt. The returned slice replaces b (it differs after a sparse edit).
func hllAdd(b, ele []byte, maxBytes int) ([]byte, int) {
	index, count := hllPatLen(ele)
	switch b[4] {
	case hllEncDense:
		if hllDenseSet(b[hllHdrSize:], index, count) {
			return b, 1
		}
		return b, 0
	case hllEncSparse:
		return hllSparseSet(b, index, count, maxBytes)
	}
	return b, -1
}

// hllMerge raises max[i] to each register of the HLL b; false when b is a
// corrupt sparse value.
func hllMerge(max *[hllRegisters]uint8, b []byte) bool {
	if b[4] == hllEncDense {
		regs := b[hllHdrSize:]
		for i := range max {
			if v := hllDenseGet(regs, i); v > max[i] {
				max[i] = v
			}
		}
		return true
	}
	i := 0
	for p := hllHdrSize; p < len(b); {
		op := b[p]
		switch {
		case hllIsZero(op):
			i += hllZeroLen(op)
			p++
		case hllIsXZero(op):
			i += hllXZeroLen(b, p)
			p += 2
		default:
			n, v := hllValLen(op), uint8(hllValValue(op))
			if i+n > hllRegisters {
				return false
			}
			for ; n > 0; n-- {
				if v > max[i] {
					max[i] = v
				}
				i++
			}
			p++
		}
	}
	return i == hllRegisters
}

// hllHisto counts the registers of b by value; invalid is set for sparse
// data that does not cover exactly hllRegisters registers.
func hllHisto(b []byte) (histo [64]int, invalid bool) {
	if b[4] == hllEncDense {
		regs := b[hllHdrSize:]
		for i := 0; i < hllRegisters; i++ {
			histo[hllDenseGet(regs, i)]++
		}
		return histo, false
	}
	idx := 0
	for p := hllHdrSize; p < len(b); {
		op := b[p]
		switch {
		case hllIsZero(op):
			n := hllZeroLen(op)
			idx += n
			histo[0] += n
			p++
		case hllIsXZero(op):
			n := hllXZeroLen(b, p)
			idx += n
			histo[0] += n
			p += 2
		default:
			n := hllValLen(op)
			idx += n
			histo[hllValValue(op)] += n
			p++
		}
	}
	return histo, idx != hllRegisters
}

// hllRawHisto is hllHisto for a plain register array (PFCOUNT's union).
func hllRawHisto(regs *[hllRegisters]uint8) (histo [64]int) {
	for _, v := range regs {
		histo[v&63]++
	}
	return histo
}

// hllEstimate is Otmar Ertl's estimator ("New cardinality estimation
// algorithms for HyperLogLog sketches", arXiv:1702.01284), as Redis 7.0's
// hllCount evaluates it. The float64 conversions keep each step rounded on
// its own, as in C, even where Go could fuse a multiply and an add.
func hllEstimate(histo *[64]int) uint64 {
	m := float64(hllRegisters)
	z := float64(m * hllTau((m-float64(histo[hllQ+1]))/m))
	for j := hllQ; j >= 1; j-- {
		z += float64(histo[j])
		z *= 0.5
	}
	z += float64(m * hllSigma(float64(histo[0])/m))
	e := math.Round(float64(float64(hllAlphaInf*m)*m) / z)
	return uint64(e)
}

func hllSigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		prev := z
		z += float64(x * y)
		y += y
		if prev == z {
			return z
		}
	}
}

func hllTau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		prev := z
		y *= 0.5
		d := float64(1 - x)
		z -= float64(float64(d*d) * y)
		if prev == z {
			return z / 3
		}
	}
}

// hllCount estimates b's cardinality; invalid reports corrupt sparse data.
func hllCount(b []byte) (card uint64, invalid bool) {
	histo, invalid := hllHisto(b)
	return hllEstimate(&histo), invalid
}
