package store

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// strTestKindOther stands for a non-string type until the other data types
// exist: the string operations must refuse it with ErrWrongType.
const strTestKindOther Kind = 200

func newStrTestDB(t *testing.T) (*DB, *FakeClock) {
	t.Helper()
	clock := NewFakeClock(1_700_000_000_000)
	s, err := New(Options{Databases: 2, Shards: 4, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return s.DB(0), clock
}

// putOther stores a value of another kind under key.
func strPutOther(t *testing.T, db *DB, key string) {
	t.Helper()
	err := db.Update([][]byte{[]byte(key)}, func(tx *Tx) error {
		sh, _ := tx.find(tx.db, []byte(key))
		sh.put(newContainerEntry([]byte(key), nil, strTestKindOther))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func strUpdate(t *testing.T, db *DB, key string, fn func(tx *Tx) error) {
	t.Helper()
	if err := db.Update([][]byte{[]byte(key)}, fn); err != nil {
		t.Fatal(err)
	}
}

func strView(t *testing.T, db *DB, key string, fn func(tx *Tx) error) {
	t.Helper()
	if err := db.View([][]byte{[]byte(key)}, fn); err != nil {
		t.Fatal(err)
	}
}

func strEncodingOf(t *testing.T, db *DB, key string) string {
	t.Helper()
	var enc string
	strView(t, db, key, func(tx *Tx) error {
		info, ok := tx.Object([]byte(key))
		if !ok {
			t.Fatalf("%s: missing", key)
		}
		enc = info.Encoding
		return nil
	})
	return enc
}

func TestSetStringEncodings(t *testing.T) {
	long44 := string(bytes.Repeat([]byte("a"), 44))
	long45 := long44 + "a"
	cases := []struct {
		val  string
		enc  Encoding
		want string
	}{
		{"12345", EncodingAuto, "int"},
		{"-9223372036854775808", EncodingAuto, "int"},
		{"9223372036854775808", EncodingAuto, "embstr"}, // out of int64
		{"0", EncodingAuto, "int"},
		{"-0", EncodingAuto, "embstr"},
		{"007", EncodingAuto, "embstr"},
		{" 1", EncodingAuto, "embstr"},
		{"+1", EncodingAuto, "embstr"},
		{"", EncodingAuto, "embstr"},
		{long44, EncodingAuto, "embstr"},
		{long45, EncodingAuto, "raw"},
		{"12345", EncodingEmbstr, "embstr"},
		{long45, EncodingEmbstr, "raw"},
		{"x", EncodingRaw, "raw"},
		{"42", EncodingInt, "int"},
	}
	db, _ := newStrTestDB(t)
	for _, tc := range cases {
		strUpdate(t, db, "k", func(tx *Tx) error {
			tx.SetString([]byte("k"), []byte(tc.val), SetOptions{Encoding: tc.enc})
			return nil
		})
		if got := strEncodingOf(t, db, "k"); got != tc.want {
			t.Errorf("SetString(%q, enc %d): encoding %s, want %s", tc.val, tc.enc, got, tc.want)
		}
	}
}

func TestSetStringCopiesAndTTL(t *testing.T) {
	db, clock := newStrTestDB(t)
	now := clock.NowMs()
	buf := []byte("value")
	strUpdate(t, db, "k", func(tx *Tx) error {
		tx.SetString([]byte("k"), buf, SetOptions{ExpireAt: now + 10_000})
		return nil
	})
	copy(buf, "XXXXX") // the store must have kept its own copy
	steps := []struct {
		name    string
		opt     SetOptions
		wantTTL int64
	}{
		{"keepttl keeps the expiry", SetOptions{KeepTTL: true}, now + 10_000},
		{"plain set clears it", SetOptions{}, 0},
		{"keepttl without a ttl", SetOptions{KeepTTL: true}, 0},
		{"explicit expiry", SetOptions{ExpireAt: now + 5}, now + 5},
	}
	strView(t, db, "k", func(tx *Tx) error {
		v, ok, err := tx.GetString([]byte("k"))
		if err != nil || !ok || string(v) != "value" {
			t.Errorf("GetString = %q, %v, %v; want value", v, ok, err)
		}
		return nil
	})
	for _, st := range steps {
		strUpdate(t, db, "k", func(tx *Tx) error {
			tx.SetString([]byte("k"), []byte("v2"), st.opt)
			at, ok := tx.ExpireAt([]byte("k"))
			if !ok || at != st.wantTTL {
				t.Errorf("%s: expireAt %d (exists %v), want %d", st.name, at, ok, st.wantTTL)
			}
			return nil
		})
	}
	clock.Advance(5 * time.Millisecond)
	strView(t, db, "k", func(tx *Tx) error {
		if _, ok, _ := tx.GetString([]byte("k")); ok {
			t.Error("a key whose expiry has come must read as missing")
		}
		return nil
	})
}

func TestStringStats(t *testing.T) {
	db, _ := newStrTestDB(t)
	s := db.store
	strUpdate(t, db, "k", func(tx *Tx) error {
		tx.SetString([]byte("k"), []byte("v"), SetOptions{})
		return nil
	})
	ops := []struct {
		name               string
		read               func(tx *Tx)
		wantHits, wantMiss int64
	}{
		{"GetString hit", func(tx *Tx) { tx.GetString([]byte("k")) }, 1, 0},
		{"GetString miss", func(tx *Tx) { tx.GetString([]byte("nokey")) }, 0, 1},
		{"PeekString hit", func(tx *Tx) { tx.PeekString([]byte("k")) }, 0, 0},
		{"PeekString miss", func(tx *Tx) { tx.PeekString([]byte("nokey")) }, 0, 0},
		{"StringLen hit", func(tx *Tx) { tx.StringLen([]byte("k")) }, 1, 0},
	}
	for _, op := range ops {
		before := s.Stats()
		if err := db.View([][]byte{[]byte("k"), []byte("nokey")}, func(tx *Tx) error { op.read(tx); return nil }); err != nil {
			t.Fatal(err)
		}
		after := s.Stats()
		if h, m := after.KeyspaceHits-before.KeyspaceHits, after.KeyspaceMisses-before.KeyspaceMisses; h != op.wantHits || m != op.wantMiss {
			t.Errorf("%s: hits +%d misses +%d, want +%d +%d", op.name, h, m, op.wantHits, op.wantMiss)
		}
	}
}

func TestAppendString(t *testing.T) {
	db, _ := newStrTestDB(t)
	steps := []struct {
		suffix  string
		wantLen int
		wantVal string
		wantEnc string
	}{
		{"123", 3, "123", "int"}, // a new key is encoded like SET's value
		{"4", 4, "1234", "raw"},  // an edited one is raw
		{"", 4, "1234", "raw"},
		{"\x00\r\n", 7, "1234\x00\r\n", "raw"},
	}
	for _, st := range steps {
		strUpdate(t, db, "k", func(tx *Tx) error {
			n, err := tx.AppendString([]byte("k"), []byte(st.suffix))
			if err != nil || n != st.wantLen {
				t.Errorf("AppendString(%q) = %d, %v; want %d", st.suffix, n, err, st.wantLen)
			}
			v, _, _ := tx.PeekString([]byte("k"))
			if string(v) != st.wantVal {
				t.Errorf("after AppendString(%q): %q, want %q", st.suffix, v, st.wantVal)
			}
			return nil
		})
		if enc := strEncodingOf(t, db, "k"); enc != st.wantEnc {
			t.Errorf("after AppendString(%q): encoding %s, want %s", st.suffix, enc, st.wantEnc)
		}
	}
}

func TestSetRange(t *testing.T) {
	cases := []struct {
		name    string
		initial *string
		offset  int
		val     string
		wantLen int
		wantVal *string // nil: the key must not exist
	}{
		{"missing key, empty value stays missing", nil, 5, "", 0, nil},
		{"missing key is zero padded", nil, 3, "ab", 5, strPtr("\x00\x00\x00ab")},
		{"overwrite inside", strPtr("Hello World"), 6, "Redis", 11, strPtr("Hello Redis")},
		{"grow at the end", strPtr("abc"), 2, "XYZ", 5, strPtr("abXYZ")},
		{"pad past the end", strPtr("ab"), 4, "c", 5, strPtr("ab\x00\x00c")},
		{"empty value leaves it alone", strPtr("abc"), 100, "", 3, strPtr("abc")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := newStrTestDB(t)
			if tc.initial != nil {
				strUpdate(t, db, "k", func(tx *Tx) error {
					tx.SetString([]byte("k"), []byte(*tc.initial), SetOptions{})
					return nil
				})
			}
			strUpdate(t, db, "k", func(tx *Tx) error {
				n, err := tx.SetRange([]byte("k"), tc.offset, []byte(tc.val))
				if err != nil || n != tc.wantLen {
					t.Errorf("SetRange = %d, %v; want %d", n, err, tc.wantLen)
				}
				v, ok, _ := tx.PeekString([]byte("k"))
				switch {
				case tc.wantVal == nil && ok:
					t.Errorf("key exists with %q, want it missing", v)
				case tc.wantVal != nil && string(v) != *tc.wantVal:
					t.Errorf("value %q, want %q", v, *tc.wantVal)
				}
				return nil
			})
			if tc.wantVal != nil && len(tc.val) > 0 {
				if enc := strEncodingOf(t, db, "k"); enc != "raw" {
					t.Errorf("encoding %s after SETRANGE, want raw", enc)
				}
			}
		})
	}
}

func strPtr(s string) *string { return &s }

func TestStringOpsWrongType(t *testing.T) {
	db, _ := newStrTestDB(t)
	strPutOther(t, db, "other")
	ops := map[string]func(tx *Tx) error{
		"GetString":  func(tx *Tx) error { _, _, err := tx.GetString([]byte("other")); return err },
		"PeekString": func(tx *Tx) error { _, _, err := tx.PeekString([]byte("other")); return err },
		"Append":     func(tx *Tx) error { _, err := tx.AppendString([]byte("other"), []byte("x")); return err },
		"SetRange":   func(tx *Tx) error { _, err := tx.SetRange([]byte("other"), 0, []byte("x")); return err },
		"StringLen":  func(tx *Tx) error { _, err := tx.StringLen([]byte("other")); return err },
	}
	for name, op := range ops {
		err := db.Update([][]byte{[]byte("other")}, op)
		if !errors.Is(err, ErrWrongType) {
			t.Errorf("%s on a non-string: %v, want ErrWrongType", name, err)
		}
	}
	// SetString replaces a value of any kind, as SET does.
	strUpdate(t, db, "other", func(tx *Tx) error {
		tx.SetString([]byte("other"), []byte("s"), SetOptions{})
		if k := tx.KindOf([]byte("other")); k != KindString {
			t.Errorf("kind after SetString: %v, want string", k)
		}
		return nil
	})
}
