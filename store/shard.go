package store

import "sync"

// shard is a slice of one database's keyspace behind its own lock. Only the
// methods here touch its index and TTL index, so their invariants live in
// one place: ttlKeys holds exactly the entries with expireAt != 0, and
// entry.ttlIdx is each one's position in it.
type shard struct {
	mu      sync.RWMutex
	idx     index // the keys' entries (index.go)
	ttlKeys []*entry
	used    usedCounter // mirrored in the store total (evict.go)
	epoch   uint64      // snapshot epoch the shard is in (snapshot.go)
}

// init empties the shard; its index keeps the store's hash seed.
func (sh *shard) init() {
	sh.idx.reset()
	sh.ttlKeys = nil
	sh.used.Store(0)
}

// lookup is key's entry, nil when it has none.
func (sh *shard) lookup(key string) *entry {
	return sh.idx.get(sh.idx.hash(key), key)
}

// put stores e under its key, replacing any previous entry.
func (sh *shard) put(e *entry) {
	key := e.key()
	e.ttlIdx = -1
	if old := sh.idx.put(sh.idx.hash(key), e); old != nil {
		sh.forget(old)
	}
	sh.used.Add(e.size(key))
	if e.expireAt != 0 {
		sh.trackTTL(e)
	}
}

// remove deletes e, which the shard holds.
func (sh *shard) remove(e *entry) {
	key := e.key()
	sh.idx.del(sh.idx.hash(key), key)
	sh.forget(e)
}

// forget drops e, no longer in the index, from the TTL index and used.
func (sh *shard) forget(e *entry) {
	if e.ttlIdx >= 0 {
		sh.untrackTTL(e)
	}
	sh.used.Add(-e.size(e.key()))
}

// setExpire changes e's expiry, keeping the TTL index in step.
func (sh *shard) setExpire(e *entry, at int64) {
	switch {
	case at != 0 && e.ttlIdx < 0:
		e.expireAt = at
		sh.trackTTL(e)
	case at == 0 && e.ttlIdx >= 0:
		sh.untrackTTL(e)
		e.expireAt = 0
	default:
		e.expireAt = at
	}
}

// resize records that e's value changed size from before to e.size(key).
func (sh *shard) resize(key string, e *entry, before int64) {
	sh.used.Add(e.size(key) - before)
}

func (sh *shard) trackTTL(e *entry) {
	e.ttlIdx = int32(len(sh.ttlKeys))
	sh.ttlKeys = append(sh.ttlKeys, e)
}

func (sh *shard) untrackTTL(e *entry) {
	i := int(e.ttlIdx)
	last := len(sh.ttlKeys) - 1
	if i != last {
		moved := sh.ttlKeys[last]
		sh.ttlKeys[i] = moved
		moved.ttlIdx = int32(i)
	}
	sh.ttlKeys[last] = nil
	sh.ttlKeys = sh.ttlKeys[:last]
	e.ttlIdx = -1
}
