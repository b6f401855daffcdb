package server

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestWriter checks every Writer method against the bytes Redis 7.0 sends
// in RESP2 and RESP3 (networking.c addReply*).
func TestWriter(t *testing.T) {
	tests := []struct {
		name         string
		write        func(w *Writer)
		resp2, resp3 string
	}{
		{"OK", func(w *Writer) { w.OK() }, "+OK\r\n", "+OK\r\n"},
		{"Simple", func(w *Writer) { w.Simple("PONG") }, "+PONG\r\n", "+PONG\r\n"},
		{"Simple empty", func(w *Writer) { w.Simple("") }, "+\r\n", "+\r\n"},
		{"Error", func(w *Writer) { w.Error(errSyntax) }, "-ERR syntax error\r\n", "-ERR syntax error\r\n"},
		{"Error newlines become spaces", func(w *Writer) { w.Error("ERR a\r\nb") }, "-ERR a  b\r\n", "-ERR a  b\r\n"},
		{"Int", func(w *Writer) { w.Int(42) }, ":42\r\n", ":42\r\n"},
		{"Int zero", func(w *Writer) { w.Int(0) }, ":0\r\n", ":0\r\n"},
		{"Int min", func(w *Writer) { w.Int(math.MinInt64) }, ":-9223372036854775808\r\n", ":-9223372036854775808\r\n"},
		{"Int max", func(w *Writer) { w.Int(math.MaxInt64) }, ":9223372036854775807\r\n", ":9223372036854775807\r\n"},
		{"Bulk", func(w *Writer) { w.Bulk([]byte("hello")) }, "$5\r\nhello\r\n", "$5\r\nhello\r\n"},
		{"Bulk binary", func(w *Writer) { w.Bulk([]byte("a\r\n\x00")) }, "$4\r\na\r\n\x00\r\n", "$4\r\na\r\n\x00\r\n"},
		{"Bulk empty", func(w *Writer) { w.Bulk([]byte{}) }, "$0\r\n\r\n", "$0\r\n\r\n"},
		{"BulkString", func(w *Writer) { w.BulkString("bar") }, "$3\r\nbar\r\n", "$3\r\nbar\r\n"},
		{"BulkInt", func(w *Writer) { w.BulkInt(-12) }, "$3\r\n-12\r\n", "$3\r\n-12\r\n"},
		{"Null", func(w *Writer) { w.Null() }, "$-1\r\n", "_\r\n"},
		{"NullArray", func(w *Writer) { w.NullArray() }, "*-1\r\n", "_\r\n"},
		{"Array", func(w *Writer) { w.Array(3) }, "*3\r\n", "*3\r\n"},
		{"Array empty", func(w *Writer) { w.Array(0) }, "*0\r\n", "*0\r\n"},
		{"Map", func(w *Writer) { w.Map(2) }, "*4\r\n", "%2\r\n"},
		{"Map empty", func(w *Writer) { w.Map(0) }, "*0\r\n", "%0\r\n"},
		{"Set", func(w *Writer) { w.Set(2) }, "*2\r\n", "~2\r\n"},
		{"Push", func(w *Writer) { w.Push(3) }, "*3\r\n", ">3\r\n"},
		{"Bool true", func(w *Writer) { w.Bool(true) }, ":1\r\n", "#t\r\n"},
		{"Bool false", func(w *Writer) { w.Bool(false) }, ":0\r\n", "#f\r\n"},
		{"Double", func(w *Writer) { w.Double(1.5) }, "$3\r\n1.5\r\n", ",1.5\r\n"},
		{"Double 0.1", func(w *Writer) { w.Double(0.1) }, "$19\r\n0.10000000000000001\r\n", ",0.10000000000000001\r\n"},
		{"Double integral", func(w *Writer) { w.Double(3) }, "$1\r\n3\r\n", ",3\r\n"},
		{"Double 1e300", func(w *Writer) { w.Double(1e300) }, "$23\r\n1.0000000000000001e+300\r\n", ",1.0000000000000001e+300\r\n"},
		{"Double negative zero", func(w *Writer) { w.Double(math.Copysign(0, -1)) }, "$2\r\n-0\r\n", ",-0\r\n"},
		{"Double inf", func(w *Writer) { w.Double(math.Inf(1)) }, "$3\r\ninf\r\n", ",inf\r\n"},
		{"Double -inf", func(w *Writer) { w.Double(math.Inf(-1)) }, "$4\r\n-inf\r\n", ",-inf\r\n"},
		{"Verbatim", func(w *Writer) { w.Verbatim("txt", "Some string") }, "$11\r\nSome string\r\n", "=15\r\ntxt:Some string\r\n"},
		{"Verbatim empty", func(w *Writer) { w.Verbatim("txt", "") }, "$0\r\n\r\n", "=4\r\ntxt:\r\n"},
		{"BulkStrings", func(w *Writer) { w.BulkStrings([]string{"a", ""}) }, "*2\r\n$1\r\na\r\n$0\r\n\r\n", "*2\r\n$1\r\na\r\n$0\r\n\r\n"},
		{"BulkStrings empty", func(w *Writer) { w.BulkStrings(nil) }, "*0\r\n", "*0\r\n"},
		{"Map of pairs", func(w *Writer) {
			w.Map(2)
			w.BulkString("server")
			w.BulkString("redis")
			w.BulkString("proto")
			w.Int(3)
		}, "*4\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n", "%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n"},
		{"nested map in array", func(w *Writer) {
			w.Array(2)
			w.Map(1)
			w.BulkString("k")
			w.Null()
			w.Set(1)
			w.Double(2.5)
		}, "*2\r\n*2\r\n$1\r\nk\r\n$-1\r\n*1\r\n$3\r\n2.5\r\n", "*2\r\n%1\r\n$1\r\nk\r\n_\r\n~1\r\n,2.5\r\n"},
	}
	for _, tt := range tests {
		for _, proto := range []int{2, 3} {
			want := tt.resp2
			if proto == 3 {
				want = tt.resp3
			}
			w := &Writer{proto: proto}
			tt.write(w)
			if got := string(w.Bytes()); got != want {
				t.Errorf("%s RESP%d: got %q, want %q", tt.name, proto, got, want)
			}
			if w.Len() != len(want) {
				t.Errorf("%s RESP%d: Len %d, want %d", tt.name, proto, w.Len(), len(want))
			}
		}
	}
}

func TestWriterBuffer(t *testing.T) {
	w := &Writer{proto: 3}
	if w.Proto() != 3 {
		t.Fatalf("Proto = %d", w.Proto())
	}
	w.OK()
	mark := w.Len()
	w.Int(5)
	w.Truncate(mark)
	if got := string(w.Bytes()); got != "+OK\r\n" {
		t.Fatalf("after Truncate: %q", got)
	}
	w.Reset()
	if w.Len() != 0 || len(w.Bytes()) != 0 {
		t.Fatalf("after Reset: %q", w.Bytes())
	}
	w.Null()
	if got := string(w.Bytes()); got != "_\r\n" {
		t.Fatalf("after Reset and Null: %q", got)
	}
}

// g17 holds C's printf("%.17g") of doubles, produced on glibc with
// `awk 'BEGIN { printf "%.17g", x }'` (mawk computes in double; coreutils'
// printf uses long double and is no oracle here) and checked against
// redis-server 7.0's ZSCORE replies, which format with the same "%.17g".
var g17 = []struct {
	in   float64
	want string
}{
	{1.5, "1.5"},
	{1e300, "1.0000000000000001e+300"},
	{0.1, "0.10000000000000001"},
	{0.3, "0.29999999999999999"},
	{3.0, "3"},
	{0, "0"},
	{math.Copysign(0, -1), "-0"},
	{1, "1"},
	{-1, "-1"},
	{100, "100"},
	{-2.5, "-2.5"},
	{1e15, "1000000000000000"},
	{1e16, "10000000000000000"},
	{1e17, "1e+17"},
	{99999999999999999, "1e+17"},
	{123456789012345678, "1.2345678901234568e+17"},
	{9007199254740993, "9007199254740992"},
	{1e21, "1e+21"},
	{1e22, "1e+22"},
	{0.0001, "0.0001"},
	{0.00001, "1.0000000000000001e-05"},
	{0.000123, "0.00012300000000000001"},
	{-1e-7, "-9.9999999999999995e-08"},
	{12345.678, "12345.678"},
	{3.14159, "3.1415899999999999"},
	{1.0000000000000002, "1.0000000000000002"},
	{1.7976931348623157e308, "1.7976931348623157e+308"},
	{2.2250738585072014e-308, "2.2250738585072014e-308"},
	{2.5e-310, "2.5000000000000171e-310"},
	{1e-310, "9.9999999999999694e-311"},
	{5e-324, "4.9406564584124654e-324"},
}

func TestAppendCFormatG17(t *testing.T) {
	for _, tt := range g17 {
		if got := string(appendDouble(nil, tt.in)); got != tt.want {
			t.Errorf("appendDouble(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct {
		in   float64
		want string
	}{{math.Inf(1), "inf"}, {math.Inf(-1), "-inf"}, {math.NaN(), "nan"}} {
		if got := string(appendDouble(nil, tt.in)); got != tt.want {
			t.Errorf("appendDouble(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// appendDouble appends.
	if got := string(appendDouble([]byte("x="), 0.5)); got != "x=0.5" {
		t.Errorf("append: %q", got)
	}
}

// Go's 'g' verb with precision 17 follows C's rules (17 significant digits,
// trailing zeros removed, exponent below -4 or from 17 up, two-digit
// exponent), so it cross-checks the hand-written formatter on random bits.
func TestAppendCFormatG17Random(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		f := math.Float64frombits(r.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		got := string(appendCFormatG17(nil, f))
		if want := strconv.FormatFloat(f, 'g', 17, 64); got != want {
			t.Fatalf("appendCFormatG17(%b) = %q, want %q", f, got, want)
		}
		// %.17g always round-trips.
		if back, err := strconv.ParseFloat(got, 64); err != nil || back != f {
			t.Fatalf("%q parses back to %v (%v), want %v", got, back, err, f)
		}
	}
}
