package store

import "sync"

// shard is a slice of one database's keyspace behind its own lock. Only the
// methods here touch its map and TTL index, so their invariants live in one
// place: ttlKeys holds exactly the keys whose entry has expireAt != 0, and
// entry.ttlIdx is each such key's position in it.
type shard struct {
	mu      sync.RWMutex
	m       map[string]*entry
	ttlKeys []string
	used    usedCounter // mirrored in the store total (evict.go)
	epoch   uint64      // snapshot epoch the shard is in (snapshot.go)
}

func (sh *shard) init() {
	sh.m = make(map[string]*entry)
	sh.ttlKeys = nil
	sh.used.Store(0)
}

// put stores e under key, replacing any previous entry. An entry with its
// own copy of the key (layout.go) is indexed by that copy.
func (sh *shard) put(key string, e *entry) {
	key = e.keyFor(key)
	if old, ok := sh.m[key]; ok {
		sh.remove(key, old)
	}
	e.ttlIdx = -1
	sh.m[key] = e
	sh.used.Add(e.size(key))
	if e.expireAt != 0 {
		sh.trackTTL(key, e)
	}
}

// remove deletes key, whose entry is e.
func (sh *shard) remove(key string, e *entry) {
	if e.ttlIdx >= 0 {
		sh.untrackTTL(e)
	}
	delete(sh.m, key)
	sh.used.Add(-e.size(key))
}

// setExpire changes e's expiry, keeping the TTL index in step.
func (sh *shard) setExpire(key string, e *entry, at int64) {
	switch {
	case at != 0 && e.ttlIdx < 0:
		e.expireAt = at
		sh.trackTTL(e.keyFor(key), e)
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

func (sh *shard) trackTTL(key string, e *entry) {
	e.ttlIdx = int32(len(sh.ttlKeys))
	sh.ttlKeys = append(sh.ttlKeys, key)
}

func (sh *shard) untrackTTL(e *entry) {
	i := int(e.ttlIdx)
	last := len(sh.ttlKeys) - 1
	if i != last {
		moved := sh.ttlKeys[last]
		sh.ttlKeys[i] = moved
		sh.m[moved].ttlIdx = int32(i)
	}
	sh.ttlKeys[last] = ""
	sh.ttlKeys = sh.ttlKeys[:last]
	e.ttlIdx = -1
}
