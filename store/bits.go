package store

// In-place string edits for the bitmap and HyperLogLog commands. Redis edits
// these values where they lie (SETBIT, BITFIELD, PFADD, PFCOUNT's cached
// cardinality), which leaves them raw-encoded; these methods do the same
// and hand the handler the value's own bytes to change.

// GrowString returns key's string for editing in place, first creating it
// as n zero bytes when missing or zero-extending it to n bytes when shorter,
// as Redis's lookupStringForBitCommand does. grew reports whether the key
// was created or lengthened. The value becomes raw-encoded. The slice is the
// stored value itself: the caller may change its bytes (not its length)
// until the transaction ends.
func (tx *Tx) GrowString(key []byte, n int) (buf []byte, grew bool, err error) {
	tx.mustWrite()
	sh, e := tx.find(tx.db, key)
	if e == nil {
		tx.SetString(key, make([]byte, n), SetOptions{Encoding: EncodingRaw})
		_, e = tx.find(tx.db, key)
		return e.str(), true, nil
	}
	if e.kind != KindString {
		return nil, false, ErrWrongType
	}
	if len(e.str()) < n {
		before := e.size(string(key))
		e = sh.growStr(key, e, n, n)
		grew = true
		sh.resize(string(key), e, before)
	}
	e.enc = EncodingRaw
	tx.touch(e)
	return e.str(), grew, nil
}

// UnshareString returns key's existing string for editing in place, as
// Redis's dbUnshareStringValue does: the value becomes raw-encoded and the
// caller may change its bytes (not its length) until the transaction ends.
// ok is false when the key is missing.
func (tx *Tx) UnshareString(key []byte) (buf []byte, ok bool, err error) {
	tx.mustWrite()
	_, e := tx.find(tx.db, key)
	if e == nil {
		return nil, false, nil
	}
	if e.kind != KindString {
		return nil, false, ErrWrongType
	}
	e.enc = EncodingRaw
	tx.touch(e)
	return e.str(), true, nil
}

// ReplaceString swaps key's string for a copy of val, keeping its TTL, and
// leaves it raw-encoded: an edit that changes the value's length (an HLL
// growing or turning dense) rather than a new SET.
func (tx *Tx) ReplaceString(key, val []byte) {
	tx.SetString(key, val, SetOptions{KeepTTL: true, Encoding: EncodingRaw})
}
