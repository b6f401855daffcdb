package server

import (
	"strconv"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/store"
)

// Keyspace notifications (notify-keyspace-events).
//
// Events are emitted centrally, after a write command succeeds, from a
// table of per-command rules (notifyRules) that read the command's
// arguments, its reply, and whether each key existed before and after the
// command. That snapshot costs a read lock of the command's keys on either
// side of the call and is taken only while notifications are enabled; with
// notify-keyspace-events empty the dispatcher pays one config load. The
// "expired" event comes from the store's expired hook (lazy and active
// expiry). Because the before/after snapshots are separate transactions, a
// concurrent writer on the same key can make "new" or a container's "del"
// be reported by the wrong command; the command's own event is exact.

// notifyFlags are the notify-keyspace-events classes in force.
func (s *Server) notifyFlags() int { return s.Config().NotifyKeyspaceEvents }

// notifyKeyspaceEvent publishes one event as Redis's
// notifyKeyspaceEvent does. from is the client whose command caused it
// (nil for expiry), so its own RESP3 subscription sees it before the reply.
func (s *Server) notifyKeyspaceEvent(from *client, class int, event string, key []byte, db int) {
	flags := s.notifyFlags()
	if flags&class == 0 {
		return
	}
	var tmp [64]byte
	if flags&config.NotifyKeyspace != 0 {
		ch := append(tmp[:0], "__keyspace@"...)
		ch = strconv.AppendInt(ch, int64(db), 10)
		ch = append(ch, "__:"...)
		ch = append(ch, key...)
		s.pubsub.publish(from, ch, []byte(event), false)
	}
	if flags&config.NotifyKeyevent != 0 {
		ch := append(tmp[:0], "__keyevent@"...)
		ch = strconv.AppendInt(ch, int64(db), 10)
		ch = append(ch, "__:"...)
		ch = append(ch, event...)
		s.pubsub.publish(from, ch, key, false)
	}
}

// expiredHook is the store's expired hook.
func (s *Server) expiredHook(db *store.DB, key []byte) {
	s.trackingInvalidate(db, key)
	if s.notifyFlags()&config.NotifyExpired == 0 {
		return
	}
	s.notifyKeyspaceEvent(nil, config.NotifyExpired, "expired", key, db.Index())
}

// evictedHook is the store's evicted hook (maxmemory eviction).
func (s *Server) evictedHook(db *store.DB, key []byte) {
	s.trackingInvalidate(db, key)
	if s.notifyFlags()&config.NotifyEvicted == 0 {
		return
	}
	s.notifyKeyspaceEvent(nil, config.NotifyEvicted, "evicted", key, db.Index())
}

// notifyState is the before-the-command snapshot: which keys existed.
type notifyState struct {
	pos    []int
	before []bool
}

// notifyBefore snapshots the write command's keys when notifications are
// on; it returns nil otherwise.
func (s *Server) notifyBefore(c *client, cmd *command, argv [][]byte) *notifyState {
	c.trackBefore()
	if !cmd.has(flagWrite) || s.notifyFlags() == 0 {
		return nil
	}
	if _, ok := notifyRules[cmd.fullName]; !ok {
		return nil
	}
	st := &notifyState{pos: cmd.keyPositions(argv, nil)}
	st.before = s.existence(c, argv, st.pos)
	return st
}

func (s *Server) existence(c *client, argv [][]byte, pos []int) []bool {
	out := make([]bool, len(pos))
	keys := make([][]byte, len(pos))
	for i, p := range pos {
		keys[i] = argv[p]
	}
	if len(keys) == 0 {
		return out
	}
	c.db.View(keys, func(tx *store.Tx) error {
		for i, k := range keys {
			out[i] = tx.Exists(k)
		}
		return nil
	})
	return out
}

// notifyCtx is what a rule sees.
type notifyCtx struct {
	s      *Server
	c      *client
	argv   [][]byte
	reply  []byte
	pos    []int
	before []bool
	after  []bool
	db     int
}

func (n *notifyCtx) emit(class int, event string, key []byte) {
	n.s.notifyKeyspaceEvent(n.c, class, event, key, n.db)
}

// replyNull reports a null reply ($-1, *-1, _) or an empty array.
func (n *notifyCtx) replyNull() bool {
	r := n.reply
	return len(r) == 0 || r[0] == '_' || string(r[:min(3, len(r))]) == "$-1" ||
		string(r[:min(3, len(r))]) == "*-1" || string(r[:min(2, len(r))]) == "*0"
}

// replyPositive reports an integer reply above zero.
func (n *notifyCtx) replyPositive() bool {
	r := n.reply
	return len(r) > 1 && r[0] == ':' && r[1] != '0' && r[1] != '-'
}

// emptiedDel emits "del" for keys the command removed by emptying them.
func (n *notifyCtx) emptiedDel() {
	for i, p := range n.pos {
		if n.before[i] && !n.after[i] {
			n.emit(config.NotifyGeneric, "del", n.argv[p])
		}
	}
}

// notifyAfter emits the command's events once it has succeeded.
func (s *Server) notifyAfter(c *client, cmd *command, argv [][]byte, mark int, st *notifyState, err error) {
	s.trackAfter(c, cmd, argv, c.w.buf[mark:], err)
	if st == nil || err != nil {
		return
	}
	reply := c.w.buf[mark:]
	if len(reply) > 0 && reply[0] == '-' {
		return
	}
	c.mu.Lock()
	db := c.dbIndex
	c.mu.Unlock()
	n := &notifyCtx{s: s, c: c, argv: argv, reply: reply, pos: st.pos, before: st.before, db: db}
	n.after = s.existence(c, argv, st.pos)
	// Events go to the client's own buffer before its reply, as in Redis:
	// take the reply out, emit, put it back.
	saved := append([]byte(nil), reply...)
	c.w.Truncate(mark)
	n.reply = saved
	if s.notifyFlags()&config.NotifyNew != 0 {
		for i, p := range n.pos {
			if !n.before[i] && n.after[i] {
				n.emit(config.NotifyNew, "new", argv[p])
			}
		}
	}
	notifyRules[cmd.fullName](n)
	c.w.buf = append(c.w.buf, saved...)
}

// Rule helpers.

func ruleOne(class int, event string, cond func(*notifyCtx) bool) func(*notifyCtx) {
	return func(n *notifyCtx) {
		if cond == nil || cond(n) {
			n.emit(class, event, n.argv[1])
		}
		n.emptiedDel()
	}
}

func notNull(n *notifyCtx) bool  { return !n.replyNull() }
func positive(n *notifyCtx) bool { return n.replyPositive() }

func hasArg(argv [][]byte, from int, names ...string) bool {
	for _, a := range argv[from:] {
		for _, nm := range names {
			if equalFold(a, nm) {
				return true
			}
		}
	}
	return false
}

func ruleSet(n *notifyCtx) {
	if n.replyNull() && !hasArg(n.argv, 3, "get") {
		return
	}
	if n.replyNull() && hasArg(n.argv, 3, "nx", "xx") {
		return // GET with a failed condition
	}
	n.emit(config.NotifyString, "set", n.argv[1])
	if hasArg(n.argv, 3, "ex", "px", "exat", "pxat") {
		n.emit(config.NotifyGeneric, "expire", n.argv[1])
	}
}

func ruleExpire(n *notifyCtx) {
	if !n.replyPositive() {
		return
	}
	if n.after[0] {
		n.emit(config.NotifyGeneric, "expire", n.argv[1])
	} else {
		n.emit(config.NotifyGeneric, "del", n.argv[1])
	}
}

func ruleDel(n *notifyCtx) {
	for i, p := range n.pos {
		if n.before[i] && !n.after[i] {
			n.emit(config.NotifyGeneric, "del", n.argv[p])
		}
	}
}

// ruleStore is the *STORE commands: the event on the destination when it
// holds a result, "del" when an existing destination was emptied.
func ruleStore(class int, event string) func(*notifyCtx) {
	return func(n *notifyCtx) {
		if n.after[0] {
			n.emit(class, event, n.argv[1])
		} else if n.before[0] {
			n.emit(config.NotifyGeneric, "del", n.argv[1])
		}
	}
}

func ruleMove(popEvent, pushEvent func(n *notifyCtx) string) func(*notifyCtx) {
	return func(n *notifyCtx) {
		if n.replyNull() {
			return
		}
		n.emit(config.NotifyList, popEvent(n), n.argv[1])
		if !n.after[0] && n.before[0] && string(n.argv[1]) != string(n.argv[2]) {
			n.emit(config.NotifyGeneric, "del", n.argv[1])
		}
		n.emit(config.NotifyList, pushEvent(n), n.argv[2])
	}
}

func dirEvent(argIdx int, left, right string) func(n *notifyCtx) string {
	return func(n *notifyCtx) string {
		if equalFold(n.argv[argIdx], "left") {
			return left
		}
		return right
	}
}

func constEvent(e string) func(n *notifyCtx) string { return func(*notifyCtx) string { return e } }

// notifyRules maps a command to the events it emits.
var notifyRules map[string]func(*notifyCtx)

func init() {
	str, gen, lst, hsh, set, zst := config.NotifyString, config.NotifyGeneric, config.NotifyList,
		config.NotifyHash, config.NotifySet, config.NotifyZset
	notifyRules = map[string]func(*notifyCtx){
		// Strings.
		"set":   ruleSet,
		"setnx": ruleOne(str, "set", positive),
		"setex": func(n *notifyCtx) {
			n.emit(str, "set", n.argv[1])
			n.emit(gen, "expire", n.argv[1])
		},
		"getset":      ruleOne(str, "set", nil),
		"setrange":    ruleOne(str, "setrange", nil),
		"append":      ruleOne(str, "append", nil),
		"incr":        ruleOne(str, "incrby", nil),
		"decr":        ruleOne(str, "incrby", nil),
		"incrby":      ruleOne(str, "incrby", nil),
		"decrby":      ruleOne(str, "incrby", nil),
		"incrbyfloat": ruleOne(str, "incrbyfloat", nil),
		"getdel":      ruleDel,
		"getex": func(n *notifyCtx) {
			switch {
			case n.replyNull():
			case hasArg(n.argv, 2, "persist"):
				n.emit(gen, "persist", n.argv[1])
			case hasArg(n.argv, 2, "ex", "px", "exat", "pxat"):
				ruleExpire(&notifyCtx{s: n.s, c: n.c, argv: n.argv, reply: []byte(":1"), pos: n.pos,
					before: n.before, after: n.after, db: n.db})
			}
		},
		"mset": func(n *notifyCtx) {
			for i := 1; i+1 < len(n.argv); i += 2 {
				n.emit(str, "set", n.argv[i])
			}
		},
		"msetnx": func(n *notifyCtx) {
			if n.replyPositive() {
				for i := 1; i+1 < len(n.argv); i += 2 {
					n.emit(str, "set", n.argv[i])
				}
			}
		},
		// Keys.
		"del":       ruleDel,
		"unlink":    ruleDel,
		"expire":    ruleExpire,
		"pexpire":   ruleExpire,
		"expireat":  ruleExpire,
		"pexpireat": ruleExpire,
		"persist":   ruleOne(gen, "persist", positive),
		"rename": func(n *notifyCtx) {
			n.emit(gen, "rename_from", n.argv[1])
			n.emit(gen, "rename_to", n.argv[2])
		},
		"renamenx": func(n *notifyCtx) {
			if n.replyPositive() {
				n.emit(gen, "rename_from", n.argv[1])
				n.emit(gen, "rename_to", n.argv[2])
			}
		},
		"copy": func(n *notifyCtx) {
			if n.replyPositive() {
				n.emit(gen, "copy_to", n.argv[2])
			}
		},
		// Lists.
		"lpush":     ruleOne(lst, "lpush", nil),
		"rpush":     ruleOne(lst, "rpush", nil),
		"lpushx":    ruleOne(lst, "lpush", positive),
		"rpushx":    ruleOne(lst, "rpush", positive),
		"lpop":      ruleOne(lst, "lpop", notNull),
		"rpop":      ruleOne(lst, "rpop", notNull),
		"linsert":   ruleOne(lst, "linsert", positive),
		"lset":      ruleOne(lst, "lset", nil),
		"lrem":      ruleOne(lst, "lrem", positive),
		"ltrim":     ruleOne(lst, "ltrim", nil),
		"rpoplpush": ruleMove(constEvent("rpop"), constEvent("lpush")),
		"lmove":     ruleMove(dirEvent(3, "lpop", "rpop"), dirEvent(4, "lpush", "rpush")),
		// Hashes.
		"hset":         ruleOne(hsh, "hset", nil),
		"hmset":        ruleOne(hsh, "hset", nil),
		"hsetnx":       ruleOne(hsh, "hset", positive),
		"hdel":         ruleOne(hsh, "hdel", positive),
		"hincrby":      ruleOne(hsh, "hincrby", nil),
		"hincrbyfloat": ruleOne(hsh, "hincrbyfloat", nil),
		// Sets.
		"sadd": ruleOne(set, "sadd", positive),
		"srem": ruleOne(set, "srem", positive),
		"spop": ruleOne(set, "spop", notNull),
		"smove": func(n *notifyCtx) {
			if n.replyPositive() {
				n.emit(set, "srem", n.argv[1])
				if n.before[0] && !n.after[0] {
					n.emit(gen, "del", n.argv[1])
				}
				n.emit(set, "sadd", n.argv[2])
			}
		},
		"sinterstore": ruleStore(set, "sinterstore"),
		"sunionstore": ruleStore(set, "sunionstore"),
		"sdiffstore":  ruleStore(set, "sdiffstore"),
		// Sorted sets.
		"zadd":             ruleOne(zst, "zadd", notNull),
		"zincrby":          ruleOne(zst, "zincr", nil),
		"zrem":             ruleOne(zst, "zrem", positive),
		"zremrangebyscore": ruleOne(zst, "zremrangebyscore", positive),
		"zremrangebyrank":  ruleOne(zst, "zremrangebyrank", positive),
		"zremrangebylex":   ruleOne(zst, "zremrangebylex", positive),
		"zpopmin":          ruleOne(zst, "zpopmin", notNull),
		"zpopmax":          ruleOne(zst, "zpopmax", notNull),
		"zunionstore":      ruleStore(zst, "zunionstore"),
		"zinterstore":      ruleStore(zst, "zinterstore"),
		"zdiffstore":       ruleStore(zst, "zdiffstore"),
		"zrangestore":      ruleStore(zst, "zrangestore"),
	}
}
