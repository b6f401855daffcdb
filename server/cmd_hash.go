package server

// Hash commands: https://redis.io/commands/?group=hash
//
// The handlers follow Redis 7.0's t_hash.c, whose order of checks decides
// which error a bad request gets: argument parsing first (increments,
// HRANDFIELD's count), then the key's type, then the stored value. The
// encoding rules (listpack until hash-max-listpack-entries fields or a
// field/value longer than hash-max-listpack-value) live in store.Hash; the
// handlers pass the current thresholds in.

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/cachalotdb/cachalot/store"
)

const hscanComplexity = "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.."

func hashCommands() []*command {
	return []*command{
		{name: "hset", arity: -4, flags: flagWrite | flagDenyOOM | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RW UPDATE",
			acl: "@hash", group: "hash", since: "2.0.0", summary: "Set the string value of a hash field",
			complexity: "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.",
			history:    [][2]string{{"4.0.0", "Accepts multiple `field` and `value` arguments."}},
			usage:      "key field value [field value ...]", handler: cmdHset},
		{name: "hsetnx", arity: 4, flags: flagWrite | flagDenyOOM | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RW INSERT",
			acl: "@hash", group: "hash", since: "2.0.0", summary: "Set the value of a hash field, only if the field does not exist",
			complexity: "O(1)", usage: "key field value", handler: cmdHsetnx},
		{name: "hget", arity: 3, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RO ACCESS",
			acl: "@hash", group: "hash", since: "2.0.0", summary: "Get the value of a hash field",
			complexity: "O(1)", usage: "key field", handler: cmdHget},
		{name: "hmset", arity: -4, flags: flagWrite | flagDenyOOM | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RW UPDATE",
			acl: "@hash", group: "hash", since: "2.0.0", summary: "Set multiple hash fields to multiple values",
			complexity: "O(N) where N is the number of fields being set.",
			docFlags:   "deprecated", deprecatedSince: "4.0.0", replacedBy: "`HSET` with multiple field-value pairs",
			usage: "key field value [field value ...]", handler: cmdHmset},
		{name: "hmget", arity: -3, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RO ACCESS",
			acl: "@hash", group: "hash", since: "2.0.0", summary: "Get the values of all the given hash fields",
			complexity: "O(N) where N is the number of fields being requested.",
			usage:      "key field [field ...]", handler: cmdHmget},
		{name: "hgetall", arity: 2, flags: flagReadonly, first: 1, last: 1, step: 1, keySpecFlags: "RO ACCESS",
			acl: "@hash", group: "hash", since: "2.0.0", summary: "Get all the fields and values in a hash",
			complexity: "O(N) where N is the size of the hash.", tips: "nondeterministic_output_order",
			usage: "key", handler: cmdHgetall},
		{name: "hdel", arity: -3, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RW DELETE",
			acl: "@hash", group: "hash", since: "2.0.0", summary: "Delete one or more hash fields",
			complexity: "O(N) where N is the number of fields to be removed.",
			history:    [][2]string{{"2.4.0", "Accepts multiple `field` arguments."}},
			usage:      "key field [field ...]", handler: cmdHdel},
		{name: "hlen", arity: 2, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RO",
			acl: "@hash", group: "hash", since: "2.0.0", summary: "Get the number of fields in a hash",
			complexity: "O(1)", usage: "key", handler: cmdHlen},
		{name: "hexists", arity: 3, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RO",
			acl: "@hash", group: "hash", since: "2.0.0", summary: "Determine if a hash field exists",
			complexity: "O(1)", usage: "key field", handler: cmdHexists},
		{name: "hkeys", arity: 2, flags: flagReadonly, first: 1, last: 1, step: 1, keySpecFlags: "RO ACCESS",
			acl: "@hash", group: "hash", since: "2.0.0", summary: "Get all the fields in a hash",
			complexity: "O(N) where N is the size of the hash.", tips: "nondeterministic_output_order",
			usage: "key", handler: cmdHkeys},
		{name: "hvals", arity: 2, flags: flagReadonly, first: 1, last: 1, step: 1, keySpecFlags: "RO ACCESS",
			acl: "@hash", group: "hash", since: "2.0.0", summary: "Get all the values in a hash",
			complexity: "O(N) where N is the size of the hash.", tips: "nondeterministic_output_order",
			usage: "key", handler: cmdHvals},
		{name: "hincrby", arity: 4, flags: flagWrite | flagDenyOOM | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RW ACCESS UPDATE",
			acl: "@hash", group: "hash", since: "2.0.0", summary: "Increment the integer value of a hash field by the given number",
			complexity: "O(1)", usage: "key field increment:integer", handler: cmdHincrby},
		{name: "hincrbyfloat", arity: 4, flags: flagWrite | flagDenyOOM | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RW ACCESS UPDATE",
			acl: "@hash", group: "hash", since: "2.6.0", summary: "Increment the float value of a hash field by the given amount",
			complexity: "O(1)", usage: "key field increment:double", handler: cmdHincrbyfloat},
		{name: "hstrlen", arity: 3, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RO",
			acl: "@hash", group: "hash", since: "3.2.0", summary: "Get the length of the value of a hash field",
			complexity: "O(1)", usage: "key field", handler: cmdHstrlen},
		{name: "hrandfield", arity: -2, flags: flagReadonly, first: 1, last: 1, step: 1, keySpecFlags: "RO ACCESS",
			acl: "@hash", group: "hash", since: "6.2.0", summary: "Get one or multiple random fields from a hash",
			complexity: "O(N) where N is the number of fields returned", tips: "nondeterministic_output",
			usage: "key options=[count:integer [WITHVALUES]]", handler: cmdHrandfield},
		{name: "hscan", arity: -3, flags: flagReadonly, first: 1, last: 1, step: 1, keySpecFlags: "RO ACCESS",
			acl: "@hash", group: "hash", since: "2.8.0", summary: "Incrementally iterate hash fields and associated values",
			complexity: hscanComplexity, tips: "nondeterministic_output",
			usage: "key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]", handler: cmdHscan},
	}
}

func newHashContainer() store.Container { return store.NewHash() }

// writeHash is Redis's hashTypeLookupWriteOrCreate (create true) or
// lookupKeyWrite (create false): nil when the key is missing and not
// created.
func writeHash(tx *store.Tx, key []byte, create bool) (*store.Hash, error) {
	var mk func() store.Container
	if create {
		mk = newHashContainer
	}
	c, err := tx.Container(key, store.KindHash, mk)
	if err != nil || c == nil {
		return nil, err
	}
	return c.(*store.Hash), nil
}

// readHash is lookupKeyRead plus the type check: nil when the key is
// missing.
func readHash(tx *store.Tx, key []byte) (*store.Hash, error) {
	c, err := tx.ReadContainer(key, store.KindHash)
	if err != nil || c == nil {
		return nil, err
	}
	return c.(*store.Hash), nil
}

// hashLimits are the current encoding thresholds.
func hashLimits(c *client) (maxEntries, maxValue int64) {
	cfg := c.srv.Config()
	return cfg.HashMaxListpackEntries, cfg.HashMaxListpackValue
}

func cmdHset(c *client, tx *store.Tx, argv [][]byte) error {
	return hsetGeneric(c, tx, argv, "hset")
}

func cmdHmset(c *client, tx *store.Tx, argv [][]byte) error {
	return hsetGeneric(c, tx, argv, "hmset")
}

// hsetGeneric is HSET (replies with the number of new fields) and HMSET
// (replies OK). An odd number of arguments is an arity error, checked
// before the key's type.
func hsetGeneric(c *client, tx *store.Tx, argv [][]byte, name string) error {
	if len(argv)%2 == 1 {
		return errArity(name)
	}
	h, err := writeHash(tx, argv[1], true)
	if err != nil {
		return err
	}
	maxEntries, maxValue := hashLimits(c)
	h.FitArgs(argv[2:], maxValue)
	created := h.SetPairs(argv[2:], maxEntries, maxValue)
	if name == "hset" {
		c.w.Int(int64(created))
	} else {
		c.w.OK()
	}
	return nil
}

func cmdHsetnx(c *client, tx *store.Tx, argv [][]byte) error {
	h, err := writeHash(tx, argv[1], true)
	if err != nil {
		return err
	}
	if h.Exists(argv[2]) {
		c.w.Int(0)
		return nil
	}
	maxEntries, maxValue := hashLimits(c)
	h.FitArgs(argv[2:4], maxValue)
	h.Set(argv[2], argv[3], maxEntries, maxValue)
	c.w.Int(1)
	return nil
}

func cmdHget(c *client, tx *store.Tx, argv [][]byte) error {
	h, err := readHash(tx, argv[1])
	if err != nil {
		return err
	}
	if h == nil {
		c.w.Null()
		return nil
	}
	if v, ok := h.Get(argv[2]); ok {
		c.w.BulkString(v)
	} else {
		c.w.Null()
	}
	return nil
}

func cmdHmget(c *client, tx *store.Tx, argv [][]byte) error {
	h, err := readHash(tx, argv[1])
	if err != nil {
		return err
	}
	c.w.Array(len(argv) - 2)
	for _, f := range argv[2:] {
		if h == nil {
			c.w.Null()
			continue
		}
		if v, ok := h.Get(f); ok {
			c.w.BulkString(v)
		} else {
			c.w.Null()
		}
	}
	return nil
}

// Which parts of each pair HGETALL, HKEYS and HVALS reply with.
const (
	hashPartField = 1 << iota
	hashPartValue
)

func cmdHgetall(c *client, tx *store.Tx, argv [][]byte) error {
	return hgetallGeneric(c, tx, argv[1], hashPartField|hashPartValue)
}

func cmdHkeys(c *client, tx *store.Tx, argv [][]byte) error {
	return hgetallGeneric(c, tx, argv[1], hashPartField)
}

func cmdHvals(c *client, tx *store.Tx, argv [][]byte) error {
	return hgetallGeneric(c, tx, argv[1], hashPartValue)
}

// hgetallGeneric replies with every pair in iteration order: a map for
// HGETALL (a flat array in RESP2), an array for HKEYS and HVALS.
func hgetallGeneric(c *client, tx *store.Tx, key []byte, parts int) error {
	h, err := readHash(tx, key)
	if err != nil {
		return err
	}
	n := 0
	if h != nil {
		n = h.Len()
	}
	if parts == hashPartField|hashPartValue {
		c.w.Map(n)
	} else {
		c.w.Array(n)
	}
	if h != nil {
		h.ForEach(func(field, value string) {
			if parts&hashPartField != 0 {
				c.w.BulkString(field)
			}
			if parts&hashPartValue != 0 {
				c.w.BulkString(value)
			}
		})
	}
	return nil
}

func cmdHdel(c *client, tx *store.Tx, argv [][]byte) error {
	h, err := writeHash(tx, argv[1], false)
	if err != nil {
		return err
	}
	deleted := 0
	if h != nil {
		for _, f := range argv[2:] {
			if h.Delete(f) {
				deleted++
				if h.Len() == 0 {
					break // the key is gone, as in Redis
				}
			}
		}
	}
	c.w.Int(int64(deleted))
	return nil
}

func cmdHlen(c *client, tx *store.Tx, argv [][]byte) error {
	h, err := readHash(tx, argv[1])
	if err != nil {
		return err
	}
	n := 0
	if h != nil {
		n = h.Len()
	}
	c.w.Int(int64(n))
	return nil
}

func cmdHexists(c *client, tx *store.Tx, argv [][]byte) error {
	h, err := readHash(tx, argv[1])
	if err != nil {
		return err
	}
	if h != nil && h.Exists(argv[2]) {
		c.w.Int(1)
	} else {
		c.w.Int(0)
	}
	return nil
}

func cmdHstrlen(c *client, tx *store.Tx, argv [][]byte) error {
	h, err := readHash(tx, argv[1])
	if err != nil {
		return err
	}
	n := 0
	if h != nil {
		v, _ := h.Get(argv[2])
		n = len(v)
	}
	c.w.Int(int64(n))
	return nil
}

func cmdHincrby(c *client, tx *store.Tx, argv [][]byte) error {
	incr, err := parseInt(argv[3])
	if err != nil {
		return err
	}
	h, err := writeHash(tx, argv[1], true)
	if err != nil {
		return err
	}
	var value int64
	if old, ok := h.Get(argv[2]); ok {
		v, ok := string2ll([]byte(old))
		if !ok {
			return errHashNotInteger
		}
		value = v
	}
	if (incr < 0 && value < 0 && incr < math.MinInt64-value) ||
		(incr > 0 && value > 0 && incr > math.MaxInt64-value) {
		return errOverflow
	}
	value += incr
	var buf [20]byte
	text := strconv.AppendInt(buf[:0], value, 10)
	maxEntries, maxValue := hashLimits(c)
	h.Set(argv[2], text, maxEntries, maxValue)
	c.w.Int(value)
	return nil
}

func cmdHincrbyfloat(c *client, tx *store.Tx, argv [][]byte) error {
	incr, ok := parseLongDouble(argv[3])
	if !ok {
		return errNotFloat
	}
	if incr.IsInf() {
		return errValueNaNOrInf
	}
	h, err := writeHash(tx, argv[1], true)
	if err != nil {
		return err
	}
	value := newLongDouble()
	if old, ok := h.Get(argv[2]); ok {
		if value, ok = parseLongDouble([]byte(old)); !ok {
			return errHashNotFloat
		}
	}
	sum, ok := addLongDouble(value, incr)
	if !ok {
		return errFloatNaNOrInf
	}
	text := formatLongDouble(sum)
	maxEntries, maxValue := hashLimits(c)
	h.Set(argv[2], text, maxEntries, maxValue)
	c.w.Bulk(text)
	return nil
}

// HRANDFIELD's count limits: getRangeLongFromObjectOrReply(-LONG_MAX,
// LONG_MAX), and half of that with WITHVALUES.
const hrandMaxWithValues = math.MaxInt64 / 2

func cmdHrandfield(c *client, tx *store.Tx, argv [][]byte) error {
	if len(argv) >= 3 {
		count, err := parseInt(argv[2])
		if err != nil {
			return err
		}
		if count == math.MinInt64 {
			return errHrandCountRange
		}
		withValues := false
		if len(argv) > 4 || (len(argv) == 4 && !equalFold(cstr(argv[3]), "withvalues")) {
			return errSyntax
		}
		if len(argv) == 4 {
			withValues = true
			if count < -hrandMaxWithValues || count > hrandMaxWithValues {
				return errRandCountRange
			}
		}
		return hrandfieldWithCount(c, tx, argv[1], count, withValues)
	}
	h, err := readHash(tx, argv[1])
	if err != nil {
		return err
	}
	if h == nil {
		c.w.Null()
		return nil
	}
	c.w.BulkString(h.At(rand.IntN(h.Len())).Field)
	return nil
}

// hrandfieldWithCount follows Redis's cases: a negative count picks with
// repetition, in random order; a count at least the size returns the whole
// hash in iteration order; a smaller count returns distinct fields, in
// iteration order.
func hrandfieldWithCount(c *client, tx *store.Tx, key []byte, count int64, withValues bool) error {
	h, err := readHash(tx, key)
	if err != nil {
		return err
	}
	if h == nil || count == 0 {
		c.w.Array(0)
		return nil
	}
	resp3Pairs := withValues && c.w.Proto() == 3
	replyPair := func(p store.HashPair) {
		if resp3Pairs {
			c.w.Array(2)
		}
		c.w.BulkString(p.Field)
		if withValues {
			c.w.BulkString(p.Value)
		}
	}
	startReply := func(n int64) {
		if withValues && !resp3Pairs {
			n *= 2
		}
		c.w.Array(int(n))
	}
	// One slice of the pairs for the random picks: At is O(i) on a
	// listpack.
	pairs := h.Pairs()
	size := int64(len(pairs))
	if count < 0 || count == 1 {
		if count < 0 {
			count = -count
		}
		startReply(count)
		for ; count > 0; count-- {
			replyPair(pairs[rand.IntN(int(size))])
		}
		return nil
	}
	if count >= size {
		startReply(size)
		for _, p := range pairs {
			replyPair(p)
		}
		return nil
	}
	startReply(count)
	for _, i := range randomSubset(int(size), int(count)) {
		replyPair(pairs[i])
	}
	return nil
}

// randomSubset returns k distinct indexes below n (0 < k < n), ascending.
func randomSubset(n, k int) []int {
	var picked []int
	if k*3 > n {
		// Many of them: shuffle a prefix of all the indexes.
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		for i := 0; i < k; i++ {
			j := i + rand.IntN(n-i)
			all[i], all[j] = all[j], all[i]
		}
		picked = all[:k]
	} else {
		seen := make(map[int]struct{}, k)
		for len(picked) < k {
			i := rand.IntN(n)
			if _, dup := seen[i]; !dup {
				seen[i] = struct{}{}
				picked = append(picked, i)
			}
		}
	}
	slices.Sort(picked)
	return picked
}

func cmdHscan(c *client, tx *store.Tx, argv [][]byte) error {
	cursor, ok := parseCursor(argv[2])
	if !ok {
		return errInvalidCursor
	}
	h, err := readHash(tx, argv[1])
	if err != nil {
		return err
	}
	if h == nil {
		replyEmptyScan(c)
		return nil
	}
	count, match, err := parseScanOptions(argv)
	if err != nil {
		return err
	}
	var out []string
	next := h.Scan(cursor, count, func(p store.HashPair) {
		if match == nil || match(p.Field) {
			out = append(out, p.Field, p.Value)
		}
	})
	c.w.Array(2)
	c.w.BulkString(strconv.FormatUint(next, 10))
	c.w.BulkStrings(out)
	return nil
}

// hashDigest mixes a hash into d as Redis's xorObjectDigest does: each
// pair's field then value mixed into a fresh digest, the results xored
// together so that the order of the pairs does not matter.
func hashDigest(d *digest, h *store.Hash) {
	var acc digest
	h.ForEach(func(field, value string) {
		var ele digest
		ele.mix([]byte(field))
		ele.mix([]byte(value))
		acc.xor(ele[:])
	})
	for i := range d {
		d[i] ^= acc[i]
	}
}
