package server

// HyperLogLog commands: https://redis.io/commands/?group=hyperloglog
//
// The values are strings in Redis's HLL format (hyperloglog.go); the
// handlers follow Redis 7.0's pfaddCommand, pfcountCommand, pfmergeCommand
// and pfdebugCommand, including the order of their checks.

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/cachalotdb/cachalot/store"
)

func hyperloglogCommands() []*command {
	return []*command{
		{name: "pfadd", arity: -2, flags: flagWrite | flagDenyOOM | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RW INSERT",
			acl: "@hyperloglog", group: "hyperloglog", since: "2.8.9", summary: "Adds the specified elements to the specified HyperLogLog.",
			complexity: "O(1) to add every element.", usage: "key [element [element ...]]", handler: cmdPfadd},
		// PFCOUNT is read-only to Redis but rewrites a single key's cached
		// cardinality, so it takes its own write locks.
		{name: "pfcount", arity: -2, flags: flagReadonly | flagOwnLocks, first: 1, last: -1, step: 1, keySpecFlags: "RW ACCESS",
			acl: "@hyperloglog", group: "hyperloglog", since: "2.8.9",
			summary:    "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
			complexity: "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.",
			usage:      "key [key ...]", handler: cmdPfcount},
		{name: "pfmerge", arity: -2, flags: flagWrite | flagDenyOOM, first: 1, last: -1, step: 1, keySpecFlags: "RW ACCESS INSERT | RO ACCESS",
			acl: "@hyperloglog", group: "hyperloglog", since: "2.8.9", summary: "Merge N different HyperLogLogs into a single one.",
			complexity: "O(N) to merge N HyperLogLogs, but with high constant times.",
			usage:      "destkey sourcekey [sourcekey ...]", handler: cmdPfmerge},
		{name: "pfselftest", arity: 1, flags: flagAdmin, acl: "@hyperloglog", group: "hyperloglog", since: "2.8.9",
			summary: "An internal command for testing HyperLogLog values", complexity: "N/A", docFlags: "syscmd",
			handler: cmdPfselftest},
		{name: "pfdebug", arity: 3, flags: flagWrite | flagDenyOOM | flagAdmin, first: 2, last: 2, step: 1, keySpecFlags: "RW ACCESS",
			acl: "@hyperloglog", group: "hyperloglog", since: "2.8.9", summary: "Internal commands for debugging HyperLogLog values",
			complexity: "N/A", docFlags: "syscmd", usage: "subcommand key", handler: cmdPfdebug},
	}
}

// hllValue reads key's value as an HLL: ok is false for a missing key; a
// value that is not a string, or not a valid HLL string, is an error.
func hllValue(val []byte, ok bool, err error) ([]byte, bool, error) {
	if err != nil || !ok {
		return nil, false, err
	}
	if !hllIsValid(val) {
		return nil, false, errHLLWrongType
	}
	return val, true, nil
}

// hllSparseMax is the current hll-sparse-max-bytes: a sparse HLL that
// would grow past it is promoted to dense.
func hllSparseMax(c *client) int {
	return int(min(c.srv.Config().HllSparseMaxBytes, math.MaxInt))
}

func cmdPfadd(c *client, tx *store.Tx, argv [][]byte) error {
	key := argv[1]
	sparseMax := hllSparseMax(c)
	old, exists, err := hllValue(tx.PeekString(key))
	if err != nil {
		return err
	}
	updated := 0
	var work []byte
	inPlace := false
	switch {
	case !exists:
		work = hllNew()
		updated++
	case old[4] == hllEncDense:
		// Dense registers change where they lie.
		work, _, _ = tx.UnshareString(key)
		inPlace = true
	default:
		tx.UnshareString(key)
		work = append(make([]byte, 0, len(old)+16), old...)
	}
	changed := updated > 0
	var failed bool
	for _, ele := range argv[2:] {
		var r int
		work, r = hllAdd(work, ele, sparseMax)
		if r == 1 {
			updated++
			changed = true
		} else if r < 0 {
			failed = true
			break
		}
	}
	if !failed && updated > 0 {
		hllInvalidateCache(work)
	}
	if changed && !inPlace {
		tx.ReplaceString(key, work)
	}
	if failed {
		return errHLLCorrupt
	}
	c.w.Int(int64(min(updated, 1)))
	return nil
}

func cmdPfcount(c *client, _ *store.Tx, argv [][]byte) error {
	keys := argv[1:]
	if len(keys) > 1 {
		return c.db.View(keys, func(tx *store.Tx) error {
			noTouchTx(c, false, tx) // CLIENT NO-TOUCH (eviction.go)
			var regs [hllRegisters]uint8
			for _, k := range keys {
				val, ok, err := hllValue(tx.GetString(k))
				if err != nil {
					return err
				}
				if ok && !hllMerge(&regs, val) {
					return errHLLCorrupt
				}
			}
			histo := hllRawHisto(&regs)
			c.w.Int(int64(hllEstimate(&histo)))
			return nil
		})
	}
	return c.db.Update(keys, func(tx *store.Tx) error {
		noTouchTx(c, false, tx) // CLIENT NO-TOUCH (eviction.go)
		_, ok, err := hllValue(tx.GetString(keys[0]))
		if err != nil {
			return err
		}
		if !ok {
			c.w.Int(0)
			return nil
		}
		tx.NoTouch() // GetString touched the key: Redis's PFCOUNT looks it up once
		b, _, _ := tx.UnshareString(keys[0])
		if hllCacheValid(b) {
			c.w.Int(int64(hllCachedCard(b)))
			return nil
		}
		card, invalid := hllCount(b)
		if invalid {
			return errHLLCorrupt
		}
		hllSetCachedCard(b, card)
		// The cached cardinality changed the value: Redis propagates PFCOUNT.
		c.srv.propagateOwn(c, tx.Epoch(), tx.DB().Index(), argv)
		c.w.Int(int64(card))
		return nil
	})
}

func cmdPfmerge(c *client, tx *store.Tx, argv [][]byte) error {
	sparseMax := hllSparseMax(c)
	var regs [hllRegisters]uint8
	useDense := false
	for _, k := range argv[1:] {
		val, ok, err := hllValue(tx.GetString(k))
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if val[4] == hllEncDense {
			useDense = true
		}
		if !hllMerge(&regs, val) {
			return errHLLCorrupt
		}
	}
	dst := argv[1]
	old, exists, _ := tx.PeekString(dst)
	var work []byte
	if exists {
		work = append(make([]byte, 0, len(old)+16), old...)
	} else {
		work = hllNew()
	}
	if useDense {
		dense, ok := hllSparseToDense(work)
		if !ok {
			if exists {
				tx.UnshareString(dst)
			} else {
				tx.ReplaceString(dst, work)
			}
			return errHLLCorrupt
		}
		work = dense
	}
	for i, v := range regs {
		if v == 0 {
			continue
		}
		if work[4] == hllEncDense {
			hllDenseSet(work[hllHdrSize:], i, v)
		} else {
			work, _ = hllSparseSet(work, i, v, sparseMax)
		}
	}
	hllInvalidateCache(work)
	tx.ReplaceString(dst, work)
	c.w.OK()
	return nil
}

func cmdPfdebug(c *client, tx *store.Tx, argv [][]byte) error {
	key := argv[2]
	val, ok, err := tx.PeekString(key)
	if err != nil {
		return err
	}
	if !ok {
		return errHLLNoKey
	}
	if !hllIsValid(val) {
		return errHLLWrongType
	}
	b, _, _ := tx.UnshareString(key)
	// toDense converts the stored value, as Redis does in place.
	toDense := func() (bool, error) {
		if b[4] != hllEncSparse {
			return false, nil
		}
		dense, ok := hllSparseToDense(b)
		if !ok {
			return false, errHLLCorrupt
		}
		tx.ReplaceString(key, dense)
		c.propDirty() // AOF (propagate.go)
		b = dense
		return true, nil
	}
	switch sub := cstr(argv[1]); {
	case equalFold(sub, "getreg"):
		if _, err := toDense(); err != nil {
			return err
		}
		c.w.Array(hllRegisters)
		for i := 0; i < hllRegisters; i++ {
			c.w.Int(int64(hllDenseGet(b[hllHdrSize:], i)))
		}
	case equalFold(sub, "decode"):
		if b[4] != hllEncSparse {
			return errHLLNotSparse
		}
		var sb strings.Builder
		for p := hllHdrSize; p < len(b); {
			op := b[p]
			switch {
			case hllIsZero(op):
				sb.WriteString("z:" + strconv.Itoa(hllZeroLen(op)) + " ")
				p++
			case hllIsXZero(op):
				sb.WriteString("Z:" + strconv.Itoa(hllXZeroLen(b, p)) + " ")
				p += 2
			default:
				sb.WriteString("v:" + strconv.Itoa(hllValValue(op)) + "," + strconv.Itoa(hllValLen(op)) + " ")
				p++
			}
		}
		c.w.BulkString(strings.TrimRight(sb.String(), " "))
	case equalFold(sub, "encoding"):
		if b[4] == hllEncDense {
			c.w.Simple("dense")
		} else {
			c.w.Simple("sparse")
		}
	case equalFold(sub, "todense"):
		conv, err := toDense()
		if err != nil {
			return err
		}
		c.w.Int(int64(boolInt(conv)))
	default:
		return respError("ERR Unknown PFDEBUG subcommand '" + string(sub) + "'")
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// cmdPfselftest checks the register packing and that the sparse and dense
// encodings agree on every estimate, as Redis's PFSELFTEST does.
func cmdPfselftest(c *client, _ *store.Tx, _ [][]byte) error {
	if msg := hllSelfTest(); msg != "" {
		return respError("TESTFAILED " + msg)
	}
	c.w.OK()
	return nil
}

// hllSelfTest returns "" when all checks pass, else what failed.
func hllSelfTest() string {
	rng := rand.New(rand.NewPCG(1, 2))
	// 1) Dense registers: set every register and read it back.
	regs := make([]byte, hllDenseSize-hllHdrSize)
	var model [hllRegisters]uint8
	for round := 0; round < 100; round++ {
		for i := range model {
			model[i] = uint8(rng.IntN(hllRegisterMax + 1))
			hllDenseSetReg(regs, i, model[i])
		}
		for i, want := range model {
			if hllDenseGet(regs, i) != want {
				return "Register error at " + strconv.Itoa(i)
			}
		}
	}
	// 2) A sparse HLL allowed to grow large must estimate what its dense
	// twin estimates, and both must stay near the true count.
	sparse := hllNew()
	dense, _ := hllSparseToDense(hllNew())
	var ele [8]byte
	checkpoint := 1
	for j := 1; j <= 100000; j++ {
		rnd := rng.Uint64()
		for i := range ele {
			ele[i] = byte(rnd >> (8 * i))
		}
		sparse, _ = hllAdd(sparse, ele[:], 1<<20)
		dense, _ = hllAdd(dense, ele[:], 1<<20)
		if j != checkpoint {
			continue
		}
		checkpoint *= 10
		sc, _ := hllCount(sparse)
		dc, _ := hllCount(dense)
		if sc != dc {
			return "Sparse and dense estimates differ at " + strconv.Itoa(j)
		}
		// 5 standard errors (1.04/sqrt(m)), or 1 for tiny counts.
		maxErr := float64(j) * 5 * 1.04 / 128
		if j < 10 {
			maxErr = 1
		}
		if d := float64(dc) - float64(j); d > maxErr || -d > maxErr {
			return "Error rate too high at " + strconv.Itoa(j)
		}
	}
	if !bytes.Equal(dense[:4], []byte("HYLL")) {
		return "Bad magic"
	}
	return ""
}
