package server

import (
	"time"

	"github.com/cachalotdb/cachalot/store"
)

// The list group, following Redis 7.0's t_list.c: argument checks in
// Redis's order, then the lookup, then the work on a store.List.

const (
	listPushComplexity = "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."
	listMpopComplexity = "O(N+M) where N is the number of provided keys and M is the number of elements returned."
	listBpopHistory    = "`timeout` is interpreted as a double instead of an integer."
	listPopSpec        = "RW ACCESS DELETE"
	listMoveSpec       = "RW ACCESS DELETE | RW INSERT"
)

func listCommands() []*command {
	row := func(name string, arity int, flags cmdFlags, first, last int, specFlags, since, summary, complexity, usage string, h handlerFunc) *command {
		return &command{name: name, arity: arity, flags: flags, first: first, last: last, step: 1, keySpecFlags: specFlags,
			acl: "@list", group: "list", since: since, summary: summary, complexity: complexity, usage: usage, handler: h}
	}
	withHistory := func(c *command, h ...[2]string) *command {
		c.history = h
		return c
	}
	deprecated := func(c *command, since, by string) *command {
		c.docFlags, c.deprecatedSince, c.replacedBy = "deprecated", since, by
		return c
	}
	mpop := func(name string, arity int, flags cmdFlags, numIdx int, summary, usage string, h handlerFunc) *command {
		return &command{name: name, arity: arity, flags: flags | flagMovableKeys, keys: numkeysKeys(numIdx),
			keySpecs: []keySpec{numkeysSpec(listPopSpec, numIdx)},
			acl:      "@list", group: "list", since: "7.0.0", summary: summary, complexity: listMpopComplexity, usage: usage, handler: h}
	}
	const (
		wdf  = flagWrite | flagDenyOOM | flagFast
		wd   = flagWrite | flagDenyOOM
		wf   = flagWrite | flagFast
		blk  = flagWrite | flagNoScript | flagBlocking
		blkd = flagWrite | flagDenyOOM | flagNoScript | flagBlocking
	)
	return []*command{
		withHistory(row("lpush", -3, wdf, 1, 1, "RW INSERT", "1.0.0", "Prepend one or multiple elements to a list", listPushComplexity,
			"key element [element ...]", cmdLpush), [2]string{"2.4.0", "Accepts multiple `element` arguments."}),
		withHistory(row("rpush", -3, wdf, 1, 1, "RW INSERT", "1.0.0", "Append one or multiple elements to a list", listPushComplexity,
			"key element [element ...]", cmdRpush), [2]string{"2.4.0", "Accepts multiple `element` arguments."}),
		withHistory(row("lpushx", -3, wdf, 1, 1, "RW INSERT", "2.2.0", "Prepend an element to a list, only if the list exists", listPushComplexity,
			"key element [element ...]", cmdLpushx), [2]string{"4.0.0", "Accepts multiple `element` arguments."}),
		withHistory(row("rpushx", -3, wdf, 1, 1, "RW INSERT", "2.2.0", "Append an element to a list, only if the list exists", listPushComplexity,
			"key element [element ...]", cmdRpushx), [2]string{"4.0.0", "Accepts multiple `element` arguments."}),
		withHistory(row("lpop", -2, wf, 1, 1, listPopSpec, "1.0.0", "Remove and get the first elements in a list", "O(N) where N is the number of elements returned",
			"key [count@6.2.0]", cmdLpop), [2]string{"6.2.0", "Added the `count` argument."}),
		withHistory(row("rpop", -2, wf, 1, 1, listPopSpec, "1.0.0", "Remove and get the last elements in a list", "O(N) where N is the number of elements returned",
			"key [count@6.2.0]", cmdRpop), [2]string{"6.2.0", "Added the `count` argument."}),
		row("llen", 2, flagReadonly|flagFast, 1, 1, "RO", "1.0.0", "Get the length of a list", "O(1)", "key", cmdLlen),
		row("lrange", 4, flagReadonly, 1, 1, "RO ACCESS", "1.0.0", "Get a range of elements from a list",
			"O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
			"key start:integer stop:integer", cmdLrange),
		row("lindex", 3, flagReadonly, 1, 1, "RO ACCESS", "1.0.0", "Get an element from a list by its index",
			"O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).",
			"key index:integer", cmdLindex),
		row("lset", 4, wd, 1, 1, "RW UPDATE", "1.0.0", "Set the value of an element in a list by its index",
			"O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).",
			"key index:integer element", cmdLset),
		row("linsert", 5, wd, 1, 1, "RW INSERT", "2.2.0", "Insert an element before or after another element in a list",
			"O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).",
			"key <BEFORE | AFTER> pivot element", cmdLinsert),
		row("lrem", 4, flagWrite, 1, 1, "RW DELETE", "1.0.0", "Remove elements from a list",
			"O(N+M) where N is the length of the list and M is the number of elements removed.",
			"key count element", cmdLrem),
		row("ltrim", 4, flagWrite, 1, 1, "RW DELETE", "1.0.0", "Trim a list to the specified range",
			"O(N) where N is the number of elements to be removed by the operation.",
			"key start:integer stop:integer", cmdLtrim),
		row("lpos", -3, flagReadonly, 1, 1, "RO ACCESS", "6.0.6", "Return the index of matching elements on a list",
			"O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.",
			"key element [RANK rank:integer] [COUNT num-matches:integer] [MAXLEN len:integer]", cmdLpos),
		row("lmove", 5, wd, 1, 2, listMoveSpec, "6.2.0", "Pop an element from a list, push it to another list and return it", "O(1)",
			"source destination wherefrom=(LEFT | RIGHT) whereto=(LEFT | RIGHT)", cmdLmove),
		deprecated(row("rpoplpush", 3, wd, 1, 2, listMoveSpec, "1.2.0", "Remove the last element in a list, prepend it to another list and return it", "O(1)",
			"source destination", cmdRpoplpush), "6.2.0", "`LMOVE` with the `RIGHT` and `LEFT` arguments"),
		mpop("lmpop", -4, flagWrite, 1, "Pop elements from a list", "numkeys key [key ...] where=<LEFT | RIGHT> [COUNT count]", cmdLmpop),
		withHistory(row("blpop", -3, blk, 1, -2, listPopSpec, "2.0.0", "Remove and get the first element in a list, or block until one is available",
			"O(N) where N is the number of provided keys.", "key [key ...] timeout:double", cmdBlpop), [2]string{"6.0.0", listBpopHistory}),
		withHistory(row("brpop", -3, blk, 1, -2, listPopSpec, "2.0.0", "Remove and get the last element in a list, or block until one is available",
			"O(N) where N is the number of provided keys.", "key [key ...] timeout:double", cmdBrpop), [2]string{"6.0.0", listBpopHistory}),
		row("blmove", 6, blkd, 1, 2, listMoveSpec, "6.2.0", "Pop an element from a list, push it to another list and return it; or block until one is available", "O(1)",
			"source destination wherefrom=(LEFT | RIGHT) whereto=(LEFT | RIGHT) timeout:double", cmdBlmove),
		deprecated(withHistory(row("brpoplpush", 4, blkd, 1, 2, listMoveSpec, "2.2.0", "Pop an element from a list, push it to another list and return it; or block until one is available", "O(1)",
			"source destination timeout:double", cmdBrpoplpush), [2]string{"6.0.0", listBpopHistory}), "6.2.0", "`BLMOVE` with the `RIGHT` and `LEFT` arguments"),
		mpop("blmpop", -5, flagWrite|flagBlocking, 2, "Pop elements from a list, or block until one is available",
			"timeout:double numkeys key [key ...] where=<LEFT | RIGHT> [COUNT count]", cmdBlmpop),
	}
}

func newList() store.Container { return store.NewList() }

// writeList returns key's list for a write, creating it when create is set;
// nil when the key is missing and not created.
func writeList(tx *store.Tx, key []byte, create bool) (*store.List, error) {
	var mk func() store.Container
	if create {
		mk = newList
	}
	c, err := tx.Container(key, store.KindList, mk)
	if err != nil || c == nil {
		return nil, err
	}
	return c.(*store.List), nil
}

// readList returns key's list for a read command (counting hits and
// misses), or nil when missing.
func readList(tx *store.Tx, key []byte) (*store.List, error) {
	c, err := tx.ReadContainer(key, store.KindList)
	if err != nil || c == nil {
		return nil, err
	}
	return c.(*store.List), nil
}

// listElements returns a list's elements head to tail (SORT). The slices
// are the list's own, valid inside the transaction.
func listElements(c store.Container) [][]byte {
	return c.(*store.List).Elements()
}

// storeList replaces key with a list of elems (SORT … STORE); no elements
// deletes the key. Clients blocked on key are woken.
func storeList(_ *client, tx *store.Tx, key []byte, elems [][]byte) {
	l := store.NewList()
	for _, e := range elems {
		l.PushRight(e)
	}
	tx.SetContainer(key, store.KindList, l)
	if l.Len() > 0 {
		tx.MarkReady(key)
	}
}

// --- pushes ---

func listPush(c *client, tx *store.Tx, argv [][]byte, left, create bool) error {
	l, err := writeList(tx, argv[1], create)
	if err != nil {
		return err
	}
	if l == nil {
		c.w.Int(0)
		return nil
	}
	for _, v := range argv[2:] {
		if left {
			l.PushLeft(v)
		} else {
			l.PushRight(v)
		}
	}
	tx.MarkReady(argv[1])
	c.w.Int(int64(l.Len()))
	return nil
}

func cmdLpush(c *client, tx *store.Tx, argv [][]byte) error { return listPush(c, tx, argv, true, true) }
func cmdRpush(c *client, tx *store.Tx, argv [][]byte) error {
	return listPush(c, tx, argv, false, true)
}
func cmdLpushx(c *client, tx *store.Tx, argv [][]byte) error {
	return listPush(c, tx, argv, true, false)
}
func cmdRpushx(c *client, tx *store.Tx, argv [][]byte) error {
	return listPush(c, tx, argv, false, false)
}

// --- pops ---

func popEnd(l *store.List, left bool) []byte {
	var v []byte
	if left {
		v, _ = l.PopLeft()
	} else {
		v, _ = l.PopRight()
	}
	return v
}

// listPop is LPOP/RPOP key [count].
func listPop(c *client, tx *store.Tx, argv [][]byte, left bool) error {
	if len(argv) > 3 {
		return errArity(string(lowerASCII(argv[0])))
	}
	count := int64(-1)
	if len(argv) == 3 {
		n, err := parseInt(argv[2])
		if err != nil || n < 0 {
			return errCountPositive
		}
		count = n
	}
	l, err := writeList(tx, argv[1], false)
	if err != nil {
		return err
	}
	if l == nil {
		if count >= 0 {
			c.w.NullArray()
		} else {
			c.w.Null()
		}
		return nil
	}
	if count < 0 {
		c.w.Bulk(popEnd(l, left))
		return nil
	}
	n := int(min(count, int64(l.Len())))
	c.w.Array(n)
	for i := 0; i < n; i++ {
		c.w.Bulk(popEnd(l, left))
	}
	return nil
}

func lowerASCII(b []byte) []byte {
	out := make([]byte, len(b))
	for i, ch := range b {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		out[i] = ch
	}
	return out
}

func cmdLpop(c *client, tx *store.Tx, argv [][]byte) error { return listPop(c, tx, argv, true) }
func cmdRpop(c *client, tx *store.Tx, argv [][]byte) error { return listPop(c, tx, argv, false) }

// --- reads ---

func cmdLlen(c *client, tx *store.Tx, argv [][]byte) error {
	l, err := readList(tx, argv[1])
	if err != nil {
		return err
	}
	n := 0
	if l != nil {
		n = l.Len()
	}
	c.w.Int(int64(n))
	return nil
}

func cmdLrange(c *client, tx *store.Tx, argv [][]byte) error {
	start, err := parseInt(argv[2])
	if err != nil {
		return errNotInteger
	}
	stop, err := parseInt(argv[3])
	if err != nil {
		return errNotInteger
	}
	l, err := readList(tx, argv[1])
	if err != nil {
		return err
	}
	if l == nil {
		c.w.Array(0)
		return nil
	}
	from, to, ok := l.ResolveRange(start, stop)
	if !ok {
		c.w.Array(0)
		return nil
	}
	c.w.Array(to - from + 1)
	l.Range(from, to, c.w.Bulk)
	return nil
}

func cmdLindex(c *client, tx *store.Tx, argv [][]byte) error {
	l, err := readList(tx, argv[1])
	if err != nil {
		return err
	}
	if l == nil {
		c.w.Null()
		return nil
	}
	index, err := parseInt(argv[2])
	if err != nil {
		return errNotInteger
	}
	i, ok := l.ResolveIndex(index)
	if !ok {
		c.w.Null()
		return nil
	}
	c.w.Bulk(l.At(i))
	return nil
}

// --- edits ---

func cmdLset(c *client, tx *store.Tx, argv [][]byte) error {
	l, err := writeList(tx, argv[1], false)
	if err != nil {
		return err
	}
	if l == nil {
		return errNoSuchKey
	}
	index, err := parseInt(argv[2])
	if err != nil {
		return errNotInteger
	}
	i, ok := l.ResolveIndex(index)
	if !ok {
		return errIndexOutOfRange
	}
	l.Set(i, argv[3])
	c.w.OK()
	return nil
}

func cmdLinsert(c *client, tx *store.Tx, argv [][]byte) error {
	var after bool
	switch {
	case equalFold(argv[2], "after"):
		after = true
	case equalFold(argv[2], "before"):
	default:
		return errSyntax
	}
	l, err := writeList(tx, argv[1], false)
	if err != nil {
		return err
	}
	if l == nil {
		c.w.Int(0)
		return nil
	}
	i := l.Index(argv[3], 0)
	if i < 0 {
		c.w.Int(-1)
		return nil
	}
	if after {
		i++
	}
	l.Insert(i, argv[4])
	c.w.Int(int64(l.Len()))
	return nil
}

func cmdLrem(c *client, tx *store.Tx, argv [][]byte) error {
	count, err := parseInt(argv[2])
	if err != nil {
		return errNotInteger
	}
	l, err := writeList(tx, argv[1], false)
	if err != nil {
		return err
	}
	n := 0
	if l != nil {
		n = l.Remove(count, argv[3])
	}
	c.w.Int(int64(n))
	return nil
}

func cmdLtrim(c *client, tx *store.Tx, argv [][]byte) error {
	start, err := parseInt(argv[2])
	if err != nil {
		return errNotInteger
	}
	stop, err := parseInt(argv[3])
	if err != nil {
		return errNotInteger
	}
	l, err := writeList(tx, argv[1], false)
	if err != nil {
		return err
	}
	if l != nil {
		before := l.Len()
		from, to, ok := l.ResolveRange(start, stop)
		if !ok {
			l.Trim(1, 0) // empty: the transaction deletes the key
		} else {
			l.Trim(from, to)
		}
		if l.Len() != before {
			c.propDirty() // AOF (propagate.go)
		}
	}
	c.w.OK()
	return nil
}

// cmdLpos is LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len].
func cmdLpos(c *client, tx *store.Tx, argv [][]byte) error {
	rank, count, maxlen := int64(1), int64(-1), int64(0)
	for j := 3; j < len(argv); j++ {
		if j+1 >= len(argv) {
			return errSyntax
		}
		opt, val := argv[j], argv[j+1]
		j++
		switch {
		case equalFold(opt, "rank"):
			n, err := parseInt(val)
			if err != nil {
				return errNotInteger
			}
			if n == 0 {
				return errRankZero
			}
			rank = n
		case equalFold(opt, "count"):
			n, err := parseInt(val)
			if err != nil || n < 0 {
				return errLposCountNegative
			}
			count = n
		case equalFold(opt, "maxlen"):
			n, err := parseInt(val)
			if err != nil || n < 0 {
				return errLposMaxlenNegative
			}
			maxlen = n
		default:
			return errSyntax
		}
	}
	l, err := readList(tx, argv[1])
	if err != nil {
		return err
	}
	if l == nil {
		if count >= 0 {
			c.w.Array(0)
		} else {
			c.w.Null()
		}
		return nil
	}
	// Redis negates a negative rank; LONG_MIN stays negative there, so
	// every match qualifies from the first one, as with rank -1.
	fromTail := rank < 0
	need := rank
	if fromTail {
		need = -rank
		if need < 0 {
			need = 1
		}
	}
	n := l.Len()
	var found []int
	matches := int64(0)
	for k := 0; k < n && (maxlen == 0 || int64(k) < maxlen); k++ {
		i := k
		if fromTail {
			i = n - 1 - k
		}
		if string(l.At(i)) != string(argv[2]) {
			continue
		}
		matches++
		if matches < need {
			continue
		}
		found = append(found, i)
		if count >= 0 && count != 0 && int64(len(found)) == count {
			break
		}
		if count < 0 {
			break
		}
	}
	if count < 0 {
		if len(found) == 0 {
			c.w.Null()
		} else {
			c.w.Int(int64(found[0]))
		}
		return nil
	}
	c.w.Array(len(found))
	for _, i := range found {
		c.w.Int(int64(i))
	}
	return nil
}

// --- moves ---

// parseWhere reads LEFT or RIGHT.
func parseWhere(b []byte) (left bool, err error) {
	switch {
	case equalFold(b, "left"):
		return true, nil
	case equalFold(b, "right"):
		return false, nil
	}
	return false, errSyntax
}

// listMove pops from src's end and pushes onto dst's end, replying the
// element; ok is false when src is missing or empty (nothing written).
func listMove(c *client, tx *store.Tx, src, dst []byte, fromLeft, toLeft bool) (bool, error) {
	sl, err := writeList(tx, src, false)
	if err != nil {
		return false, err
	}
	if sl == nil || sl.Len() == 0 {
		return false, nil
	}
	dl := sl
	if string(src) != string(dst) {
		if dl, err = writeList(tx, dst, false); err != nil {
			return false, err
		}
	}
	v := popEnd(sl, fromLeft)
	if dl == nil {
		// src and dst may be the same key, now empty and deleted at the
		// end of the transaction: create dst only after the pop.
		if dl, err = writeList(tx, dst, true); err != nil {
			return false, err
		}
	}
	if toLeft {
		dl.PushLeft(v)
	} else {
		dl.PushRight(v)
	}
	tx.MarkReady(dst)
	c.w.Bulk(v)
	return true, nil
}

func cmdLmove(c *client, tx *store.Tx, argv [][]byte) error {
	from, err := parseWhere(argv[3])
	if err != nil {
		return err
	}
	to, err := parseWhere(argv[4])
	if err != nil {
		return err
	}
	ok, err := listMove(c, tx, argv[1], argv[2], from, to)
	if err == nil && !ok {
		c.w.Null()
	}
	return err
}

func cmdRpoplpush(c *client, tx *store.Tx, argv [][]byte) error {
	ok, err := listMove(c, tx, argv[1], argv[2], false, true)
	if err == nil && !ok {
		c.w.Null()
	}
	return err
}

func blockingMove(c *client, tx *store.Tx, argv [][]byte, from, to bool, timeoutArg []byte) error {
	timeout, err := parseTimeout(timeoutArg)
	if err != nil {
		return err
	}
	ok, err := listMove(c, tx, argv[1], argv[2], from, to)
	if err != nil || ok {
		return err
	}
	return blockOn(argv[1:2], timeout)
}

func cmdBlmove(c *client, tx *store.Tx, argv [][]byte) error {
	from, err := parseWhere(argv[3])
	if err != nil {
		return err
	}
	to, err := parseWhere(argv[4])
	if err != nil {
		return err
	}
	return blockingMove(c, tx, argv, from, to, argv[5])
}

func cmdBrpoplpush(c *client, tx *store.Tx, argv [][]byte) error {
	return blockingMove(c, tx, argv, false, true, argv[3])
}

// --- BLPOP / BRPOP ---

func blockingPop(c *client, tx *store.Tx, argv [][]byte, left bool) error {
	timeout, err := parseTimeout(argv[len(argv)-1])
	if err != nil {
		return err
	}
	keys := argv[1 : len(argv)-1]
	for _, k := range keys {
		l, err := writeList(tx, k, false)
		if err != nil {
			return err
		}
		if l == nil || l.Len() == 0 {
			continue
		}
		c.w.Array(2)
		c.w.Bulk(k)
		c.w.Bulk(popEnd(l, left))
		return nil
	}
	return blockOn(keys, timeout)
}

func cmdBlpop(c *client, tx *store.Tx, argv [][]byte) error { return blockingPop(c, tx, argv, true) }
func cmdBrpop(c *client, tx *store.Tx, argv [][]byte) error { return blockingPop(c, tx, argv, false) }

// --- LMPOP / BLMPOP ---

// listMpop is LMPOP (numIdx 1) and BLMPOP (numIdx 2, timeout at 1).
func listMpop(c *client, tx *store.Tx, argv [][]byte, numIdx int, block bool) error {
	numkeys, err := parseInt(argv[numIdx])
	if err != nil || numkeys < 1 {
		return errNumkeysPositive
	}
	if numkeys > int64(len(argv)-numIdx-1) {
		return errSyntax
	}
	whereIdx := numIdx + 1 + int(numkeys)
	if whereIdx >= len(argv) {
		return errSyntax
	}
	left, err := parseWhere(argv[whereIdx])
	if err != nil {
		return err
	}
	count, err := parseMpopCount(argv, whereIdx+1)
	if err != nil {
		return err
	}
	var timeout time.Duration
	if block {
		if timeout, err = parseTimeout(argv[1]); err != nil {
			return err
		}
	}
	if tx == nil {
		return errSyntax // unreachable: the keys function accepted numkeys
	}
	keys := argv[numIdx+1 : whereIdx]
	for _, k := range keys {
		l, err := writeList(tx, k, false)
		if err != nil {
			return err
		}
		if l == nil || l.Len() == 0 {
			continue
		}
		n := int(min(count, int64(l.Len())))
		c.w.Array(2)
		c.w.Bulk(k)
		c.w.Array(n)
		for i := 0; i < n; i++ {
			c.w.Bulk(popEnd(l, left))
		}
		return nil
	}
	if block {
		return blockOn(keys, timeout)
	}
	c.w.NullArray()
	return nil
}

func cmdLmpop(c *client, tx *store.Tx, argv [][]byte) error  { return listMpop(c, tx, argv, 1, false) }
func cmdBlmpop(c *client, tx *store.Tx, argv [][]byte) error { return listMpop(c, tx, argv, 2, true) }

// parseMpopCount reads the optional COUNT n after the direction of LMPOP,
// BLMPOP, ZMPOP and BZMPOP (default 1), with Redis's errors.
func parseMpopCount(argv [][]byte, from int) (int64, error) {
	count := int64(-1)
	for j := from; j < len(argv); j++ {
		if count == -1 && equalFold(argv[j], "count") && j+1 < len(argv) {
			j++
			n, err := parseInt(argv[j])
			if err != nil || n < 1 {
				return 0, errCountGreaterThan0
			}
			count = n
			continue
		}
		return 0, errSyntax
	}
	if count == -1 {
		count = 1
	}
	return count, nil
}
