package store

import (
	"bytes"
	"errors"
	"testing"
)

func TestGrowString(t *testing.T) {
	db, _ := newStrTestDB(t)
	cases := []struct {
		name    string
		setup   func(tx *Tx)
		n       int
		want    []byte
		grew    bool
		wantErr error
	}{
		{"missing key is created zeroed", nil, 3, []byte{0, 0, 0}, true, nil},
		{"shorter value is zero-extended", func(tx *Tx) { tx.SetString([]byte("k"), []byte("ab"), SetOptions{}) }, 4, []byte("ab\x00\x00"), true, nil},
		{"long enough value is kept", func(tx *Tx) { tx.SetString([]byte("k"), []byte("abcd"), SetOptions{}) }, 2, []byte("abcd"), false, nil},
		{"int encoding becomes raw", func(tx *Tx) { tx.SetString([]byte("k"), []byte("12"), SetOptions{}) }, 1, []byte("12"), false, nil},
	}
	for _, tc := range cases {
		k := []byte("k")
		err := db.Update([][]byte{k}, func(tx *Tx) error {
			tx.Delete(k)
			if tc.setup != nil {
				tc.setup(tx)
			}
			buf, grew, err := tx.GrowString(k, tc.n)
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("%s: err %v", tc.name, err)
			}
			if !bytes.Equal(buf, tc.want) || grew != tc.grew {
				t.Errorf("%s: %q grew=%v, want %q grew=%v", tc.name, buf, grew, tc.want, tc.grew)
			}
			buf[0] = 'Z' // edits in place
			info, _ := tx.Object(k)
			if info.Encoding != "raw" {
				t.Errorf("%s: encoding %s, want raw", tc.name, info.Encoding)
			}
			if info.Value[0] != 'Z' {
				t.Errorf("%s: in-place edit not visible", tc.name)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Memory accounting follows the growth.
	k := []byte("m")
	var before, after int64
	_ = db.Update([][]byte{k}, func(tx *Tx) error {
		tx.SetString(k, []byte("x"), SetOptions{})
		return nil
	})
	before = db.store.UsedBytes()
	_ = db.Update([][]byte{k}, func(tx *Tx) error {
		_, _, err := tx.GrowString(k, 1000)
		return err
	})
	after = db.store.UsedBytes()
	if after-before < 999 {
		t.Errorf("used memory grew by %d, want >= 999", after-before)
	}
}

func TestUnshareAndReplaceString(t *testing.T) {
	db, _ := newStrTestDB(t)
	k := []byte("k")
	strPutOther(t, db, "other")
	err := db.Update([][]byte{k, []byte("other")}, func(tx *Tx) error {
		if _, ok, err := tx.UnshareString(k); ok || err != nil {
			t.Errorf("missing key: ok=%v err=%v", ok, err)
		}
		if _, _, err := tx.UnshareString([]byte("other")); !errors.Is(err, ErrWrongType) {
			t.Errorf("other kind: err %v", err)
		}
		if _, _, err := tx.GrowString([]byte("other"), 1); !errors.Is(err, ErrWrongType) {
			t.Errorf("GrowString on other kind: err %v", err)
		}
		tx.SetString(k, []byte("hello"), SetOptions{ExpireAt: tx.NowMs() + 10000})
		buf, ok, err := tx.UnshareString(k)
		if !ok || err != nil || string(buf) != "hello" {
			t.Fatalf("UnshareString = %q %v %v", buf, ok, err)
		}
		buf[0] = 'j'
		if v, _, _ := tx.PeekString(k); string(v) != "jello" {
			t.Errorf("after edit: %q", v)
		}
		tx.ReplaceString(k, []byte("a much longer value"))
		if v, _, _ := tx.PeekString(k); string(v) != "a much longer value" {
			t.Errorf("after replace: %q", v)
		}
		if at, _ := tx.ExpireAt(k); at == 0 {
			t.Error("ReplaceString dropped the TTL")
		}
		if info, _ := tx.Object(k); info.Encoding != "raw" {
			t.Errorf("encoding %s, want raw", info.Encoding)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
