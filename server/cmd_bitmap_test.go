package server

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"

	"github.com/cachalotdb/cachalot/config"
	"pgregory.net/rapid"
)

func TestBitRange(t *testing.T) {
	cases := []struct {
		n, start, end int64
		bit           bool
		lo, hi        int64
	}{
		{6, 0, -1, false, 0, 47},
		{6, 1, 1, false, 8, 15},
		{6, -2, -1, false, 32, 47},
		{6, -100, 100, false, 0, 47},
		{6, 5, 100, false, 40, 47},
		{6, 6, 100, false, 1, 0},  // past the end: empty
		{6, 3, 2, false, 1, 0},    // start after end: empty
		{6, 5, 30, true, 5, 30},   // bits
		{6, -5, -1, true, 43, 47}, // negative bits count from the last bit
		{6, 0, 1000, true, 0, 47},
		{0, 0, -1, false, 1, 0}, // empty string
		{0, 0, -1, true, 1, 0},
	}
	for _, tc := range cases {
		lo, hi := bitRange(tc.n, tc.start, tc.end, tc.bit)
		empty := lo > hi
		if empty != (tc.lo > tc.hi) || (!empty && (lo != tc.lo || hi != tc.hi)) {
			t.Errorf("bitRange(%d, %d, %d, %v) = %d..%d, want %d..%d", tc.n, tc.start, tc.end, tc.bit, lo, hi, tc.lo, tc.hi)
		}
	}
}

func TestPopcountAndBitpos(t *testing.T) {
	b := []byte("foobar") // 26 set bits, as Redis's docs say
	cases := []struct {
		lo, hi int64
		count  int64
	}{
		{0, 47, 26}, {0, 7, 4}, {8, 15, 6}, {5, 30, 17}, {1, 0, 0}, {9, 9, 1}, {7, 7, 0},
	}
	for _, tc := range cases {
		if got := popcountRange(b, tc.lo, tc.hi); got != tc.count {
			t.Errorf("popcountRange(foobar, %d, %d) = %d, want %d", tc.lo, tc.hi, got, tc.count)
		}
		// Cross-check against a bit-by-bit count.
		var n int64
		for i := tc.lo; i <= tc.hi; i++ {
			if getBit(b, uint64(i)) {
				n++
			}
		}
		if n != tc.count {
			t.Errorf("bit-by-bit count of %d..%d = %d, want %d", tc.lo, tc.hi, n, tc.count)
		}
	}
	p := []byte{0xff, 0xf0, 0x00}
	pos := []struct {
		bit    bool
		lo, hi int64
		want   int64
	}{
		{false, 0, 23, 12}, {true, 0, 23, 0}, {true, 8, 23, 8}, {true, 12, 23, -1},
		{false, 0, 11, -1}, {false, 7, 15, 12}, {true, 16, 23, -1}, {false, 16, 16, 16},
	}
	for _, tc := range pos {
		if got := bitpos(p, tc.bit, tc.lo, tc.hi); got != tc.want {
			t.Errorf("bitpos(%x, %v, %d, %d) = %d, want %d", p, tc.bit, tc.lo, tc.hi, got, tc.want)
		}
	}
}

func TestBitfieldGetSet(t *testing.T) {
	cases := []struct {
		offset uint64
		width  int
		val    uint64
	}{
		{0, 8, 0xab}, {3, 5, 0x15}, {7, 2, 3}, {13, 64, 0x8000000000000001}, {100, 1, 1}, {1, 63, 1<<62 | 5},
	}
	for _, tc := range cases {
		buf := make([]byte, 32)
		for i := range buf {
			buf[i] = 0x5a
		}
		before := append([]byte(nil), buf...)
		setBitfield(buf, tc.offset, tc.width, tc.val)
		if got := getBitfield(buf, tc.offset, tc.width); got != tc.val {
			t.Errorf("field %d/%d = %#x, want %#x", tc.offset, tc.width, got, tc.val)
		}
		// Bits outside the field are untouched.
		for i := uint64(0); i < 256; i++ {
			if (i < tc.offset || i >= tc.offset+uint64(tc.width)) && getBit(buf, i) != getBit(before, i) {
				t.Errorf("field %d/%d changed bit %d", tc.offset, tc.width, i)
			}
		}
	}
	if got := getBitfield([]byte{0xff}, 4, 8); got != 0xf0 {
		t.Errorf("read past the end = %#x, want 0xf0 (zero padded)", got)
	}
	for _, tc := range []struct {
		u     uint64
		width int
		want  int64
	}{{0xff, 8, -1}, {0x7f, 8, 127}, {1, 1, -1}, {0x80, 8, -128}, {math.MaxUint64, 64, -1}} {
		if got := signExtend(tc.u, tc.width); got != tc.want {
			t.Errorf("signExtend(%#x, %d) = %d, want %d", tc.u, tc.width, got, tc.want)
		}
	}
}

func TestBitfieldOverflow(t *testing.T) {
	us := []struct {
		value        uint64
		incr         int64
		width, ovf   int
		want         uint64
		wantOverflow bool
	}{
		{250, 10, 8, bfWrap, 4, true},
		{250, 10, 8, bfSat, 255, true},
		{250, 10, 8, bfFail, 4, true},
		{5, -10, 8, bfWrap, 251, true},
		{5, -10, 8, bfSat, 0, true},
		{5, 3, 8, bfWrap, 8, false},
		{math.MaxUint64, 0, 8, bfWrap, 255, true}, // SET u8 -1
		{256, 0, 8, bfSat, 255, true},
		{1<<63 - 1, 1, 63, bfWrap, 0, true},
	}
	for _, tc := range us {
		got, ov := unsignedFieldAdd(tc.value, tc.incr, tc.width, tc.ovf)
		if ov != tc.wantOverflow || (tc.ovf != bfFail && got != tc.want) {
			t.Errorf("unsigned %d%+d u%d ovf %d = %d,%v want %d,%v", tc.value, tc.incr, tc.width, tc.ovf, got, ov, tc.want, tc.wantOverflow)
		}
	}
	ss := []struct {
		value, incr  int64
		width, ovf   int
		want         int64
		wantOverflow bool
	}{
		{127, 1, 8, bfWrap, -128, true},
		{127, 1, 8, bfSat, 127, true},
		{-128, -1, 8, bfWrap, 127, true},
		{-128, -1, 8, bfSat, -128, true},
		{-5, 3, 8, bfWrap, -2, false},
		{200, 0, 8, bfWrap, -56, true},  // SET i8 200
		{-129, 0, 8, bfSat, -128, true}, // SET i8 -129
		{math.MaxInt64, 1, 64, bfWrap, math.MinInt64, true},
		{math.MinInt64, -1, 64, bfSat, math.MinInt64, true},
		{math.MaxInt64, 0, 64, bfFail, math.MaxInt64, false},
		{0, -1, 1, bfWrap, -1, false}, // i1 holds -1..0
		{0, 1, 1, bfSat, 0, true},
	}
	for _, tc := range ss {
		got, ov := signedFieldAdd(tc.value, tc.incr, tc.width, tc.ovf)
		if ov != tc.wantOverflow || got != tc.want {
			t.Errorf("signed %d%+d i%d ovf %d = %d,%v want %d,%v", tc.value, tc.incr, tc.width, tc.ovf, got, ov, tc.want, tc.wantOverflow)
		}
	}
}

func TestParseBitfieldType(t *testing.T) {
	for _, tc := range []struct {
		arg    string
		signed bool
		width  int
		ok     bool
	}{
		{"i8", true, 8, true}, {"U16", false, 16, true}, {"i64", true, 64, true}, {"u63", false, 63, true},
		{"u64", false, 0, false}, {"i65", false, 0, false}, {"i0", false, 0, false}, {"x8", false, 0, false},
		{"", false, 0, false}, {"u", false, 0, false}, {"i08", false, 0, false}, {"i-1", false, 0, false},
	} {
		s, w, err := parseBitfieldType([]byte(tc.arg))
		if (err == nil) != tc.ok || (tc.ok && (s != tc.signed || w != tc.width)) {
			t.Errorf("parseBitfieldType(%q) = %v,%d,%v", tc.arg, s, w, err)
		}
	}
}

// TestBitmapRowsDocsMatchRedis checks the usage strings of the bitmap and
// HyperLogLog rows render Redis 7.0's COMMAND DOCS argument trees.
func TestBitmapRowsDocsMatchRedis(t *testing.T) {
	golden := loadCommandGolden(t)
	for _, c := range append(bitmapCommands(), hyperloglogCommands()...) {
		want, ok := golden[c.name]
		if !ok {
			t.Errorf("%s: not in the golden file", c.name)
			continue
		}
		if c.usage == "" && want.Arguments == nil {
			continue // PFSELFTEST takes no arguments
		}
		gj, _ := json.Marshal(renderArgs(t, c.usage))
		wj, _ := json.Marshal(want.Arguments)
		if string(gj) != string(wj) {
			t.Errorf("%s %q:\n got %s\nwant %s", c.name, c.usage, gj, wj)
		}
	}
}

// TestBitmapHandlers runs the commands through a server for the replies
// the difftest scripts can't reach (a small proto-max-bulk-len).
func TestBitmapHandlers(t *testing.T) {
	e := newStrEnv(t, func(c *config.Config) { c.ProtoMaxBulkLen = 100 })
	for _, step := range []struct {
		args []string
		want string
	}{
		{[]string{"SETBIT", "k", "799", "1"}, ":0\r\n"},
		{[]string{"SETBIT", "k", "800", "1"}, "-" + string(errBitOffset) + "\r\n"},
		{[]string{"STRLEN", "k"}, ":100\r\n"},
		{[]string{"BITFIELD", "k", "GET", "u8", "#99"}, "*1\r\n:1\r\n"},
		{[]string{"BITFIELD", "k", "GET", "u8", "#100"}, "-" + string(errBitOffset) + "\r\n"},
		{[]string{"BITCOUNT", "k"}, ":1\r\n"},
		{[]string{"BITPOS", "k", "1"}, ":799\r\n"},
	} {
		if got := e.do(step.args...); got != step.want {
			t.Errorf("%q = %q, want %q", step.args, got, step.want)
		}
	}
}

// TestBitmapProperty drives SETBIT, GETBIT, BITCOUNT and BITPOS with random
// offsets and checks them against a []bool model of the bitmap.
func TestBitmapProperty(t *testing.T) {
	e := newStrEnv(t, nil)
	rapid.Check(t, func(rt *rapid.T) {
		e.do("DEL", "bm")
		var model []bool
		steps := rapid.IntRange(1, 60).Draw(rt, "steps")
		for i := 0; i < steps; i++ {
			switch rapid.IntRange(0, 3).Draw(rt, "op") {
			case 0: // SETBIT
				off := rapid.IntRange(0, 200).Draw(rt, "off")
				on := rapid.Bool().Draw(rt, "on")
				old := off < len(model) && model[off]
				if need := (off/8 + 1) * 8; need > len(model) {
					model = append(model, make([]bool, need-len(model))...)
				}
				model[off] = on
				if got, want := e.do("SETBIT", "bm", strconv.Itoa(off), strconv.Itoa(boolInt(on))), ":"+strconv.Itoa(boolInt(old))+"\r\n"; got != want {
					rt.Fatalf("SETBIT %d: got %q want %q", off, got, want)
				}
			case 1: // GETBIT
				off := rapid.IntRange(0, 250).Draw(rt, "off")
				want := off < len(model) && model[off]
				if got := e.do("GETBIT", "bm", strconv.Itoa(off)); got != ":"+strconv.Itoa(boolInt(want))+"\r\n" {
					rt.Fatalf("GETBIT %d: got %q want %v", off, got, want)
				}
			case 2: // BITCOUNT over a bit range
				s := rapid.IntRange(-260, 260).Draw(rt, "start")
				en := rapid.IntRange(-260, 260).Draw(rt, "end")
				want := 0
				n := len(model)
				if len(model) > 0 && !(s < 0 && en < 0 && s > en) {
					lo, hi := s, en
					if lo < 0 {
						lo += n
					}
					if hi < 0 {
						hi += n
					}
					lo, hi = max(lo, 0), min(max(hi, 0), n-1)
					for j := lo; j <= hi; j++ {
						if model[j] {
							want++
						}
					}
				}
				if got := e.do("BITCOUNT", "bm", strconv.Itoa(s), strconv.Itoa(en), "BIT"); got != ":"+strconv.Itoa(want)+"\r\n" {
					rt.Fatalf("BITCOUNT %d %d BIT: got %q want %d (model %d bits)", s, en, got, want, n)
				}
			case 3: // BITPOS of either bit over the whole string
				bit := rapid.Bool().Draw(rt, "bit")
				want := -1
				for j, b := range model {
					if b == bit {
						want = j
						break
					}
				}
				if want < 0 && !bit && len(model) > 0 {
					want = len(model) // zero padding past the end
				}
				if len(model) == 0 && !bit {
					want = 0 // a missing key is all zeros
				}
				if got := e.do("BITPOS", "bm", strconv.Itoa(boolInt(bit))); got != ":"+strconv.Itoa(want)+"\r\n" {
					rt.Fatalf("BITPOS %v: got %q want %d", bit, got, want)
				}
			}
		}
	})
}
