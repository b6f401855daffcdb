package server

import (
	"bytes"
	"math/rand"
	"strings"
	"testing"
)

func TestCRC64(t *testing.T) {
	cases := []struct {
		in   string
		want uint64
	}{
		{"", 0},
		{"123456789", 0xe9c6d914c4b8d9ca}, // crc64.c's own test vector
		// FUNCTION DUMP of no library, from redis-server 7.0.15: the CRC
		// of "\x0a\x00" is its last 8 bytes.
		{"\x0a\x00", 0xdaa27f0f405c9b5d},
	}
	for _, c := range cases {
		if got := crc64(0, []byte(c.in)); got != c.want {
			t.Errorf("crc64(%q) = %#x, want %#x", c.in, got, c.want)
		}
	}
	// Incremental use gives the same result.
	if crc64(crc64(0, []byte("1234")), []byte("56789")) != 0xe9c6d914c4b8d9ca {
		t.Error("crc64 is not incremental")
	}
}

func TestDumpFooter(t *testing.T) {
	p := appendDumpFooter(nil)
	if want := "\x0a\x00\x5d\x9b\x5c\x40\x0f\x7f\xa2\xda"; string(p) != want {
		t.Fatalf("empty payload %q, want %q (redis-server 7.0.15)", p, want)
	}
	if ver, ok := verifyDumpPayload(p); !ok || ver != 10 {
		t.Fatalf("verify: %d %v", ver, ok)
	}
	bad := append([]byte(nil), p...)
	bad[len(bad)-1] ^= 1
	for _, b := range [][]byte{nil, p[:9], bad, {11, 0, 0, 0, 0, 0, 0, 0, 0, 0}} {
		if _, ok := verifyDumpPayload(b); ok {
			t.Errorf("verifyDumpPayload(%q) accepted", b)
		}
	}
}

func TestRDBLen(t *testing.T) {
	cases := []struct {
		n    uint64
		want string
	}{
		{0, "\x00"}, {63, "\x3f"}, {64, "\x40\x40"}, {16383, "\x7f\xff"},
		{16384, "\x80\x00\x00\x40\x00"}, {1<<32 - 1, "\x80\xff\xff\xff\xff"},
		{1 << 32, "\x81\x00\x00\x00\x01\x00\x00\x00\x00"},
	}
	for _, c := range cases {
		got := appendRDBLen(nil, c.n)
		if string(got) != c.want {
			t.Errorf("appendRDBLen(%d) = %q, want %q", c.n, got, c.want)
		}
		r := &rdbReader{p: got}
		if n, enc, ok := r.readLen(); !ok || enc || n != c.n || r.pos != len(got) {
			t.Errorf("readLen(%q) = %d %v %v", got, n, enc, ok)
		}
	}
	for _, bad := range []string{"", "\x40", "\x80\x00", "\x81\x00\x00", "\x82"} {
		if _, _, ok := (&rdbReader{p: []byte(bad)}).readLen(); ok {
			t.Errorf("readLen(%q) accepted", bad)
		}
	}
}

func TestRDBString(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "\x00"},
		{"abc", "\x03abc"},
		{"12", "\xc0\x0c"},
		{"-128", "\xc0\x80"},
		{"300", "\xc1\x2c\x01"},
		{"-70000", "\xc2\x90\xee\xfe\xff"},
		{"2147483648", "\x0a2147483648"}, // over 32 bits: verbatim
		{"012", "\x03012"},               // not canonical
		{"+1", "\x02+1"},
		// Over 20 bytes and LZF saves at least 4: compressed, as
		// redis-server 7.0.15 DUMPs these strings.
		{strings.Repeat("a", 21), "\xc3\x06\x15\x01aa\xe0\x0a\x00"},
		{strings.Repeat("x", 31), "\xc3\x09\x1f\x01xx\xe0\x12\x00\x01xx"},
		{"abcdefghijklmnopqrstuvwxyz", "\x1aabcdefghijklmnopqrstuvwxyz"}, // LZF saves nothing
		// 20 bytes: never compressed.
		{strings.Repeat("a", 20), "\x14" + strings.Repeat("a", 20)},
	}
	for _, c := range cases {
		got := appendRDBString(nil, []byte(c.in))
		if string(got) != c.want {
			t.Errorf("appendRDBString(%q) = %q, want %q", c.in, got, c.want)
		}
		r := &rdbReader{p: got}
		if back, ok := r.readString(); !ok || string(back) != c.in || r.pos != len(got) {
			t.Errorf("readString(%q) = %q %v", got, back, ok)
		}
	}
}

func TestRDBStringDecodeErrors(t *testing.T) {
	for _, bad := range []string{
		"", "\x05ab", "\xc0", "\xc1\x01", "\xc2\x01\x02\x03", "\xc4", "\xff",
		"\xc3", "\xc3\x05", "\xc3\x05\x05ab", // truncated
		"\xc3\x02\x03\x01ab", // decompresses to 2 bytes, not 3
		"\xc3\x01\x05\x20",   // back reference before the start
	} {
		if s, ok := (&rdbReader{p: []byte(bad)}).readString(); ok {
			t.Errorf("readString(%q) = %q, want failure", bad, s)
		}
	}
	// A zero uncompressed length is an empty string, whatever the data
	// (lzf_decompress's failure, 0, equals the length).
	if s, ok := (&rdbReader{p: []byte("\xc3\x03\x00abc")}).readString(); !ok || len(s) != 0 {
		t.Errorf("LZF with length 0: %q %v", s, ok)
	}
}

// TestLZFRoundTrip checks lzfCompress against digest.go's
// lzfCompressedLen (DEBUG OBJECT's serializedlength, itself checked
// against Redis), and that everything round-trips.
func TestLZFRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	alphabets := []string{"a", "ab", "abcdefgh", "the quick brown fox ", "\x00\xff"}
	for i := 0; i < 2000; i++ {
		n := rng.Intn(1 << uint(rng.Intn(15)))
		alpha := alphabets[rng.Intn(len(alphabets))]
		in := make([]byte, n)
		for j := range in {
			in[j] = alpha[rng.Intn(len(alpha))]
		}
		if rng.Intn(3) == 0 {
			rng.Read(in[:n/2])
		}
		outLen := n - 4
		if rng.Intn(4) == 0 {
			outLen = n + 64
		}
		c := lzfCompress(in, outLen)
		if want := lzfCompressedLen(in, outLen); len(c) != want {
			t.Fatalf("input %d: compressed to %d bytes, size model says %d", i, len(c), want)
		}
		if c == nil {
			continue
		}
		if len(c) > outLen {
			t.Fatalf("input %d: %d bytes over the limit %d", i, len(c), outLen)
		}
		back, ok := lzfDecompress(c, uint64(n))
		if !ok || !bytes.Equal(back, in) {
			t.Fatalf("input %d (%d bytes): round trip failed", i, n)
		}
		if _, ok := lzfDecompress(c, uint64(n-1)); ok && n > 0 {
			t.Fatalf("input %d: decompressed into a buffer too small", i)
		}
	}
}

func TestLZFKnownOutput(t *testing.T) {
	// From redis-server 7.0.15's FUNCTION DUMP of a library whose code
	// ends in "abcabcabcabcabcabc xyzxyz\n": the last match starts 4 bytes
	// from the end (liblzf 3.6 has no "ip + 4 < in_end" bound).
	in := "-- abcabcabcabcabcabc xyzxyz\n"
	want := "\x05-- abc\xe0\x06\x02\x03 xyz \x02\x00\n"
	if got := lzfCompress([]byte(in), len(in)+10); string(got) != want {
		t.Errorf("lzfCompress(%q) = %q, want %q", in, got, want)
	}
}

func FuzzLZFDecompress(f *testing.F) {
	f.Add([]byte("\x05-- abc\xe0\x06\x02\x03 xyz \x02\x00\n"), uint16(29))
	f.Add([]byte("\xe0\xff\x00"), uint16(300))
	f.Add([]byte{}, uint16(0))
	f.Fuzz(func(t *testing.T, in []byte, n uint16) {
		out, ok := lzfDecompress(in, uint64(n))
		if ok && len(out) > int(n) {
			t.Fatalf("%d bytes out, limit %d", len(out), n)
		}
	})
}

func FuzzRDBReadString(f *testing.F) {
	f.Add([]byte("\xc3\x05\x1d\x05-- abc"))
	f.Add([]byte("\x81\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Add([]byte("\xc3\x81\xff\xff\xff\xff\xff\xff\xff\xff\x81\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := &rdbReader{p: in}
		for r.pos < len(in) {
			if _, ok := r.readString(); !ok {
				break
			}
		}
	})
}
