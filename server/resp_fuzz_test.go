package server

import (
	"bytes"
	"errors"
	"testing"
	"unsafe"
)

// fuzzSeeds are the tricky requests of resp_test.go.
var fuzzSeeds = []string{
	"PING\r\n",
	"PING\n",
	"set a \"\\x41b\"\r\n",
	"set b 'it\\'s'\r\n",
	"echo \"\" ''\r\n",
	"set c \"abc\r\n",
	"set c \"a\"b\r\n",
	"echo a\x00b\r\n",
	"\r\n",
	"*0\r\n",
	"*-1\r\n",
	"*abc\r\n",
	"*2\r\n+x\r\n",
	"*1\r\n\r\n",
	"*1\r$4\r\nPING\r\n",
	"*1\r\n$-1\r\n",
	"*1\r\n$04\r\nPING\r\n",
	"*1\r\n$4\r\nPINGxx",
	"*1\r\n$4\r\nPING",
	"*2147483648\r\n",
	"*11\r\n",
	"*1\r\n$16385\r\n",
	"*1\r\n$101\r\n",
	"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n",
	"*2\r\n$4\r\necho\r\n$3\r\n\x00\r\n\r\n*1\r\n$4\r\nPING\r\n",
	"*1\x00\r\n$4\r\nPING\r\n",
}

// FuzzParseRequest checks parseRequest never panics, stays within its
// input, returns arguments that alias the input, round-trips through RESP,
// and gives the same answer when the bytes arrive one at a time.
func FuzzParseRequest(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, authenticated bool) {
		lim := readLimits{maxBulk: 100, maxQuery: 1 << 20, authenticated: authenticated}
		consumed, argv, err := parseRequest(data, lim, nil)
		if err != nil {
			var pe protocolError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a protocol error", err)
			}
			if consumed != 0 || len(argv) != 0 {
				t.Fatalf("error %v with consumed %d and %d args", err, consumed, len(argv))
			}
		}
		if consumed < 0 || consumed > len(data) {
			t.Fatalf("consumed %d of %d bytes", consumed, len(data))
		}
		if consumed == 0 && len(argv) != 0 {
			t.Fatalf("%d args from an incomplete request", len(argv))
		}
		isMultibulk := len(data) > 0 && data[0] == '*'
		if isMultibulk {
			for i, a := range argv {
				if !within(data[:consumed], a) {
					t.Fatalf("arg %d %q does not alias the request bytes", i, a)
				}
				if int64(len(a)) > lim.maxBulk {
					t.Fatalf("arg %d has %d bytes, above proto-max-bulk-len %d", i, len(a), lim.maxBulk)
				}
			}
		}
		for i, a := range argv {
			if a == nil {
				t.Fatalf("arg %d is nil", i)
			}
		}

		// Round trip: argv encoded as RESP parses back to the same argv.
		if consumed > 0 && len(argv) > 0 {
			enc := encodeRESP(argv...)
			big := readLimits{maxBulk: 1 << 30, maxQuery: 1 << 30, authenticated: true}
			n2, argv2, err2 := parseRequest(enc, big, nil)
			if err2 != nil || n2 != len(enc) || len(argv2) != len(argv) {
				t.Fatalf("round trip of %q: consumed %d of %d, %d args, err %v", argv, n2, len(enc), len(argv2), err2)
			}
			for i := range argv {
				if !bytes.Equal(argv[i], argv2[i]) {
					t.Fatalf("round trip arg %d: %q became %q", i, argv[i], argv2[i])
				}
			}
		}

		// Arriving one byte at a time, with the resumable parse state the
		// reader uses, gives the same result at the first prefix that
		// completes (or fails).
		if len(data) > 4096 {
			return
		}
		var st parseState
		var args [][]byte
		for k := 1; k <= len(data); k++ {
			n, av, e := st.parse(data[:k], lim, args)
			args = av[:0]
			if n == 0 && e == nil {
				if k == len(data) && (consumed != 0 || err != nil) {
					t.Fatalf("byte by byte: still incomplete at the end; one shot gave consumed %d err %v", consumed, err)
				}
				continue
			}
			if (e == nil) != (err == nil) || (e != nil && e.Error() != err.Error()) {
				t.Fatalf("byte by byte at %d: err %v, one shot: %v", k, e, err)
			}
			if n != consumed || len(av) != len(argv) {
				t.Fatalf("byte by byte at %d: consumed %d with %d args, one shot %d with %d", k, n, len(av), consumed, len(argv))
			}
			for i := range av {
				if !bytes.Equal(av[i], argv[i]) {
					t.Fatalf("byte by byte arg %d: %q, one shot %q", i, av[i], argv[i])
				}
			}
			break
		}
	})
}

// within reports whether a lies inside buf's memory (empty slices always
// do: they carry no bytes that could escape).
func within(buf, a []byte) bool {
	if len(a) == 0 {
		return true
	}
	if len(buf) == 0 {
		return false
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(a)))
	return p >= lo && p+uintptr(len(a)) <= lo+uintptr(len(buf))
}

// FuzzSplitArgs checks splitArgs never panics and that its words, quoted
// back with double quotes and \xHH escapes, split to the same words.
func FuzzSplitArgs(f *testing.F) {
	for _, s := range []string{
		"set a b", `"\x41b"`, `'it\'s'`, `"\x4g"`, `"abc`, `"a"b`, `'a'b`, `a"b c"`,
		`"" ''`, "a\vb", "a\x00b", `"\\ \" \q"`, `"\`, "\t\n\r ",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		words, ok := splitArgs(line)
		if !ok {
			if words != nil {
				t.Fatalf("unbalanced quotes but %d words", len(words))
			}
			return
		}
		var quoted []byte
		for i, w := range words {
			if w == nil {
				t.Fatalf("word %d is nil", i)
			}
			if i > 0 {
				quoted = append(quoted, ' ')
			}
			quoted = append(quoted, '"')
			for _, c := range w {
				quoted = append(quoted, '\\', 'x', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
			}
			quoted = append(quoted, '"')
		}
		again, ok := splitArgs(quoted)
		if !ok || len(again) != len(words) {
			t.Fatalf("re-split of %q: ok %v, %d words, want %d", quoted, ok, len(again), len(words))
		}
		for i := range words {
			if !bytes.Equal(words[i], again[i]) {
				t.Fatalf("word %d: %q became %q", i, words[i], again[i])
			}
		}
		// An unquoted word never holds a separator or a NUL.
		if bytes.IndexByte(line, '"') < 0 && bytes.IndexByte(line, '\'') < 0 {
			for _, w := range words {
				if bytes.ContainsAny(w, " \t\r\n\x00") {
					t.Fatalf("unquoted word %q holds a separator", w)
				}
			}
		}
	})
}
