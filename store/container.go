package store

import (
	"cmp"
	"slices"
	"unsafe"
)

// Access to container values (lists, hashes, sets, sorted sets).
//
// A handler gets a container through Tx.Container, changes it in place with
// the type's own methods, and the transaction settles the rest when the
// handler returns: it re-accounts the entry's size and deletes a container
// left empty, as Redis does. The pointer is valid only inside the
// transaction.

// touched is a container handed out by a write transaction, with the size
// it was accounted at.
type touched struct {
	sh     *shard
	e      *entry
	before int64
}

// Container returns key's container of kind k. When the key is missing it
// returns nil, or, if create is non-nil, stores a new container made by
// create (a new hash is made empty in its entry, without create). A key of
// another kind gives ErrWrongType. Read transactions may only read the
// container; write transactions may change it freely.
func (tx *Tx) Container(key []byte, k Kind, create func() Container) (Container, error) {
	sh, e := tx.find(tx.db, key)
	if e == nil {
		if create == nil || !tx.write {
			return nil, nil
		}
		tx.mustWrite()
		if k == KindHash {
			// A hash lives in its entry (layout.go), which starts empty:
			// a Hash from create would only be copied and dropped.
			e = newContainerEntry(key, &emptyHash, k)
		} else {
			e = newContainerEntry(key, create(), k)
		}
		tx.initAccess(e)
		sh.put(e)
	} else if e.kind != k {
		return nil, ErrWrongType
	} else {
		tx.touch(e) // lookupKeyWrite updates the access clock too
	}
	if tx.write {
		tx.dirty = true
		tx.track(sh, e)
	}
	return e.obj(), nil
}

// ReadContainer is Container for read commands: it counts a keyspace hit or
// miss and touches the key's access clock, as Redis's lookupKeyRead does.
func (tx *Tx) ReadContainer(key []byte, k Kind) (Container, error) {
	e := tx.readEntry(key)
	if e == nil {
		return nil, nil
	}
	if e.kind != k {
		return nil, ErrWrongType
	}
	if tx.write {
		tx.track(tx.shardFor(tx.db, key), e)
	}
	return e.obj(), nil
}

// track records that e was handed out, with the size it is accounted at.
// An entry handed out twice gets two records; settling uses the first.
func (tx *Tx) track(sh *shard, e *entry) {
	tx.settle = append(tx.settle, touched{sh: sh, e: e, before: e.size(e.key())})
}

// SetContainer stores c under key, replacing whatever was there (the
// *STORE commands). An empty c deletes the key instead. c belongs to the
// store afterwards; a *Hash is moved into the key's entry (layout.go), so
// later changes go through Container, not through c.
func (tx *Tx) SetContainer(key []byte, k Kind, c Container) {
	tx.mustWrite()
	sh, old := tx.find(tx.db, key)
	if c.Len() == 0 {
		if old != nil {
			sh.remove(old)
		}
		return
	}
	e := newContainerEntry(key, c, k)
	tx.initAccess(e)
	sh.put(e)
}

// settleContainers re-accounts every container handed out, and deletes the
// ones left empty. It runs before the transaction unlocks. An entry handed
// out more than once is settled once, from its first record: settling each
// record would count its change as often. A stable sort by address brings
// an entry's records together (entries do not move, and the records keep
// them alive), in O(n log n) where a scan per record would be quadratic
// for the commands that read many containers (SORT BY, SUNIONSTORE).
func (tx *Tx) settleContainers() {
	if len(tx.settle) > 1 {
		slices.SortStableFunc(tx.settle, func(a, b touched) int {
			return cmp.Compare(uintptr(unsafe.Pointer(a.e)), uintptr(unsafe.Pointer(b.e)))
		})
	}
	var prev *entry
	for _, t := range tx.settle {
		if t.e == prev {
			continue
		}
		prev = t.e
		key := t.e.key()
		if t.sh.lookup(key) != t.e {
			continue // deleted or replaced inside the transaction
		}
		if t.e.obj().Len() == 0 {
			// Remove with the size it is accounted at.
			t.sh.used.Add(t.e.size(key) - t.before)
			t.sh.remove(t.e)
			continue
		}
		t.sh.resize(key, t.e, t.before)
	}
	tx.settle = tx.settle[:0]
}

func cloneContainer(c Container) Container {
	if c == nil {
		return nil
	}
	return c.Clone()
}
