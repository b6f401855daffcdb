package server

// SORT and SORT_RO, following Redis 7.0's sort.c.
//
// Locking: BY and GET patterns name keys derived from the elements being
// sorted, so the rows are flagOwnLocks. The handler first reads the
// elements under a read lock on the sorted key alone, derives every key the
// patterns will look up, then takes write locks on the sorted key, those
// keys and the STORE destination together, re-reads the elements and checks
// that they still derive only locked keys (if a concurrent writer changed
// them, it retries with the new key set). All the sorting and the lookups
// then happen inside that one transaction, so SORT is atomic as in Redis.
// Write locks are needed even for SORT_RO: Redis converts a listpack sorted
// set to a skiplist when it sorts it.

import (
	"bytes"
	"math"
	"math/big"
	"slices"

	"github.com/cachalotdb/cachalot/store"
)

const sortComplexity = "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N)."

const (
	sortByGetNotes = "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort"
	sortStoreNotes = "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array"
)

func sortCommands() []*command {
	return []*command{
		{name: "sort", arity: -2, flags: flagWrite | flagDenyOOM | flagMovableKeys | flagOwnLocks, first: 1, last: 1, step: 1,
			keys: sortGetKeys, acl: "@set @sortedset @list @dangerous", group: "generic", since: "1.0.0",
			summary: "Sort the elements in a list, set or sorted set", complexity: sortComplexity,
			keySpecs: []keySpec{
				{flags: "RO ACCESS", index: 1, keyStep: 1},
				{notes: sortByGetNotes, flags: "RO ACCESS", findUnknown: true},
				{notes: sortStoreNotes, flags: "OW UPDATE", findUnknown: true},
			},
			usage:   "key [BY pattern~1] [LIMIT offset:integer count:integer] [GET pattern~1 [GET pattern~1 ...]] [ASC | DESC] sorting=[ALPHA] [STORE destination]",
			handler: cmdSort},
		{name: "sort_ro", arity: -2, flags: flagReadonly | flagMovableKeys | flagOwnLocks, first: 1, last: 1, step: 1,
			keys: func([][]byte) []int { return []int{1} }, acl: "@set @sortedset @list @dangerous", group: "generic", since: "7.0.0",
			summary: "Sort the elements in a list, set or sorted set. Read-only variant of SORT.", complexity: sortComplexity,
			keySpecs: []keySpec{
				{flags: "RO ACCESS", index: 1, keyStep: 1},
				{notes: sortByGetNotes, flags: "RO ACCESS", findUnknown: true},
			},
			usage:   "key [BY pattern~1] [LIMIT offset:integer count:integer] [GET pattern~1 [GET pattern~1 ...]] [ASC | DESC] sorting=[ALPHA]",
			handler: cmdSortRO},
	}
}

// sortGetKeys is Redis's sortGetKeys: the sorted key and the last STORE
// destination, skipping the arguments of LIMIT, GET and BY.
func sortGetKeys(argv [][]byte) []int {
	keys := []int{1}
	store := 0
	for i := 2; i < len(argv); i++ {
		a := cstr(argv[i])
		switch {
		case equalFold(a, "limit"):
			i += 2
		case equalFold(a, "get"), equalFold(a, "by"):
			i++
		case equalFold(a, "store") && i+1 < len(argv):
			store = i + 1
		}
	}
	if store > 0 {
		keys = append(keys, store)
	}
	return keys
}

type sortOpts struct {
	desc, alpha, dontsort bool
	limitStart            int64
	limitCount            int64
	by                    []byte
	gets                  [][]byte
	store                 []byte
}

func parseSortOpts(argv [][]byte, readonly bool) (*sortOpts, error) {
	o := &sortOpts{limitCount: -1}
	for j := 2; j < len(argv); j++ {
		left := len(argv) - j - 1
		a := cstr(argv[j])
		switch {
		case equalFold(a, "asc"):
			o.desc = false
		case equalFold(a, "desc"):
			o.desc = true
		case equalFold(a, "alpha"):
			o.alpha = true
		case equalFold(a, "limit") && left >= 2:
			var err error
			if o.limitStart, err = parseInt(argv[j+1]); err != nil {
				return nil, err
			}
			if o.limitCount, err = parseInt(argv[j+2]); err != nil {
				return nil, err
			}
			j += 2
		case !readonly && equalFold(a, "store") && left >= 1:
			o.store = argv[j+1]
			j++
		case equalFold(a, "by") && left >= 1:
			o.by = argv[j+1]
			if bytes.IndexByte(cstr(o.by), '*') < 0 {
				o.dontsort = true
			}
			j++
		case equalFold(a, "get") && left >= 1:
			o.gets = append(o.gets, argv[j+1])
			j++
		default:
			return nil, errSyntax
		}
	}
	return o, nil
}

func cmdSort(c *client, _ *store.Tx, argv [][]byte) error   { return sortGeneric(c, argv, false) }
func cmdSortRO(c *client, _ *store.Tx, argv [][]byte) error { return sortGeneric(c, argv, true) }

// patternKey is the key lookupKeyByPattern reads for pattern and element,
// with the hash field for "key->field" patterns. ok is false for "#" and
// for patterns without '*', which read no key.
func patternKey(pattern, elem []byte) (key, field []byte, hasField, ok bool) {
	p := cstr(pattern)
	if len(p) == 1 && p[0] == '#' {
		return nil, nil, false, false
	}
	star := bytes.IndexByte(p, '*')
	if star < 0 {
		return nil, nil, false, false
	}
	postEnd := len(pattern)
	if f := bytes.Index(p[star+1:], []byte("->")); f >= 0 && star+1+f+2 < len(p) {
		at := star + 1 + f
		field = pattern[at+2:]
		hasField = true
		postEnd = at
	}
	key = make([]byte, 0, star+len(elem)+postEnd-star-1)
	key = append(key, pattern[:star]...)
	key = append(key, elem...)
	key = append(key, pattern[star+1:postEnd]...)
	return key, field, hasField, true
}

// lookupByPattern is Redis's lookupKeyByPattern: "#" is the element itself;
// otherwise the string at the substituted key, or the field of the hash
// there; nil when missing or of another type.
func lookupByPattern(tx *store.Tx, pattern, elem []byte) ([]byte, bool) {
	p := cstr(pattern)
	if len(p) == 1 && p[0] == '#' {
		return elem, true
	}
	key, field, hasField, ok := patternKey(pattern, elem)
	if !ok {
		return nil, false
	}
	kind, _, _ := tx.Lookup(key) // counts the hit or miss, as lookupKeyRead
	if hasField {
		if kind != store.KindHash {
			return nil, false
		}
		c, err := tx.Container(key, store.KindHash, nil)
		if err != nil || c == nil {
			return nil, false
		}
		v, ok := c.(*store.Hash).Get(field)
		return []byte(v), ok
	}
	if kind != store.KindString {
		return nil, false
	}
	v, ok, err := tx.PeekString(key)
	if err != nil || !ok {
		return nil, false
	}
	return v, true
}

// sortElements reads the elements of the sorted key (copies), its kind, and
// a readiness check of the kind: errWrongType for other types.
func sortElements(tx *store.Tx, key []byte, convert bool) ([][]byte, store.Kind, error) {
	kind := tx.KindOf(key)
	var out [][]byte
	switch kind {
	case store.KindNone:
		tx.Lookup(key) // a keyspace miss
		return nil, kind, nil
	case store.KindSet:
		c, err := tx.ReadContainer(key, kind)
		if err != nil || c == nil {
			return nil, store.KindNone, err
		}
		c.(*store.Set).ForEach(func(m []byte) bool {
			out = append(out, bytes.Clone(m))
			return true
		})
	case store.KindZSet:
		c, err := tx.ReadContainer(key, kind)
		if err != nil || c == nil {
			return nil, store.KindNone, err
		}
		z := c.(*store.ZSet)
		if convert {
			z.FitEncoding(-1, 0) // SORT leaves a sorted set skiplist-encoded
		}
		z.ForEach(func(m string, _ float64) { out = append(out, []byte(m)) })
	case store.KindList:
		c, err := tx.ReadContainer(key, kind)
		if err != nil || c == nil {
			return nil, store.KindNone, err
		}
		out = listElements(c)
	default:
		tx.Lookup(key) // a keyspace hit, then WRONGTYPE
		return nil, kind, errWrongType
	}
	return out, kind, nil
}

// derivedKeys lists the keys the BY and GET patterns read for elems.
func (o *sortOpts) derivedKeys(elems [][]byte) [][]byte {
	var keys [][]byte
	pats := o.gets
	if o.by != nil && !o.dontsort {
		pats = append(slices.Clip(pats), o.by)
	}
	for _, p := range pats {
		for _, e := range elems {
			if k, _, _, ok := patternKey(p, e); ok {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

func sortGeneric(c *client, argv [][]byte, readonly bool) error {
	o, err := parseSortOpts(argv, readonly)
	if err != nil {
		return err
	}
	key := argv[1]
	// A first look at the elements, to learn which keys to lock.
	var need [][]byte
	err = c.db.View([][]byte{key}, func(tx *store.Tx) error {
		tx.NoTouch() // a peek: the read under the write locks below touches, once
		elems, _, err := sortPeek(tx, key)
		need = o.derivedKeys(elems)
		return err
	})
	if err != nil {
		return err
	}
	for {
		locked := make(map[string]bool, len(need)+2)
		keys := append([][]byte{key}, need...)
		if o.store != nil {
			keys = append(keys, o.store)
		}
		for _, k := range keys {
			locked[string(k)] = true
		}
		retry := false
		err = c.db.Update(keys, func(tx *store.Tx) error {
			noTouchTx(c, false, tx) // CLIENT NO-TOUCH (eviction.go)
			elems, kind, err := sortElements(tx, key, true)
			if err != nil {
				return err
			}
			need = o.derivedKeys(elems)
			for _, k := range need {
				if !locked[string(k)] {
					retry = true // the elements changed since the first look
					return nil
				}
			}
			existed := o.store != nil && tx.Exists(o.store)
			err = sortRun(c, tx, o, elems, kind)
			if err == nil && o.store != nil && (existed || tx.Exists(o.store)) {
				c.srv.propagateOwn(c, tx.Epoch(), tx.DB().Index(), argv) // propagate.go
			}
			return err
		})
		if !retry {
			return err
		}
	}
}

// sortPeek reads the elements without counting stats or changing anything,
// only to derive the keys to lock.
func sortPeek(tx *store.Tx, key []byte) ([][]byte, store.Kind, error) {
	kind := tx.KindOf(key)
	if kind != store.KindSet && kind != store.KindZSet && kind != store.KindList {
		return nil, kind, nil
	}
	c, err := tx.Container(key, kind, nil)
	if err != nil || c == nil {
		return nil, kind, err
	}
	var out [][]byte
	switch v := c.(type) {
	case *store.Set:
		v.ForEach(func(m []byte) bool { out = append(out, bytes.Clone(m)); return true })
	case *store.ZSet:
		v.ForEach(func(m string, _ float64) { out = append(out, []byte(m)) })
	default:
		out = listElements(c)
	}
	return out, kind, nil
}

type sortItem struct {
	obj    []byte
	score  float64
	cmpobj []byte
	hasCmp bool
}

// sortRun does the rest of sortCommandGeneric inside the locked
// transaction. elems are in the value's native order (list order, set
// iteration order, sorted-set rank order).
func sortRun(c *client, tx *store.Tx, o *sortOpts, elems [][]byte, kind store.Kind) error {
	dontsort, alpha, by := o.dontsort, o.alpha, o.by
	if dontsort && kind == store.KindSet && o.store != nil {
		// Sets have no order of their own: STORE gets a stable one.
		dontsort, alpha, by = false, true, nil
	}
	// LIMIT sanity checks, clamped to the length first as Redis 7.0 does
	// against overflow.
	n := int64(len(elems))
	start := min(max(o.limitStart, 0), n)
	count := min(max(o.limitCount, -1), n)
	end := n - 1
	if count >= 0 {
		end = start + count - 1
	}
	if start >= n {
		start, end = n-1, n-2
	}
	if end >= n {
		end = n - 1
	}
	var vector []sortItem
	if dontsort && (kind == store.KindList || kind == store.KindZSet) {
		// Native order, LIMIT applied directly, DESC walking backwards.
		if end >= start {
			for i := start; i <= end; i++ {
				idx := i
				if o.desc {
					idx = n - 1 - i
				}
				vector = append(vector, sortItem{obj: elems[idx]})
			}
			end -= start
			start = 0
		}
	} else {
		vector = make([]sortItem, len(elems))
		for i, e := range elems {
			vector[i].obj = e
		}
	}
	if !dontsort {
		convErr := false
		for i := range vector {
			it := &vector[i]
			byval := it.obj
			if by != nil {
				v, ok := lookupByPattern(tx, by, it.obj)
				if !ok {
					continue
				}
				byval = v
			}
			if alpha {
				if by != nil {
					it.cmpobj, it.hasCmp = byval, true
				}
			} else {
				f, ok := sortScore(byval)
				if !ok {
					convErr = true
				}
				it.score = f
			}
		}
		if convErr {
			return errSortScore
		}
		storing := o.store != nil
		// Stable, as glibc's qsort (a merge sort) is: ties keep their order.
		slices.SortStableFunc(vector, func(a, b sortItem) int {
			cmp := sortCompare(&a, &b, alpha, by != nil, storing)
			if o.desc {
				return -cmp
			}
			return cmp
		})
	}
	var picked []sortItem
	if end >= start {
		picked = vector[start : end+1]
	}
	if o.store == nil {
		outLen := len(picked)
		if len(o.gets) > 0 {
			outLen *= len(o.gets)
		}
		c.w.Array(outLen)
		for _, it := range picked {
			if len(o.gets) == 0 {
				c.w.Bulk(it.obj)
			}
			for _, g := range o.gets {
				if v, ok := lookupByPattern(tx, g, it.obj); ok {
					c.w.Bulk(v)
				} else {
					c.w.Null()
				}
			}
		}
		return nil
	}
	var out [][]byte
	for _, it := range picked {
		if len(o.gets) == 0 {
			out = append(out, it.obj)
		}
		for _, g := range o.gets {
			v, _ := lookupByPattern(tx, g, it.obj)
			out = append(out, v)
		}
	}
	storeList(c, tx, o.store, out)
	c.w.Int(int64(len(out)))
	return nil
}

// sortCompare is Redis's sortCompare before DESC is applied.
func sortCompare(a, b *sortItem, alpha, byPattern, storing bool) int {
	if !alpha {
		switch {
		case a.score > b.score:
			return 1
		case a.score < b.score:
			return -1
		}
		return bytes.Compare(a.obj, b.obj)
	}
	if byPattern {
		if !a.hasCmp || !b.hasCmp {
			switch {
			case a.hasCmp == b.hasCmp:
				return 0
			case !a.hasCmp:
				return -1
			}
			return 1
		}
		if storing {
			return bytes.Compare(a.cmpobj, b.cmpobj)
		}
		return bytes.Compare(cstr(a.cmpobj), cstr(b.cmpobj)) // strcoll, C locale
	}
	if storing {
		return bytes.Compare(a.obj, b.obj)
	}
	return bytes.Compare(cstr(a.obj), cstr(b.obj))
}

// sortScore is the strtod SORT applies to a weight: leading spaces allowed,
// the rest must all convert; NaN and out-of-range values fail. An empty
// string is 0.
func sortScore(b []byte) (float64, bool) {
	s := cstr(b)
	if len(s) == 0 {
		return 0, true
	}
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	if i == len(s) {
		return 0, false
	}
	f, err := parseFloat(s[i:])
	if err != nil {
		return 0, false
	}
	if f != 0 && math.Abs(f) < 0x1p-1022 && !exactFloat(s[i:], f) {
		return 0, false // an inexact subnormal: strtod sets ERANGE
	}
	return f, true
}

// exactFloat reports whether the number text s is exactly f.
func exactFloat(s []byte, f float64) bool {
	r, ok := new(big.Rat).SetString(string(s))
	if !ok {
		return false
	}
	return r.Cmp(new(big.Rat).SetFloat64(f)) == 0
}
