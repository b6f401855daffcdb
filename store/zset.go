package store

// Sorted sets: a skiplist with span counts (so ranks and rank ranges cost
// O(log N)) plus a member → node map, as Redis's OBJ_ENCODING_SKIPLIST.
// Small sorted sets use the same structure but report "listpack" until
// they outgrow zset-max-listpack-entries / -value, then "skiplist" for
// good, as Redis converts them and never back (the *STORE commands build
// a fresh value and pick its encoding from its final contents).
//
// Elements are ordered by score, then by member bytes. The type holds no
// RESP and reads no configuration: the handler passes the thresholds.

import (
	"math"
	"math/rand/v2"
)

const (
	zslMaxLevel = 32
	// zsetEntryOverhead approximates what one element costs beyond its
	// member bytes: the node, its levels and the map slot.
	zsetEntryOverhead = 72
)

type zslLevel struct {
	forward *zslNode
	span    int
}

type zslNode struct {
	member   string
	score    float64
	backward *zslNode
	level    []zslLevel
}

// ZSet is a sorted set.
type ZSet struct {
	dict     map[string]*zslNode
	header   *zslNode
	tail     *zslNode
	length   int
	level    int
	listpack bool
	mem      int64
}

// NewZSet returns an empty sorted set, listpack-encoded unless skiplist.
func NewZSet(skiplist bool) *ZSet {
	return &ZSet{
		dict:     make(map[string]*zslNode),
		header:   &zslNode{level: make([]zslLevel, zslMaxLevel)},
		level:    1,
		listpack: !skiplist,
	}
}

// Len is the number of members.
func (z *ZSet) Len() int { return z.length }

// MemSize approximates the bytes the value holds.
func (z *ZSet) MemSize() int64 { return z.mem + 64 }

// Encoding is what OBJECT ENCODING reports.
func (z *ZSet) Encoding() string {
	if z.listpack {
		return "listpack"
	}
	return "skiplist"
}

// IsListpack reports whether the set still has its small encoding.
func (z *ZSet) IsListpack() bool { return z.listpack }

// Clone returns a deep copy with the same encoding.
func (z *ZSet) Clone() Container {
	c := NewZSet(!z.listpack)
	for x := z.header.level[0].forward; x != nil; x = x.level[0].forward {
		c.insert(x.member, x.score)
	}
	return c
}

// FitEncoding gives a freshly built set (ZUNIONSTORE, ZRANGESTORE…) the
// encoding Redis would: listpack when it has at most maxEntries members,
// none longer than maxValue bytes.
func (z *ZSet) FitEncoding(maxEntries, maxValue int64) {
	small := int64(z.length) <= maxEntries
	if small {
		for m := range z.dict {
			if int64(len(m)) > maxValue {
				small = false
				break
			}
		}
	}
	z.listpack = small
	if small {
		if n, ok := z.zeroNode(); ok {
			for ; n != nil && n.score == 0; n = n.level[0].forward {
				n.score = 0
			}
		}
	}
}

// zeroNode returns the first element scoring 0 or -0.
func (z *ZSet) zeroNode() (*zslNode, bool) {
	r := z.countWhile(func(n *zslNode) bool { return n.score < 0 })
	if r >= z.length {
		return nil, false
	}
	n := z.nodeAt(r)
	return n, n.score == 0
}

func zslLess(score float64, member string, n *zslNode) bool {
	return score < n.score || (score == n.score && member < n.member)
}

func zslRandomLevel() int {
	level := 1
	for level < zslMaxLevel && rand.Uint32()&0xFFFF < 0xFFFF/4 {
		level++
	}
	return level
}

// insert adds a member known to be absent.
func (z *ZSet) insert(member string, score float64) *zslNode {
	var update [zslMaxLevel]*zslNode
	var rank [zslMaxLevel]int
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		if i < z.level-1 {
			rank[i] = rank[i+1]
		}
		for f := x.level[i].forward; f != nil && (f.score < score || (f.score == score && f.member < member)); f = x.level[i].forward {
			rank[i] += x.level[i].span
			x = f
		}
		update[i] = x
	}
	level := zslRandomLevel()
	if level > z.level {
		for i := z.level; i < level; i++ {
			rank[i] = 0
			update[i] = z.header
			update[i].level[i].span = z.length
		}
		z.level = level
	}
	n := &zslNode{member: member, score: score, level: make([]zslLevel, level)}
	for i := 0; i < level; i++ {
		n.level[i].forward = update[i].level[i].forward
		update[i].level[i].forward = n
		n.level[i].span = update[i].level[i].span - (rank[0] - rank[i])
		update[i].level[i].span = rank[0] - rank[i] + 1
	}
	for i := level; i < z.level; i++ {
		update[i].level[i].span++
	}
	if update[0] != z.header {
		n.backward = update[0]
	}
	if n.level[0].forward != nil {
		n.level[0].forward.backward = n
	} else {
		z.tail = n
	}
	z.length++
	z.dict[member] = n
	z.mem += int64(len(member)) + zsetEntryOverhead
	return n
}

// unlink removes x given the update vector of its predecessors.
func (z *ZSet) unlink(x *zslNode, update *[zslMaxLevel]*zslNode) {
	for i := 0; i < z.level; i++ {
		if update[i].level[i].forward == x {
			update[i].level[i].span += x.level[i].span - 1
			update[i].level[i].forward = x.level[i].forward
		} else {
			update[i].level[i].span--
		}
	}
	if x.level[0].forward != nil {
		x.level[0].forward.backward = x.backward
	} else {
		z.tail = x.backward
	}
	for z.level > 1 && z.header.level[z.level-1].forward == nil {
		z.level--
	}
	z.length--
	delete(z.dict, x.member)
	z.mem -= int64(len(x.member)) + zsetEntryOverhead
}

// remove deletes the node for (score, member), which must exist.
func (z *ZSet) remove(member string, score float64) {
	var update [zslMaxLevel]*zslNode
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && (f.score < score || (f.score == score && f.member < member)); f = x.level[i].forward {
			x = f
		}
		update[i] = x
	}
	z.unlink(x.level[0].forward, &update)
}

// Score returns member's score.
func (z *ZSet) Score(member []byte) (float64, bool) {
	n, ok := z.dict[string(member)]
	if !ok {
		return 0, false
	}
	return n.score, true
}

// ScoreOf is Score for a string member.
func (z *ZSet) ScoreOf(member string) (float64, bool) {
	n, ok := z.dict[member]
	if !ok {
		return 0, false
	}
	return n.score, true
}

// ZADD input flags and output results (Redis's ZADD_IN_* / ZADD_OUT_*).
const (
	ZAddIncr = 1 << iota
	ZAddNX
	ZAddXX
	ZAddGT
	ZAddLT
)

// ZAddResult says what Add did.
type ZAddResult uint8

// Add outcomes.
const (
	ZAddNop     ZAddResult = iota // nothing changed (NX/XX/GT/LT said no)
	ZAddSame                      // the member was there with that score
	ZAddAdded                     // a new member
	ZAddUpdated                   // an existing member's score changed
	ZAddNaN                       // the (incremented) score is NaN: nothing changed
)

// Add is Redis's zsetAdd: it adds member with score, or updates its score,
// as the flags allow, and returns what it did and the member's resulting
// score (the incremented one with ZAddIncr). Adding a member to a
// listpack-encoded set converts it to skiplist when it would exceed
// maxEntries members or the member is longer than maxValue bytes.
func (z *ZSet) Add(member []byte, score float64, flags int, maxEntries, maxValue int64) (ZAddResult, float64) {
	if math.IsNaN(score) {
		return ZAddNaN, 0
	}
	if n, ok := z.dict[string(member)]; ok {
		if flags&ZAddNX != 0 {
			return ZAddNop, n.score
		}
		cur := n.score
		if flags&ZAddIncr != 0 {
			score += cur
			if math.IsNaN(score) {
				return ZAddNaN, 0
			}
		}
		if (flags&ZAddLT != 0 && score >= cur) || (flags&ZAddGT != 0 && score <= cur) {
			return ZAddNop, cur
		}
		if score == cur {
			return ZAddSame, score
		}
		z.updateScore(n, z.lpScore(score))
		return ZAddUpdated, score
	}
	if flags&ZAddXX != 0 {
		return ZAddNop, 0
	}
	if z.listpack && (int64(z.length)+1 > maxEntries || int64(len(member)) > maxValue) {
		z.listpack = false
	}
	z.insert(string(member), z.lpScore(score))
	return ZAddAdded, score
}

// lpScore is the score a listpack keeps: Redis 7.0 stores an integral
// score as an integer there, which turns -0 into 0.
func (z *ZSet) lpScore(score float64) float64 {
	if z.listpack && score == 0 {
		return 0
	}
	return score
}

// Put sets member's score unconditionally (building a result set).
func (z *ZSet) Put(member string, score float64) {
	score = z.lpScore(score)
	if n, ok := z.dict[member]; ok {
		if n.score != score {
			z.updateScore(n, score)
		}
		return
	}
	z.insert(member, score)
}

// updateScore moves n to its new score, in place when its neighbours allow.
func (z *ZSet) updateScore(n *zslNode, score float64) {
	if (n.backward == nil || n.backward.score < score || (n.backward.score == score && n.backward.member < n.member)) &&
		(n.level[0].forward == nil || zslLess(score, n.member, n.level[0].forward)) {
		n.score = score
		return
	}
	member := n.member
	z.remove(member, n.score)
	z.insert(member, score)
}

// Remove deletes member and reports whether it was there.
func (z *ZSet) Remove(member []byte) bool {
	n, ok := z.dict[string(member)]
	if !ok {
		return false
	}
	z.remove(n.member, n.score)
	return true
}

// countWhile returns how many leading elements satisfy before, which must
// hold for a prefix of the order (a rank boundary), in O(log N).
func (z *ZSet) countWhile(before func(n *zslNode) bool) int {
	x := z.header
	rank := 0
	for i := z.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && before(f); f = x.level[i].forward {
			rank += x.level[i].span
			x = f
		}
	}
	return rank
}

// Rank returns member's 0-based rank, from the highest score if reverse.
func (z *ZSet) Rank(member []byte, reverse bool) (int, bool) {
	n, ok := z.dict[string(member)]
	if !ok {
		return 0, false
	}
	r := z.countWhile(func(f *zslNode) bool { return zslLess(f.score, f.member, n) })
	if reverse {
		return z.length - 1 - r, true
	}
	return r, true
}

// nodeAt returns the element of 0-based rank r (0 <= r < Len).
func (z *ZSet) nodeAt(r int) *zslNode {
	x := z.header
	traversed := 0
	want := r + 1
	for i := z.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && traversed+x.level[i].span <= want {
			traversed += x.level[i].span
			x = x.level[i].forward
		}
		if traversed == want {
			return x
		}
	}
	return nil
}

// At returns the member and score of 0-based rank r.
func (z *ZSet) At(r int) (string, float64) {
	n := z.nodeAt(r)
	return n.member, n.score
}

// Range calls fn for the elements of ranks start..end (0-based, inclusive,
// already clamped to the set), ascending, or for the elements of reverse
// ranks start..end from the highest score down when reverse. fn returning
// false stops the walk.
func (z *ZSet) Range(start, end int, reverse bool, fn func(member string, score float64) bool) {
	if start > end || start < 0 || end >= z.length {
		return
	}
	if reverse {
		x := z.nodeAt(z.length - 1 - start)
		for i := start; i <= end && x != nil; i++ {
			if !fn(x.member, x.score) {
				return
			}
			x = x.backward
		}
		return
	}
	x := z.nodeAt(start)
	for i := start; i <= end && x != nil; i++ {
		if !fn(x.member, x.score) {
			return
		}
		x = x.level[0].forward
	}
}

// ForEach calls fn for every element in ascending order.
func (z *ZSet) ForEach(fn func(member string, score float64)) {
	for x := z.header.level[0].forward; x != nil; x = x.level[0].forward {
		fn(x.member, x.score)
	}
}

// ScoreRange is a score interval; MinEx/MaxEx make a bound exclusive.
type ScoreRange struct {
	Min, Max     float64
	MinEx, MaxEx bool
}

// LexBound is one end of a lexicographic range: Inf -1 is "-" (below
// everything), +1 is "+" (above everything), 0 a member Value, exclusive
// when Ex.
type LexBound struct {
	Value []byte
	Ex    bool
	Inf   int
}

// LexRange is a member interval for sets whose scores are all equal.
type LexRange struct{ Min, Max LexBound }

// ScoreRanks returns the ranks [lo, hi) of the elements inside r.
func (z *ZSet) ScoreRanks(r ScoreRange) (lo, hi int) {
	lo = z.countWhile(func(n *zslNode) bool {
		if r.MinEx {
			return n.score <= r.Min
		}
		return n.score < r.Min
	})
	hi = z.countWhile(func(n *zslNode) bool {
		if r.MaxEx {
			return n.score < r.Max
		}
		return n.score <= r.Max
	})
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// LexRanks returns the ranks [lo, hi) of the elements inside r.
func (z *ZSet) LexRanks(r LexRange) (lo, hi int) {
	lo = z.countWhile(func(n *zslNode) bool { return !lexGteMin(n.member, r.Min) })
	hi = z.countWhile(func(n *zslNode) bool { return lexLteMax(n.member, r.Max) })
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

func lexGteMin(m string, b LexBound) bool {
	switch b.Inf {
	case -1:
		return true
	case 1:
		return false
	}
	if b.Ex {
		return m > string(b.Value)
	}
	return m >= string(b.Value)
}

func lexLteMax(m string, b LexBound) bool {
	switch b.Inf {
	case -1:
		return false
	case 1:
		return true
	}
	if b.Ex {
		return m < string(b.Value)
	}
	return m <= string(b.Value)
}

// RemoveRanks deletes the elements of ranks start..end (0-based, inclusive,
// clamped) and returns how many it removed.
func (z *ZSet) RemoveRanks(start, end int) int {
	if start < 0 {
		start = 0
	}
	if end >= z.length {
		end = z.length - 1
	}
	if start > end {
		return 0
	}
	var update [zslMaxLevel]*zslNode
	x := z.header
	traversed := 0
	for i := z.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && traversed+x.level[i].span <= start {
			traversed += x.level[i].span
			x = x.level[i].forward
		}
		update[i] = x
	}
	removed := 0
	x = x.level[0].forward
	for x != nil && removed <= end-start {
		next := x.level[0].forward
		z.unlink(x, &update)
		removed++
		x = next
	}
	return removed
}

// Pop removes up to count elements from the lowest score (or the highest
// when max) and calls fn with each, in pop order.
func (z *ZSet) Pop(count int, max bool, fn func(member string, score float64)) {
	for ; count > 0 && z.length > 0; count-- {
		var n *zslNode
		if max {
			n = z.tail
		} else {
			n = z.header.level[0].forward
		}
		member, score := n.member, n.score
		z.remove(member, score)
		fn(member, score)
	}
}

// Scan walks a skiplist-encoded set from cursor: it calls fn for about
// count elements in score order and returns the next cursor, 0 at the end.
// The cursor names the score to resume at (an order-preserving encoding of
// its bits, plus one), and a call never stops in the middle of a run of
// equal scores, so every element present for the whole iteration is
// returned at least once. A listpack-encoded set returns everything at
// once with cursor 0, as Redis does.
func (z *ZSet) Scan(cursor uint64, count int, fn func(member string, score float64)) uint64 {
	if z.listpack {
		z.ForEach(fn)
		return 0
	}
	if count < 1 {
		count = 1
	}
	var x *zslNode
	if cursor == 0 {
		x = z.header.level[0].forward
	} else {
		from := scoreFromKey(cursor - 1)
		r := z.countWhile(func(n *zslNode) bool { return n.score < from })
		if r < z.length {
			x = z.nodeAt(r)
		}
	}
	n := 0
	for x != nil {
		if n >= count && x.score != x.backward.score {
			return scoreKey(x.score) + 1
		}
		fn(x.member, x.score)
		n++
		x = x.level[0].forward
	}
	return 0
}

// scoreKey maps a score to a uint64 with the same order (-0 as 0).
func scoreKey(f float64) uint64 {
	if f == 0 {
		f = 0
	}
	b := math.Float64bits(f)
	if b>>63 == 0 {
		return b | 1<<63
	}
	return ^b
}

func scoreFromKey(k uint64) float64 {
	if k>>63 == 1 {
		return math.Float64frombits(k &^ (1 << 63))
	}
	return math.Float64frombits(^k)
}
