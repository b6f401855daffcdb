package server

// String commands: https://redis.io/commands/?group=string
//
// The handlers follow Redis 7.0's t_string.c step by step, because the order
// of its checks decides which error a bad request gets (option syntax first,
// then the key's type, then the expire value, and so on).

import (
	"bytes"
	"math"
	"math/big"
	"strconv"

	"github.com/cachalotdb/cachalot/store"
)

const (
	rangeComplexity    = "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings."
	appendComplexity   = "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation."
	setrangeComplexity = "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument."
	lcsComplexity      = "O(N*M) where N and M are the lengths of s1 and s2, respectively"
)

func stringCommands() []*command {
	return []*command{
		{name: "get", arity: 2, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RO ACCESS",
			acl: "@string", group: "string", since: "1.0.0", summary: "Get the value of a key", complexity: "O(1)",
			usage: "key", handler: cmdGet},
		{name: "set", arity: -3, flags: flagWrite | flagDenyOOM, first: 1, last: 1, step: 1, keySpecFlags: "RW ACCESS UPDATE VARIABLE_FLAGS",
			acl: "@string", group: "string", since: "1.0.0", summary: "Set the string value of a key", complexity: "O(1)",
			usage: "key value [NX | XX]@2.6.12 [GET]@6.2.0 expiration=[EX seconds@2.6.12 | PX milliseconds@2.6.12 | " +
				"EXAT unix-time-seconds@6.2.0 | PXAT unix-time-milliseconds@6.2.0 | KEEPTTL@6.0.0]",
			history: [][2]string{
				{"2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."},
				{"6.0.0", "Added the `KEEPTTL` option."},
				{"6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."},
				{"7.0.0", "Allowed the `NX` and `GET` options to be used together."},
			},
			keySpecs: []keySpec{{notes: "RW and ACCESS due to the optional `GET` argument", flags: "RW ACCESS UPDATE VARIABLE_FLAGS", index: 1, keyStep: 1}},
			handler:  cmdSet},
		{name: "setnx", arity: 3, flags: flagWrite | flagDenyOOM | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "OW INSERT",
			acl: "@string", group: "string", since: "1.0.0", summary: "Set the value of a key, only if the key does not exist", complexity: "O(1)",
			usage: "key value", handler: cmdSetnx},
		{name: "setex", arity: 4, flags: flagWrite | flagDenyOOM, first: 1, last: 1, step: 1, keySpecFlags: "OW UPDATE",
			acl: "@string", group: "string", since: "2.0.0", summary: "Set the value and expiration of a key", complexity: "O(1)",
			usage: "key seconds:integer value", handler: cmdSetex},
		{name: "psetex", arity: 4, flags: flagWrite | flagDenyOOM, first: 1, last: 1, step: 1, keySpecFlags: "OW UPDATE",
			acl: "@string", group: "string", since: "2.6.0", summary: "Set the value and expiration in milliseconds of a key", complexity: "O(1)",
			usage: "key milliseconds:integer value", handler: cmdPsetex},
		{name: "getset", arity: 3, flags: flagWrite | flagDenyOOM | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RW ACCESS UPDATE",
			acl: "@string", group: "string", since: "1.0.0", summary: "Set the string value of a key and return its old value", complexity: "O(1)",
			docFlags: "deprecated", deprecatedSince: "6.2.0", replacedBy: "`SET` with the `!GET` argument",
			usage: "key value", handler: cmdGetset},
		{name: "getdel", arity: 2, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RW ACCESS DELETE",
			acl: "@string", group: "string", since: "6.2.0", summary: "Get the value of a key and delete the key", complexity: "O(1)",
			usage: "key", handler: cmdGetdel},
		{name: "getex", arity: -2, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RW ACCESS UPDATE",
			acl: "@string", group: "string", since: "6.2.0", summary: "Get the value of a key and optionally set its expiration", complexity: "O(1)",
			keySpecs: []keySpec{{notes: "RW and UPDATE because it changes the TTL", flags: "RW ACCESS UPDATE", index: 1, keyStep: 1}},
			usage:    "key expiration=[EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST]", handler: cmdGetex},
		{name: "mget", arity: -2, flags: flagReadonly | flagFast, first: 1, last: -1, step: 1, keySpecFlags: "RO ACCESS",
			acl: "@string", group: "string", since: "1.0.0", summary: "Get the values of all the given keys",
			complexity: "O(N) where N is the number of keys to retrieve.", tips: "request_policy:multi_shard",
			usage: "key [key ...]", handler: cmdMget},
		{name: "mset", arity: -3, flags: flagWrite | flagDenyOOM, first: 1, last: -1, step: 2, keySpecFlags: "OW UPDATE",
			acl: "@string", group: "string", since: "1.0.1", summary: "Set multiple keys to multiple values",
			complexity: "O(N) where N is the number of keys to set.", tips: "request_policy:multi_shard response_policy:all_succeeded",
			usage: "key value [key value ...]", handler: cmdMset},
		{name: "msetnx", arity: -3, flags: flagWrite | flagDenyOOM, first: 1, last: -1, step: 2, keySpecFlags: "OW INSERT",
			acl: "@string", group: "string", since: "1.0.1", summary: "Set multiple keys to multiple values, only if none of the keys exist",
			complexity: "O(N) where N is the number of keys to set.", tips: "request_policy:multi_shard response_policy:agg_min",
			usage: "key value [key value ...]", handler: cmdMsetnx},
		{name: "append", arity: 3, flags: flagWrite | flagDenyOOM | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RW INSERT",
			acl: "@string", group: "string", since: "2.0.0", summary: "Append a value to a key",
			complexity: appendComplexity, usage: "key value", handler: cmdAppend},
		{name: "strlen", arity: 2, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RO",
			acl: "@string", group: "string", since: "2.2.0", summary: "Get the length of the value stored in a key", complexity: "O(1)",
			usage: "key", handler: cmdStrlen},
		{name: "getrange", arity: 4, flags: flagReadonly, first: 1, last: 1, step: 1, keySpecFlags: "RO ACCESS",
			acl: "@string", group: "string", since: "2.4.0", summary: "Get a substring of the string stored at a key", complexity: rangeComplexity,
			usage: "key start:integer end:integer", handler: cmdGetrange},
		{name: "substr", arity: 4, flags: flagReadonly, first: 1, last: 1, step: 1, keySpecFlags: "RO ACCESS",
			acl: "@string", group: "string", since: "1.0.0", summary: "Get a substring of the string stored at a key", complexity: rangeComplexity,
			docFlags: "deprecated", deprecatedSince: "2.0.0", replacedBy: "`GETRANGE`",
			usage: "key start:integer end:integer", handler: cmdGetrange},
		{name: "setrange", arity: 4, flags: flagWrite | flagDenyOOM, first: 1, last: 1, step: 1, keySpecFlags: "RW UPDATE",
			acl: "@string", group: "string", since: "2.2.0", summary: "Overwrite part of a string at key starting at the specified offset",
			complexity: setrangeComplexity, usage: "key offset:integer value", handler: cmdSetrange},
		{name: "incr", arity: 2, flags: flagWrite | flagDenyOOM | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RW ACCESS UPDATE",
			acl: "@string", group: "string", since: "1.0.0", summary: "Increment the integer value of a key by one", complexity: "O(1)",
			usage: "key", handler: cmdIncr},
		{name: "incrby", arity: 3, flags: flagWrite | flagDenyOOM | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RW ACCESS UPDATE",
			acl: "@string", group: "string", since: "1.0.0", summary: "Increment the integer value of a key by the given amount", complexity: "O(1)",
			usage: "key increment:integer", handler: cmdIncrby},
		{name: "decr", arity: 2, flags: flagWrite | flagDenyOOM | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RW ACCESS UPDATE",
			acl: "@string", group: "string", since: "1.0.0", summary: "Decrement the integer value of a key by one", complexity: "O(1)",
			usage: "key", handler: cmdDecr},
		{name: "decrby", arity: 3, flags: flagWrite | flagDenyOOM | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RW ACCESS UPDATE",
			acl: "@string", group: "string", since: "1.0.0", summary: "Decrement the integer value of a key by the given number", complexity: "O(1)",
			usage: "key decrement:integer", handler: cmdDecrby},
		{name: "incrbyfloat", arity: 3, flags: flagWrite | flagDenyOOM | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RW ACCESS UPDATE",
			acl: "@string", group: "string", since: "2.6.0", summary: "Increment the float value of a key by the given amount", complexity: "O(1)",
			usage: "key increment:double", handler: cmdIncrbyfloat},
		{name: "lcs", arity: -3, flags: flagReadonly, first: 1, last: 2, step: 1, keySpecFlags: "RO ACCESS",
			acl: "@string", group: "string", since: "7.0.0", summary: "Find longest common substring",
			complexity: lcsComplexity,
			usage:      "key1:key key2:key [LEN] [IDX] [MINMATCHLEN len:integer] [WITHMATCHLEN]", handler: cmdLcs},
	}
}

// cstr is an argument as C code sees it: up to its first NUL byte. Redis
// compares option names with strcasecmp and opt[2] == '\0' tests, so "NX\0…"
// is NX there.
func cstr(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// Expiry kinds of SET, GETEX, SETEX and PSETEX.
const (
	expNone = iota
	expEX
	expPX
	expEXAT
	expPXAT
)

// setOpts are the parsed options of SET (isSet) or GETEX.
type setOpts struct {
	nx, xx, get, keepTTL, persist bool
	expKind                       int
	expire                        []byte // the raw expire argument
}

// parseSetOpts parses opts the way Redis's parseExtendedStringArgumentsOrReply
// does: each option is accepted only when it does not conflict with what came
// before (so "EX 1 EX 2" and "NX NX" are fine, "NX XX" and "EX 1 PX 2" are
// not), SET-only and GETEX-only options are syntax errors in the other
// command, and an expire option without a value is a syntax error.
func parseSetOpts(opts [][]byte, isSet bool) (setOpts, error) {
	var o setOpts
	for j := 0; j < len(opts); j++ {
		opt := cstr(opts[j])
		hasNext := j+1 < len(opts)
		noTTLOpt := !o.keepTTL && !o.persist
		switch {
		case isSet && equalFold(opt, "nx") && !o.xx:
			o.nx = true
		case isSet && equalFold(opt, "xx") && !o.nx:
			o.xx = true
		case isSet && equalFold(opt, "get"):
			o.get = true
		case isSet && equalFold(opt, "keepttl") && !o.persist && o.expKind == expNone:
			o.keepTTL = true
		case !isSet && equalFold(opt, "persist") && o.expKind == expNone && !o.keepTTL:
			o.persist = true
		case equalFold(opt, "ex") && noTTLOpt && hasNext && (o.expKind == expNone || o.expKind == expEX),
			equalFold(opt, "px") && noTTLOpt && hasNext && (o.expKind == expNone || o.expKind == expPX),
			equalFold(opt, "exat") && noTTLOpt && hasNext && (o.expKind == expNone || o.expKind == expEXAT),
			equalFold(opt, "pxat") && noTTLOpt && hasNext && (o.expKind == expNone || o.expKind == expPXAT):
			switch len(opt) {
			case 2:
				o.expKind = expEX
				if opt[0]|0x20 == 'p' {
					o.expKind = expPX
				}
			default:
				o.expKind = expEXAT
				if opt[0]|0x20 == 'p' {
					o.expKind = expPXAT
				}
			}
			j++
			o.expire = opts[j]
		default:
			return o, errSyntax
		}
	}
	return o, nil
}

// expireAtMs turns an expire argument into an absolute Unix time in ms as
// Redis's getExpireMillisecondsOrReply does: not positive, or seconds whose
// conversion to ms overflows, or a relative time whose sum with now
// overflows, is "invalid expire time in '<cmd>' command".
func expireAtMs(raw []byte, kind int, now int64, cmd string) (int64, error) {
	ms, err := parseInt(raw)
	if err != nil {
		return 0, err
	}
	seconds := kind == expEX || kind == expEXAT
	if ms <= 0 || (seconds && ms > math.MaxInt64/1000) {
		return 0, errInvalidExpireIn(cmd)
	}
	if seconds {
		ms *= 1000
	}
	if kind == expEX || kind == expPX {
		ms += now // wraps on overflow, like Redis's long long sum
	}
	if ms <= 0 {
		return 0, errInvalidExpireIn(cmd)
	}
	return ms, nil
}

func cmdGet(c *client, tx *store.Tx, argv [][]byte) error {
	val, ok, err := tx.GetString(argv[1])
	if err != nil {
		return err
	}
	if !ok {
		c.w.Null()
		return nil
	}
	c.w.Bulk(val)
	return nil
}

func cmdSet(c *client, tx *store.Tx, argv [][]byte) error {
	o, err := parseSetOpts(argv[3:], true)
	if err != nil {
		return err
	}
	return setGeneric(c, tx, argv[1], argv[2], o, "set", false)
}

func cmdSetnx(c *client, tx *store.Tx, argv [][]byte) error {
	return setGeneric(c, tx, argv[1], argv[2], setOpts{nx: true}, "setnx", true)
}

func cmdSetex(c *client, tx *store.Tx, argv [][]byte) error {
	return setGeneric(c, tx, argv[1], argv[3], setOpts{expKind: expEX, expire: argv[2]}, "setex", false)
}

func cmdPsetex(c *client, tx *store.Tx, argv [][]byte) error {
	return setGeneric(c, tx, argv[1], argv[3], setOpts{expKind: expPX, expire: argv[2]}, "psetex", false)
}

// setGeneric is Redis's setGenericCommand: validate the expire time, reply
// with the old value for GET (WRONGTYPE stops everything), apply NX/XX, then
// store. intReply selects SETNX's 1/0 instead of OK/null.
func setGeneric(c *client, tx *store.Tx, key, val []byte, o setOpts, cmd string, intReply bool) error {
	var at int64
	if o.expire != nil {
		var err error
		if at, err = expireAtMs(o.expire, o.expKind, tx.NowMs(), cmd); err != nil {
			return err
		}
	}
	if o.get {
		old, ok, err := tx.GetString(key)
		if err != nil {
			return err
		}
		if ok {
			c.w.Bulk(old)
		} else {
			c.w.Null()
		}
	}
	found := tx.Exists(key)
	if (o.nx && found) || (o.xx && !found) {
		switch {
		case o.get:
		case intReply:
			c.w.Int(0)
		default:
			c.w.Null()
		}
		return nil
	}
	tx.SetString(key, val, store.SetOptions{ExpireAt: at, KeepTTL: o.keepTTL, Encoding: store.EncodingAuto})
	switch {
	case o.get:
	case intReply:
		c.w.Int(1)
	default:
		c.w.OK()
	}
	return nil
}

func cmdGetset(c *client, tx *store.Tx, argv [][]byte) error {
	old, ok, err := tx.GetString(argv[1])
	if err != nil {
		return err
	}
	if ok {
		c.w.Bulk(old)
	} else {
		c.w.Null()
	}
	tx.SetString(argv[1], argv[2], store.SetOptions{Encoding: store.EncodingAuto})
	return nil
}

func cmdGetdel(c *client, tx *store.Tx, argv [][]byte) error {
	val, ok, err := tx.GetString(argv[1])
	if err != nil {
		return err
	}
	if !ok {
		c.w.Null()
		return nil
	}
	c.w.Bulk(val)
	tx.Delete(argv[1])
	return nil
}

func cmdGetex(c *client, tx *store.Tx, argv [][]byte) error {
	o, err := parseSetOpts(argv[2:], false)
	if err != nil {
		return err
	}
	val, ok, err := tx.GetString(argv[1])
	if err != nil {
		return err
	}
	if !ok {
		c.w.Null()
		return nil
	}
	var at int64
	if o.expire != nil {
		if at, err = expireAtMs(o.expire, o.expKind, tx.NowMs(), "getex"); err != nil {
			return err
		}
	}
	c.w.Bulk(val)
	switch {
	case o.expire != nil:
		tx.SetExpireAt(argv[1], at) // a time already past deletes the key
	case o.persist:
		tx.Persist(argv[1])
	}
	return nil
}

func cmdMget(c *client, tx *store.Tx, argv [][]byte) error {
	c.w.Array(len(argv) - 1)
	for _, k := range argv[1:] {
		val, ok, err := tx.GetString(k)
		if err != nil || !ok {
			c.w.Null() // MGET answers nil for a key of another type
			continue
		}
		c.w.Bulk(val)
	}
	return nil
}

func cmdMset(c *client, tx *store.Tx, argv [][]byte) error {
	return msetGeneric(c, tx, argv, false)
}

func cmdMsetnx(c *client, tx *store.Tx, argv [][]byte) error {
	return msetGeneric(c, tx, argv, true)
}

func msetGeneric(c *client, tx *store.Tx, argv [][]byte, nx bool) error {
	if len(argv)%2 == 0 {
		if nx {
			return errArity("msetnx")
		}
		return errArity("mset")
	}
	if nx {
		for j := 1; j < len(argv); j += 2 {
			if tx.Exists(argv[j]) {
				c.w.Int(0)
				return nil
			}
		}
	}
	for j := 1; j < len(argv); j += 2 {
		tx.SetString(argv[j], argv[j+1], store.SetOptions{Encoding: store.EncodingAuto})
	}
	if nx {
		c.w.Int(1)
	} else {
		c.w.OK()
	}
	return nil
}

func cmdAppend(c *client, tx *store.Tx, argv [][]byte) error {
	old, ok, err := tx.PeekString(argv[1])
	if err != nil {
		return err
	}
	if ok && int64(len(old))+int64(len(argv[2])) > c.srv.Config().ProtoMaxBulkLen {
		return errStringTooLong
	}
	n, err := tx.AppendString(argv[1], argv[2])
	if err != nil {
		return err
	}
	c.w.Int(int64(n))
	return nil
}

func cmdStrlen(c *client, tx *store.Tx, argv [][]byte) error {
	n, err := tx.StringLen(argv[1])
	if err != nil {
		return err
	}
	c.w.Int(int64(n))
	return nil
}

// cmdGetrange serves GETRANGE and SUBSTR with Redis 7.0's index rules
// (which, unlike 7.2, clamp a negative end to the first byte).
func cmdGetrange(c *client, tx *store.Tx, argv [][]byte) error {
	start, err := parseInt(argv[2])
	if err != nil {
		return err
	}
	end, err := parseInt(argv[3])
	if err != nil {
		return err
	}
	val, ok, err := tx.GetString(argv[1])
	if err != nil {
		return err
	}
	sub := getrange(val, start, end)
	if !ok || sub == nil {
		c.w.Bulk([]byte{})
		return nil
	}
	c.w.Bulk(sub)
	return nil
}

// getrange returns val[start..end] (inclusive, negative counting from the
// end) or nil when the range is empty.
func getrange(val []byte, start, end int64) []byte {
	n := int64(len(val))
	if start < 0 && end < 0 && start > end {
		return nil
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start = max(start, 0)
	end = max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		return nil
	}
	return val[start : end+1]
}

func cmdSetrange(c *client, tx *store.Tx, argv [][]byte) error {
	offset, err := parseInt(argv[2])
	if err != nil {
		return err
	}
	if offset < 0 {
		return errOffsetRange
	}
	val := argv[3]
	old, _, err := tx.PeekString(argv[1])
	if err != nil {
		return err
	}
	if len(val) == 0 {
		// Nothing to write: the length as it is (0 for a missing key,
		// which stays missing), whatever the offset.
		c.w.Int(int64(len(old)))
		return nil
	}
	if offset > c.srv.Config().ProtoMaxBulkLen-int64(len(val)) {
		return errStringTooLong
	}
	n, err := tx.SetRange(argv[1], int(offset), val)
	if err != nil {
		return err
	}
	c.w.Int(int64(n))
	return nil
}

func cmdIncr(c *client, tx *store.Tx, argv [][]byte) error {
	return incrDecr(c, tx, argv[1], 1)
}

func cmdDecr(c *client, tx *store.Tx, argv [][]byte) error {
	return incrDecr(c, tx, argv[1], -1)
}

func cmdIncrby(c *client, tx *store.Tx, argv [][]byte) error {
	incr, err := parseInt(argv[2])
	if err != nil {
		return err
	}
	return incrDecr(c, tx, argv[1], incr)
}

func cmdDecrby(c *client, tx *store.Tx, argv [][]byte) error {
	decr, err := parseInt(argv[2])
	if err != nil {
		return err
	}
	if decr == math.MinInt64 {
		return errDecrOverflow // its negation does not fit
	}
	return incrDecr(c, tx, argv[1], -decr)
}

// incrDecr adds incr to key's integer, keeping its TTL, and stores the result
// int-encoded, as Redis's incrDecrCommand does.
func incrDecr(c *client, tx *store.Tx, key []byte, incr int64) error {
	old, ok, err := tx.PeekString(key)
	if err != nil {
		return err
	}
	var v int64
	if ok {
		if v, err = parseInt(old); err != nil {
			return err
		}
	}
	if (incr < 0 && v < 0 && incr < math.MinInt64-v) || (incr > 0 && v > 0 && incr > math.MaxInt64-v) {
		return errOverflow
	}
	v += incr
	var buf [20]byte
	tx.SetString(key, strconv.AppendInt(buf[:0], v, 10), store.SetOptions{KeepTTL: true, Encoding: store.EncodingInt})
	c.w.Int(v)
	return nil
}

func cmdIncrbyfloat(c *client, tx *store.Tx, argv [][]byte) error {
	old, ok, err := tx.PeekString(argv[1])
	if err != nil {
		return err
	}
	value := newLongDouble()
	if ok {
		if value, ok = parseLongDouble(old); !ok {
			return errNotFloat
		}
	}
	incr, ok := parseLongDouble(argv[2])
	if !ok {
		return errNotFloat
	}
	sum, ok := addLongDouble(value, incr)
	if !ok {
		return errFloatNaNOrInf
	}
	text := formatLongDouble(sum)
	tx.SetString(argv[1], text, store.SetOptions{KeepTTL: true, Encoding: store.EncodingEmbstr})
	c.w.Bulk(text)
	return nil
}

// Redis 7.0 does INCRBYFLOAT in C's long double, which on x86-64 is the x87
// 80-bit extended format: a 64-bit significand, exponents down to 2^-16382
// for normal numbers (subnormals down to 2^-16445) and up to just under
// 2^16384. cachalot emulates it with big.Float values at precision 64 whose
// magnitude is kept inside that range.
const (
	ldPrec        = 64
	ldMaxExp      = 16384  // |x| < 2^16384, i.e. MantExp exponent <= 16384
	ldMinSubExp   = -16445 // the subnormal quantum is 2^-16445
	ldMaxChars    = 5 * 1024
	ldMaxDecExp   = 4933 // 10^4933 overflows (the largest value is ~1.19e4932)
	ldMinDecExp   = -4952
	ldExpSaturate = 1 << 30
)

func newLongDouble() *big.Float {
	return new(big.Float).SetPrec(ldPrec).SetMode(big.ToNearestEven)
}

// parseLongDouble is Redis's string2ld: strtold must consume the whole
// argument (no leading space, no trailing garbage, no NUL), the result must
// not be NaN, and an overflow or an underflow to zero is refused, while
// "inf" and "infinity" are accepted (the addition then fails).
func parseLongDouble(s []byte) (*big.Float, bool) {
	if len(s) == 0 || len(s) >= ldMaxChars || isCSpace(s[0]) {
		return nil, false
	}
	neg := false
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		s = s[1:]
	}
	if equalFold(s, "inf") || equalFold(s, "infinity") {
		return newLongDouble().SetInf(neg), true
	}
	var mant big.Int
	var e2, e10 int64
	var ok bool
	if len(s) > 2 && s[0] == '0' && s[1]|0x20 == 'x' {
		ok = scanHexFloat(s[2:], &mant, &e2)
	} else {
		ok = scanDecFloat(s, &mant, &e10)
	}
	if !ok {
		return nil, false
	}
	return roundLongDouble(&mant, e10, e2, neg)
}

func isCSpace(b byte) bool {
	return b == ' ' || (b >= '\t' && b <= '\r')
}

// scanDecFloat parses digits [. digits] [e [sign] digits] (at least one
// mantissa digit) into mant × 10^e10.
func scanDecFloat(s []byte, mant *big.Int, e10 *int64) bool {
	i, digits, frac := 0, 0, 0
	var ds []byte
	seenDot := false
	for ; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= '0' && ch <= '9':
			digits++
			if seenDot {
				frac++
			}
			if len(ds) > 0 || ch != '0' {
				ds = append(ds, ch) // leading zeros only scale, through frac
			}
			continue
		case ch == '.' && !seenDot:
			seenDot = true
			continue
		}
		break
	}
	if digits == 0 {
		return false
	}
	exp, ok := scanExponent(s[i:], 'e')
	if !ok {
		return false
	}
	if len(ds) == 0 {
		mant.SetInt64(0)
		return true
	}
	mant.SetString(string(ds), 10)
	*e10 = exp - int64(frac)
	return true
}

// scanHexFloat parses hexdigits [. hexdigits] [p [sign] digits] into
// mant × 2^e2.
func scanHexFloat(s []byte, mant *big.Int, e2 *int64) bool {
	i, digits, frac := 0, 0, 0
	var ds []byte
	seenDot := false
	for ; i < len(s); i++ {
		ch := s[i]
		if hexVal(ch) >= 0 {
			digits++
			if seenDot {
				frac++
			}
			ds = append(ds, ch)
			continue
		}
		if ch == '.' && !seenDot {
			seenDot = true
			continue
		}
		break
	}
	if digits == 0 {
		return false
	}
	exp, ok := scanExponent(s[i:], 'p')
	if !ok {
		return false
	}
	mant.SetString(string(ds), 16)
	*e2 = exp - 4*int64(frac)
	return true
}

func hexVal(ch byte) int {
	switch {
	case ch >= '0' && ch <= '9':
		return int(ch - '0')
	case ch|0x20 >= 'a' && ch|0x20 <= 'f':
		return int(ch|0x20-'a') + 10
	}
	return -1
}

// scanExponent parses what follows the mantissa: nothing, or the marker, an
// optional sign and at least one digit, all the way to the end. Huge
// exponents saturate (the value then overflows or underflows anyway).
func scanExponent(s []byte, marker byte) (int64, bool) {
	if len(s) == 0 {
		return 0, true
	}
	if s[0]|0x20 != marker || len(s) < 2 {
		return 0, false
	}
	s = s[1:]
	neg := false
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) == 0 {
		return 0, false
	}
	var e int64
	for _, ch := range s {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		if e < ldExpSaturate {
			e = e*10 + int64(ch-'0')
		}
	}
	if neg {
		e = -e
	}
	return e, true
}

// roundLongDouble rounds mant × 10^e10 × 2^e2 to the nearest long double
// (ties to even), the way glibc's strtold does. ok is false on overflow and
// on a non-zero value that rounds to zero.
func roundLongDouble(mant *big.Int, e10, e2 int64, neg bool) (*big.Float, bool) {
	f := newLongDouble()
	if mant.Sign() == 0 {
		if neg {
			f.Neg(f)
		}
		return f, true
	}
	// Cheap range checks first, so that absurd exponents never reach the
	// exact arithmetic below.
	if e10 != 0 {
		digits := int64(len(mant.String()))
		if digits-1+e10 > ldMaxDecExp {
			return nil, false
		}
		if digits+e10 < ldMinDecExp {
			return nil, false
		}
	} else {
		bits := int64(mant.BitLen())
		if bits+e2 > ldMaxExp+1 {
			return nil, false
		}
		if bits+e2 < ldMinSubExp-1 {
			return nil, false
		}
	}
	num := new(big.Int).Set(mant)
	den := big.NewInt(1)
	ten := big.NewInt(10)
	if e10 > 0 {
		num.Mul(num, new(big.Int).Exp(ten, big.NewInt(e10), nil))
	} else if e10 < 0 {
		den.Exp(ten, big.NewInt(-e10), nil)
	}
	// value = num/den × 2^e2. Find s with q = round(value / 2^s) holding
	// exactly 64 bits, or s at the subnormal floor.
	s := int64(num.BitLen()-den.BitLen()) + e2 - ldPrec
	if s < ldMinSubExp {
		s = ldMinSubExp
	}
	var q big.Int
	for {
		divRoundEven(&q, num, den, e2-s)
		switch {
		case q.BitLen() > ldPrec:
			s++
			continue
		case q.BitLen() < ldPrec && s > ldMinSubExp:
			s--
			continue
		}
		break
	}
	if q.Sign() == 0 {
		return nil, false // underflow to zero: strtold's ERANGE
	}
	if s+int64(q.BitLen()) > ldMaxExp {
		return nil, false // overflow: HUGE_VALL
	}
	f.SetInt(&q)
	f.SetMantExp(f, int(s))
	if neg {
		f.Neg(f)
	}
	return f, true
}

// divRoundEven sets q to num × 2^shift / den rounded to the nearest integer,
// ties to even.
func divRoundEven(q *big.Int, num, den *big.Int, shift int64) {
	n, d := num, den
	if shift > 0 {
		n = new(big.Int).Lsh(num, uint(shift))
	} else if shift < 0 {
		d = new(big.Int).Lsh(den, uint(-shift))
	}
	var r big.Int
	q.QuoRem(n, d, &r)
	r.Lsh(&r, 1)
	switch r.Cmp(d) {
	case 1:
		q.Add(q, big.NewInt(1))
	case 0:
		if q.Bit(0) == 1 {
			q.Add(q, big.NewInt(1))
		}
	}
}

// addLongDouble is a + b in long double; ok is false when the sum is NaN or
// infinite.
func addLongDouble(a, b *big.Float) (*big.Float, bool) {
	if a.IsInf() || b.IsInf() {
		return nil, false
	}
	sum := newLongDouble().Add(a, b)
	// Sums of long doubles that land below the normal range are exact, so
	// only overflow needs checking.
	if sum.Sign() != 0 && sum.MantExp(nil) > ldMaxExp {
		return nil, false
	}
	return sum, true
}

// formatLongDouble is Redis's ld2string in LD_STR_HUMAN mode: "%.17Lf", then
// trailing zeros and a trailing '.' removed, and "-0" written "0".
func formatLongDouble(f *big.Float) []byte {
	b := f.Append(nil, 'f', 17)
	if bytes.IndexByte(b, '.') >= 0 {
		for b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
		if b[len(b)-1] == '.' {
			b = b[:len(b)-1]
		}
	}
	if len(b) == 2 && b[0] == '-' && b[1] == '0' {
		b = b[1:]
	}
	return b
}

func cmdLcs(c *client, tx *store.Tx, argv [][]byte) error {
	a, _, errA := tx.GetString(argv[1])
	b, _, errB := tx.GetString(argv[2])
	if errA != nil || errB != nil {
		return errLCSNotStrings
	}
	var getLen, getIdx, withMatchLen bool
	var minMatchLen int64
	for j := 3; j < len(argv); j++ {
		opt := cstr(argv[j])
		switch {
		case equalFold(opt, "idx"):
			getIdx = true
		case equalFold(opt, "len"):
			getLen = true
		case equalFold(opt, "withmatchlen"):
			withMatchLen = true
		case equalFold(opt, "minmatchlen") && j+1 < len(argv):
			n, err := parseInt(argv[j+1])
			if err != nil {
				return err
			}
			minMatchLen = max(n, 0)
			j++
		default:
			return errSyntax
		}
	}
	if getIdx && getLen {
		return errLCSIdxAndLen
	}
	cells := uint64(len(a)+1) * uint64(len(b)+1)
	if cells*4 > uint64(c.srv.Config().ProtoMaxBulkLen) {
		return errLCSTooBig
	}
	res := lcs(a, b, getIdx || !getLen, minMatchLen)
	switch {
	case getIdx:
		c.w.Map(2)
		c.w.BulkString("matches")
		c.w.Array(len(res.matches))
		for _, m := range res.matches {
			if withMatchLen {
				c.w.Array(3)
			} else {
				c.w.Array(2)
			}
			c.w.Array(2)
			c.w.Int(int64(m.aStart))
			c.w.Int(int64(m.aEnd))
			c.w.Array(2)
			c.w.Int(int64(m.bStart))
			c.w.Int(int64(m.bEnd))
			if withMatchLen {
				c.w.Int(int64(m.aEnd - m.aStart + 1))
			}
		}
		c.w.BulkString("len")
		c.w.Int(int64(res.length))
	case getLen:
		c.w.Int(int64(res.length))
	default:
		c.w.Bulk(res.text)
	}
	return nil
}

// lcsMatch is one run of the common subsequence, as inclusive byte ranges
// of both strings.
type lcsMatch struct {
	aStart, aEnd, bStart, bEnd uint32
}

type lcsResult struct {
	length  uint32
	text    []byte
	matches []lcsMatch
}

// lcs computes the longest common subsequence with Redis's dynamic
// programming table and walks it back from the end the way Redis does, so
// that ties between equally long subsequences resolve identically and the
// ranges come out in the same (reverse) order. walk asks for the string and
// the ranges; ranges shorter than minLen are left out.
func lcs(a, b []byte, walk bool, minLen int64) lcsResult {
	alen, blen := uint32(len(a)), uint32(len(b))
	stride := blen + 1
	table := make([]uint32, uint64(alen+1)*uint64(stride))
	at := func(i, j uint32) uint32 { return table[uint64(i)*uint64(stride)+uint64(j)] }
	for i := uint32(1); i <= alen; i++ {
		for j := uint32(1); j <= blen; j++ {
			v := at(i-1, j-1) + 1
			if a[i-1] != b[j-1] {
				v = max(at(i-1, j), at(i, j-1))
			}
			table[uint64(i)*uint64(stride)+uint64(j)] = v
		}
	}
	res := lcsResult{length: at(alen, blen)}
	if !walk {
		return res
	}
	res.text = make([]byte, res.length)
	idx := res.length
	aStart, aEnd, bStart, bEnd := alen, uint32(0), uint32(0), uint32(0) // aStart == alen: no range open
	i, j := alen, blen
	for i > 0 && j > 0 {
		emit := false
		if a[i-1] == b[j-1] {
			res.text[idx-1] = a[i-1]
			if aStart == alen {
				aStart, aEnd = i-1, i-1
				bStart, bEnd = j-1, j-1
			} else if aStart == i && bStart == j {
				aStart--
				bStart--
			} else {
				emit = true
			}
			if aStart == 0 || bStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if at(i-1, j) > at(i, j-1) {
				i--
			} else {
				j--
			}
			if aStart != alen {
				emit = true
			}
		}
		if emit {
			if n := int64(aEnd - aStart + 1); minLen == 0 || n >= minLen {
				res.matches = append(res.matches, lcsMatch{aStart, aEnd, bStart, bEnd})
			}
			aStart = alen
		}
	}
	return res
}
