package server

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/cachalotdb/cachalot/store"
)

// Set commands, following Redis 7.0's t_set.c: replies, error order and the
// encodings (intset / hashtable) the results end up with.

func setCommands() []*command {
	setRow := func(name string, arity int, flags cmdFlags, specFlags, since, summary, complexity, usage string, h handlerFunc) *command {
		return &command{name: name, arity: arity, flags: flags, first: 1, last: 1, step: 1, keySpecFlags: specFlags,
			acl: "@set", group: "set", since: since, summary: summary, complexity: complexity, usage: usage, handler: h}
	}
	multiRow := func(name, summary, complexity string, h handlerFunc) *command {
		return &command{name: name, arity: -2, flags: flagReadonly, first: 1, last: -1, step: 1, keySpecFlags: "RO ACCESS",
			acl: "@set", group: "set", since: "1.0.0", summary: summary, complexity: complexity,
			usage: "key [key ...]", tips: "nondeterministic_output_order", handler: h}
	}
	storeRow := func(name, dstFlags, summary, complexity string, h handlerFunc) *command {
		return &command{name: name, arity: -3, flags: flagWrite | flagDenyOOM, first: 1, last: -1, step: 1,
			keySpecFlags: dstFlags + " | RO ACCESS", acl: "@set", group: "set", since: "1.0.0", summary: summary,
			complexity: complexity, usage: "destination key [key ...]", handler: h}
	}
	const (
		interComplexity = "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets."
		unionComplexity = "O(N) where N is the total number of elements in all given sets."
	)
	sadd := setRow("sadd", -3, flagWrite|flagDenyOOM|flagFast, "RW INSERT", "1.0.0", "Add one or more members to a set",
		"O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
		"key member [member ...]", cmdSadd)
	sadd.history = [][2]string{{"2.4.0", "Accepts multiple `member` arguments."}}
	srem := setRow("srem", -3, flagWrite|flagFast, "RW DELETE", "1.0.0", "Remove one or more members from a set",
		"O(N) where N is the number of members to be removed.", "key member [member ...]", cmdSrem)
	srem.history = [][2]string{{"2.4.0", "Accepts multiple `member` arguments."}}
	smembers := setRow("smembers", 2, flagReadonly, "RO ACCESS", "1.0.0", "Get all the members in a set",
		"O(N) where N is the set cardinality.", "key", cmdSmembers)
	smembers.tips = "nondeterministic_output_order"
	spop := setRow("spop", -2, flagWrite|flagFast, "RW ACCESS DELETE", "1.0.0", "Remove and return one or multiple random members from a set",
		"Without the count argument O(1), otherwise O(N) where N is the value of the passed count.", "key [count@3.2.0]", cmdSpop)
	spop.tips = "nondeterministic_output"
	spop.history = [][2]string{{"3.2.0", "Added the `count` argument."}}
	srandmember := setRow("srandmember", -2, flagReadonly, "RO ACCESS", "1.0.0", "Get one or multiple random members from a set",
		"Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.", "key [count@2.6.0]", cmdSrandmember)
	srandmember.tips = "nondeterministic_output"
	srandmember.history = [][2]string{{"2.6.0", "Added the optional `count` argument."}}
	sscan := setRow("sscan", -3, flagReadonly, "RO ACCESS", "2.8.0", "Incrementally iterate Set elements",
		"O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
		"key cursor:integer [MATCH pattern] [COUNT count]", cmdSscan)
	sscan.tips = "nondeterministic_output"
	return []*command{
		sadd,
		srem,
		smembers,
		setRow("sismember", 3, flagReadonly|flagFast, "RO", "1.0.0", "Determine if a given value is a member of a set",
			"O(1)", "key member", cmdSismember),
		setRow("smismember", -3, flagReadonly|flagFast, "RO ACCESS", "6.2.0", "Returns the membership associated with the given elements for a set",
			"O(N) where N is the number of elements being checked for membership", "key member [member ...]", cmdSmismember),
		setRow("scard", 2, flagReadonly|flagFast, "RO", "1.0.0", "Get the number of members in a set", "O(1)", "key", cmdScard),
		spop,
		srandmember,
		{name: "smove", arity: 4, flags: flagWrite | flagFast, first: 1, last: 2, step: 1, keySpecFlags: "RW ACCESS DELETE | RW INSERT",
			acl: "@set", group: "set", since: "1.0.0", summary: "Move a member from one set to another", complexity: "O(1)",
			usage: "source destination member", handler: cmdSmove},
		multiRow("sinter", "Intersect multiple sets", interComplexity, cmdSinter),
		{name: "sintercard", arity: -3, flags: flagReadonly | flagMovableKeys, keys: sintercardKeys, keySpecFlags: "RO ACCESS",
			keySpecs: []keySpec{{flags: "RO ACCESS", index: 1, keynum: true, keyNumIdx: 0, firstKey: 1, numStep: 1}},
			acl:      "@set", group: "set", since: "7.0.0", summary: "Intersect multiple sets and return the cardinality of the result",
			complexity: interComplexity, usage: "numkeys key [key ...] [LIMIT limit:integer]", handler: cmdSintercard},
		storeRow("sinterstore", "RW UPDATE", "Intersect multiple sets and store the resulting set in a key", interComplexity, cmdSinterstore),
		multiRow("sunion", "Add multiple sets", unionComplexity, cmdSunion),
		storeRow("sunionstore", "OW UPDATE", "Add multiple sets and store the resulting set in a key", unionComplexity, cmdSunionstore),
		multiRow("sdiff", "Subtract multiple sets", unionComplexity, cmdSdiff),
		storeRow("sdiffstore", "OW UPDATE", "Subtract multiple sets and store the resulting set in a key", unionComplexity, cmdSdiffstore),
		sscan,
	}
}

func newSetContainer() store.Container { return store.NewSet() }

// readSet looks a set up for a read command (counting a hit or a miss);
// nil when the key is missing.
func readSet(tx *store.Tx, key []byte) (*store.Set, error) {
	obj, err := tx.ReadContainer(key, store.KindSet)
	if err != nil || obj == nil {
		return nil, err
	}
	return obj.(*store.Set), nil
}

// writeSet looks a set up for a write command; nil when the key is missing.
func writeSet(tx *store.Tx, key []byte) (*store.Set, error) {
	obj, err := tx.Container(key, store.KindSet, nil)
	if err != nil || obj == nil {
		return nil, err
	}
	return obj.(*store.Set), nil
}

func maxIntset(c *client) int64 { return c.srv.Config().SetMaxIntsetEntries }

// writeSetReply sends members as a set reply (an array in RESP2).
func writeSetReply(c *client, members []string) {
	c.w.Set(len(members))
	for _, m := range members {
		c.w.BulkString(m)
	}
}

func cmdSadd(c *client, tx *store.Tx, argv [][]byte) error {
	obj, err := tx.Container(argv[1], store.KindSet, newSetContainer)
	if err != nil {
		return err
	}
	s := obj.(*store.Set)
	limit := maxIntset(c)
	var added int64
	for _, m := range argv[2:] {
		if s.Add(m, limit) {
			added++
		}
	}
	c.w.Int(added)
	return nil
}

func cmdSrem(c *client, tx *store.Tx, argv [][]byte) error {
	s, err := writeSet(tx, argv[1])
	if err != nil {
		return err
	}
	var removed int64
	if s != nil {
		for _, m := range argv[2:] {
			if s.Remove(m) {
				removed++
				if s.Len() == 0 {
					break
				}
			}
		}
	}
	c.w.Int(removed)
	return nil
}

// cmdSmembers is SINTER of one key, as in Redis 7.0.
func cmdSmembers(c *client, tx *store.Tx, argv [][]byte) error {
	return sinterGeneric(c, tx, argv[1:2], nil, false, 0)
}

func cmdSismember(c *client, tx *store.Tx, argv [][]byte) error {
	s, err := readSet(tx, argv[1])
	if err != nil {
		return err
	}
	c.w.Int(b2i(s != nil && s.Contains(argv[2])))
	return nil
}

func cmdSmismember(c *client, tx *store.Tx, argv [][]byte) error {
	s, err := readSet(tx, argv[1])
	if err != nil {
		return err
	}
	c.w.Array(len(argv) - 2)
	for _, m := range argv[2:] {
		c.w.Int(b2i(s != nil && s.Contains(m)))
	}
	return nil
}

func cmdScard(c *client, tx *store.Tx, argv [][]byte) error {
	s, err := readSet(tx, argv[1])
	if err != nil {
		return err
	}
	if s == nil {
		c.w.Int(0)
		return nil
	}
	c.w.Int(int64(s.Len()))
	return nil
}

func cmdSpop(c *client, tx *store.Tx, argv [][]byte) error {
	if len(argv) == 3 {
		return spopWithCount(c, tx, argv)
	}
	if len(argv) > 3 {
		return errSyntax
	}
	s, err := writeSet(tx, argv[1])
	if err != nil {
		return err
	}
	if s == nil {
		c.w.Null()
		return nil
	}
	m, _ := s.Pop()
	c.w.BulkString(m)
	return nil
}

// spopWithCount is SPOP key count: the count is checked before the key
// (any non-integer or negative count is "must be positive"); a count
// covering the whole set returns it as SUNION would (sorted for an
// intset result) and deletes the key.
func spopWithCount(c *client, tx *store.Tx, argv [][]byte) error {
	count, err := parseInt(argv[2])
	if err != nil || count < 0 {
		return errCountPositive
	}
	s, err := writeSet(tx, argv[1])
	if err != nil {
		return err
	}
	if s == nil || count == 0 {
		c.w.Set(0)
		return nil
	}
	if count >= int64(s.Len()) {
		all := unionOf(c, []*store.Set{s})
		writeSetReply(c, all.Members())
		tx.Delete(argv[1])
		return nil
	}
	c.w.Set(int(count))
	s.PopN(int(count), maxIntset(c), func(m string) { c.w.BulkString(m) })
	return nil
}

func cmdSrandmember(c *client, tx *store.Tx, argv [][]byte) error {
	if len(argv) == 3 {
		return srandmemberWithCount(c, tx, argv)
	}
	if len(argv) > 3 {
		return errSyntax
	}
	s, err := readSet(tx, argv[1])
	if err != nil {
		return err
	}
	if s == nil {
		c.w.Null()
		return nil
	}
	m, _ := s.Random()
	c.w.BulkString(m)
	return nil
}

// srandmemberWithCount follows Redis 7.0: a negative count picks with
// repetition in random order; a count covering the set returns it whole in
// its iteration order; otherwise distinct random members.
func srandmemberWithCount(c *client, tx *store.Tx, argv [][]byte) error {
	n, err := parseInt(argv[2])
	if err != nil {
		return err
	}
	if n == math.MinInt64 {
		return errHrandCountRange // same text as HRANDFIELD's
	}
	uniq := n >= 0
	count := n
	if !uniq {
		count = -n
	}
	s, err := readSet(tx, argv[1])
	if err != nil {
		return err
	}
	if s == nil || count == 0 {
		c.w.Array(0)
		return nil
	}
	size := int64(s.Len())
	switch {
	case !uniq || count == 1:
		c.w.Array(int(count))
		for range count {
			m, _ := s.Random()
			c.w.BulkString(m)
		}
	case count >= size:
		c.w.Array(int(size))
		s.ForEach(func(m []byte) bool {
			c.w.Bulk(m)
			return true
		})
	case count*3 > size:
		all := s.Members()
		rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		c.w.BulkStrings(all[:count])
	default:
		seen := make(map[string]struct{}, count)
		picked := make([]string, 0, count)
		for int64(len(picked)) < count {
			m, _ := s.Random()
			if _, dup := seen[m]; dup {
				continue
			}
			seen[m] = struct{}{}
			picked = append(picked, m)
		}
		c.w.BulkStrings(picked)
	}
	return nil
}

func cmdSmove(c *client, tx *store.Tx, argv [][]byte) error {
	src, err := writeSet(tx, argv[1])
	if err != nil {
		return err
	}
	if src == nil {
		c.w.Int(0)
		return nil
	}
	dst, err := writeSet(tx, argv[2])
	if err != nil {
		return err
	}
	if dst == src {
		c.w.Int(b2i(src.Contains(argv[3])))
		return nil
	}
	if !src.Remove(argv[3]) {
		c.w.Int(0)
		return nil
	}
	if dst == nil {
		obj, err := tx.Container(argv[2], store.KindSet, newSetContainer)
		if err != nil {
			return err
		}
		dst = obj.(*store.Set)
	}
	dst.Add(argv[3], maxIntset(c))
	c.w.Int(1)
	return nil
}

// lookupSets fetches every key as a set, nil for missing keys; it stops at
// the first key of another type, as Redis's loops over the keys do. Store
// variants look the keys up for writing (no hit/miss counting).
func lookupSets(tx *store.Tx, keys [][]byte, forStore bool) ([]*store.Set, int, error) {
	sets := make([]*store.Set, len(keys))
	missing := 0
	for j, k := range keys {
		// Sources are read lookups even for the *STORE forms, as in
		// Redis 7.0 (they count keyspace hits and misses).
		s, err := readSet(tx, k)
		if err != nil {
			return nil, 0, err
		}
		if s == nil {
			missing++
		}
		sets[j] = s
	}
	return sets, missing, nil
}

func cmdSinter(c *client, tx *store.Tx, argv [][]byte) error {
	return sinterGeneric(c, tx, argv[1:], nil, false, 0)
}

func cmdSinterstore(c *client, tx *store.Tx, argv [][]byte) error {
	return sinterGeneric(c, tx, argv[2:], argv[1], false, 0)
}

// sintercardKeys finds SINTERCARD's keys: numkeys keys after numkeys, or
// none when numkeys is not valid (the handler then replies the error).
func sintercardKeys(argv [][]byte) []int {
	if len(argv) < 3 {
		return nil
	}
	n, ok := string2ll(argv[1])
	if !ok || n < 1 || n > int64(len(argv)-2) {
		return nil
	}
	pos := make([]int, n)
	for i := range pos {
		pos[i] = 2 + i
	}
	return pos
}

func cmdSintercard(c *client, tx *store.Tx, argv [][]byte) error {
	numkeys, err := parseInt(argv[1])
	if err != nil || numkeys < 1 {
		return errNumkeysPositive
	}
	if numkeys > int64(len(argv)-2) {
		return errNumkeysTooMany
	}
	var limit int64
	for j := 2 + int(numkeys); j < len(argv); j++ {
		if equalFold(argv[j], "limit") && j+1 < len(argv) {
			j++
			limit, err = parseInt(argv[j])
			if err != nil || limit < 0 {
				return errLimitNegative
			}
			continue
		}
		return errSyntax
	}
	return sinterGeneric(c, tx, argv[2:2+numkeys], nil, true, limit)
}

// sinterGeneric is Redis's sinterGenericCommand: every key is type-checked,
// a missing key makes the result empty, and the smallest set (the first
// of equal size) is walked in its own order, so an intset gives a sorted
// result. dst != nil stores the result; cardOnly counts up to limit
// (0 = no limit).
func sinterGeneric(c *client, tx *store.Tx, keys [][]byte, dst []byte, cardOnly bool, limit int64) error {
	sets, missing, err := lookupSets(tx, keys, dst != nil)
	if err != nil {
		return err
	}
	if missing > 0 {
		switch {
		case dst != nil:
			tx.Delete(dst)
			c.w.Int(0)
		case cardOnly:
			c.w.Int(0)
		default:
			c.w.Set(0)
		}
		return nil
	}
	slices.SortStableFunc(sets, func(a, b *store.Set) int { return a.Len() - b.Len() })
	var (
		card   int64
		result []string
	)
	sets[0].ForEach(func(m []byte) bool {
		for _, other := range sets[1:] {
			if other != sets[0] && !other.Contains(m) {
				return true
			}
		}
		card++
		if cardOnly {
			return limit == 0 || card < limit
		}
		result = append(result, string(m))
		return true
	})
	switch {
	case cardOnly:
		c.w.Int(card)
	case dst != nil:
		out := store.NewSet()
		limitEntries := maxIntset(c)
		for _, m := range result {
			out.Add([]byte(m), limitEntries)
		}
		tx.SetContainer(dst, store.KindSet, out)
		c.w.Int(int64(out.Len()))
	default:
		writeSetReply(c, result)
	}
	return nil
}

func cmdSunion(c *client, tx *store.Tx, argv [][]byte) error {
	return sunionDiff(c, tx, argv[1:], nil, false)
}

func cmdSunionstore(c *client, tx *store.Tx, argv [][]byte) error {
	return sunionDiff(c, tx, argv[2:], argv[1], false)
}

func cmdSdiff(c *client, tx *store.Tx, argv [][]byte) error {
	return sunionDiff(c, tx, argv[1:], nil, true)
}

func cmdSdiffstore(c *client, tx *store.Tx, argv [][]byte) error {
	return sunionDiff(c, tx, argv[2:], argv[1], true)
}

// unionOf builds the union of sets into a new set, as Redis does (a fresh
// intset that converts as members are added).
func unionOf(c *client, sets []*store.Set) *store.Set {
	out := store.NewSet()
	limit := maxIntset(c)
	for _, s := range sets {
		if s == nil {
			continue
		}
		s.ForEach(func(m []byte) bool {
			out.Add(m, limit)
			return true
		})
	}
	return out
}

// sunionDiff is Redis's sunionDiffGenericCommand. The result is built in a
// fresh set with the same operations Redis performs, so its encoding (and
// so its order when it stays an intset) matches: SDIFF picks Redis's
// algorithm 1 (walk the first set, keep what no other set has) or 2 (copy
// the first set, then remove the others' members) by the same estimate.
func sunionDiff(c *client, tx *store.Tx, keys [][]byte, dst []byte, diff bool) error {
	sets, _, err := lookupSets(tx, keys, dst != nil)
	if err != nil {
		return err
	}
	sameSet := false
	for j := 1; j < len(sets); j++ {
		if sets[j] != nil && sets[j] == sets[0] {
			sameSet = true
		}
	}
	var out *store.Set
	switch {
	case !diff:
		out = unionOf(c, sets)
	case sameSet || sets[0] == nil:
		out = store.NewSet()
	default:
		out = diffOf(c, sets)
	}
	if dst == nil {
		writeSetReply(c, out.Members())
		return nil
	}
	tx.SetContainer(dst, store.KindSet, out)
	c.w.Int(int64(out.Len()))
	return nil
}

func diffOf(c *client, sets []*store.Set) *store.Set {
	out := store.NewSet()
	limit := maxIntset(c)
	var one, two int64
	for _, s := range sets {
		if s != nil {
			one += int64(sets[0].Len())
			two += int64(s.Len())
		}
	}
	one /= 2
	if one <= two {
		// Algorithm 1.
		sets[0].ForEach(func(m []byte) bool {
			for _, other := range sets[1:] {
				if other != nil && other.Contains(m) {
					return true
				}
			}
			out.Add(m, limit)
			return true
		})
		return out
	}
	// Algorithm 2.
	for j, s := range sets {
		if s == nil {
			continue
		}
		s.ForEach(func(m []byte) bool {
			if j == 0 {
				out.Add(m, limit)
			} else {
				out.Remove(m)
			}
			return true
		})
		if out.Len() == 0 {
			break
		}
	}
	return out
}

// cmdSscan parses the cursor, looks the key up (a missing key is an empty
// scan, before any option is read), then parses MATCH and COUNT as Redis's
// scanGeneric does. An intset is returned whole with cursor 0.
func cmdSscan(c *client, tx *store.Tx, argv [][]byte) error {
	cursor, ok := parseCursor(argv[2])
	if !ok {
		return errInvalidCursor
	}
	s, err := readSet(tx, argv[1])
	if err != nil {
		return err
	}
	if s == nil {
		replyEmptyScan(c)
		return nil
	}
	count, match, err := parseScanOptions(argv)
	if err != nil {
		return err
	}
	var found [][]byte
	next := s.Scan(cursor, count, func(m []byte) {
		if match == nil || match(string(m)) {
			found = append(found, bytes.Clone(m))
		}
	})
	c.w.Array(2)
	c.w.BulkString(strconv.FormatUint(next, 10))
	c.w.Array(len(found))
	for _, m := range found {
		c.w.Bulk(m)
	}
	return nil
}

// setDigest mixes a set into a DEBUG DIGEST as Redis's xorObjectDigest
// does: each member's SHA1 xored in, so the order does not matter.
func setDigest(d *digest, s *store.Set) {
	s.ForEach(func(m []byte) bool {
		d.xor(m)
		return true
	})
}

// setSerializedLength is the size of a set's RDB encoding (DEBUG OBJECT's
// serializedlength): an intset is saved as one string, its blob; a
// hashtable as a count and each member.
func setSerializedLength(s *store.Set) int {
	if s.IsIntset() {
		return rdbStringSize(s.AppendIntsetBlob(nil))
	}
	n := rdbLenSize(s.Len())
	s.ForEach(func(m []byte) bool {
		n += rdbStringSize(m)
		return true
	})
	return n
}
