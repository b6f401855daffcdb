package server

import (
	"math"
	"strconv"

	"github.com/tidwall/redcon"
)

// Writer builds replies for one connection in the protocol it speaks. Each
// method writes one RESP3 shape and degrades it to RESP2 the way Redis does,
// so handlers never write protocol bytes themselves.
type Writer struct {
	buf   []byte
	proto int // 2 or 3
}

// Bytes returns what has been written since the last Reset.
func (w *Writer) Bytes() []byte { return w.buf }

// Reset empties the buffer, keeping its memory.
func (w *Writer) Reset() { w.buf = w.buf[:0] }

// Len is the number of buffered bytes.
func (w *Writer) Len() int { return len(w.buf) }

// Truncate drops everything written after n bytes (used to discard a
// partial reply, e.g. under CLIENT REPLY OFF).
func (w *Writer) Truncate(n int) { w.buf = w.buf[:n] }

// Proto is the protocol version the writer encodes for.
func (w *Writer) Proto() int { return w.proto }

// OK writes +OK.
func (w *Writer) OK() { w.buf = redcon.AppendOK(w.buf) }

// Simple writes a status reply (+text).
func (w *Writer) Simple(s string) { w.buf = redcon.AppendString(w.buf, s) }

// Error writes an error reply (-text).
func (w *Writer) Error(e respError) { w.buf = redcon.AppendError(w.buf, string(e)) }

// Int writes an integer reply.
func (w *Writer) Int(n int64) { w.buf = redcon.AppendInt(w.buf, n) }

// Bulk writes a bulk string.
func (w *Writer) Bulk(b []byte) { w.buf = redcon.AppendBulk(w.buf, b) }

// BulkString writes a bulk string.
func (w *Writer) BulkString(s string) { w.buf = redcon.AppendBulkString(w.buf, s) }

// BulkInt writes an integer as a bulk string (e.g. INCRBYFLOAT-style replies).
func (w *Writer) BulkInt(n int64) {
	var tmp [20]byte
	w.buf = redcon.AppendBulk(w.buf, strconv.AppendInt(tmp[:0], n, 10))
}

// Null writes a null: $-1 in RESP2, _ in RESP3.
func (w *Writer) Null() {
	if w.proto == 3 {
		w.buf = append(w.buf, '_', '\r', '\n')
		return
	}
	w.buf = redcon.AppendNull(w.buf)
}

// NullArray writes a null array: *-1 in RESP2, _ in RESP3.
func (w *Writer) NullArray() {
	if w.proto == 3 {
		w.buf = append(w.buf, '_', '\r', '\n')
		return
	}
	w.buf = append(w.buf, '*', '-', '1', '\r', '\n')
}

// Array starts an array of n elements.
func (w *Writer) Array(n int) { w.buf = redcon.AppendArray(w.buf, n) }

// Map starts a map of n key/value pairs; RESP2 gets a flat array of 2n.
func (w *Writer) Map(n int) {
	if w.proto == 3 {
		w.aggregate('%', n)
		return
	}
	w.Array(2 * n)
}

// Set starts a set of n elements; RESP2 gets an array.
func (w *Writer) Set(n int) {
	if w.proto == 3 {
		w.aggregate('~', n)
		return
	}
	w.Array(n)
}

// Push starts an out-of-band push of n elements; RESP2 gets an array.
func (w *Writer) Push(n int) {
	if w.proto == 3 {
		w.aggregate('>', n)
		return
	}
	w.Array(n)
}

// Bool writes a boolean: #t/#f in RESP3, :1/:0 in RESP2.
func (w *Writer) Bool(b bool) {
	if w.proto == 3 {
		if b {
			w.buf = append(w.buf, '#', 't', '\r', '\n')
		} else {
			w.buf = append(w.buf, '#', 'f', '\r', '\n')
		}
		return
	}
	if b {
		w.Int(1)
	} else {
		w.Int(0)
	}
}

// Double writes a double: ,x in RESP3, a bulk string in RESP2, formatted as
// Redis 7.0 does (%.17g, inf, -inf).
func (w *Writer) Double(f float64) {
	var tmp [32]byte
	text := appendDouble(tmp[:0], f)
	if w.proto == 3 {
		w.buf = append(w.buf, ',')
		w.buf = append(w.buf, text...)
		w.buf = append(w.buf, '\r', '\n')
		return
	}
	w.buf = redcon.AppendBulk(w.buf, text)
}

// Verbatim writes a verbatim string (=len\r\nfmt:text) in RESP3, a bulk
// string in RESP2. format is three letters such as "txt".
func (w *Writer) Verbatim(format, text string) {
	if w.proto == 3 {
		w.buf = append(w.buf, '=')
		w.buf = strconv.AppendInt(w.buf, int64(len(text)+4), 10)
		w.buf = append(w.buf, '\r', '\n')
		w.buf = append(w.buf, format...)
		w.buf = append(w.buf, ':')
		w.buf = append(w.buf, text...)
		w.buf = append(w.buf, '\r', '\n')
		return
	}
	w.BulkString(text)
}

// BulkStrings writes an array of bulk strings.
func (w *Writer) BulkStrings(items []string) {
	w.Array(len(items))
	for _, s := range items {
		w.BulkString(s)
	}
}

func (w *Writer) aggregate(kind byte, n int) {
	w.buf = append(w.buf, kind)
	w.buf = strconv.AppendInt(w.buf, int64(n), 10)
	w.buf = append(w.buf, '\r', '\n')
}

// appendDouble formats f as C's printf("%.17g") does, which is what Redis 7.0
// replies with for doubles, and "inf"/"-inf"/"nan" for the special values.
func appendDouble(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case math.IsNaN(f):
		return append(dst, "nan"...)
	}
	return appendCFormatG17(dst, f)
}

// appendCFormatG17 reproduces %.17g: 17 significant digits, trailing zeros
// removed, exponent form when the exponent is < -4 or >= 17, and a two-digit
// minimum exponent with an explicit sign.
func appendCFormatG17(dst []byte, f float64) []byte {
	if f == 0 {
		if math.Signbit(f) {
			return append(dst, "-0"...)
		}
		return append(dst, '0')
	}
	var tmp [32]byte
	// 'e' with 16 decimals gives exactly 17 significant digits, correctly
	// rounded like glibc's printf.
	e := strconv.AppendFloat(tmp[:0], f, 'e', 16, 64)
	neg := e[0] == '-'
	if neg {
		e = e[1:]
	}
	mant := e[:18] // d.dddddddddddddddd
	exp, _ := strconv.Atoi(string(e[19:]))
	digits := make([]byte, 0, 17)
	digits = append(digits, mant[0])
	digits = append(digits, mant[2:]...)
	for len(digits) > 1 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
	}
	if neg {
		dst = append(dst, '-')
	}
	if exp < -4 || exp >= 17 {
		dst = append(dst, digits[0])
		if len(digits) > 1 {
			dst = append(dst, '.')
			dst = append(dst, digits[1:]...)
		}
		dst = append(dst, 'e')
		if exp < 0 {
			dst = append(dst, '-')
			exp = -exp
		} else {
			dst = append(dst, '+')
		}
		if exp < 10 {
			dst = append(dst, '0')
		}
		return strconv.AppendInt(dst, int64(exp), 10)
	}
	if exp < 0 {
		dst = append(dst, '0', '.')
		for i := -1; i > exp; i-- {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	intPart := exp + 1
	if len(digits) <= intPart {
		dst = append(dst, digits...)
		for i := len(digits); i < intPart; i++ {
			dst = append(dst, '0')
		}
		return dst
	}
	dst = append(dst, digits[:intPart]...)
	dst = append(dst, '.')
	return append(dst, digits[intPart:]...)
}
