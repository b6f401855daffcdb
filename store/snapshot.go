package store

import (
	"math"
	"strconv"
	"sync"
	"sync/atomic"
)

// Point-in-time snapshots without fork (the AOF rewrite).
//
// The store counts snapshot epochs. Every writer, once it holds its shards'
// write locks, reads the current epoch; a locked shard whose own epoch is
// older is first dumped (when a snapshot for that epoch is running) and then
// moved to the current epoch. The snapshot goroutine visits every shard the
// same way. So each shard is dumped exactly once, before the first change
// made in the new epoch and after every change made in the old one: the dump
// is the image of the keyspace at the instant the epoch changed, and each
// writer tells the AOF which epoch its change belongs to (Tx.Epoch), which
// says whether the change is in the image or after it.

// snapState is the store's snapshot machinery.
type snapState struct {
	epoch     atomic.Uint64
	run       atomic.Pointer[snapshotRun]
	busy      sync.Mutex                             // one snapshot at a time
	loading   atomic.Bool                            // SetLoading
	propagate func(db *DB, epoch uint64, key []byte) // SetPropagateHook
}

// snapshotRun is one snapshot in progress.
type snapshotRun struct {
	epoch uint64
	emit  func(db int, argv [][]byte) error
	mu    sync.Mutex // serialises emit: writers dump shards concurrently
	err   error
	argv  [][]byte
	nums  []byte
}

// itemsPerCommand bounds the elements one rewritten command carries, as
// Redis's AOF_REWRITE_ITEMS_PER_CMD.
const itemsPerCommand = 64

// SetPropagateHook installs the function told about every key the store
// deletes by itself: lazy expiry (any command found it expired), the active
// expire cycle and eviction. It runs with the key's shard write-locked and
// gets the epoch the deletion belongs to, so the AOF can log a DEL in the
// right place. It must not touch the store; key is valid during the call
// only. Install it before serving.
func (s *Store) SetPropagateHook(fn func(db *DB, epoch uint64, key []byte)) {
	s.snap.propagate = fn
}

// propagateDel reports a deletion the store made by itself.
func (s *Store) propagateDel(db *DB, epoch uint64, key string) {
	if s.snap.propagate != nil {
		s.snap.propagate(db, epoch, []byte(key))
	}
}

// Epoch is the snapshot epoch the transaction's changes belong to. It is
// read after the transaction took its locks, and it is stable while it
// holds them.
func (tx *Tx) Epoch() uint64 { return tx.epoch }

// Epoch is the current snapshot epoch.
func (s *Store) Epoch() uint64 { return s.snap.epoch.Load() }

// settleLocked brings a write-locked shard into the current epoch, dumping
// it first when a snapshot of that epoch is running, and returns the epoch.
func (s *Store) settleLocked(db *DB, sh *shard) uint64 {
	e := s.snap.epoch.Load()
	s.settleAt(db, sh, e)
	return e
}

// settleAt is settleLocked for an epoch the caller read after taking all its
// locks (a transaction over several shards must use one epoch for all).
func (s *Store) settleAt(db *DB, sh *shard, e uint64) {
	if sh.epoch == e {
		return
	}
	if run := s.snap.run.Load(); run != nil && run.epoch == e {
		run.dump(db, sh, s.NowMs())
	}
	sh.epoch = e
}

// Snapshot writes an exact point-in-time image of every database through
// emit while other clients keep writing. begin runs first, with the epoch the
// image closes: the AOF must route changes of that epoch and later to its new
// incremental file before any writer can enter the epoch. emit receives the
// commands that rebuild each key (SET, RPUSH, SADD, HMSET, ZADD, then
// PEXPIREAT for keys with a TTL), serialised, with a shard lock held: it must
// not touch the store, and argv is valid during the call only. The first
// error from emit stops the dump (shards still advance to the new epoch) and
// is returned.
func (s *Store) Snapshot(begin func(epoch uint64) error, emit func(db int, argv [][]byte) error) error {
	s.snap.busy.Lock()
	defer s.snap.busy.Unlock()
	e := s.snap.epoch.Load() + 1
	if err := begin(e); err != nil {
		return err
	}
	run := &snapshotRun{epoch: e, emit: emit}
	s.snap.run.Store(run) // before the epoch, so whoever sees e finds run
	s.snap.epoch.Store(e)
	for _, db := range s.dbs {
		for i := range db.shards {
			sh := &db.shards[i]
			sh.mu.Lock()
			s.settleAt(db, sh, e)
			sh.mu.Unlock()
		}
	}
	s.snap.run.Store(nil)
	run.mu.Lock()
	defer run.mu.Unlock()
	return run.err
}

// dump emits the commands that rebuild sh's live keys.
func (r *snapshotRun) dump(db *DB, sh *shard, now int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for e := range sh.idx.all {
		if r.err != nil {
			return
		}
		if e.expireAt != 0 && e.expireAt <= now {
			continue // already expired: its DEL follows in the new epoch
		}
		r.err = r.dumpEntry(db.index, e.key(), e)
	}
}

// dumpEntry emits one key.
func (r *snapshotRun) dumpEntry(db int, key string, e *entry) error {
	k := []byte(key)
	var err error
	switch v := e.obj().(type) {
	case nil:
		err = r.send(db, []byte("SET"), k, e.str())
	case *List:
		err = r.batch(db, "RPUSH", k, v.Len(), func(i int, add func(...[]byte)) { add(v.At(i)) })
	case *Set:
		members := v.Members()
		err = r.batch(db, "SADD", k, len(members), func(i int, add func(...[]byte)) { add([]byte(members[i])) })
	case *Hash:
		pairs := v.Pairs()
		err = r.batch(db, "HMSET", k, len(pairs), func(i int, add func(...[]byte)) {
			add([]byte(pairs[i].Field), []byte(pairs[i].Value))
		})
	case *ZSet:
		var members []string
		var scores []float64
		v.ForEach(func(m string, sc float64) {
			members = append(members, m)
			scores = append(scores, sc)
		})
		err = r.batch(db, "ZADD", k, len(members), func(i int, add func(...[]byte)) {
			add(formatScore(scores[i]), []byte(members[i]))
		})
	}
	if err != nil || e.expireAt == 0 {
		return err
	}
	return r.send(db, []byte("PEXPIREAT"), k, strconv.AppendInt(nil, e.expireAt, 10))
}

// batch emits name key items… in commands of at most itemsPerCommand items.
func (r *snapshotRun) batch(db int, name string, key []byte, n int, item func(i int, add func(...[]byte))) error {
	add := func(b ...[]byte) { r.argv = append(r.argv, b...) }
	for i := 0; i < n; {
		r.argv = append(r.argv[:0], []byte(name), key)
		for j := 0; j < itemsPerCommand && i < n; j, i = j+1, i+1 {
			item(i, add)
		}
		if err := r.emit(db, r.argv); err != nil {
			return err
		}
	}
	clear(r.argv)
	r.argv = r.argv[:0]
	return nil
}

func (r *snapshotRun) send(db int, argv ...[]byte) error { return r.emit(db, argv) }

// formatScore writes a score so that ZADD reads back the same float64.
func formatScore(f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return []byte("inf")
	case math.IsInf(f, -1):
		return []byte("-inf")
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64)
}

// SetLoading switches the replay mode on or off. While a file is replayed
// nothing expires, as in Redis's loading: a key whose TTL passed is kept
// (reads see it, PEXPIREAT in the past sets the TTL instead of deleting),
// so that a later command in the file (PERSIST, a new PEXPIREAT) applies to
// it as it did when it was logged. Expired keys go once loading ends.
func (s *Store) SetLoading(on bool) { s.snap.loading.Store(on) }
