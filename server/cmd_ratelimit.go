package server

// Rate-limit commands (docs/ratelimit.md): redis-cell's CL.THROTTLE, the
// GCRA command of newer Redis versions, and cachalot's token-bucket RL.*
// family. The algorithms live in package ratelimit; these handlers parse,
// read and write the state key under the dispatcher's lock, and reply.
//
// State is an ordinary string key whose expiry is the moment its bucket is
// full again. Persistence (once cachalot has an AOF) records the effect, not
// the command: an allowed decision is propagated as SET key <state> PXAT
// <expiry-ms>, a bucket that became full as DEL key.

import (
	"strconv"

	"github.com/cachalotdb/cachalot/ratelimit"
	"github.com/cachalotdb/cachalot/store"
)

const rlGroup = "rate_limit"

func rateLimitCommands() []*command {
	return []*command{
		{name: "cl.throttle", arity: -5, flags: flagWrite | flagDenyOOM | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RW ACCESS UPDATE",
			acl: "@rate_limit", group: rlGroup, since: "7.0.0", summary: "Rate limit via GCRA, as the redis-cell module's command", complexity: "O(1)",
			usage: "key max_burst:integer count_per_period:integer period:integer [quantity:integer]", handler: cmdClThrottle},
		{name: "gcra", arity: -5, flags: flagWrite | flagDenyOOM | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RW ACCESS UPDATE",
			acl: "@rate_limit", group: rlGroup, since: "7.0.0", summary: "Rate limit via GCRA (Generic Cell Rate Algorithm).", complexity: "O(1)",
			usage: "key max_burst:integer tokens_per_period:integer period:double [TOKENS count:integer]", handler: cmdGCRA},
		{name: "rl.take", arity: -5, flags: flagWrite | flagDenyOOM | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RW ACCESS UPDATE",
			acl: "@rate_limit", group: rlGroup, since: "7.0.0", summary: "Take tokens from a token bucket, all or none", complexity: "O(1)",
			usage: "key capacity:integer tokens:integer interval_ms:integer [COST cost:integer] [DRYRUN]", handler: cmdRLTake},
		{name: "rl.mtake", arity: -6, flags: flagWrite | flagDenyOOM | flagMovableKeys, keys: rlMTakeKeys, keySpecFlags: "RW ACCESS UPDATE",
			keySpecs: []keySpec{{flags: "RW ACCESS UPDATE", index: 1, keynum: true, keyNumIdx: 0, firstKey: 1, numStep: 4}},
			acl:      "@rate_limit", group: rlGroup, since: "7.0.0", summary: "Take tokens from several token buckets, from all or from none",
			complexity: "O(N) where N is the number of buckets",
			usage:      "numbuckets:integer key capacity:integer tokens:integer interval_ms:integer [key capacity:integer tokens:integer interval_ms:integer ...] [COST cost:integer] [DRYRUN]",
			handler:    cmdRLMTake},
		{name: "rl.inspect", arity: 2, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RO ACCESS",
			acl: "@rate_limit", group: rlGroup, since: "7.0.0", summary: "Describe a token bucket without changing it", complexity: "O(1)",
			usage: "key", handler: cmdRLInspect},
		{name: "rl.refund", arity: 3, flags: flagWrite | flagDenyOOM | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RW ACCESS UPDATE",
			acl: "@rate_limit", group: rlGroup, since: "7.0.0", summary: "Put tokens back into a token bucket, up to its capacity", complexity: "O(1)",
			usage: "key tokens:integer", handler: cmdRLRefund},
		{name: "rl.reset", arity: -2, flags: flagWrite, first: 1, last: -1, step: 1, keySpecFlags: "RW DELETE",
			acl: "@rate_limit", group: rlGroup, since: "7.0.0", summary: "Reset rate limiters to full by deleting their state",
			complexity: "O(N) where N is the number of keys", usage: "key [key ...]", handler: cmdRLReset},
	}
}

// parseCellInt parses an integer as redis-cell does (Rust's i64 parser: an
// optional sign, then decimal digits), with redis-cell's error reply.
func parseCellInt(b []byte) (int64, error) {
	s := string(b)
	digits := s
	if len(digits) > 0 && (digits[0] == '+' || digits[0] == '-') {
		digits = digits[1:]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if digits == "" || digits[0] < '0' || digits[0] > '9' || err != nil {
		return 0, respError(sanitize("Cell error: Store error: Couldn't parse as integer: " + s))
	}
	return n, nil
}

// readTAT reads a GCRA state for a write transaction.
func readTAT(tx *store.Tx, key []byte) (tat int64, has bool, err error) {
	val, ok, err := tx.PeekString(key)
	if err != nil || !ok {
		return 0, false, err
	}
	tat, err = ratelimit.ParseTAT(val)
	if err != nil {
		return 0, false, errRLBadState
	}
	return tat, true, nil
}

// gcraDecide runs one GCRA decision on key and stores the new TAT, expiring
// at the first millisecond at or after it.
func gcraDecide(tx *store.Tx, key []byte, p ratelimit.GCRAParams, quantity int64) (ratelimit.GCRADecision, error) {
	tat, has, err := readTAT(tx, key)
	if err != nil {
		return ratelimit.GCRADecision{}, err
	}
	d, newTAT, save := ratelimit.GCRA(tat, has, tx.NowMs()*1e6, p, quantity)
	if save {
		var buf [20]byte
		tx.SetString(key, ratelimit.AppendTAT(buf[:0], newTAT), store.SetOptions{ExpireAt: newTAT/1e6 + b2i64(newTAT%1e6 != 0)})
	}
	return d, nil
}

func b2i64(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func writeGCRA(c *client, d ratelimit.GCRADecision, round func(int64) int64) {
	c.w.Array(5)
	c.w.Int(b2i64(d.Limited))
	c.w.Int(d.Limit)
	c.w.Int(d.Remaining)
	c.w.Int(round(d.RetryAfter))
	c.w.Int(round(d.ResetAfter))
}

// CL.THROTTLE key max_burst count_per_period period [quantity]
func cmdClThrottle(c *client, tx *store.Tx, argv [][]byte) error {
	if len(argv) > 6 {
		return errCellUsage
	}
	var n [4]int64
	n[3] = 1
	for i := 2; i < len(argv); i++ {
		v, err := parseCellInt(argv[i])
		if err != nil {
			return err
		}
		n[i-2] = v
	}
	burst, count, period, quantity := n[0], n[1], n[2], n[3]
	ei, err := ratelimit.ThrottleEmission(count, period)
	if err != nil {
		return errCellZeroRate
	}
	if burst < 0 {
		return errRLNegBurst
	}
	if quantity < 0 {
		return errRLNegQuantity
	}
	d, err := gcraDecide(tx, argv[1], ratelimit.GCRAParams{MaxBurst: burst, Emission: ei}, quantity)
	if err != nil {
		return err
	}
	c.srv.rlStats.record(rlThrottle, !d.Limited)
	writeGCRA(c, d, ratelimit.CellSeconds)
	return nil
}

// GCRA key max_burst tokens_per_period period [TOKENS count]
func cmdGCRA(c *client, tx *store.Tx, argv [][]byte) error {
	burst, err := parseInt(argv[2])
	if err != nil {
		return err
	}
	count, err := parseInt(argv[3])
	if err != nil {
		return err
	}
	period, err := parseFloat(argv[4])
	if err != nil {
		return err
	}
	quantity := int64(1)
	for i := 5; i < len(argv); i++ {
		if equalFold(argv[i], "tokens") && i+1 < len(argv) {
			if quantity, err = parseInt(argv[i+1]); err != nil {
				return err
			}
			i++
			continue
		}
		return errSyntax
	}
	if burst < 0 {
		return errRLNegBurst
	}
	ei, err := ratelimit.GCRAEmission(count, period)
	if err != nil {
		return errRLRate
	}
	if quantity < 0 {
		return errRLNegQuantity
	}
	d, err := gcraDecide(tx, argv[1], ratelimit.GCRAParams{MaxBurst: burst, Emission: ei}, quantity)
	if err != nil {
		return err
	}
	c.srv.rlStats.record(rlGCRA, !d.Limited)
	writeGCRA(c, d, ratelimit.CeilSeconds)
	return nil
}

// parseBucketParams reads capacity tokens interval_ms.
func parseBucketParams(args [][]byte) (ratelimit.BucketParams, error) {
	var n [3]int64
	for i := range n {
		v, err := parseInt(args[i])
		if err != nil {
			return ratelimit.BucketParams{}, err
		}
		n[i] = v
	}
	p := ratelimit.BucketParams{Capacity: n[0], Tokens: n[1], IntervalMs: n[2]}
	switch p.Validate() {
	case nil:
		return p, nil
	case ratelimit.ErrBucketTooLarge:
		return p, errRLTooLarge
	default:
		return p, errRLParams
	}
}

// parseTakeOptions reads [COST n] [DRYRUN] from args.
func parseTakeOptions(args [][]byte) (cost int64, dry bool, err error) {
	cost = 1
	for i := 0; i < len(args); i++ {
		switch {
		case equalFold(args[i], "cost") && i+1 < len(args):
			if cost, err = parseInt(args[i+1]); err != nil {
				return 0, false, err
			}
			if cost < 0 {
				return 0, false, errRLNegCost
			}
			i++
		case equalFold(args[i], "dryrun"):
			dry = true
		default:
			return 0, false, errSyntax
		}
	}
	return cost, dry, nil
}

// readBucket reads a token bucket's state.
func readBucket(key []byte, read func([]byte) ([]byte, bool, error)) (b ratelimit.Bucket, has bool, err error) {
	val, ok, err := read(key)
	if err != nil || !ok {
		return b, false, err
	}
	b, err = ratelimit.ParseBucket(val)
	if err != nil {
		return b, false, errRLBadState
	}
	return b, true, nil
}

// saveBucket stores b, or deletes the key when the bucket is full (a missing
// key is a full bucket).
func saveBucket(tx *store.Tx, key []byte, b ratelimit.Bucket) {
	if b.Full() {
		tx.Delete(key)
		return
	}
	var buf [64]byte
	tx.SetString(key, ratelimit.AppendBucket(buf[:0], b), store.SetOptions{ExpireAt: b.ExpireAt()})
}

var takeFields = [5]string{"allowed", "limit", "remaining", "retry_after_ms", "reset_after_ms"}

// writeTake replies RL.TAKE's five values: an array in RESP2, a map with
// names in RESP3.
func writeTake(c *client, r ratelimit.TakeResult) {
	vals := [5]int64{b2i64(r.Allowed), r.Limit, r.Remaining, r.RetryAfterMs, r.ResetAfterMs}
	writeNamedInts(c, takeFields[:], vals[:])
}

func writeNamedInts(c *client, names []string, vals []int64) {
	if c.w.Proto() >= 3 {
		c.w.Map(len(vals))
	} else {
		c.w.Array(len(vals))
	}
	for i, v := range vals {
		if c.w.Proto() >= 3 {
			c.w.BulkString(names[i])
		}
		c.w.Int(v)
	}
}

// RL.TAKE key capacity tokens interval_ms [COST n] [DRYRUN]
func cmdRLTake(c *client, tx *store.Tx, argv [][]byte) error {
	p, err := parseBucketParams(argv[2:5])
	if err != nil {
		return err
	}
	cost, dry, err := parseTakeOptions(argv[5:])
	if err != nil {
		return err
	}
	b, has, err := readBucket(argv[1], tx.PeekString)
	if err != nil {
		return err
	}
	r, nb := ratelimit.Take(b, has, tx.NowMs(), p, cost)
	if !dry && (has || !nb.Full()) {
		saveBucket(tx, argv[1], nb)
	}
	c.srv.rlStats.record(rlTake, r.Allowed)
	writeTake(c, r)
	return nil
}

// rlMTakeKeys finds RL.MTAKE's keys: numbuckets groups of four arguments
// after numbuckets, each starting with its key; none when numbuckets is not
// valid (the handler then replies the error).
func rlMTakeKeys(argv [][]byte) []int {
	if len(argv) < 2 {
		return nil
	}
	n, ok := string2ll(argv[1])
	if !ok || n < 1 || n > int64(len(argv)-2)/4 {
		return nil
	}
	keys := make([]int, n)
	for i := range keys {
		keys[i] = 2 + 4*i
	}
	return keys
}

// RL.MTAKE numbuckets key capacity tokens interval_ms [...] [COST n] [DRYRUN]
func cmdRLMTake(c *client, tx *store.Tx, argv [][]byte) error {
	n, err := parseInt(argv[1])
	if err != nil {
		return err
	}
	if n < 1 {
		return errRLNumBuckets
	}
	if n > int64(len(argv)-2)/4 {
		return errRLBucketsCount
	}
	cost, dry, err := parseTakeOptions(argv[2+4*n:])
	if err != nil {
		return err
	}
	bs := make([]ratelimit.Bucket, n)
	has := make([]bool, n)
	ps := make([]ratelimit.BucketParams, n)
	for i := range bs {
		at := 2 + 4*i
		if ps[i], err = parseBucketParams(argv[at+1 : at+4]); err != nil {
			return err
		}
	}
	for i := range bs {
		if bs[i], has[i], err = readBucket(argv[2+4*i], tx.PeekString); err != nil {
			return err
		}
	}
	results, out, refused, retry := ratelimit.TakeAll(bs, has, tx.NowMs(), ps, cost)
	if !dry && refused < 0 {
		for i := range out {
			if has[i] || !out[i].Full() {
				saveBucket(tx, argv[2+4*i], out[i])
			}
		}
	}
	c.srv.rlStats.record(rlMTake, refused < 0)
	resp3 := c.w.Proto() >= 3
	if resp3 {
		c.w.Map(4)
		c.w.BulkString("allowed")
	} else {
		c.w.Array(4)
	}
	c.w.Int(b2i64(refused < 0))
	if resp3 {
		c.w.BulkString("denied_by")
	}
	if refused < 0 {
		c.w.Null()
	} else {
		c.w.Bulk(argv[2+4*refused])
	}
	if resp3 {
		c.w.BulkString("retry_after_ms")
	}
	c.w.Int(retry)
	if resp3 {
		c.w.BulkString("buckets")
	}
	c.w.Array(len(results))
	for _, r := range results {
		writeTake(c, r)
	}
	return nil
}

var inspectFields = [5]string{"limit", "remaining", "tokens", "interval_ms", "reset_after_ms"}

// RL.INSPECT key
func cmdRLInspect(c *client, tx *store.Tx, argv [][]byte) error {
	b, has, err := readBucket(argv[1], tx.GetString)
	if err != nil {
		return err
	}
	if !has {
		c.w.Null()
		return nil
	}
	now := tx.NowMs()
	r := ratelimit.Refill(b, true, now, b.Params).Report(now)
	vals := [5]int64{r.Limit, r.Remaining, b.Params.Tokens, b.Params.IntervalMs, r.ResetAfterMs}
	writeNamedInts(c, inspectFields[:], vals[:])
	return nil
}

// RL.REFUND key tokens
func cmdRLRefund(c *client, tx *store.Tx, argv [][]byte) error {
	n, err := parseInt(argv[2])
	if err != nil {
		return err
	}
	if n < 0 {
		return errRLNegCost
	}
	b, has, err := readBucket(argv[1], tx.PeekString)
	if err != nil {
		return err
	}
	if !has {
		c.w.Null()
		return nil
	}
	nb := ratelimit.Refund(b, tx.NowMs(), n)
	saveBucket(tx, argv[1], nb)
	c.w.Int(nb.Report(tx.NowMs()).Remaining)
	return nil
}

// RL.RESET key [key ...]: every key must be missing or hold a rate limiter
// state (RL.* bucket or CL.THROTTLE/GCRA TAT); nothing is deleted otherwise.
func cmdRLReset(c *client, tx *store.Tx, argv [][]byte) error {
	for _, key := range argv[1:] {
		val, ok, err := tx.PeekString(key)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if _, err := ratelimit.ParseTAT(val); err != nil && !ratelimit.IsBucket(val) {
			return errRLBadState
		}
	}
	var deleted int64
	for _, key := range argv[1:] {
		if tx.Delete(key) {
			deleted++
		}
	}
	c.w.Int(deleted)
	return nil
}
