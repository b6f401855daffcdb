package store

import (
	"math/rand/v2"
)

// KindOf returns the kind of key's value, KindNone when missing. It counts
// no stats and leaves the access clock alone (TYPE, EXISTS-like checks).
func (tx *Tx) KindOf(key []byte) Kind {
	_, e := tx.find(tx.db, key)
	if e == nil {
		return KindNone
	}
	return e.kind
}

// Exists reports whether key is present.
func (tx *Tx) Exists(key []byte) bool { return tx.KindOf(key) != KindNone }

// Lookup is the read lookup of TYPE, EXISTS, TTL and OBJECT: it counts a
// keyspace hit or miss, as Redis's lookupKeyReadWithFlags does, but leaves
// the access clock alone (LOOKUP_NOTOUCH). It returns the key's kind, its
// absolute expiry in Unix ms (0 when it has none) and whether it exists.
func (tx *Tx) Lookup(key []byte) (kind Kind, expireAt int64, ok bool) {
	_, e := tx.find(tx.db, key)
	if e == nil {
		tx.countMiss(key)
		return KindNone, 0, false
	}
	tx.countHit(key)
	return e.kind, e.expireAt, true
}

// Touch updates key's access clock and reports whether it exists. Like
// Redis's lookupKeyRead it counts a keyspace hit or miss.
func (tx *Tx) Touch(key []byte) bool {
	return tx.readEntry(key) != nil
}

// Delete removes key and reports whether it existed.
func (tx *Tx) Delete(key []byte) bool {
	tx.mustWrite()
	sh, e := tx.find(tx.db, key)
	if e == nil {
		return false
	}
	sh.remove(e)
	return true
}

// ExpireAt returns key's absolute expiry in Unix ms (0 when it has none) and
// whether the key exists.
func (tx *Tx) ExpireAt(key []byte) (at int64, exists bool) {
	_, e := tx.find(tx.db, key)
	if e == nil {
		return 0, false
	}
	return e.expireAt, true
}

// SetExpireAt sets key's expiry to at (Unix ms). A time not in the future
// deletes the key, as Redis does. It reports whether the key existed.
func (tx *Tx) SetExpireAt(key []byte, at int64) bool {
	tx.mustWrite()
	sh, e := tx.find(tx.db, key)
	if e == nil {
		return false
	}
	if at <= tx.now && !tx.db.store.snap.loading.Load() {
		sh.remove(e)
		return true
	}
	sh.setExpire(e, at)
	return true
}

// Persist removes key's TTL and reports whether it had one.
func (tx *Tx) Persist(key []byte) bool {
	tx.mustWrite()
	sh, e := tx.find(tx.db, key)
	if e == nil || e.expireAt == 0 {
		return false
	}
	sh.setExpire(e, 0)
	return true
}

// Rename moves src's value and TTL to dst. With nx it does nothing and
// returns false when dst exists. It returns ErrNoSuchKey when src is missing.
func (tx *Tx) Rename(src, dst []byte, nx bool) (bool, error) {
	tx.mustWrite()
	ssh, e := tx.find(tx.db, src)
	if e == nil {
		return false, ErrNoSuchKey
	}
	if string(src) == string(dst) {
		return !nx, nil
	}
	dsh, old := tx.find(tx.db, dst)
	if old != nil && nx {
		return false, nil
	}
	ssh.remove(e)
	e = e.rekeyed(dst) // an inline key moves with a copy (layout.go)
	dsh.put(e)
	tx.markReadyIfBlockable(tx.db, dst, e)
	return true, nil
}

// CopyTo copies src's value and TTL to dst in dstDB. Without replace an
// existing dst is left alone and CopyTo returns false.
func (tx *Tx) CopyTo(dstDB *DB, src, dst []byte, replace bool) (bool, error) {
	tx.mustWrite()
	e := tx.readEntry(src) // a read lookup, as Redis's copyCommand
	if e == nil {
		return false, nil
	}
	dsh, old := tx.find(dstDB, dst)
	if old != nil && !replace {
		return false, nil
	}
	var dup *entry
	if e.kind == KindString {
		v := e.str()
		dup = newStringEntry(dst, v, len(v))
	} else {
		dup = newContainerEntry(dst, cloneContainer(e.obj()), e.kind)
	}
	dup.expireAt = e.expireAt
	dup.enc = e.enc
	tx.initAccess(dup)
	dsh.put(dup)
	tx.markReadyIfBlockable(dstDB, dst, dup)
	return true, nil
}

// MoveTo moves key to dstDB unless it exists there; it reports success.
func (tx *Tx) MoveTo(dstDB *DB, key []byte) bool {
	tx.mustWrite()
	ssh, e := tx.find(tx.db, key)
	if e == nil {
		return false
	}
	dsh, old := tx.find(dstDB, key)
	if old != nil {
		return false
	}
	ssh.remove(e)
	dsh.put(e)
	tx.markReadyIfBlockable(dstDB, key, e)
	return true
}

// ObjectInfo is what OBJECT and MEMORY USAGE report about a key.
type ObjectInfo struct {
	Kind        Kind
	Encoding    string
	IdleSeconds int64
	Freq        int   // OBJECT FREQ: the LFU counter after decay (LFU policies)
	SizeBytes   int64 // the entry's share of used_memory
	// Value is the string value, valid only inside the transaction;
	// ValueCap is the capacity reserved for it (what an in-place edit
	// such as APPEND leaves room for).
	Value    []byte
	ValueCap int
}

// Object describes key without touching its access clock.
func (tx *Tx) Object(key []byte) (ObjectInfo, bool) {
	_, e := tx.find(tx.db, key)
	if e == nil {
		return ObjectInfo{}, false
	}
	return ObjectInfo{
		Kind:        e.kind,
		Encoding:    e.encodingName(),
		IdleSeconds: tx.idleSeconds(e),
		Freq:        tx.lfuFreq(e),
		SizeBytes:   e.size(string(key)),
		Value:       e.str(),
		ValueCap:    cap(e.str()),
	}, true
}

// Keys calls fn for every live key, one shard at a time under its read lock.
// fn must not call back into the store.
func (db *DB) Keys(fn func(key string, kind Kind)) {
	now := db.store.NowMs()
	for i := range db.shards {
		sh := &db.shards[i]
		sh.mu.RLock()
		for e := range sh.idx.all {
			if e.expireAt == 0 || e.expireAt > now {
				fn(e.key(), e.kind)
			}
		}
		sh.mu.RUnlock()
	}
}

// Item is one key with its value, for whole-keyspace walks (DEBUG DIGEST).
type Item struct {
	Key      string
	Kind     Kind
	Str      []byte    // valid only during the callback
	Value    Container // non-string values; read only, during the callback
	ExpireAt int64
}

// ForEach calls fn for every live key with its value, under the shard's read
// lock. fn must copy what it keeps and must not call back into the store.
func (db *DB) ForEach(fn func(it Item)) {
	now := db.store.NowMs()
	for i := range db.shards {
		sh := &db.shards[i]
		sh.mu.RLock()
		for e := range sh.idx.all {
			if e.expireAt == 0 || e.expireAt > now {
				fn(Item{Key: e.key(), Kind: e.kind, Str: e.str(), Value: e.obj(), ExpireAt: e.expireAt})
			}
		}
		sh.mu.RUnlock()
	}
}

// Item returns key's value like ForEach does, for DEBUG DIGEST-VALUE.
func (tx *Tx) Item(key []byte) (Item, bool) {
	_, e := tx.find(tx.db, key)
	if e == nil {
		return Item{}, false
	}
	return Item{Key: string(key), Kind: e.kind, Str: e.str(), Value: e.obj(), ExpireAt: e.expireAt}, true
}

// RandomKey returns a random live key, or false when the database is empty.
func (db *DB) RandomKey() (string, bool) {
	n := len(db.shards)
	start := rand.IntN(n)
	// Try random shards first, then sweep, so a sparse keyspace still
	// answers without scanning every shard each time.
	for attempt := 0; attempt < n+8; attempt++ {
		idx := (start + attempt) % n
		if attempt < 8 {
			idx = rand.IntN(n)
		}
		if k, ok := db.shards[idx].randomLive(db.store.NowMs()); ok {
			return k, true
		}
	}
	return "", false
}

func (sh *shard) randomLive(now int64) (string, bool) {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	for e := range sh.idx.from(rand.Uint64()) {
		if e.expireAt == 0 || e.expireAt > now {
			return e.key(), true
		}
	}
	return "", false
}

// Scan cursors: the top bits name the shard, the low posBits bits a
// position in the shard's index: the top bits of the key's hash, which
// never change (index.scan says why no key present for the whole scan is
// missed, however the keyspace grows or shrinks in between).

// Scan returns about count keys starting at cursor, and the cursor to
// continue from (0 when the scan is complete). fn sees each key.
func (db *DB) Scan(cursor uint64, count int, fn func(key string, kind Kind)) uint64 {
	if count < 1 {
		count = 1
	}
	shardIdx := cursor >> posBits
	pos := cursor & (posEnd - 1)
	now := db.store.NowMs()
	type found struct {
		key  string
		kind Kind
	}
	var keys []found
	for shardIdx < uint64(len(db.shards)) {
		sh := &db.shards[shardIdx]
		sh.mu.RLock()
		next := sh.idx.scan(pos, count-len(keys), func(e *entry) bool {
			if e.expireAt != 0 && e.expireAt <= now {
				return false
			}
			keys = append(keys, found{e.key(), e.kind})
			return true
		})
		sh.mu.RUnlock()
		if next == posEnd {
			shardIdx, pos = shardIdx+1, 0
		} else {
			pos = next
		}
		if len(keys) >= count {
			break
		}
	}
	// fn runs once the shard is unlocked: it may take its time.
	for _, k := range keys {
		fn(k.key, k.kind)
	}
	if shardIdx >= uint64(len(db.shards)) {
		return 0
	}
	return shardIdx<<posBits | pos
}
