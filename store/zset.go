package store

// Sorted sets, with Redis 7.0's two encodings:
//
//   - "listpack": a small set is one immutable string of its elements in
//     order, each its member (length-prefixed as in Hash's listpack) then
//     its score's 8 bytes, searched and walked linearly, as Redis's
//     listpack is. A write builds the new string at its exact size and
//     never changes the old one, so the members handed out stay valid.
//     Redis stores an integral score as an integer there, so -0 becomes 0.
//   - "skiplist": a skiplist with span counts (so ranks and rank ranges
//     cost O(log N)) plus a member → node map, as Redis's
//     OBJ_ENCODING_SKIPLIST. A set converts to it for good once it
//     outgrows zset-max-listpack-entries / -value (the *STORE commands
//     build a fresh value and pick its encoding from its final contents).
//
// Elements are ordered by score, then by member bytes. The type holds no
// RESP and reads no configuration: the handler passes the thresholds.

import (
	"math"
	"math/rand/v2"
	"strings"
	"unsafe"
)

const (
	zslMaxLevel = 32
	// zsetEntryOverhead approximates what one element costs beyond its
	// member bytes: the node, its levels and the map slot. MemSize counts
	// it for both encodings, as the accounting always has.
	zsetEntryOverhead = 72
)

type zslLevel struct {
	forward *zslNode
	span    int
	// score is forward's score. A search decides whether to step to the
	// next node from the node it is on, and loads the next one only to
	// step there or on a tie, which saves about one cache miss per level.
	score float64
}

// zslNode is a skiplist node. Its levels are level0 and, for a node of
// more than one level, the zslLevel array that directly follows it in the
// same allocation (zslNodeOf), reached through lv: a node is one object
// with its levels in it, as Redis's node with its flexible array member,
// where a separate level slice cost a search one more cache miss per hop.
// A one-level node (3 in 4) is 64 bytes, one cache line.
type zslNode struct {
	score    float64
	backward *zslNode
	member   string
	nlevel   int
	level0   zslLevel
}

// zslNodeOf is a node whose levels 1.. are more.
type zslNodeOf[A any] struct {
	zslNode
	more A
}

// lv returns level i of n, which must be below n.nlevel (unchecked: the
// search loops only follow a level from a node that has it).
func (n *zslNode) lv(i int) *zslLevel {
	return (*zslLevel)(unsafe.Add(unsafe.Pointer(&n.level0), uintptr(i)*unsafe.Sizeof(zslLevel{})))
}

// allocNode returns a zeroed node with room for level levels. Levels
// above 4 (1 node in 256) round up, to keep the instantiations few.
func allocNode(level int) *zslNode {
	var n *zslNode
	switch {
	case level == 1:
		n = new(zslNode)
	case level == 2:
		n = &new(zslNodeOf[[1]zslLevel]).zslNode
	case level == 3:
		n = &new(zslNodeOf[[2]zslLevel]).zslNode
	case level == 4:
		n = &new(zslNodeOf[[3]zslLevel]).zslNode
	case level <= 8:
		n = &new(zslNodeOf[[7]zslLevel]).zslNode
	case level <= 16:
		n = &new(zslNodeOf[[15]zslLevel]).zslNode
	default:
		n = &new(zslNodeOf[[zslMaxLevel - 1]zslLevel]).zslNode
	}
	n.nlevel = level
	return n
}

// newZslNode makes a node with level levels.
func newZslNode(member string, score float64, level int) *zslNode {
	n := allocNode(level)
	n.member, n.score = member, score
	return n
}

// ZSet is a sorted set.
type ZSet struct {
	lp     string    // listpack encoding (sl == nil)
	n      int32     // elements in lp
	lpMems int32     // member bytes in lp
	sl     *skiplist // skiplist encoding
}

// skiplist is the large encoding.
type skiplist struct {
	dict   map[string]*zslNode
	header *zslNode
	tail   *zslNode
	length int
	level  int
	mem    int64
}

func newSkiplist() *skiplist {
	return &skiplist{
		dict:   make(map[string]*zslNode),
		header: allocNode(zslMaxLevel),
		level:  1,
	}
}

// NewZSet returns an empty sorted set, listpack-encoded unless skiplist.
func NewZSet(skiplist bool) *ZSet {
	z := &ZSet{}
	if skiplist {
		z.sl = newSkiplist()
	}
	return z
}

// Len is the number of members.
func (z *ZSet) Len() int {
	if z.sl != nil {
		return z.sl.length
	}
	return int(z.n)
}

// MemSize approximates the bytes the value holds.
func (z *ZSet) MemSize() int64 {
	if z.sl != nil {
		return z.sl.mem + 64
	}
	return int64(z.lpMems) + zsetEntryOverhead*int64(z.n) + 64
}

// Encoding is what OBJECT ENCODING reports.
func (z *ZSet) Encoding() string {
	if z.sl == nil {
		return "listpack"
	}
	return "skiplist"
}

// IsListpack reports whether the set still has its small encoding.
func (z *ZSet) IsListpack() bool { return z.sl == nil }

// Clone returns a deep copy with the same encoding. A listpack's string is
// immutable, so the copy shares it.
func (z *ZSet) Clone() Container {
	c := *z
	if z.sl != nil {
		c.sl = newSkiplist()
		for x := z.sl.header.lv(0).forward; x != nil; x = x.lv(0).forward {
			c.sl.insert(x.member, x.score)
		}
	}
	return &c
}

// FitEncoding gives a freshly built set (ZUNIONSTORE, ZRANGESTORE…) the
// encoding Redis would: listpack when it has at most maxEntries members,
// none longer than maxValue bytes, skiplist otherwise.
func (z *ZSet) FitEncoding(maxEntries, maxValue int64) {
	small := int64(z.Len()) <= maxEntries
	if small {
		z.ForEach(func(m string, _ float64) {
			small = small && int64(len(m)) <= maxValue
		})
	}
	switch {
	case small && z.sl != nil:
		size, mems := 0, 0
		z.ForEach(func(m string, _ float64) {
			size += lpSize(len(m)) + 8
			mems += len(m)
		})
		var b strings.Builder
		b.Grow(size)
		z.ForEach(func(m string, s float64) { zlpAppend(&b, m, lpNormalize(s)) })
		z.lp, z.n, z.lpMems, z.sl = b.String(), int32(z.sl.length), int32(mems), nil
	case !small && z.sl == nil:
		z.convert()
	}
}

// convert switches a listpack to the skiplist encoding. The members are
// copied so that the listpack string can be freed.
func (z *ZSet) convert() {
	sl := newSkiplist()
	z.ForEach(func(m string, s float64) { sl.insert(strings.Clone(m), s) })
	z.lp, z.n, z.lpMems, z.sl = "", 0, 0, sl
}

// lpNormalize is the score a listpack keeps: Redis 7.0 stores an integral
// score as an integer there, which turns -0 into 0.
func lpNormalize(score float64) float64 {
	if score == 0 {
		return 0
	}
	return score
}

// zlpEntry decodes the listpack element at off: its member, its score and
// the offset of the next element.
func zlpEntry(lp string, off int) (member string, score float64, next int) {
	member, off = lpString(lp, off)
	var bits uint64
	for i := 7; i >= 0; i-- {
		bits = bits<<8 | uint64(lp[off+i])
	}
	return member, math.Float64frombits(bits), off + 8
}

// zlpAppend appends an element: the length-prefixed member, then the
// score's bits, little-endian.
func zlpAppend(b *strings.Builder, member string, score float64) {
	n := uint(len(member))
	for n >= 0x80 {
		b.WriteByte(byte(n) | 0x80)
		n >>= 7
	}
	b.WriteByte(byte(n))
	b.WriteString(member)
	bits := math.Float64bits(score)
	for i := 0; i < 8; i++ {
		b.WriteByte(byte(bits >> (8 * i)))
	}
}

// zlpFind returns the offsets of member's element and its score.
func (z *ZSet) zlpFind(member string) (start, end int, score float64, ok bool) {
	for off := 0; off < len(z.lp); {
		m, s, next := zlpEntry(z.lp, off)
		if m == member {
			return off, next, s, true
		}
		off = next
	}
	return 0, 0, 0, false
}

// zlpOffset returns the offset of the element of rank r (0 <= r <= Len;
// Len gives the end of the string).
func (z *ZSet) zlpOffset(r int) int {
	off := 0
	for ; r > 0; r-- {
		_, _, off = zlpEntry(z.lp, off)
	}
	return off
}

// zlpPut places member with score in a listpack: it removes the element at
// lp[start:end] when end > start (the member's old place) and inserts the
// new one where the order puts it, building the string once.
func (z *ZSet) zlpPut(member string, score float64, start, end int) {
	pos := 0 // where the new element goes, in the old string
	for pos < len(z.lp) {
		if pos == start && end > start {
			pos = end
			continue
		}
		m, s, next := zlpEntry(z.lp, pos)
		if score < s || (score == s && member < m) {
			break
		}
		pos = next
	}
	var b strings.Builder
	b.Grow(len(z.lp) - (end - start) + lpSize(len(member)) + 8)
	if pos <= start {
		b.WriteString(z.lp[:pos])
		zlpAppend(&b, member, score)
		b.WriteString(z.lp[pos:start])
		b.WriteString(z.lp[end:])
	} else {
		b.WriteString(z.lp[:start])
		b.WriteString(z.lp[end:pos])
		zlpAppend(&b, member, score)
		b.WriteString(z.lp[pos:])
	}
	z.lp = b.String()
	if end == start {
		z.n++
		z.lpMems += int32(len(member))
	}
}

// zlpCut removes the listpack elements whose bytes are lp[start:end].
func (z *ZSet) zlpCut(start, end int) {
	for off := start; off < end; {
		var m string
		m, _, off = zlpEntry(z.lp, off)
		z.lpMems -= int32(len(m))
		z.n--
	}
	if z.n == 0 {
		z.lp = ""
		return
	}
	var b strings.Builder
	b.Grow(len(z.lp) - (end - start))
	b.WriteString(z.lp[:start])
	b.WriteString(z.lp[end:])
	z.lp = b.String()
}

func zslRandomLevel() int {
	level := 1
	for level < zslMaxLevel && rand.Uint32()&0xFFFF < 0xFFFF/4 {
		level++
	}
	return level
}

// insert adds a member known to be absent.
func (z *skiplist) insert(member string, score float64) *zslNode {
	var update [zslMaxLevel]*zslNode
	var rank [zslMaxLevel]int
	x, r := z.header, 0
	for i := z.level - 1; i >= 0; i-- {
		for l := x.lv(i); l.forward != nil && (l.score < score || (l.score == score && l.forward.member < member)); l = x.lv(i) {
			r += l.span
			x = l.forward
		}
		update[i], rank[i] = x, r
	}
	n := newZslNode(member, score, zslRandomLevel())
	z.splice(n, &update, &rank)
	z.dict[member] = n
	z.mem += int64(len(member)) + zsetEntryOverhead
	return n
}

// splice links n, its score set, after update[i] on each of its levels i;
// rank[i] is update[i]'s rank (the header's is 0) for i below z.level.
func (z *skiplist) splice(n *zslNode, update *[zslMaxLevel]*zslNode, rank *[zslMaxLevel]int) {
	level := n.nlevel
	if level > z.level {
		for i := z.level; i < level; i++ {
			rank[i] = 0
			update[i] = z.header
			update[i].lv(i).span = z.length
		}
		z.level = level
	}
	n.backward = nil
	for i := 0; i < level; i++ {
		nl, ul := n.lv(i), update[i].lv(i)
		nl.forward, nl.score = ul.forward, ul.score
		ul.forward, ul.score = n, n.score
		nl.span = ul.span - (rank[0] - rank[i])
		ul.span = rank[0] - rank[i] + 1
	}
	for i := level; i < z.level; i++ {
		update[i].lv(i).span++
	}
	if update[0] != z.header {
		n.backward = update[0]
	}
	if n.lv(0).forward != nil {
		n.lv(0).forward.backward = n
	} else {
		z.tail = n
	}
	z.length++
}

// unlink removes x given the update vector of its predecessors.
func (z *skiplist) unlink(x *zslNode, update *[zslMaxLevel]*zslNode) {
	z.detach(x, update)
	delete(z.dict, x.member)
	z.mem -= int64(len(x.member)) + zsetEntryOverhead
}

// detach takes x out of the list only (dictionary and accounting stay).
func (z *skiplist) detach(x *zslNode, update *[zslMaxLevel]*zslNode) {
	for i := 0; i < z.level; i++ {
		ul := update[i].lv(i)
		if ul.forward == x {
			xl := x.lv(i)
			ul.span += xl.span - 1
			ul.forward, ul.score = xl.forward, xl.score
		} else {
			ul.span--
		}
	}
	if x.lv(0).forward != nil {
		x.lv(0).forward.backward = x.backward
	} else {
		z.tail = x.backward
	}
	for z.level > 1 && z.header.lv(z.level-1).forward == nil {
		z.level--
	}
	z.length--
}

// remove deletes the node for (score, member), which must exist.
func (z *skiplist) remove(member string, score float64) {
	var update [zslMaxLevel]*zslNode
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		for l := x.lv(i); l.forward != nil && (l.score < score || (l.score == score && l.forward.member < member)); l = x.lv(i) {
			x = l.forward
		}
		update[i] = x
	}
	z.unlink(x.lv(0).forward, &update)
}

// updateScore moves n to its new score, in place when its neighbours allow.
func (z *skiplist) updateScore(n *zslNode, score float64) {
	// The next node's score is kept in n: test that side first, which
	// settles most moves without loading the previous node.
	next := n.lv(0)
	stays := (next.forward == nil || next.score > score || (next.score == score && n.member < next.forward.member)) &&
		(n.backward == nil || n.backward.score < score || (n.backward.score == score && n.backward.member < n.member))
	if !stays {
		z.move(n, score)
		return
	}
	if n.nlevel == 1 {
		// The only level that names n is its predecessor's level 0.
		prev := n.backward
		if prev == nil {
			prev = z.header
		}
		n.score, prev.lv(0).score = score, score
		return
	}
	// The predecessors on n's other levels keep its score too.
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		for l := x.lv(i); l.forward != nil && l.forward != n && (l.score < n.score || (l.score == n.score && l.forward.member < n.member)); l = x.lv(i) {
			x = l.forward
		}
		if i < n.nlevel {
			x.lv(i).score = score
		}
	}
	n.score = score
}

// move takes n out and puts it back at its new score, keeping the node
// (and its dictionary slot), as Redis's zslUpdateScore. One descent finds
// both n's predecessors and those of its new place, stepping the two
// searches in turn so that the processor waits for their cache misses
// together rather than one search after the other.
func (z *skiplist) move(n *zslNode, score float64) {
	var prevOld, prevNew [zslMaxLevel]*zslNode
	var rankOld, rankNew [zslMaxLevel]int
	xo, xn := z.header, z.header
	ro, rn := 0, 0
	old, member := n.score, n.member
	for i := z.level - 1; i >= 0; i-- {
		for {
			lo, ln := xo.lv(i), xn.lv(i)
			stepOld := lo.forward != nil && lo.forward != n && (lo.score < old || (lo.score == old && lo.forward.member < member))
			// n's own key, old and new, differ in score alone, so the
			// new search never compares n's member with itself.
			stepNew := ln.forward != nil && (ln.score < score || (ln.score == score && ln.forward.member < member))
			if stepOld {
				ro += lo.span
				xo = lo.forward
			}
			if stepNew {
				rn += ln.span
				xn = ln.forward
			}
			if !stepOld && !stepNew {
				break
			}
		}
		prevOld[i], rankOld[i] = xo, ro
		prevNew[i], rankNew[i] = xn, rn
	}
	// The new place was found with n still in the list: where the search
	// stopped at n, the predecessor becomes n's own, and the ranks past
	// n's old place drop by one.
	rankN := rankOld[0] + 1
	for i := 0; i < z.level; i++ {
		if prevNew[i] == n {
			prevNew[i], rankNew[i] = prevOld[i], rankOld[i]
		} else if rankNew[i] > rankN {
			rankNew[i]--
		}
	}
	z.detach(n, &prevOld)
	n.score = score
	z.splice(n, &prevNew, &rankNew)
}

// countWhile returns how many leading elements satisfy before, which must
// hold for a prefix of the order (a rank boundary), in O(log N).
func (z *skiplist) countWhile(before func(score float64, member string) bool) int {
	x := z.header
	rank := 0
	for i := z.level - 1; i >= 0; i-- {
		for f := x.lv(i).forward; f != nil && before(f.score, f.member); f = x.lv(i).forward {
			rank += x.lv(i).span
			x = f
		}
	}
	return rank
}

// nodeAt returns the element of 0-based rank r (0 <= r < Len).
func (z *skiplist) nodeAt(r int) *zslNode {
	x := z.header
	traversed := 0
	want := r + 1
	for i := z.level - 1; i >= 0; i-- {
		for x.lv(i).forward != nil && traversed+x.lv(i).span <= want {
			traversed += x.lv(i).span
			x = x.lv(i).forward
		}
		if traversed == want {
			return x
		}
	}
	return nil
}

// countWhile is skiplist.countWhile for either encoding (linear on a
// listpack).
func (z *ZSet) countWhile(before func(score float64, member string) bool) int {
	if z.sl != nil {
		return z.sl.countWhile(before)
	}
	r := 0
	for off := 0; off < len(z.lp); r++ {
		m, s, next := zlpEntry(z.lp, off)
		if !before(s, m) {
			break
		}
		off = next
	}
	return r
}

// Score returns member's score.
func (z *ZSet) Score(member []byte) (float64, bool) {
	if z.sl != nil {
		n, ok := z.sl.dict[string(member)]
		if !ok {
			return 0, false
		}
		return n.score, true
	}
	_, _, s, ok := z.zlpFind(string(member))
	return s, ok
}

// ScoreOf is Score for a string member.
func (z *ZSet) ScoreOf(member string) (float64, bool) {
	if z.sl != nil {
		n, ok := z.sl.dict[member]
		if !ok {
			return 0, false
		}
		return n.score, true
	}
	_, _, s, ok := z.zlpFind(member)
	return s, ok
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
	var node *zslNode
	var start, end int
	var cur float64
	found := false
	if z.sl != nil {
		node, found = z.sl.dict[string(member)]
		if found {
			cur = node.score
		}
	} else {
		start, end, cur, found = z.zlpFind(string(member))
	}
	if found {
		if flags&ZAddNX != 0 {
			return ZAddNop, cur
		}
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
		if z.sl != nil {
			z.sl.updateScore(node, score)
		} else {
			m, _ := lpString(z.lp, start) // the member, without a copy
			z.zlpPut(m, lpNormalize(score), start, end)
		}
		return ZAddUpdated, score
	}
	if flags&ZAddXX != 0 {
		return ZAddNop, 0
	}
	if z.sl == nil && (int64(z.n)+1 > maxEntries || int64(len(member)) > maxValue) {
		z.convert()
	}
	if z.sl != nil {
		z.sl.insert(string(member), score)
	} else {
		z.zlpPut(string(member), lpNormalize(score), 0, 0)
	}
	return ZAddAdded, score
}

// Put sets member's score unconditionally (building a result set).
func (z *ZSet) Put(member string, score float64) {
	if z.sl != nil {
		if n, ok := z.sl.dict[member]; ok {
			if n.score != score {
				z.sl.updateScore(n, score)
			}
			return
		}
		z.sl.insert(member, score)
		return
	}
	score = lpNormalize(score)
	start, end, cur, ok := z.zlpFind(member)
	if ok && cur == score {
		return
	}
	z.zlpPut(member, score, start, end)
}

// Remove deletes member and reports whether it was there.
func (z *ZSet) Remove(member []byte) bool {
	if z.sl != nil {
		n, ok := z.sl.dict[string(member)]
		if ok {
			z.sl.remove(n.member, n.score)
		}
		return ok
	}
	start, end, _, ok := z.zlpFind(string(member))
	if ok {
		z.zlpCut(start, end)
	}
	return ok
}

// Rank returns member's 0-based rank, from the highest score if reverse.
func (z *ZSet) Rank(member []byte, reverse bool) (int, bool) {
	score, ok := z.Score(member)
	if !ok {
		return 0, false
	}
	m := string(member)
	r := z.countWhile(func(s float64, f string) bool { return s < score || (s == score && f < m) })
	if reverse {
		return z.Len() - 1 - r, true
	}
	return r, true
}

// At returns the member and score of 0-based rank r.
func (z *ZSet) At(r int) (string, float64) {
	if z.sl != nil {
		n := z.sl.nodeAt(r)
		return n.member, n.score
	}
	m, s, _ := zlpEntry(z.lp, z.zlpOffset(r))
	return m, s
}

// Range calls fn for the elements of ranks start..end (0-based, inclusive,
// already clamped to the set), ascending, or for the elements of reverse
// ranks start..end from the highest score down when reverse. fn returning
// false stops the walk.
func (z *ZSet) Range(start, end int, reverse bool, fn func(member string, score float64) bool) {
	if start > end || start < 0 || end >= z.Len() {
		return
	}
	if z.sl == nil {
		z.lpRange(start, end, reverse, fn)
		return
	}
	if reverse {
		x := z.sl.nodeAt(z.sl.length - 1 - start)
		for i := start; i <= end && x != nil; i++ {
			if !fn(x.member, x.score) {
				return
			}
			x = x.backward
		}
		return
	}
	x := z.sl.nodeAt(start)
	for i := start; i <= end && x != nil; i++ {
		if !fn(x.member, x.score) {
			return
		}
		x = x.lv(0).forward
	}
}

// lpRange is Range on a listpack. Going backwards needs the elements'
// offsets first: the string can only be walked forwards.
func (z *ZSet) lpRange(start, end int, reverse bool, fn func(member string, score float64) bool) {
	if !reverse {
		off := z.zlpOffset(start)
		for i := start; i <= end; i++ {
			m, s, next := zlpEntry(z.lp, off)
			if !fn(m, s) {
				return
			}
			off = next
		}
		return
	}
	// Reverse ranks start..end are ranks n-1-end..n-1-start.
	var buf [32]int
	offs := buf[:0]
	off := z.zlpOffset(int(z.n) - 1 - end)
	for i := start; i <= end; i++ {
		offs = append(offs, off)
		_, _, off = zlpEntry(z.lp, off)
	}
	for i := len(offs) - 1; i >= 0; i-- {
		m, s, _ := zlpEntry(z.lp, offs[i])
		if !fn(m, s) {
			return
		}
	}
}

// ForEach calls fn for every element in ascending order.
func (z *ZSet) ForEach(fn func(member string, score float64)) {
	if z.sl != nil {
		for x := z.sl.header.lv(0).forward; x != nil; x = x.lv(0).forward {
			fn(x.member, x.score)
		}
		return
	}
	for off := 0; off < len(z.lp); {
		m, s, next := zlpEntry(z.lp, off)
		fn(m, s)
		off = next
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
	lo = z.countWhile(func(s float64, _ string) bool {
		if r.MinEx {
			return s <= r.Min
		}
		return s < r.Min
	})
	hi = z.countWhile(func(s float64, _ string) bool {
		if r.MaxEx {
			return s < r.Max
		}
		return s <= r.Max
	})
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// LexRanks returns the ranks [lo, hi) of the elements inside r.
func (z *ZSet) LexRanks(r LexRange) (lo, hi int) {
	lo = z.countWhile(func(_ float64, m string) bool { return !lexGteMin(m, r.Min) })
	hi = z.countWhile(func(_ float64, m string) bool { return lexLteMax(m, r.Max) })
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
	if end >= z.Len() {
		end = z.Len() - 1
	}
	if start > end {
		return 0
	}
	if z.sl == nil {
		from := z.zlpOffset(start)
		to := from
		for i := start; i <= end; i++ {
			_, _, to = zlpEntry(z.lp, to)
		}
		z.zlpCut(from, to)
		return end - start + 1
	}
	sl := z.sl
	var update [zslMaxLevel]*zslNode
	x := sl.header
	traversed := 0
	for i := sl.level - 1; i >= 0; i-- {
		for x.lv(i).forward != nil && traversed+x.lv(i).span <= start {
			traversed += x.lv(i).span
			x = x.lv(i).forward
		}
		update[i] = x
	}
	removed := 0
	x = x.lv(0).forward
	for x != nil && removed <= end-start {
		next := x.lv(0).forward
		sl.unlink(x, &update)
		removed++
		x = next
	}
	return removed
}

// Pop removes up to count elements from the lowest score (or the highest
// when max) and calls fn with each, in pop order.
func (z *ZSet) Pop(count int, max bool, fn func(member string, score float64)) {
	if z.sl == nil {
		k := min(count, int(z.n))
		if k <= 0 {
			return
		}
		if max {
			z.Range(0, k-1, true, func(m string, s float64) bool { fn(m, s); return true })
			z.RemoveRanks(int(z.n)-k, int(z.n)-1)
		} else {
			z.Range(0, k-1, false, func(m string, s float64) bool { fn(m, s); return true })
			z.RemoveRanks(0, k-1)
		}
		return
	}
	for ; count > 0 && z.sl.length > 0; count-- {
		var n *zslNode
		if max {
			n = z.sl.tail
		} else {
			n = z.sl.header.lv(0).forward
		}
		member, score := n.member, n.score
		z.sl.remove(member, score)
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
	if z.sl == nil {
		z.ForEach(fn)
		return 0
	}
	if count < 1 {
		count = 1
	}
	var x *zslNode
	if cursor == 0 {
		x = z.sl.header.lv(0).forward
	} else {
		from := scoreFromKey(cursor - 1)
		r := z.sl.countWhile(func(s float64, _ string) bool { return s < from })
		if r < z.sl.length {
			x = z.sl.nodeAt(r)
		}
	}
	n := 0
	for x != nil {
		if n >= count && x.score != x.backward.score {
			return scoreKey(x.score) + 1
		}
		fn(x.member, x.score)
		n++
		x = x.lv(0).forward
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
