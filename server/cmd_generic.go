package server

// Generic (keyspace) commands: https://redis.io/commands/?group=generic
// MEMORY (server group) lives here too for now: its USAGE subcommand is the
// keyspace's view of memory.

import (
	"bytes"
	"math"
	"math/bits"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/store"
)

const (
	multiShardTips = "request_policy:multi_shard response_policy:agg_sum"
	expireHistory  = "Added options: `NX`, `XX`, `GT` and `LT`."
	shardStatsTips = "nondeterministic_output request_policy:all_shards response_policy:special"
)

func genericCommands() []*command {
	expireRow := func(name, since, summary, usage string, h handlerFunc) *command {
		return &command{name: name, arity: -3, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RW UPDATE",
			acl: "@keyspace", group: "generic", since: since, summary: summary, complexity: "O(1)",
			usage: usage, history: [][2]string{{"7.0.0", expireHistory}}, handler: h}
	}
	ttlRow := func(name, since, summary, tips string, history [][2]string, h handlerFunc) *command {
		return &command{name: name, arity: 2, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RO ACCESS",
			acl: "@keyspace", group: "generic", since: since, summary: summary, complexity: "O(1)",
			usage: "key", tips: tips, history: history, handler: h}
	}
	objectSub := func(name, since, summary string, h handlerFunc) *command {
		return &command{name: name, arity: 3, flags: flagReadonly, first: 2, last: 2, step: 1, keySpecFlags: "RO",
			acl: "@keyspace", since: since, summary: summary, complexity: "O(1)", usage: "key",
			tips: "nondeterministic_output", handler: h}
	}
	memorySub := func(name, complexity, tips string, h handlerFunc) *command {
		return &command{name: name, arity: 2, since: "4.0.0", complexity: complexity, tips: tips, handler: h}
	}
	return []*command{
		{name: "del", arity: -2, flags: flagWrite, first: 1, last: -1, step: 1, keySpecFlags: "RM DELETE",
			acl: "@keyspace", group: "generic", since: "1.0.0", summary: "Delete a key",
			complexity: "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
			usage:      "key [key ...]", tips: multiShardTips, handler: cmdDel},
		{name: "unlink", arity: -2, flags: flagWrite | flagFast, first: 1, last: -1, step: 1, keySpecFlags: "RM DELETE",
			acl: "@keyspace", group: "generic", since: "4.0.0", summary: "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
			complexity: "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
			usage:      "key [key ...]", tips: multiShardTips, handler: cmdDel},
		{name: "exists", arity: -2, flags: flagReadonly | flagFast, first: 1, last: -1, step: 1, keySpecFlags: "RO",
			acl: "@keyspace", group: "generic", since: "1.0.0", summary: "Determine if a key exists",
			complexity: "O(N) where N is the number of keys to check.", usage: "key [key ...]", tips: multiShardTips,
			history: [][2]string{{"3.0.3", "Accepts multiple `key` arguments."}}, handler: cmdExists},
		{name: "type", arity: 2, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RO",
			acl: "@keyspace", group: "generic", since: "1.0.0", summary: "Determine the type stored at key",
			complexity: "O(1)", usage: "key", handler: cmdType},
		{name: "rename", arity: 3, flags: flagWrite, first: 1, last: 2, step: 1, keySpecFlags: "RW ACCESS DELETE | OW UPDATE",
			acl: "@keyspace", group: "generic", since: "1.0.0", summary: "Rename a key", complexity: "O(1)",
			usage: "key newkey", handler: cmdRename},
		{name: "renamenx", arity: 3, flags: flagWrite | flagFast, first: 1, last: 2, step: 1, keySpecFlags: "RW ACCESS DELETE | OW INSERT",
			acl: "@keyspace", group: "generic", since: "1.0.0", summary: "Rename a key, only if the new key does not exist", complexity: "O(1)",
			usage: "key newkey", history: [][2]string{{"3.2.0", "The command no longer returns an error when source and destination names are the same."}},
			handler: cmdRename},
		{name: "copy", arity: -3, flags: flagWrite | flagDenyOOM | flagOwnLocks, first: 1, last: 2, step: 1, keySpecFlags: "RO ACCESS | OW UPDATE",
			acl: "@keyspace", group: "generic", since: "6.2.0", summary: "Copy a key",
			complexity: "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
			usage:      "source destination [DB destination-db:integer] [REPLACE]", handler: cmdCopy},
		{name: "move", arity: 3, flags: flagWrite | flagFast | flagOwnLocks, first: 1, last: 1, step: 1, keySpecFlags: "RW ACCESS UPDATE",
			acl: "@keyspace", group: "generic", since: "1.0.0", summary: "Move a key to another database", complexity: "O(1)",
			usage: "key db:integer", handler: cmdMove},
		{name: "keys", arity: 2, flags: flagReadonly | flagOwnLocks, acl: "@keyspace @dangerous", group: "generic", since: "1.0.0",
			summary:    "Find all keys matching the given pattern",
			complexity: "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
			usage:      "pattern:pattern", tips: "request_policy:all_shards nondeterministic_output_order", handler: cmdKeys},
		{name: "scan", arity: -2, flags: flagReadonly | flagOwnLocks, acl: "@keyspace", group: "generic", since: "2.8.0",
			summary:    "Incrementally iterate the keys space",
			complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
			usage:      "cursor:integer [MATCH pattern:pattern] [COUNT count:integer] [TYPE type]@6.0.0",
			tips:       "nondeterministic_output request_policy:special",
			history:    [][2]string{{"6.0.0", "Added the `TYPE` subcommand."}}, handler: cmdScan},
		{name: "randomkey", arity: 1, flags: flagReadonly | flagOwnLocks, acl: "@keyspace", group: "generic", since: "1.0.0",
			summary: "Return a random key from the keyspace", complexity: "O(1)",
			tips: "request_policy:all_shards nondeterministic_output", handler: cmdRandomkey},
		{name: "touch", arity: -2, flags: flagReadonly | flagFast, first: 1, last: -1, step: 1, keySpecFlags: "RO",
			acl: "@keyspace", group: "generic", since: "3.2.1",
			summary:    "Alters the last access time of a key(s). Returns the number of existing keys specified.",
			complexity: "O(N) where N is the number of keys that will be touched.", usage: "key [key ...]", tips: multiShardTips,
			handler: cmdTouch},
		expireRow("expire", "1.0.0", "Set a key's time to live in seconds", "key seconds:integer [NX | XX | GT | LT]@7.0.0", cmdExpire),
		expireRow("pexpire", "2.6.0", "Set a key's time to live in milliseconds", "key milliseconds:integer [NX | XX | GT | LT]@7.0.0", cmdPexpire),
		expireRow("expireat", "1.2.0", "Set the expiration for a key as a UNIX timestamp", "key unix-time-seconds:unix-time [NX | XX | GT | LT]@7.0.0", cmdExpireat),
		expireRow("pexpireat", "2.6.0", "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
			"key unix-time-milliseconds:unix-time [NX | XX | GT | LT]@7.0.0", cmdPexpireat),
		ttlRow("ttl", "1.0.0", "Get the time to live for a key in seconds", "nondeterministic_output",
			[][2]string{{"2.8.0", "Added the -2 reply."}}, cmdTTL),
		ttlRow("pttl", "2.6.0", "Get the time to live for a key in milliseconds", "nondeterministic_output",
			[][2]string{{"2.8.0", "Added the -2 reply."}}, cmdPTTL),
		ttlRow("expiretime", "7.0.0", "Get the expiration Unix timestamp for a key", "", nil, cmdExpiretime),
		ttlRow("pexpiretime", "7.0.0", "Get the expiration Unix timestamp for a key in milliseconds", "", nil, cmdPexpiretime),
		{name: "persist", arity: 2, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RW UPDATE",
			acl: "@keyspace", group: "generic", since: "2.2.0", summary: "Remove the expiration from a key", complexity: "O(1)",
			usage: "key", handler: cmdPersist},
		{name: "object", arity: -2, group: "generic", since: "2.2.3",
			summary: "A container for object introspection commands", complexity: "Depends on subcommand.",
			subs: []*command{
				objectSub("encoding", "2.2.3", "Inspect the internal encoding of a Redis object", cmdObjectEncoding),
				objectSub("freq", "4.0.0", "Get the logarithmic access frequency counter of a Redis object", cmdObjectFreq),
				objectSub("idletime", "2.2.3", "Get the time since a Redis object was last accessed", cmdObjectIdletime),
				objectSub("refcount", "2.2.3", "Get the number of references to the value of the key", cmdObjectRefcount),
				{name: "help", arity: 2, flags: flagLoading | flagStale, acl: "@keyspace", since: "6.2.0",
					summary: "Show helpful text about the different subcommands", complexity: "O(1)", handler: cmdObjectHelp},
			}},
		{name: "memory", arity: -2, group: "server", since: "4.0.0",
			summary: "A container for memory diagnostics commands", complexity: "Depends on subcommand.",
			subs: []*command{
				withSummary(memorySub("doctor", "O(1)", shardStatsTips, cmdMemoryDoctor), "Outputs memory problems report"),
				withSummary(memorySub("malloc-stats", "Depends on how much memory is allocated, could be slow", shardStatsTips, cmdMemoryMallocStats),
					"Show allocator internal stats"),
				withSummary(memorySub("purge", "Depends on how much memory is allocated, could be slow",
					"request_policy:all_shards response_policy:all_succeeded", cmdMemoryPurge), "Ask the allocator to release memory"),
				withSummary(memorySub("stats", "O(1)", shardStatsTips, cmdMemoryStats), "Show memory usage details"),
				{name: "usage", arity: -3, flags: flagReadonly, first: 2, last: 2, step: 1, keySpecFlags: "RO", since: "4.0.0",
					summary: "Estimate the memory usage of a key", complexity: "O(N) where N is the number of samples.",
					usage: "key [SAMPLES count:integer]", handler: cmdMemoryUsage},
				{name: "help", arity: 2, flags: flagLoading | flagStale, since: "4.0.0",
					summary: "Show helpful text about the different subcommands", complexity: "O(1)", handler: cmdMemoryHelp},
			}},
	}
}

func withSummary(c *command, summary string) *command {
	c.summary = summary
	return c
}

func cmdDel(c *client, tx *store.Tx, argv [][]byte) error {
	n := 0
	for _, k := range argv[1:] {
		if tx.Delete(k) {
			n++
		}
	}
	c.w.Int(int64(n))
	return nil
}

// cmdExists counts every argument that names an existing key, so a key
// named twice counts twice.
func cmdExists(c *client, tx *store.Tx, argv [][]byte) error {
	n := 0
	for _, k := range argv[1:] {
		if _, _, ok := tx.Lookup(k); ok {
			n++
		}
	}
	c.w.Int(int64(n))
	return nil
}

func cmdTouch(c *client, tx *store.Tx, argv [][]byte) error {
	n := 0
	for _, k := range argv[1:] {
		if tx.Touch(k) {
			n++
		}
	}
	c.w.Int(int64(n))
	return nil
}

func cmdType(c *client, tx *store.Tx, argv [][]byte) error {
	kind, _, _ := tx.Lookup(argv[1])
	c.w.Simple(kind.String())
	return nil
}

// cmdRename serves RENAME and RENAMENX: renaming a key to itself is a no-op
// (OK, or 0 for RENAMENX) but still needs the key to exist.
func cmdRename(c *client, tx *store.Tx, argv [][]byte) error {
	nx := len(argv[0]) == len("renamenx")
	done, err := tx.Rename(argv[1], argv[2], nx)
	if err != nil {
		return err
	}
	if nx {
		c.w.Int(b2i(done))
		return nil
	}
	c.w.OK()
	return nil
}

// parseDBArg parses a database number as Redis's getIntFromObjectOrReply
// followed by selectDb does.
func parseDBArg(c *client, arg []byte) (*store.DB, error) {
	n, err := parseInt(arg)
	if err != nil {
		return nil, err
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return nil, errIntRange
	}
	db := c.srv.store.DB(int(n))
	if db == nil {
		return nil, errDBIndex
	}
	return db, nil
}

// cmdCopy copies a key, possibly into another database, so it locks both
// keys itself (the destination may live in another database).
func cmdCopy(c *client, _ *store.Tx, argv [][]byte) error {
	dst := c.db
	replace := false
	for j := 3; j < len(argv); j++ {
		switch {
		case equalFold(argv[j], "replace"):
			replace = true
		case equalFold(argv[j], "db") && j+1 < len(argv):
			db, err := parseDBArg(c, argv[j+1])
			if err != nil {
				return err
			}
			dst = db
			j++
		default:
			return errSyntax
		}
	}
	if dst == c.db && bytes.Equal(argv[1], argv[2]) {
		return errSameObject
	}
	refs := []store.KeyRef{{DB: c.db, Key: argv[1]}, {DB: dst, Key: argv[2]}}
	var copied bool
	err := c.db.UpdateRefs(refs, func(tx *store.Tx) error {
		noTouchTx(c, false, tx) // CLIENT NO-TOUCH (eviction.go)
		var err error
		copied, err = tx.CopyTo(dst, argv[1], argv[2], replace)
		if copied {
			c.srv.propagateOwn(c, tx.Epoch(), c.db.Index(), argv) // propagate.go
		}
		return err
	})
	if err != nil {
		return err
	}
	c.w.Int(b2i(copied))
	return nil
}

func cmdMove(c *client, _ *store.Tx, argv [][]byte) error {
	dst, err := parseDBArg(c, argv[2])
	if err != nil {
		return err
	}
	if dst == c.db {
		return errSameObject
	}
	refs := []store.KeyRef{{DB: c.db, Key: argv[1]}, {DB: dst, Key: argv[1]}}
	var moved bool
	c.db.UpdateRefs(refs, func(tx *store.Tx) error {
		moved = tx.MoveTo(dst, argv[1])
		if moved {
			c.srv.propagateOwn(c, tx.Epoch(), c.db.Index(), argv) // propagate.go
		}
		return nil
	})
	c.w.Int(b2i(moved))
	return nil
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// keyMatcher returns the filter KEYS and SCAN MATCH apply, nil for "*".
// config.Glob follows Redis's stringmatchlen except on an empty key, which
// stringmatchlen matches only with an empty pattern (Redis's own special
// case for a lone "*" lets KEYS * and SCAN MATCH * return it).
func keyMatcher(pattern []byte) func(key string) bool {
	if len(pattern) == 1 && pattern[0] == '*' {
		return nil
	}
	pat := string(pattern)
	return func(key string) bool {
		if key == "" {
			return pat == ""
		}
		return config.Glob(pat, key, false)
	}
}

// cmdKeys walks the whole database, one shard lock at a time.
func cmdKeys(c *client, _ *store.Tx, argv [][]byte) error {
	match := keyMatcher(argv[1])
	var keys []string
	c.db.Keys(func(key string, _ store.Kind) {
		if match == nil || match(key) {
			keys = append(keys, key)
		}
	})
	c.w.BulkStrings(keys)
	return nil
}

// parseCursor reads a SCAN cursor as Redis 7.0's parseScanCursorOrReply
// does with strtoul: no leading space, an optional sign (a negative value
// wraps around), decimal digits up to 2^64-1, nothing after them. The C
// string ends at the first NUL byte; an empty cursor is 0.
func parseCursor(b []byte) (uint64, bool) {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if len(b) == 0 {
		return 0, true
	}
	if cIsSpace(b[0]) {
		return 0, false
	}
	i, neg := 0, false
	if b[0] == '+' || b[0] == '-' {
		neg = b[0] == '-'
		i++
	}
	if i == len(b) {
		return 0, false // a lone sign: strtoul converts nothing
	}
	var v uint64
	for ; i < len(b); i++ {
		ch := b[i]
		if ch < '0' || ch > '9' {
			return 0, false
		}
		hi, lo := bits.Mul64(v, 10)
		lo, carry := bits.Add64(lo, uint64(ch-'0'), 0)
		if hi != 0 || carry != 0 {
			return 0, false // ERANGE
		}
		v = lo
	}
	if neg {
		v = -v
	}
	return v, true
}

// replyEmptyScan is the reply of HSCAN, SSCAN and ZSCAN on a missing key:
// cursor 0 and no elements.
func replyEmptyScan(c *client) {
	c.w.Array(2)
	c.w.BulkString("0")
	c.w.Array(0)
}

// parseScanOptions reads the MATCH and COUNT options of HSCAN, SSCAN and
// ZSCAN from argv[3:] as Redis's scanGenericCommand does (option names
// compared as C strings, COUNT at least 1, capped at INT_MAX).
func parseScanOptions(argv [][]byte) (count int, match func(string) bool, err error) {
	n64 := int64(10)
	for i := 3; i < len(argv); i += 2 {
		more := len(argv) - i
		opt := cstr(argv[i])
		switch {
		case equalFold(opt, "count") && more >= 2:
			n, err := parseInt(argv[i+1])
			if err != nil {
				return 0, nil, err
			}
			if n < 1 {
				return 0, nil, errSyntax
			}
			n64 = n
		case equalFold(opt, "match") && more >= 2:
			match = keyMatcher(argv[i+1])
		default:
			return 0, nil, errSyntax
		}
	}
	if n64 > math.MaxInt32 {
		n64 = math.MaxInt32
	}
	return int(n64), match, nil
}

func cIsSpace(ch byte) bool {
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' || ch == '\f' || ch == '\r'
}

// cmdScan parses the cursor, then the options in Redis's order, then walks
// the database from the cursor (store.DB.Scan keeps the guarantee that a
// key present for the whole iteration is returned at least once).
func cmdScan(c *client, _ *store.Tx, argv [][]byte) error {
	cursor, ok := parseCursor(argv[1])
	if !ok {
		return errInvalidCursor
	}
	count := int64(10)
	var match func(string) bool
	var typeName []byte
	for i := 2; i < len(argv); {
		more := len(argv) - i
		switch {
		case equalFold(argv[i], "count") && more >= 2:
			n, err := parseInt(argv[i+1])
			if err != nil {
				return err
			}
			if n < 1 {
				return errSyntax
			}
			count = n
		case equalFold(argv[i], "match") && more >= 2:
			match = keyMatcher(argv[i+1])
		case equalFold(argv[i], "type") && more >= 2:
			typeName = argv[i+1]
		default:
			return errSyntax
		}
		i += 2
	}
	if count > math.MaxInt32 {
		count = math.MaxInt32
	}
	var keys []string
	next := c.db.Scan(cursor, int(count), func(key string, kind store.Kind) {
		if match != nil && !match(key) {
			return
		}
		if typeName != nil && !strings.EqualFold(string(typeName), kind.String()) {
			return
		}
		keys = append(keys, key)
	})
	c.w.Array(2)
	c.w.BulkString(strconv.FormatUint(next, 10))
	c.w.BulkStrings(keys)
	return nil
}

func cmdRandomkey(c *client, _ *store.Tx, _ [][]byte) error {
	key, ok := c.db.RandomKey()
	if !ok {
		c.w.Null()
		return nil
	}
	c.w.BulkString(key)
	return nil
}

// Expiry option flags (Redis's EXPIRE_NX…).
const (
	expireNX = 1 << iota
	expireXX
	expireGT
	expireLT
)

// parseExpireFlags reads EXPIRE's trailing options as Redis's
// parseExtendedExpireArgumentsOrReply does, before the time argument.
func parseExpireFlags(opts [][]byte) (int, error) {
	flags := 0
	for _, o := range opts {
		switch {
		case equalFold(o, "nx"):
			flags |= expireNX
		case equalFold(o, "xx"):
			flags |= expireXX
		case equalFold(o, "gt"):
			flags |= expireGT
		case equalFold(o, "lt"):
			flags |= expireLT
		default:
			return 0, respError(sanitize("ERR Unsupported option " + cString(o)))
		}
	}
	if flags&expireNX != 0 && flags&(expireXX|expireGT|expireLT) != 0 {
		return 0, errExpireNXCompat
	}
	if flags&expireGT != 0 && flags&expireLT != 0 {
		return 0, errExpireGTLT
	}
	return flags, nil
}

// cString is what C's %s prints of an argument: up to its first NUL byte.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

func cmdExpire(c *client, tx *store.Tx, argv [][]byte) error {
	return expireGeneric(c, tx, argv, tx.NowMs(), true)
}

func cmdPexpire(c *client, tx *store.Tx, argv [][]byte) error {
	return expireGeneric(c, tx, argv, tx.NowMs(), false)
}

func cmdExpireat(c *client, tx *store.Tx, argv [][]byte) error {
	return expireGeneric(c, tx, argv, 0, true)
}

func cmdPexpireat(c *client, tx *store.Tx, argv [][]byte) error {
	return expireGeneric(c, tx, argv, 0, false)
}

// expireGeneric is Redis's expireGenericCommand: options first, then the
// time (seconds are scaled to ms and basetime added, each checked for
// overflow), then the key and the NX/XX/GT/LT conditions, where a key
// without a TTL counts as an infinite one. A time not in the future
// deletes the key.
func expireGeneric(c *client, tx *store.Tx, argv [][]byte, base int64, seconds bool) error {
	flags, err := parseExpireFlags(argv[3:])
	if err != nil {
		return err
	}
	when, err := parseInt(argv[2])
	if err != nil {
		return err
	}
	name := strings.ToLower(string(argv[0]))
	if seconds {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			return errInvalidExpireIn(name)
		}
		when *= 1000
	}
	if when > math.MaxInt64-base {
		return errInvalidExpireIn(name)
	}
	when += base
	cur, exists := tx.ExpireAt(argv[1])
	if !exists {
		c.w.Int(0)
		return nil
	}
	if flags != 0 {
		current := int64(-1) // no TTL: infinite
		if cur != 0 {
			current = cur
		}
		switch {
		case flags&expireNX != 0 && current != -1,
			flags&expireXX != 0 && current == -1,
			flags&expireGT != 0 && (current == -1 || when <= current),
			flags&expireLT != 0 && current != -1 && when >= current:
			c.w.Int(0)
			return nil
		}
	}
	tx.SetExpireAt(argv[1], when)
	c.w.Int(1)
	return nil
}

func cmdTTL(c *client, tx *store.Tx, argv [][]byte) error {
	return ttlGeneric(c, tx, argv, false, false)
}

func cmdPTTL(c *client, tx *store.Tx, argv [][]byte) error {
	return ttlGeneric(c, tx, argv, true, false)
}

func cmdExpiretime(c *client, tx *store.Tx, argv [][]byte) error {
	return ttlGeneric(c, tx, argv, false, true)
}

func cmdPexpiretime(c *client, tx *store.Tx, argv [][]byte) error {
	return ttlGeneric(c, tx, argv, true, true)
}

// ttlGeneric is Redis's ttlGenericCommand: -2 for a missing key, -1 for one
// without a TTL, otherwise the remaining (or absolute) time, never below 0,
// rounded to the nearest second for the second-based variants.
func ttlGeneric(c *client, tx *store.Tx, argv [][]byte, ms, abs bool) error {
	_, at, ok := tx.Lookup(argv[1])
	switch {
	case !ok:
		c.w.Int(-2)
		return nil
	case at == 0:
		c.w.Int(-1)
		return nil
	}
	t := at
	if !abs {
		t = at - tx.NowMs()
	}
	if t < 0 {
		t = 0
	}
	if !ms {
		t = (t + 500) / 1000
	}
	c.w.Int(t)
	return nil
}

func cmdPersist(c *client, tx *store.Tx, argv [][]byte) error {
	c.w.Int(b2i(tx.Persist(argv[1])))
	return nil
}

// objectLookup is Redis's objectCommandLookupOrReply: it counts a keyspace
// hit or miss and replies null for a missing key.
func objectLookup(c *client, tx *store.Tx, key []byte) (store.ObjectInfo, bool) {
	if _, _, ok := tx.LookupNoNotify(key); !ok {
		c.w.Null()
		return store.ObjectInfo{}, false
	}
	info, ok := tx.Object(key)
	if !ok {
		c.w.Null()
	}
	return info, ok
}

func cmdObjectEncoding(c *client, tx *store.Tx, argv [][]byte) error {
	if info, ok := objectLookup(c, tx, argv[2]); ok {
		c.w.BulkString(info.Encoding)
	}
	return nil
}

// sharedIntegers is Redis's OBJ_SHARED_INTEGERS: values 0..9999 stored as
// integers point at one shared object, whose refcount is INT_MAX.
const (
	sharedIntegers  = 10000
	sharedRefcount  = math.MaxInt32
	lfuInitVal      = 5 // Redis's LFU_INIT_VAL
	lfuEvictionFlag = "lfu"
)

// cmdObjectRefcount reports 1 for ordinary values and INT_MAX for the small
// integers Redis shares (unless maxmemory with an LRU/LFU policy turns
// sharing off). The sharing decision is made from the current
// configuration, where Redis makes it when the value is written, and a
// COPY of a shared integer (refcount 1 in Redis) still reads as shared.
func cmdObjectRefcount(c *client, tx *store.Tx, argv [][]byte) error {
	info, ok := objectLookup(c, tx, argv[2])
	if !ok {
		return nil
	}
	if info.Encoding == "int" && sharingAllowed(c.srv.Config()) {
		if n, ok := string2ll(info.Value); ok && n >= 0 && n < sharedIntegers {
			c.w.Int(sharedRefcount)
			return nil
		}
	}
	c.w.Int(1)
	return nil
}

// sharingAllowed mirrors MAXMEMORY_FLAG_NO_SHARED_INTEGERS: with a memory
// limit and an LRU or LFU policy every value needs its own access clock.
func sharingAllowed(cfg *config.Config) bool {
	p := cfg.MaxmemoryPolicy
	return cfg.Maxmemory == 0 || !(strings.HasSuffix(p, "-lru") || strings.HasSuffix(p, "-lfu"))
}

func lfuPolicy(cfg *config.Config) bool {
	return strings.HasSuffix(cfg.MaxmemoryPolicy, "-"+lfuEvictionFlag)
}

// cmdObjectFreq needs an LFU policy; it reports the key's logarithmic
// counter after decay, as Redis's LFUDecrAndReturn, without updating it.
func cmdObjectFreq(c *client, tx *store.Tx, argv [][]byte) error {
	info, ok := objectLookup(c, tx, argv[2])
	if !ok {
		return nil
	}
	if !lfuPolicy(c.srv.Config()) {
		return errLFUNotSelected
	}
	c.w.Int(int64(info.Freq))
	return nil
}

func cmdObjectIdletime(c *client, tx *store.Tx, argv [][]byte) error {
	info, ok := objectLookup(c, tx, argv[2])
	if !ok {
		return nil
	}
	if lfuPolicy(c.srv.Config()) {
		return errLFUSelected
	}
	c.w.Int(info.IdleSeconds)
	return nil
}

var objectHelp = []string{
	"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"ENCODING <key>",
	"    Return the kind of internal representation used in order to store the value",
	"    associated with a <key>.",
	"FREQ <key>",
	"    Return the access frequency index of the <key>. The returned integer is",
	"    proportional to the logarithm of the recent access frequency of the key.",
	"IDLETIME <key>",
	"    Return the idle time of the <key>, that is the approximated number of",
	"    seconds elapsed since the last access to the key.",
	"REFCOUNT <key>",
	"    Return the number of references of the value associated with the specified",
	"    <key>.",
	"HELP",
	"    Prints this help.",
}

var memoryHelp = []string{
	"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"DOCTOR",
	"    Return memory problems reports.",
	"MALLOC-STATS",
	"    Return internal statistics report from the memory allocator.",
	"PURGE",
	"    Attempt to purge dirty pages for reclamation by the allocator.",
	"STATS",
	"    Return information about the memory usage of the server.",
	"USAGE <key> [SAMPLES <count>]",
	"    Return memory in bytes used by <key> and its value. Nested values are",
	"    sampled up to <count> times (default: 5, 0 means sample all).",
	"HELP",
	"    Prints this help.",
}

// writeHelp writes a HELP reply: one status line per entry, as Redis's
// addReplyHelp.
func writeHelp(w *Writer, lines []string) {
	w.Array(len(lines))
	for _, l := range lines {
		w.Simple(l)
	}
}

func cmdObjectHelp(c *client, _ *store.Tx, _ [][]byte) error {
	writeHelp(&c.w, objectHelp)
	return nil
}

func cmdMemoryHelp(c *client, _ *store.Tx, _ [][]byte) error {
	writeHelp(&c.w, memoryHelp)
	return nil
}

// cmdMemoryUsage estimates what Redis 7.0 (jemalloc, 64-bit) would report
// for a string key: the key's sds, the dict entry and the value object
// (shared integer, embstr or robj + sds), each rounded up to a jemalloc size
// class. Raw strings use the value's reserved capacity, so figures after
// APPEND can differ from Redis's sds growth. SAMPLES is validated and, with
// only strings to measure, unused. An expired key not yet reclaimed reads as
// missing.
func cmdMemoryUsage(c *client, tx *store.Tx, argv [][]byte) error {
	for j := 3; j < len(argv); j++ {
		if !equalFold(argv[j], "samples") || j+1 >= len(argv) {
			return errSyntax
		}
		n, err := parseInt(argv[j+1])
		if err != nil {
			return err
		}
		if n < 0 {
			return errSyntax
		}
		j++
	}
	info, ok := tx.Object(argv[2])
	if !ok {
		c.w.Null()
		return nil
	}
	c.w.Int(memoryUsage(len(argv[2]), info))
	return nil
}

const (
	robjSize      = 16 // sizeof(robj)
	dictEntrySize = 24 // sizeof(dictEntry)
)

func memoryUsage(keyLen int, info store.ObjectInfo) int64 {
	n := jemallocSize(sdsHeader(keyLen)+keyLen+1) + dictEntrySize
	switch info.Encoding {
	case "int":
		n += robjSize
	case "embstr":
		n += jemallocSize(robjSize + 3 + len(info.Value) + 1)
	default:
		room := max(info.ValueCap, len(info.Value))
		n += robjSize + jemallocSize(max(sdsHeader(room), 3)+room+1)
	}
	return int64(n)
}

// sdsHeader is the header size sdsnewlen picks for a string of n bytes.
func sdsHeader(n int) int {
	switch {
	case n < 1<<5:
		return 1
	case n < 1<<8:
		return 3
	case n < 1<<16:
		return 5
	case uint64(n) < 1<<32:
		return 9
	}
	return 17
}

// jemallocSize rounds n up to jemalloc's size class: 8, multiples of 16 up
// to 128, then four classes per doubling.
func jemallocSize(n int) int {
	if n <= 8 {
		return 8
	}
	if n <= 128 {
		return (n + 15) &^ 15
	}
	k := bits.Len(uint(n-1)) - 1 // 2^k < n <= 2^(k+1)
	step := 1 << (k - 2)
	return (n + step - 1) &^ (step - 1)
}

const (
	doctorEmpty   = "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
	doctorNoIssue = "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
)

// cmdMemoryDoctor gives Redis's verdict for an empty instance (under 5 MB
// of data) and its all-clear otherwise: the fragmentation, peak and
// client-buffer checks Redis runs have no counterpart here.
func cmdMemoryDoctor(c *client, _ *store.Tx, _ [][]byte) error {
	text := doctorNoIssue
	if c.srv.store.UsedBytes() < 5<<20 {
		text = doctorEmpty
	}
	c.w.Verbatim("txt", text)
	return nil
}

// cmdMemoryMallocStats replies as Redis built without jemalloc does: Go's
// allocator has no such report.
func cmdMemoryMallocStats(c *client, _ *store.Tx, _ [][]byte) error {
	c.w.Simple("Stats not supported for the current allocator")
	return nil
}

// cmdMemoryPurge returns freed memory to the operating system.
func cmdMemoryPurge(c *client, _ *store.Tx, _ [][]byte) error {
	debug.FreeOSMemory()
	c.w.OK()
	return nil
}

// cmdMemoryStats reports Redis's MEMORY STATS fields from Go's runtime
// statistics and the store's accounting. Figures with no counterpart here
// (replication backlog, AOF buffer, Lua caches, cluster links) are 0; the
// peak is the largest heap the runtime has seen in this call's statistics.
func cmdMemoryStats(c *client, _ *store.Tx, _ [][]byte) error {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st := c.srv.store
	allocated := int64(ms.HeapAlloc + ms.StackInuse)
	dataset := st.UsedBytes()
	keys, overhead := int64(0), int64(0)
	type dbInfo struct {
		index         int
		main, expires int64
	}
	var dbs []dbInfo
	for i := 0; i < st.Databases(); i++ {
		db := st.DB(i)
		n := int64(db.Len())
		if n == 0 {
			continue
		}
		e := int64(db.ExpiresLen())
		d := dbInfo{i, n * dictEntrySize, e * dictEntrySize}
		dbs = append(dbs, d)
		keys += n
		overhead += d.main + d.expires
	}
	peak := max(allocated, int64(ms.HeapSys))
	ratio := func(a, b int64) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	c.w.Map(27 + len(dbs))
	intField := func(name string, v int64) {
		c.w.BulkString(name)
		c.w.Int(v)
	}
	dblField := func(name string, v float64) {
		c.w.BulkString(name)
		c.w.Double(v)
	}
	intField("peak.allocated", peak)
	intField("total.allocated", allocated)
	intField("startup.allocated", 0)
	intField("replication.backlog", 0)
	intField("clients.slaves", 0)
	intField("clients.normal", 0)
	intField("cluster.links", 0)
	intField("aof.buffer", 0)
	intField("lua.caches", 0)
	intField("functions.caches", 0)
	for _, d := range dbs {
		c.w.BulkString("db." + strconv.Itoa(d.index))
		c.w.Map(3)
		intField("overhead.hashtable.main", d.main)
		intField("overhead.hashtable.expires", d.expires)
		intField("overhead.hashtable.slot-to-keys", 0)
	}
	intField("overhead.total", overhead)
	intField("keys.count", keys)
	perKey := int64(0)
	if keys > 0 {
		perKey = (allocated - overhead) / keys
	}
	intField("keys.bytes-per-key", perKey)
	intField("dataset.bytes", dataset)
	dblField("dataset.percentage", 100*ratio(dataset, allocated))
	dblField("peak.percentage", 100*ratio(allocated, peak))
	active, resident := int64(ms.HeapInuse), int64(ms.HeapSys-ms.HeapReleased)
	intField("allocator.allocated", int64(ms.HeapAlloc))
	intField("allocator.active", active)
	intField("allocator.resident", resident)
	dblField("allocator-fragmentation.ratio", ratio(active, int64(ms.HeapAlloc)))
	intField("allocator-fragmentation.bytes", active-int64(ms.HeapAlloc))
	dblField("allocator-rss.ratio", ratio(resident, active))
	intField("allocator-rss.bytes", resident-active)
	rss := int64(ms.Sys - ms.HeapReleased)
	dblField("rss-overhead.ratio", ratio(rss, resident))
	intField("rss-overhead.bytes", rss-resident)
	dblField("fragmentation", ratio(rss, allocated))
	intField("fragmentation.bytes", rss-allocated)
	return nil
}
