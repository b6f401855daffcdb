package store

import (
	"slices"
	"unsafe"
)

// lockRef names one locked shard.
type lockRef struct {
	db    *DB
	shard int
}

func (a lockRef) less(b lockRef) bool {
	if a.db.index != b.db.index {
		return a.db.index < b.db.index
	}
	return a.shard < b.shard
}

// Tx is a set of locked shards and the operations allowed on their keys.
// A Tx is only valid inside the function given to Update or View.
type Tx struct {
	db     *DB
	now    int64
	write  bool
	locks  []lockRef
	buf    [4]lockRef
	dirty  bool
	stale  [][]byte  // expired keys a read transaction saw, reclaimed after it
	missed [][]byte  // keys read lookups missed, for the miss hook (observe.go)
	settle []touched // containers handed out, re-accounted before unlock
	ready  []KeyRef  // keys a write made ready for blocked clients
	nowSec uint32
	// noTouch: reads leave access clocks alone (CLIENT NO-TOUCH, evict.go).
	noTouch bool
	epoch   uint64 // snapshot epoch of a write's changes (snapshot.go)
}

// KeyRef names a key in a database, for transactions spanning databases.
type KeyRef struct {
	DB  *DB
	Key []byte
}

// Update runs fn with write locks on the shards of keys, taken in a fixed
// order so concurrent multi-key updates cannot deadlock.
func (db *DB) Update(keys [][]byte, fn func(tx *Tx) error) error {
	tx := db.store.getTx(db, true)
	for _, k := range keys {
		tx.addLock(db, k)
	}
	err := tx.runLocked(fn)
	tx.notifyReady()
	tx.notifyMisses()
	db.store.putTx(tx)
	return err
}

// getTx takes a transaction from the pool: a Tx escapes to the heap (fn is
// opaque), and pooling keeps that off the per-command allocation bill.
func (s *Store) getTx(db *DB, write bool) *Tx {
	tx, _ := s.txPool.Get().(*Tx)
	if tx == nil {
		tx = new(Tx)
	}
	tx.begin(db, write)
	return tx
}

// putTx returns tx to the pool, dropping its references to the caller's
// arguments and the store's entries.
func (s *Store) putTx(tx *Tx) {
	clear(tx.stale)
	clear(tx.settle)
	clear(tx.ready)
	clear(tx.locks)
	tx.stale, tx.settle, tx.ready = tx.stale[:0], tx.settle[:0], tx.ready[:0]
	tx.missed = nil
	tx.db = nil
	s.txPool.Put(tx)
}

// MarkReady records that the transaction made key ready for clients blocked
// on it (a push into a list, an add to a sorted set). The store's ReadyHook
// hears of it once the locks are released.
func (tx *Tx) MarkReady(key []byte) { tx.markReadyIn(tx.db, key) }

func (tx *Tx) markReadyIn(db *DB, key []byte) {
	tx.ready = append(tx.ready, KeyRef{DB: db, Key: key})
}

// markReadyIfBlockable marks dst ready when e holds a kind clients block on
// (RENAME, COPY and MOVE onto a list or sorted set, as Redis's dbAdd).
func (tx *Tx) markReadyIfBlockable(db *DB, dst []byte, e *entry) {
	if e.kind == KindList || e.kind == KindZSet {
		tx.markReadyIn(db, dst)
	}
}

// notifyReady tells the hook, one database at a time, which keys became
// ready.
func (tx *Tx) notifyReady() {
	hook := tx.db.store.readyHook
	if len(tx.ready) == 0 || hook == nil {
		return
	}
	var keys [][]byte
	for i, r := range tx.ready {
		if r.DB == nil {
			continue
		}
		keys = keys[:0]
		for j := i; j < len(tx.ready); j++ {
			if tx.ready[j].DB == r.DB {
				keys = append(keys, tx.ready[j].Key)
				tx.ready[j].DB = nil
			}
		}
		hook(r.DB, keys)
	}
}

// View runs fn with read locks on the shards of keys. Expired keys read as
// missing inside fn and are deleted right after it, under a write lock, so a
// read reclaims what it found expired as Redis's lookupKeyRead does.
func (db *DB) View(keys [][]byte, fn func(tx *Tx) error) error {
	tx := db.store.getTx(db, false)
	defer db.store.putTx(tx)
	for _, k := range keys {
		tx.addLock(db, k)
	}
	err := tx.runLocked(fn)
	if len(tx.stale) > 0 {
		db.Update(tx.stale, func(w *Tx) error {
			for _, k := range tx.stale {
				w.find(db, k) // deletes the key if it is still expired
			}
			return nil
		})
	}
	tx.notifyMisses() // after "expired", as in Redis's lookupKey
	return err
}

// runLocked runs fn between lock and unlock; the deferred unlock keeps a
// panicking handler from leaving shards locked.
func (tx *Tx) runLocked(fn func(tx *Tx) error) error {
	tx.lock()
	defer tx.unlock()
	return fn(tx)
}

// UpdateRefs is Update for keys in several databases (COPY … DB, MOVE).
// The Tx's own database is db.
func (db *DB) UpdateRefs(refs []KeyRef, fn func(tx *Tx) error) error {
	var tx Tx
	tx.begin(db, true)
	for _, r := range refs {
		tx.addLock(r.DB, r.Key)
	}
	err := tx.runLocked(fn)
	tx.notifyReady()
	tx.notifyMisses()
	return err
}

func (tx *Tx) begin(db *DB, write bool) {
	tx.db = db
	tx.write = write
	tx.now = db.store.NowMs()
	tx.nowSec = uint32(tx.now / 1000)
	tx.locks = tx.buf[:0]
	tx.dirty = false
	tx.noTouch = false
}

func (tx *Tx) addLock(db *DB, key []byte) {
	ref := lockRef{db: db, shard: db.shardOf(key)}
	for _, l := range tx.locks {
		if l == ref {
			return
		}
	}
	tx.locks = append(tx.locks, ref)
}

func (tx *Tx) lock() {
	if len(tx.locks) > 1 {
		slices.SortFunc(tx.locks, func(a, b lockRef) int {
			if a.less(b) {
				return -1
			}
			return 1
		})
	}
	for _, l := range tx.locks {
		sh := &l.db.shards[l.shard]
		if tx.write {
			if !sh.mu.TryLock() {
				l.db.store.lockSlow(sh, true) // times the wait (observe.go)
			}
		} else if !sh.mu.TryRLock() {
			l.db.store.lockSlow(sh, false)
		}
	}
	if tx.write {
		s := tx.db.store
		tx.epoch = s.snap.epoch.Load() // once every lock is held: one epoch for all
		for _, l := range tx.locks {
			s.settleAt(l.db, &l.db.shards[l.shard], tx.epoch)
		}
	}
}

func (tx *Tx) unlock() {
	if tx.write {
		tx.settleContainers()
	}
	for i := len(tx.locks) - 1; i >= 0; i-- {
		l := tx.locks[i]
		sh := &l.db.shards[l.shard]
		if tx.write {
			sh.mu.Unlock()
		} else {
			sh.mu.RUnlock()
		}
	}
}

// NowMs is the time the transaction runs at; every TTL in it is relative to it.
func (tx *Tx) NowMs() int64 { return tx.now }

// DB is the transaction's database.
func (tx *Tx) DB() *DB { return tx.db }

// shardFor returns key's shard in db, which the transaction must have locked.
func (tx *Tx) shardFor(db *DB, key []byte) *shard {
	return tx.shardForHash(db, db.hash(key), key)
}

// shardForHash is shardFor given key's hash h.
func (tx *Tx) shardForHash(db *DB, h uint64, key []byte) *shard {
	idx := int(h & db.mask)
	for _, l := range tx.locks {
		if l.db == db && l.shard == idx {
			return &db.shards[idx]
		}
	}
	panic("store: key " + string(key) + " used outside the keys its transaction locked")
}

// find returns key's live entry in db, reclaiming it first if it has expired
// and the transaction may write.
func (tx *Tx) find(db *DB, key []byte) (*shard, *entry) {
	h := db.hash(key)
	sh := tx.shardForHash(db, h, key)
	e := sh.idx.get(h, bytesView(key))
	if e == nil {
		return sh, nil
	}
	if e.expireAt != 0 && e.expireAt <= tx.now {
		if db.store.snap.loading.Load() {
			return sh, e // loading: logically expired keys stay until the file is replayed (snapshot.go)
		}
		if tx.write {
			sh.remove(e)
			db.store.expired.Add(1)
			db.store.propagateDel(db, tx.epoch, string(key))
			db.store.expiredKey(db, string(key))
		} else if db == tx.db {
			tx.stale = append(tx.stale, key)
		}
		return sh, nil
	}
	return sh, e
}

// readEntry looks key up for a read command: it counts a hit or a miss and
// touches the entry, as Redis's lookupKeyRead does.
func (tx *Tx) readEntry(key []byte) *entry {
	_, e := tx.find(tx.db, key)
	if e == nil {
		tx.countMiss(key)
		return nil
	}
	tx.countHit(key)
	tx.touch(e)
	return e
}

// mustWrite guards mutations made through a read transaction.
func (tx *Tx) mustWrite() {
	if !tx.write {
		panic("store: mutation inside a read-only transaction")
	}
	tx.dirty = true
}

// Dirty reports whether the transaction changed anything.
func (tx *Tx) Dirty() bool { return tx.dirty }

// bytesView is b as a string without a copy, for lookups that do not keep
// it: b must not change while the string is in use.
func bytesView(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
