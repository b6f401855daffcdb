package store

// SetOptions says how SetString treats the key's TTL and encoding.
type SetOptions struct {
	ExpireAt int64 // absolute Unix ms; 0 means no expiry unless KeepTTL
	KeepTTL  bool  // keep the existing TTL (SET … KEEPTTL)
	Encoding Encoding
}

// GetString reads a string for a read command: it counts a keyspace hit or
// miss and touches the entry. The slice is valid until the transaction ends.
func (tx *Tx) GetString(key []byte) (val []byte, ok bool, err error) {
	e := tx.readEntry(key)
	if e == nil {
		return nil, false, nil
	}
	if e.kind != KindString {
		return nil, false, ErrWrongType
	}
	return e.str(), true, nil
}

// PeekString reads a string for a write command, without counting stats.
func (tx *Tx) PeekString(key []byte) (val []byte, ok bool, err error) {
	_, e := tx.find(tx.db, key)
	if e == nil {
		return nil, false, nil
	}
	if e.kind != KindString {
		return nil, false, ErrWrongType
	}
	return e.str(), true, nil
}

// SetString stores a copy of val under key, replacing whatever was there.
func (tx *Tx) SetString(key, val []byte, opt SetOptions) {
	tx.mustWrite()
	sh, old := tx.find(tx.db, key)
	at := opt.ExpireAt
	if opt.KeepTTL && old != nil {
		at = old.expireAt
	}
	if old != nil && old.kind == KindString {
		// Overwrite in place: no new entry when the value fits the room
		// reserved for it without wasting much, so a SET on an existing
		// key allocates nothing.
		before := old.sizeLen(len(key))
		e := sh.setStr(key, old, val)
		e.enc = resolveEncoding(val, opt.Encoding)
		tx.touchReplaced(e)
		if at != e.expireAt {
			sh.setExpire(e, at)
		}
		sh.used.Add(e.sizeLen(len(key)) - before)
		return
	}
	e := newStringEntry(key, val, len(val))
	e.expireAt = at
	e.enc = resolveEncoding(val, opt.Encoding)
	tx.initAccess(e)
	sh.put(e)
}

// AppendString appends suffix to key's string, creating it when missing, and
// returns the new length.
func (tx *Tx) AppendString(key, suffix []byte) (int, error) {
	tx.mustWrite()
	sh, e := tx.find(tx.db, key)
	if e == nil {
		tx.SetString(key, suffix, SetOptions{})
		return len(suffix), nil
	}
	if e.kind != KindString {
		return 0, ErrWrongType
	}
	before := e.size(string(key))
	n := len(e.str())
	e = sh.growStr(key, e, n+len(suffix), appendRoom(n+len(suffix)))
	copy(e.str()[n:], suffix)
	e.enc = EncodingRaw
	tx.touch(e)
	sh.resize(string(key), e, before)
	return len(e.str()), nil
}

// appendRoom is the room APPEND reserves for a value growing to n bytes,
// Redis's sdsMakeRoomFor rule: double it, or add 1 MiB past 1 MiB.
func appendRoom(n int) int {
	const maxPrealloc = 1 << 20
	if n < maxPrealloc {
		return 2 * n
	}
	return n + maxPrealloc
}

// SetRange overwrites key's string at offset with val, zero-padding as
// needed, and returns the new length. A missing key with an empty val is
// left missing, as Redis does. The caller enforces proto-max-bulk-len.
func (tx *Tx) SetRange(key []byte, offset int, val []byte) (int, error) {
	tx.mustWrite()
	sh, e := tx.find(tx.db, key)
	if e == nil {
		if len(val) == 0 {
			return 0, nil
		}
		buf := make([]byte, offset+len(val))
		copy(buf[offset:], val)
		tx.SetString(key, buf, SetOptions{Encoding: EncodingRaw})
		return len(buf), nil
	}
	if e.kind != KindString {
		return 0, ErrWrongType
	}
	if len(val) == 0 {
		return len(e.str()), nil
	}
	before := e.size(string(key))
	if need := offset + len(val); need > len(e.str()) {
		e = sh.growStr(key, e, need, need)
	}
	copy(e.str()[offset:], val)
	e.enc = EncodingRaw
	tx.touch(e)
	sh.resize(string(key), e, before)
	return len(e.str()), nil
}

// StringLen returns the length of key's string (0 when missing).
func (tx *Tx) StringLen(key []byte) (int, error) {
	val, _, err := tx.GetString(key)
	return len(val), err
}
