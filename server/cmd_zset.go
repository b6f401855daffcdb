package server

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/cachalotdb/cachalot/store"
)

// Sorted-set commands, following Redis 7.0's t_zset.c: argument checks in
// its order, its replies (RESP2 and RESP3 shapes) and the encodings
// (listpack / skiplist) values end up with.

const (
	zrangeComplexity       = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned."
	zrangeByComplexity     = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N))."
	zremRangeComplexity    = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation."
	zmpopComplexity        = "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped."
	zbpopComplexity        = "O(log(N)) with N being the number of elements in the sorted set."
	zinterComplexity       = "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set."
	zdiffComplexity        = "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set."
	zaggregateUsage        = "[WEIGHTS weight:integer [weight:integer ...]] [AGGREGATE <SUM | MIN | MAX>]"
	zbpopTimeoutHistory    = "`timeout` is interpreted as a double instead of an integer."
	zsetRangeLimitUsage    = "[LIMIT offset count]"
	zsetStoreDstKeySpec    = "OW UPDATE"
	zsetSourceKeySpecFlags = "RO ACCESS"
)

// numkeysSpec is the key spec of keys counted by a numkeys argument at idx.
func numkeysSpec(flags string, idx int) keySpec {
	return keySpec{flags: flags, index: idx, keynum: true, keyNumIdx: 0, firstKey: 1, numStep: 1}
}

// numkeysKeys returns the key positions of a command whose numkeys
// argument is at idx (plus the fixed positions in pre), or nothing when
// numkeys is not a usable count; the handler then reports the error.
func numkeysKeys(idx int, pre ...int) func(argv [][]byte) []int {
	return func(argv [][]byte) []int {
		if idx >= len(argv) {
			return nil
		}
		n, ok := string2ll(argv[idx])
		if !ok || n < 1 || n > int64(len(argv)-idx-1) {
			return nil
		}
		out := append([]int(nil), pre...)
		for i := 0; i < int(n); i++ {
			out = append(out, idx+1+i)
		}
		return out
	}
}

func zsetCommands() []*command {
	row := func(name string, arity int, flags cmdFlags, specFlags, since, summary, complexity, usage string, h handlerFunc) *command {
		return &command{name: name, arity: arity, flags: flags, first: 1, last: 1, step: 1, keySpecFlags: specFlags,
			acl: "@sortedset", group: "sorted-set", since: since, summary: summary, complexity: complexity, usage: usage, handler: h}
	}
	// Commands whose keys follow a numkeys argument.
	movable := func(name string, arity int, flags cmdFlags, numIdx int, store bool, specFlags, since, summary, complexity, usage string, h handlerFunc) *command {
		c := &command{name: name, arity: arity, flags: flags | flagMovableKeys, acl: "@sortedset", group: "sorted-set",
			since: since, summary: summary, complexity: complexity, usage: usage, handler: h}
		if store {
			c.first, c.last, c.step = 1, 1, 1
			c.keys = numkeysKeys(numIdx, 1)
			c.keySpecs = []keySpec{{flags: zsetStoreDstKeySpec, index: 1, keyStep: 1}, numkeysSpec(specFlags, numIdx)}
		} else {
			c.keys = numkeysKeys(numIdx)
			c.keySpecs = []keySpec{numkeysSpec(specFlags, numIdx)}
		}
		return c
	}

	zadd := row("zadd", -4, flagWrite|flagDenyOOM|flagFast, "RW UPDATE", "1.2.0",
		"Add one or more members to a sorted set, or update its score if it already exists",
		"O(log(N)) for each item added, where N is the number of elements in the sorted set.",
		"key [NX | XX]@3.0.2 [GT | LT]@6.2.0 change=[CH]@3.0.2 increment=[INCR]@3.0.2 score:double member [score:double member ...]", cmdZadd)
	zadd.history = [][2]string{{"2.4.0", "Accepts multiple elements."}, {"3.0.2", "Added the `XX`, `NX`, `CH` and `INCR` options."}, {"6.2.0", "Added the `GT` and `LT` options."}}
	zrem := row("zrem", -3, flagWrite|flagFast, "RW DELETE", "1.2.0", "Remove one or more members from a sorted set",
		"O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.",
		"key member [member ...]", cmdZrem)
	zrem.history = [][2]string{{"2.4.0", "Accepts multiple elements."}}
	zrange := row("zrange", -4, flagReadonly, "RO ACCESS", "1.2.0", "Return a range of members in a sorted set", zrangeComplexity,
		"key start:string stop:string [BYSCORE | BYLEX]@6.2.0 [REV]@6.2.0 [LIMIT offset count]@6.2.0 [WITHSCORES]", cmdZrange)
	zrange.history = [][2]string{{"6.2.0", "Added the `REV`, `BYSCORE`, `BYLEX` and `LIMIT` options."}}
	zrangebyscore := row("zrangebyscore", -4, flagReadonly, "RO ACCESS", "1.0.5", "Return a range of members in a sorted set, by score", zrangeByComplexity,
		"key min:double max:double [WITHSCORES]@2.0.0 "+zsetRangeLimitUsage, cmdZrangebyscore)
	zrangebyscore.history = [][2]string{{"2.0.0", "Added the `WITHSCORES` modifier."}}
	zrevrangebyscore := row("zrevrangebyscore", -4, flagReadonly, "RO ACCESS", "2.2.0", "Return a range of members in a sorted set, by score, with scores ordered from high to low", zrangeByComplexity,
		"key max:double min:double [WITHSCORES] "+zsetRangeLimitUsage, cmdZrevrangebyscore)
	zrevrangebyscore.history = [][2]string{{"2.1.6", "`min` and `max` can be exclusive."}}
	zrandmember := row("zrandmember", -2, flagReadonly, "RO ACCESS", "6.2.0", "Get one or multiple random elements from a sorted set",
		"O(N) where N is the number of elements returned", "key options=[count [WITHSCORES]]", cmdZrandmember)
	zscan := row("zscan", -3, flagReadonly, "RO ACCESS", "2.8.0", "Incrementally iterate sorted sets elements and associated scores",
		"O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
		"key cursor:integer [MATCH pattern] [COUNT count]", cmdZscan)
	zrangestore := &command{name: "zrangestore", arity: -5, flags: flagWrite | flagDenyOOM, first: 1, last: 2, step: 1,
		keySpecFlags: "OW UPDATE | RO ACCESS", acl: "@sortedset", group: "sorted-set", since: "6.2.0",
		summary:    "Store a range of members from sorted set into another key",
		complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.",
		usage:      "dst:key src:key min:string max:string [BYSCORE | BYLEX] [REV] " + zsetRangeLimitUsage, handler: cmdZrangestore}
	bpop := func(name, summary string, max bool) *command {
		c := &command{name: name, arity: -3, flags: flagWrite | flagNoScript | flagBlocking | flagFast, first: 1, last: -2, step: 1,
			keySpecFlags: "RW ACCESS DELETE", acl: "@sortedset", group: "sorted-set", since: "5.0.0", summary: summary,
			complexity: zbpopComplexity, usage: "key [key ...] timeout:double",
			handler: func(c *client, tx *store.Tx, argv [][]byte) error { return cmdBzpop(c, tx, argv, max) }}
		c.history = [][2]string{{"6.0.0", zbpopTimeoutHistory}}
		return c
	}
	pop := func(name, summary string, max bool) *command {
		return row(name, -2, flagWrite|flagFast, "RW ACCESS DELETE", "5.0.0", summary,
			"O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
			"key [count]", func(c *client, tx *store.Tx, argv [][]byte) error { return cmdZpop(c, tx, argv, max) })
	}

	return []*command{
		zadd,
		row("zincrby", 4, flagWrite|flagDenyOOM|flagFast, "RW ACCESS UPDATE", "1.2.0", "Increment the score of a member in a sorted set",
			"O(log(N)) where N is the number of elements in the sorted set.", "key increment:integer member", cmdZincrby),
		zrem,
		row("zcard", 2, flagReadonly|flagFast, "RO", "1.2.0", "Get the number of members in a sorted set", "O(1)", "key", cmdZcard),
		row("zscore", 3, flagReadonly|flagFast, "RO ACCESS", "1.2.0", "Get the score associated with the given member in a sorted set",
			"O(1)", "key member", cmdZscore),
		row("zmscore", -3, flagReadonly|flagFast, "RO ACCESS", "6.2.0", "Get the score associated with the given members in a sorted set",
			"O(N) where N is the number of members being requested.", "key member [member ...]", cmdZmscore),
		row("zrank", 3, flagReadonly|flagFast, "RO ACCESS", "2.0.0", "Determine the index of a member in a sorted set", "O(log(N))",
			"key member", func(c *client, tx *store.Tx, argv [][]byte) error { return cmdZrank(c, tx, argv, false) }),
		row("zrevrank", 3, flagReadonly|flagFast, "RO ACCESS", "2.0.0", "Determine the index of a member in a sorted set, with scores ordered from high to low",
			"O(log(N))", "key member", func(c *client, tx *store.Tx, argv [][]byte) error { return cmdZrank(c, tx, argv, true) }),
		row("zcount", 4, flagReadonly|flagFast, "RO ACCESS", "2.0.0", "Count the members in a sorted set with scores within the given values",
			"O(log(N)) with N being the number of elements in the sorted set.", "key min:double max:double", cmdZcount),
		row("zlexcount", 4, flagReadonly|flagFast, "RO ACCESS", "2.8.9", "Count the number of members in a sorted set between a given lexicographical range",
			"O(log(N)) with N being the number of elements in the sorted set.", "key min max", cmdZlexcount),
		zrange,
		zrangestore,
		row("zrevrange", -4, flagReadonly, "RO ACCESS", "1.2.0", "Return a range of members in a sorted set, by index, with scores ordered from high to low",
			zrangeComplexity, "key start:integer stop:integer [WITHSCORES]", cmdZrevrange),
		zrangebyscore,
		zrevrangebyscore,
		row("zrangebylex", -4, flagReadonly, "RO ACCESS", "2.8.9", "Return a range of members in a sorted set, by lexicographical range",
			zrangeByComplexity, "key min max "+zsetRangeLimitUsage, cmdZrangebylex),
		row("zrevrangebylex", -4, flagReadonly, "RO ACCESS", "2.8.9", "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.",
			zrangeByComplexity, "key max min "+zsetRangeLimitUsage, cmdZrevrangebylex),
		row("zremrangebyrank", 4, flagWrite, "RW DELETE", "2.0.0", "Remove all members in a sorted set within the given indexes",
			zremRangeComplexity, "key start:integer stop:integer", func(c *client, tx *store.Tx, argv [][]byte) error { return cmdZremrange(c, tx, argv, zrangeRank) }),
		row("zremrangebyscore", 4, flagWrite, "RW DELETE", "1.2.0", "Remove all members in a sorted set within the given scores",
			zremRangeComplexity, "key min:double max:double", func(c *client, tx *store.Tx, argv [][]byte) error { return cmdZremrange(c, tx, argv, zrangeScore) }),
		row("zremrangebylex", 4, flagWrite, "RW DELETE", "2.8.9", "Remove all members in a sorted set between the given lexicographical range",
			zremRangeComplexity, "key min max", func(c *client, tx *store.Tx, argv [][]byte) error { return cmdZremrange(c, tx, argv, zrangeLex) }),
		pop("zpopmin", "Remove and return members with the lowest scores in a sorted set", false),
		pop("zpopmax", "Remove and return members with the highest scores in a sorted set", true),
		bpop("bzpopmin", "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available", false),
		bpop("bzpopmax", "Remove and return the member with the highest score from one or more sorted sets, or block until one is available", true),
		movable("zmpop", -4, flagWrite, 1, false, "RW ACCESS DELETE", "7.0.0", "Remove and return members with scores in a sorted set",
			zmpopComplexity, "numkeys key [key ...] where=<MIN | MAX> [COUNT count]",
			func(c *client, tx *store.Tx, argv [][]byte) error { return cmdZmpop(c, tx, argv, 1, false) }),
		movable("bzmpop", -5, flagWrite|flagBlocking, 2, false, "RW ACCESS DELETE", "7.0.0", "Remove and return members with scores in a sorted set or block until one is available",
			zmpopComplexity, "timeout:double numkeys key [key ...] where=<MIN | MAX> [COUNT count]",
			func(c *client, tx *store.Tx, argv [][]byte) error { return cmdZmpop(c, tx, argv, 2, true) }),
		zrandmember,
		movable("zunion", -3, flagReadonly, 1, false, zsetSourceKeySpecFlags, "6.2.0", "Add multiple sorted sets",
			"O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
			"numkeys key [key ...] "+zaggregateUsage+" [WITHSCORES]", zsetOpHandler(zopUnion, false, false)),
		movable("zinter", -3, flagReadonly, 1, false, zsetSourceKeySpecFlags, "6.2.0", "Intersect multiple sorted sets", zinterComplexity,
			"numkeys key [key ...] "+zaggregateUsage+" [WITHSCORES]", zsetOpHandler(zopInter, false, false)),
		movable("zdiff", -3, flagReadonly, 1, false, zsetSourceKeySpecFlags, "6.2.0", "Subtract multiple sorted sets", zdiffComplexity,
			"numkeys key [key ...] [WITHSCORES]", zsetOpHandler(zopDiff, false, false)),
		movable("zunionstore", -4, flagWrite|flagDenyOOM, 2, true, zsetSourceKeySpecFlags, "2.0.0", "Add multiple sorted sets and store the resulting sorted set in a new key",
			"O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
			"destination numkeys key [key ...] "+zaggregateUsage, zsetOpHandler(zopUnion, true, false)),
		movable("zinterstore", -4, flagWrite|flagDenyOOM, 2, true, zsetSourceKeySpecFlags, "2.0.0", "Intersect multiple sorted sets and store the resulting sorted set in a new key",
			zinterComplexity, "destination numkeys key [key ...] "+zaggregateUsage, zsetOpHandler(zopInter, true, false)),
		movable("zdiffstore", -4, flagWrite|flagDenyOOM, 2, true, zsetSourceKeySpecFlags, "6.2.0", "Subtract multiple sorted sets and store the resulting sorted set in a new key",
			zdiffComplexity, "destination numkeys key [key ...]", zsetOpHandler(zopDiff, true, false)),
		movable("zintercard", -3, flagReadonly, 1, false, zsetSourceKeySpecFlags, "7.0.0", "Intersect multiple sorted sets and return the cardinality of the result",
			"O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
			"numkeys key [key ...] [LIMIT limit:integer]", zsetOpHandler(zopInter, false, true)),
		zscan,
	}
}

// --- access helpers ---

func zsetLimits(c *client) (maxEntries, maxValue int64) {
	cfg := c.srv.Config()
	return cfg.ZsetMaxListpackEntries, cfg.ZsetMaxListpackValue
}

// readZSet looks key up for a read command; nil when missing.
func readZSet(tx *store.Tx, key []byte) (*store.ZSet, error) {
	obj, err := tx.ReadContainer(key, store.KindZSet)
	if err != nil || obj == nil {
		return nil, err
	}
	return obj.(*store.ZSet), nil
}

// writeZSet looks key up for a write command, without creating it.
func writeZSet(tx *store.Tx, key []byte) (*store.ZSet, error) {
	obj, err := tx.Container(key, store.KindZSet, nil)
	if err != nil || obj == nil {
		return nil, err
	}
	return obj.(*store.ZSet), nil
}

// --- argument parsing ---

// strtodFull is C's strtod applied as zslParseRange does: the C string (up
// to the first NUL) must be consumed entirely; leading white space is
// skipped, overflow gives ±inf, and the empty string reads as 0 (strtod
// converts nothing and stops at the terminator). NaN is refused.
func strtodFull(b []byte) (float64, bool) {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if len(b) == 0 {
		return 0, true
	}
	i := 0
	for i < len(b) && cIsSpace(b[i]) {
		i++
	}
	s := b[i:]
	hex, ok := strtodSyntax(s)
	if !ok {
		return 0, false
	}
	str := string(s)
	if hex && bytes.IndexAny(s, "pP") < 0 {
		str += "p0"
	}
	f, err := strconv.ParseFloat(str, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	if math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// strtodSyntax reports whether s is, in full, a number strtod reads
// (decimal or hex with optional exponent, inf, infinity), and whether it
// is hex. NaN forms are refused.
func strtodSyntax(s []byte) (hex, ok bool) {
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if equalFold(s, "inf") || equalFold(s, "infinity") {
		return false, true
	}
	isDigit := func(ch byte) bool { return ch >= '0' && ch <= '9' }
	isHex := func(ch byte) bool {
		return isDigit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')
	}
	digit, expMark := isDigit, byte('e')
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		hex, digit, expMark = true, isHex, 'p'
		s = s[2:]
	}
	i, n := 0, 0
	for i < len(s) && digit(s[i]) {
		i++
		n++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && digit(s[i]) {
			i++
			n++
		}
	}
	if n == 0 {
		return hex, false
	}
	if i < len(s) && (s[i]|0x20) == expMark {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		e := 0
		for i < len(s) && isDigit(s[i]) {
			i++
			e++
		}
		if e == 0 {
			return hex, false
		}
	}
	return hex, i == len(s)
}

// parseScoreRange is zslParseRange: "(" makes a bound exclusive.
func parseScoreRange(min, max []byte) (store.ScoreRange, error) {
	var r store.ScoreRange
	var ok1, ok2 bool
	r.Min, r.MinEx, ok1 = parseScoreBound(min)
	r.Max, r.MaxEx, ok2 = parseScoreBound(max)
	if !ok1 || !ok2 {
		return r, errMinMaxNotFloat
	}
	return r, nil
}

func parseScoreBound(b []byte) (float64, bool, bool) {
	ex := false
	if len(b) > 0 && b[0] == '(' {
		ex = true
		b = b[1:]
	}
	f, ok := strtodFull(b)
	return f, ex, ok
}

// parseLexRange is zslParseLexRange: "[x" inclusive, "(x" exclusive, "-"
// and "+" the ends.
func parseLexRange(min, max []byte) (store.LexRange, error) {
	var r store.LexRange
	var ok1, ok2 bool
	r.Min, ok1 = parseLexBound(min)
	r.Max, ok2 = parseLexBound(max)
	if !ok1 || !ok2 {
		return r, errMinMaxNotLex
	}
	return r, nil
}

func parseLexBound(b []byte) (store.LexBound, bool) {
	if len(b) == 0 {
		return store.LexBound{}, false
	}
	switch b[0] {
	case '+', '-':
		if len(b) > 1 && b[1] != 0 {
			return store.LexBound{}, false
		}
		inf := 1
		if b[0] == '-' {
			inf = -1
		}
		return store.LexBound{Ex: true, Inf: inf}, true
	case '(':
		return store.LexBound{Value: b[1:], Ex: true}, true
	case '[':
		return store.LexBound{Value: b[1:]}, true
	}
	return store.LexBound{}, false
}

// --- replies ---

// writeScoredList writes n (member, score) pairs from walk: a flat array
// in RESP2, an array of pairs in RESP3 when withScores, else members only.
func writeScoredList(c *client, n int, withScores bool, walk func(emit func(member string, score float64))) {
	nested := withScores && c.w.Proto() > 2
	if withScores && !nested {
		c.w.Array(2 * n)
	} else {
		c.w.Array(n)
	}
	walk(func(member string, score float64) {
		if nested {
			c.w.Array(2)
		}
		c.w.BulkString(member)
		if withScores {
			c.w.Double(score)
		}
	})
}

// --- ZADD / ZINCRBY ---

func cmdZadd(c *client, tx *store.Tx, argv [][]byte) error { return zaddGeneric(c, tx, argv, 0) }

func cmdZincrby(c *client, tx *store.Tx, argv [][]byte) error {
	return zaddGeneric(c, tx, argv, store.ZAddIncr)
}

// zaddGeneric is zaddGenericCommand, which ZINCRBY shares (options
// included: "ZINCRBY key incr m" reads INCR as an option, as Redis does).
func zaddGeneric(c *client, tx *store.Tx, argv [][]byte, flags int) error {
	ch := false
	i := 2
	for ; i < len(argv); i++ {
		switch a := argv[i]; {
		case equalFold(a, "nx"):
			flags |= store.ZAddNX
		case equalFold(a, "xx"):
			flags |= store.ZAddXX
		case equalFold(a, "ch"):
			ch = true
		case equalFold(a, "incr"):
			flags |= store.ZAddIncr
		case equalFold(a, "gt"):
			flags |= store.ZAddGT
		case equalFold(a, "lt"):
			flags |= store.ZAddLT
		default:
			goto done
		}
	}
done:
	elems := len(argv) - i
	if elems == 0 || elems%2 != 0 {
		return errSyntax
	}
	elems /= 2
	nx, xx := flags&store.ZAddNX != 0, flags&store.ZAddXX != 0
	gt, lt := flags&store.ZAddGT != 0, flags&store.ZAddLT != 0
	incr := flags&store.ZAddIncr != 0
	if nx && xx {
		return errNXAndXX
	}
	if (gt && nx) || (lt && nx) || (gt && lt) {
		return errGTLTNX
	}
	if incr && elems > 1 {
		return errZIncrPair
	}
	scores := make([]float64, elems)
	for j := range scores {
		f, err := parseScore(argv[i+2*j])
		if err != nil {
			return err
		}
		scores[j] = f
	}
	key := argv[1]
	maxEntries, maxValue := zsetLimits(c)
	var create func() store.Container
	if !xx {
		first := int64(len(argv[i+1]))
		create = func() store.Container { return store.NewZSet(maxEntries == 0 || maxValue < first) }
	}
	obj, err := tx.Container(key, store.KindZSet, create)
	if err != nil {
		return err
	}
	added, updated, processed := 0, 0, 0
	score := 0.0
	if obj != nil {
		z := obj.(*store.ZSet)
		for j := 0; j < elems; j++ {
			res, ns := z.Add(argv[i+2*j+1], scores[j], flags, maxEntries, maxValue)
			switch res {
			case store.ZAddNaN:
				if added > 0 {
					tx.MarkReady(key)
				}
				return errZIncrNaN
			case store.ZAddAdded:
				added++
			case store.ZAddUpdated:
				updated++
			}
			if res != store.ZAddNop {
				processed++
			}
			score = ns
		}
		if added > 0 {
			tx.MarkReady(key)
		}
		if added+updated > 0 {
			c.propDirty() // AOF (propagate.go)
		}
	}
	if incr {
		if processed > 0 {
			c.w.Double(score)
		} else {
			c.w.Null()
		}
		return nil
	}
	if ch {
		c.w.Int(int64(added + updated))
	} else {
		c.w.Int(int64(added))
	}
	return nil
}

// parseScore is parseFloat with a shortcut for the common score, a plain
// integer of up to 15 digits (redis-benchmark sends "000000054321"): any
// such value is exactly a float64, the one strtod returns. "-0" takes the
// full path, which keeps its sign.
func parseScore(b []byte) (float64, error) {
	digits := b
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 15 {
		return parseFloat(b)
	}
	var v int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return parseFloat(b)
		}
		v = v*10 + int64(c-'0')
	}
	if len(digits) < len(b) {
		if v == 0 {
			return parseFloat(b)
		}
		v = -v
	}
	return float64(v), nil
}

// --- simple reads and writes ---

func cmdZrem(c *client, tx *store.Tx, argv [][]byte) error {
	z, err := writeZSet(tx, argv[1])
	if err != nil {
		return err
	}
	n := 0
	if z != nil {
		for _, m := range argv[2:] {
			if z.Remove(m) {
				n++
			}
			if z.Len() == 0 {
				break
			}
		}
	}
	c.w.Int(int64(n))
	return nil
}

func cmdZcard(c *client, tx *store.Tx, argv [][]byte) error {
	z, err := readZSet(tx, argv[1])
	if err != nil {
		return err
	}
	if z == nil {
		c.w.Int(0)
		return nil
	}
	c.w.Int(int64(z.Len()))
	return nil
}

func cmdZscore(c *client, tx *store.Tx, argv [][]byte) error {
	z, err := readZSet(tx, argv[1])
	if err != nil {
		return err
	}
	if z == nil {
		c.w.Null()
		return nil
	}
	if s, ok := z.Score(argv[2]); ok {
		c.w.Double(s)
	} else {
		c.w.Null()
	}
	return nil
}

func cmdZmscore(c *client, tx *store.Tx, argv [][]byte) error {
	z, err := readZSet(tx, argv[1])
	if err != nil {
		return err
	}
	c.w.Array(len(argv) - 2)
	for _, m := range argv[2:] {
		if z == nil {
			c.w.Null()
			continue
		}
		if s, ok := z.Score(m); ok {
			c.w.Double(s)
		} else {
			c.w.Null()
		}
	}
	return nil
}

func cmdZrank(c *client, tx *store.Tx, argv [][]byte, reverse bool) error {
	z, err := readZSet(tx, argv[1])
	if err != nil {
		return err
	}
	if z == nil {
		c.w.Null()
		return nil
	}
	if r, ok := z.Rank(argv[2], reverse); ok {
		c.w.Int(int64(r))
	} else {
		c.w.Null()
	}
	return nil
}

func cmdZcount(c *client, tx *store.Tx, argv [][]byte) error {
	r, err := parseScoreRange(argv[2], argv[3])
	if err != nil {
		return err
	}
	z, err := readZSet(tx, argv[1])
	if err != nil {
		return err
	}
	n := 0
	if z != nil {
		lo, hi := z.ScoreRanks(r)
		n = hi - lo
	}
	c.w.Int(int64(n))
	return nil
}

func cmdZlexcount(c *client, tx *store.Tx, argv [][]byte) error {
	r, err := parseLexRange(argv[2], argv[3])
	if err != nil {
		return err
	}
	z, err := readZSet(tx, argv[1])
	if err != nil {
		return err
	}
	n := 0
	if z != nil {
		lo, hi := z.LexRanks(r)
		n = hi - lo
	}
	c.w.Int(int64(n))
	return nil
}

// --- ranges ---

type zrangeType int

const (
	zrangeAuto zrangeType = iota
	zrangeRank
	zrangeScore
	zrangeLex
)

type zrangeDir int

const (
	zdirAuto zrangeDir = iota
	zdirForward
	zdirReverse
)

func cmdZrange(c *client, tx *store.Tx, argv [][]byte) error {
	return zrangeGeneric(c, tx, argv, 1, false, zrangeAuto, zdirAuto)
}

func cmdZrangestore(c *client, tx *store.Tx, argv [][]byte) error {
	return zrangeGeneric(c, tx, argv, 2, true, zrangeAuto, zdirAuto)
}

func cmdZrevrange(c *client, tx *store.Tx, argv [][]byte) error {
	return zrangeGeneric(c, tx, argv, 1, false, zrangeRank, zdirReverse)
}

func cmdZrangebyscore(c *client, tx *store.Tx, argv [][]byte) error {
	return zrangeGeneric(c, tx, argv, 1, false, zrangeScore, zdirForward)
}

func cmdZrevrangebyscore(c *client, tx *store.Tx, argv [][]byte) error {
	return zrangeGeneric(c, tx, argv, 1, false, zrangeScore, zdirReverse)
}

func cmdZrangebylex(c *client, tx *store.Tx, argv [][]byte) error {
	return zrangeGeneric(c, tx, argv, 1, false, zrangeLex, zdirForward)
}

func cmdZrevrangebylex(c *client, tx *store.Tx, argv [][]byte) error {
	return zrangeGeneric(c, tx, argv, 1, false, zrangeLex, zdirReverse)
}

// zrangeGeneric is zrangeGenericCommand: the options, then the checks for
// conflicting ones, then the range, then the key.
func zrangeGeneric(c *client, tx *store.Tx, argv [][]byte, keyIdx int, storeResult bool, typ zrangeType, dir zrangeDir) error {
	minIdx, maxIdx := keyIdx+1, keyIdx+2
	withScores := false
	var offset, limit int64 = 0, -1
	for j := keyIdx + 3; j < len(argv); j++ {
		left := len(argv) - j - 1
		switch a := argv[j]; {
		case !storeResult && equalFold(a, "withscores"):
			withScores = true
		case equalFold(a, "limit") && left >= 2:
			var err error
			if offset, err = parseInt(argv[j+1]); err != nil {
				return err
			}
			if limit, err = parseInt(argv[j+2]); err != nil {
				return err
			}
			j += 2
		case dir == zdirAuto && equalFold(a, "rev"):
			dir = zdirReverse
		case typ == zrangeAuto && equalFold(a, "bylex"):
			typ = zrangeLex
		case typ == zrangeAuto && equalFold(a, "byscore"):
			typ = zrangeScore
		default:
			return errSyntax
		}
	}
	if dir == zdirAuto {
		dir = zdirForward
	}
	if typ == zrangeAuto {
		typ = zrangeRank
	}
	if limit != -1 && typ == zrangeRank {
		return errLimitRankOnly
	}
	if withScores && typ == zrangeLex {
		return errWithscoresBylex
	}
	reverse := dir == zdirReverse
	if reverse && typ != zrangeRank {
		minIdx, maxIdx = maxIdx, minIdx
	}
	var start, end int64
	var sr store.ScoreRange
	var lr store.LexRange
	var err error
	switch typ {
	case zrangeRank:
		if start, err = parseInt(argv[minIdx]); err != nil {
			return err
		}
		if end, err = parseInt(argv[maxIdx]); err != nil {
			return err
		}
	case zrangeScore:
		if sr, err = parseScoreRange(argv[minIdx], argv[maxIdx]); err != nil {
			return err
		}
	case zrangeLex:
		if lr, err = parseLexRange(argv[minIdx], argv[maxIdx]); err != nil {
			return err
		}
	}
	z, err := readZSet(tx, argv[keyIdx])
	if err != nil {
		return err
	}
	// first is the rank (reverse rank when reverse) of the first element,
	// n how many.
	first, n := 0, 0
	if z != nil {
		size := int64(z.Len())
		switch typ {
		case zrangeRank:
			if start < 0 {
				start += size
			}
			if end < 0 {
				end += size
			}
			if start < 0 {
				start = 0
			}
			if start <= end && start < size {
				if end >= size {
					end = size - 1
				}
				first, n = int(start), int(end-start+1)
			}
		default:
			var lo, hi int
			if typ == zrangeScore {
				lo, hi = z.ScoreRanks(sr)
			} else {
				lo, hi = z.LexRanks(lr)
			}
			if offset >= 0 && offset < int64(hi-lo) {
				n = hi - lo - int(offset)
				if limit >= 0 && limit < int64(n) {
					n = int(limit)
				}
				if reverse {
					first = z.Len() - hi + int(offset)
				} else {
					first = lo + int(offset)
				}
			}
		}
	}
	walk := func(emit func(string, float64)) {
		if n > 0 {
			z.Range(first, first+n-1, reverse, func(m string, s float64) bool {
				emit(m, s)
				return true
			})
		}
	}
	if storeResult {
		maxEntries, maxValue := zsetLimits(c)
		dst := store.NewZSet(true)
		walk(func(m string, s float64) { dst.Put(m, s) })
		dst.FitEncoding(maxEntries, maxValue)
		tx.SetContainer(argv[1], store.KindZSet, dst)
		if n > 0 {
			tx.MarkReady(argv[1])
		}
		c.w.Int(int64(n))
		return nil
	}
	writeScoredList(c, n, withScores, walk)
	return nil
}

// --- ZREMRANGEBY* ---

func cmdZremrange(c *client, tx *store.Tx, argv [][]byte, typ zrangeType) error {
	var start, end int64
	var sr store.ScoreRange
	var lr store.LexRange
	var err error
	switch typ {
	case zrangeRank:
		if start, err = parseInt(argv[2]); err != nil {
			return err
		}
		if end, err = parseInt(argv[3]); err != nil {
			return err
		}
	case zrangeScore:
		if sr, err = parseScoreRange(argv[2], argv[3]); err != nil {
			return err
		}
	case zrangeLex:
		if lr, err = parseLexRange(argv[2], argv[3]); err != nil {
			return err
		}
	}
	z, err := writeZSet(tx, argv[1])
	if err != nil {
		return err
	}
	removed := 0
	if z != nil {
		switch typ {
		case zrangeRank:
			size := int64(z.Len())
			if start < 0 {
				start += size
			}
			if end < 0 {
				end += size
			}
			if start < 0 {
				start = 0
			}
			if start <= end && start < size {
				removed = z.RemoveRanks(int(start), int(min(end, size-1)))
			}
		case zrangeScore:
			lo, hi := z.ScoreRanks(sr)
			removed = z.RemoveRanks(lo, hi-1)
		case zrangeLex:
			lo, hi := z.LexRanks(lr)
			removed = z.RemoveRanks(lo, hi-1)
		}
	}
	c.w.Int(int64(removed))
	return nil
}

// --- pops ---

func cmdZpop(c *client, tx *store.Tx, argv [][]byte, max bool) error {
	if len(argv) > 3 {
		return errSyntax
	}
	count := int64(-1)
	if len(argv) == 3 {
		n, err := parseInt(argv[2])
		if err != nil || n < 0 {
			return errCountPositive
		}
		count = n
	}
	z, err := writeZSet(tx, argv[1])
	if err != nil {
		return err
	}
	if z == nil || count == 0 {
		c.w.Array(0)
		return nil
	}
	nested := c.w.Proto() > 2 && count != -1
	if count == -1 {
		count = 1
	}
	n := int(min(count, int64(z.Len())))
	if nested {
		c.w.Array(n)
	} else {
		c.w.Array(2 * n)
	}
	z.Pop(n, max, func(m string, s float64) {
		if nested {
			c.w.Array(2)
		}
		c.w.BulkString(m)
		c.w.Double(s)
	})
	return nil
}

// cmdBzpop is BZPOPMIN/BZPOPMAX: the first non-empty key is popped like
// ZPOPMIN key (reply: key, member, score), else the client blocks.
func cmdBzpop(c *client, tx *store.Tx, argv [][]byte, max bool) error {
	timeout, err := parseTimeout(argv[len(argv)-1])
	if err != nil {
		return err
	}
	keys := argv[1 : len(argv)-1]
	for _, k := range keys {
		z, err := writeZSet(tx, k)
		if err != nil {
			return err
		}
		if z == nil || z.Len() == 0 {
			continue
		}
		c.w.Array(3)
		c.w.Bulk(k)
		z.Pop(1, max, func(m string, s float64) {
			c.w.BulkString(m)
			c.w.Double(s)
		})
		return nil
	}
	return blockOn(keys, timeout)
}

// cmdZmpop is ZMPOP and BZMPOP (numkeys at numIdx, the timeout before it).
func cmdZmpop(c *client, tx *store.Tx, argv [][]byte, numIdx int, block bool) error {
	numkeys, err := parseInt(argv[numIdx])
	if err != nil || numkeys < 1 {
		return errNumkeysPositive
	}
	if numkeys > int64(len(argv)) {
		return errSyntax
	}
	whereIdx := numIdx + int(numkeys) + 1
	if whereIdx >= len(argv) {
		return errSyntax
	}
	var max bool
	switch {
	case equalFold(argv[whereIdx], "min"):
	case equalFold(argv[whereIdx], "max"):
		max = true
	default:
		return errSyntax
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
		z, err := writeZSet(tx, k)
		if err != nil {
			return err
		}
		if z == nil || z.Len() == 0 {
			continue
		}
		n := int(min(count, int64(z.Len())))
		c.w.Array(2)
		c.w.Bulk(k)
		c.w.Array(n)
		z.Pop(n, max, func(m string, s float64) {
			c.w.Array(2)
			c.w.BulkString(m)
			c.w.Double(s)
		})
		return nil
	}
	if block {
		return blockOn(keys, timeout)
	}
	c.w.NullArray()
	return nil
}

// --- ZRANDMEMBER ---

func cmdZrandmember(c *client, tx *store.Tx, argv [][]byte) error {
	if len(argv) == 2 {
		z, err := readZSet(tx, argv[1])
		if err != nil {
			return err
		}
		if z == nil {
			c.w.Null()
			return nil
		}
		m, _ := z.At(rand.IntN(z.Len()))
		c.w.BulkString(m)
		return nil
	}
	l, err := parseInt(argv[2])
	if err != nil {
		return err
	}
	if l == math.MinInt64 {
		return errHrandCountRange
	}
	withScores := false
	if len(argv) > 4 || (len(argv) == 4 && !equalFold(argv[3], "withscores")) {
		return errSyntax
	}
	if len(argv) == 4 {
		withScores = true
		if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
			return errRandCountRange
		}
	}
	z, err := readZSet(tx, argv[1])
	if err != nil {
		return err
	}
	if z == nil || l == 0 {
		c.w.Array(0)
		return nil
	}
	size := z.Len()
	if l < 0 || l == 1 {
		// Any members, repeats allowed, in random order.
		n := int(-l)
		if l == 1 {
			n = 1
		}
		writeScoredList(c, n, withScores, func(emit func(string, float64)) {
			for i := 0; i < n; i++ {
				emit(z.At(rand.IntN(size)))
			}
		})
		return nil
	}
	if l >= int64(size) {
		// The whole set, highest score first: Redis's zset iterator
		// (zuiNext) walks from the tail.
		writeScoredList(c, size, withScores, func(emit func(string, float64)) {
			z.Range(0, size-1, true, func(m string, s float64) bool {
				emit(m, s)
				return true
			})
		})
		return nil
	}
	// Distinct members in random order.
	n := int(l)
	var ranks []int
	if n*3 > size {
		ranks = rand.Perm(size)[:n]
	} else {
		seen := make(map[int]bool, n)
		for len(ranks) < n {
			r := rand.IntN(size)
			if !seen[r] {
				seen[r] = true
				ranks = append(ranks, r)
			}
		}
	}
	writeScoredList(c, n, withScores, func(emit func(string, float64)) {
		for _, r := range ranks {
			emit(z.At(r))
		}
	})
	return nil
}

// --- set operations ---

type zsetOp int

const (
	zopUnion zsetOp = iota
	zopInter
	zopDiff
)

const (
	zaggSum = iota
	zaggMin
	zaggMax
)

// zopSource is one input: a sorted set, a set (every member scores 1) or
// nothing.
type zopSource struct {
	z      *store.ZSet
	s      *store.Set
	weight float64
}

func (s *zopSource) size() int {
	switch {
	case s.z != nil:
		return s.z.Len()
	case s.s != nil:
		return s.s.Len()
	}
	return 0
}

func (s *zopSource) each(fn func(member string, score float64)) {
	switch {
	case s.z != nil:
		s.z.ForEach(fn)
	case s.s != nil:
		s.s.ForEach(func(m []byte) bool {
			fn(string(m), 1)
			return true
		})
	}
}

func (s *zopSource) find(member string) (float64, bool) {
	switch {
	case s.z != nil:
		return s.z.ScoreOf(member)
	case s.s != nil:
		if s.s.Contains([]byte(member)) {
			return 1, true
		}
	}
	return 0, false
}

func zaggregate(target *float64, val float64, agg int) {
	switch agg {
	case zaggSum:
		*target += val
		if math.IsNaN(*target) {
			*target = 0
		}
	case zaggMin:
		if val < *target {
			*target = val
		}
	case zaggMax:
		if val > *target {
			*target = val
		}
	}
}

// zsetOpHandler is zunionInterDiffGenericCommand for one command.
func zsetOpHandler(op zsetOp, storeResult, cardOnly bool) handlerFunc {
	numIdx := 1
	if storeResult {
		numIdx = 2
	}
	return func(c *client, tx *store.Tx, argv [][]byte) error {
		setnum, err := parseInt(argv[numIdx])
		if err != nil {
			return err
		}
		if setnum < 1 {
			return respError("ERR at least 1 input key is needed for '" + strings.ToLower(string(argv[0])) + "' command")
		}
		if setnum > int64(len(argv)-numIdx-1) {
			return errSyntax
		}
		if tx == nil {
			return errSyntax // unreachable: the keys function accepted numkeys
		}
		srcs := make([]zopSource, setnum)
		j := numIdx + 1
		for i := range srcs {
			srcs[i].weight = 1
			k := argv[j]
			j++
			kind := store.KindZSet
			if tx.KindOf(k) == store.KindSet {
				kind = store.KindSet
			}
			obj, err := tx.ReadContainer(k, kind)
			if err != nil {
				return err
			}
			switch o := obj.(type) {
			case *store.ZSet:
				srcs[i].z = o
			case *store.Set:
				srcs[i].s = o
			}
		}
		agg, withScores := zaggSum, false
		var limit int64
		for j < len(argv) {
			remaining := len(argv) - j
			a := argv[j]
			switch {
			case op != zopDiff && !cardOnly && remaining >= int(setnum)+1 && equalFold(a, "weights"):
				j++
				for i := range srcs {
					w, err := parseFloat(argv[j])
					if err != nil {
						return errWeightNotFloat
					}
					srcs[i].weight = w
					j++
				}
			case op != zopDiff && !cardOnly && remaining >= 2 && equalFold(a, "aggregate"):
				switch v := argv[j+1]; {
				case equalFold(v, "sum"):
					agg = zaggSum
				case equalFold(v, "min"):
					agg = zaggMin
				case equalFold(v, "max"):
					agg = zaggMax
				default:
					return errSyntax
				}
				j += 2
			case !storeResult && !cardOnly && equalFold(a, "withscores"):
				withScores = true
				j++
			case cardOnly && remaining >= 2 && equalFold(a, "limit"):
				n, err := parseInt(argv[j+1])
				if err != nil || n < 0 {
					return errLimitNegative
				}
				limit = n
				j += 2
			default:
				return errSyntax
			}
		}
		if op != zopDiff {
			// Smallest first, as Redis sorts the inputs by cardinality.
			sortSourcesBySize(srcs)
		}
		dst := store.NewZSet(true)
		cardinality := int64(0)
		switch op {
		case zopInter:
			if srcs[0].size() > 0 {
				stop := false
				srcs[0].each(func(m string, s float64) {
					if stop {
						return
					}
					score := srcs[0].weight * s
					if math.IsNaN(score) {
						score = 0
					}
					for i := 1; i < len(srcs); i++ {
						v, ok := srcs[i].find(m)
						if !ok {
							return
						}
						zaggregate(&score, v*srcs[i].weight, agg)
					}
					if cardOnly {
						cardinality++
						if limit > 0 && cardinality >= limit {
							stop = true
						}
						return
					}
					dst.Put(m, score)
				})
			}
		case zopUnion:
			acc := make(map[string]float64)
			var order []string
			for i := range srcs {
				srcs[i].each(func(m string, s float64) {
					score := srcs[i].weight * s
					if math.IsNaN(score) {
						score = 0
					}
					if cur, ok := acc[m]; ok {
						zaggregate(&cur, score, agg)
						acc[m] = cur
						return
					}
					acc[m] = score
					order = append(order, m)
				})
			}
			for _, m := range order {
				dst.Put(m, acc[m])
			}
		case zopDiff:
			if srcs[0].size() > 0 {
				srcs[0].each(func(m string, s float64) {
					for i := 1; i < len(srcs); i++ {
						if _, ok := srcs[i].find(m); ok {
							return
						}
					}
					dst.Put(m, s)
				})
			}
		}
		switch {
		case storeResult:
			maxEntries, maxValue := zsetLimits(c)
			dst.FitEncoding(maxEntries, maxValue)
			tx.SetContainer(argv[1], store.KindZSet, dst)
			if dst.Len() > 0 {
				tx.MarkReady(argv[1])
			}
			c.w.Int(int64(dst.Len()))
		case cardOnly:
			c.w.Int(cardinality)
		default:
			writeScoredList(c, dst.Len(), withScores, func(emit func(string, float64)) { dst.ForEach(emit) })
		}
		return nil
	}
}

// sortSourcesBySize orders the inputs by cardinality, stably.
func sortSourcesBySize(srcs []zopSource) {
	for i := 1; i < len(srcs); i++ {
		for k := i; k > 0 && srcs[k].size() < srcs[k-1].size(); k-- {
			srcs[k], srcs[k-1] = srcs[k-1], srcs[k]
		}
	}
}

// --- ZSCAN ---

func cmdZscan(c *client, tx *store.Tx, argv [][]byte) error {
	cursor, ok := parseCursor(argv[2])
	if !ok {
		return errInvalidCursor
	}
	z, err := readZSet(tx, argv[1])
	if err != nil {
		return err
	}
	if z == nil {
		replyEmptyScan(c)
		return nil
	}
	count, match, err := parseScanOptions(argv)
	if err != nil {
		return err
	}
	var out []string
	next := z.Scan(cursor, count, func(m string, s float64) {
		if match != nil && !match(m) {
			return
		}
		var tmp [32]byte
		out = append(out, m, string(appendDouble(tmp[:0], s)))
	})
	c.w.Array(2)
	c.w.BulkString(strconv.FormatUint(next, 10))
	c.w.BulkStrings(out)
	return nil
}

// zsetDigest is xorObjectDigest's sorted-set case: per element, a digest
// of the member then its score as "%.17g", xored into d (order-free).
func zsetDigest(d *digest, z *store.ZSet) {
	var buf [32]byte
	z.ForEach(func(m string, s float64) {
		var ele digest
		ele.mix([]byte(m))
		ele.mix(appendDouble(buf[:0], s))
		d.xor(ele[:])
	})
}
