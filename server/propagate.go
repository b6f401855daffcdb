package server

import (
	"bytes"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/cachalotdb/cachalot/store"
)

// Propagation: every change to the data reaches the AOF as the command(s)
// that reproduce it exactly, in the order the changes were applied, as Redis
// 7.0 propagates them (docs/persistence.md, "Propagation").
//
//   - A write command that changed something goes out verbatim, or in its
//     effective form when replaying it verbatim would not give the same data
//     (relative times become absolute, randomness becomes the explicit
//     removal, blocking pops become the plain pop, rate-limit decisions
//     become the bucket's new state). A write that changed nothing goes out
//     not at all. Each write row has a rule (propRules) saying which.
//   - Append is called inside the store transaction of the change, with the
//     shard locks held, so the per-key order in the file is the order of
//     application and the change carries its transaction's snapshot epoch.
//   - Keys the store deletes by itself (expiry, eviction) go out as DEL,
//     through the store's propagate hook, before the command that found them.
//   - While EXEC or a script holds the server's gate exclusively, changes
//     are buffered and go out as one Append at the end, wrapped in
//     MULTI/EXEC when there is more than one (propagator.flush).

// aofSink is what persistence.AOF provides. Append logs the commands argvs
// (each one argv, already effective) in database db, as one contiguous
// record, for the snapshot epoch epoch, and returns the sequence number a
// client waits on for durability. It must copy what it keeps: argvs may
// alias the store's memory and are valid during the call only.
type aofSink interface {
	Append(epoch uint64, db int, argvs ...[][]byte) uint64
}

// sinkRef boxes the sink for an atomic pointer.
type sinkRef struct{ aofSink }

// propagator is the server's propagation state.
type propagator struct {
	sink atomic.Pointer[sinkRef] // nil: AOF off

	// exclusive is set while EXEC or a script holds the gate exclusively;
	// it changes only under mu, so a writer that sees it set under mu
	// buffers, and one that sees it clear appends itself.
	exclusive atomic.Bool
	mu        sync.Mutex
	buf       []propOp
}

// propOp is one buffered effective command.
type propOp struct {
	epoch uint64
	db    int
	argv  [][]byte // owned copy
}

// propCall is a client's propagation state for the write command it is
// running. Only the goroutine running the command touches it.
type propCall struct {
	sink *sinkRef // loaded when the command started; nil: nothing to do
	mark int      // reply buffer length before the handler
	// changed: the handler reports it changed the data (rules propNoted,
	// and any handler's explicit effective form).
	changed bool
	// custom: the handler set the effective commands (propAs).
	custom bool
	ops    [][][]byte
	// pre holds what a rule's pre function read before the handler ran.
	pre    bool
	preLen int
	preVal [][]byte
	preAt  []int64
}

// SetAOFSink turns propagation on (sink != nil) or off. It may be called
// while serving (CONFIG SET appendonly): a command uses the sink it found
// when it started. A typed nil inside a non-nil interface is not nil.
func (s *Server) SetAOFSink(sink aofSink) {
	if sink == nil {
		s.prop.sink.Store(nil)
		return
	}
	s.prop.sink.Store(&sinkRef{sink})
}

// propBegin readies c for a write command: the one atomic load that is the
// whole cost of propagation when the AOF is off.
func (c *client) propBegin(s *Server) {
	ref := s.prop.sink.Load()
	c.prop.sink = ref
	if ref == nil {
		return
	}
	c.prop.mark = c.w.Len()
	c.prop.changed = false
	c.prop.custom = false
	clear(c.prop.ops)
	c.prop.ops = c.prop.ops[:0]
}

// propDirty tells the propagation layer that the running command changed
// the data (Redis's server.dirty++), for rows whose rule is propNoted.
func (c *client) propDirty() { c.prop.changed = true }

// propOn reports whether the running write command is being propagated; a
// handler builds an effective form only then.
func (c *client) propOn() bool { return c.prop.sink != nil }

// propAs adds one effective command for the running write command,
// replacing its verbatim argv (Redis's rewriteClientCommandVector and
// alsoPropagate). The slices must stay valid until the command's
// transaction ends.
func (c *client) propAs(argv ...[]byte) {
	if c.prop.sink == nil {
		return
	}
	c.prop.custom = true
	c.prop.changed = true
	c.prop.ops = append(c.prop.ops, argv)
}

// propKind is how a write row decides whether and what it propagates.
type propKind uint8

const (
	propAlways  propKind = iota + 1 // verbatim whenever it succeeded
	propIntPos                      // verbatim when the integer reply is > 0
	propNonNull                     // verbatim when the reply is not null or empty
	propNoted                       // verbatim when the handler called propDirty
	propCustom                      // fn builds the effective form
	propOwn                         // the handler (own locks) propagates itself
)

// propRule is a write row's propagation rule.
type propRule struct {
	kind propKind
	// pre runs inside the transaction before the handler (when propagating)
	// to record the state a rule compares against.
	pre func(c *client, tx *store.Tx, argv [][]byte)
	// fn decides for propCustom, adding the effective commands with propAs.
	fn func(c *client, tx *store.Tx, argv [][]byte, reply []byte)
}

// propRules lists every write row. TestPropRulesCoverWriteRows keeps it
// complete.
var propRules = map[string]propRule{
	// Strings.
	"set":         {kind: propCustom, pre: preExistsKey, fn: propSet},
	"setnx":       {kind: propIntPos},
	"setex":       {kind: propCustom, fn: propSetex},
	"psetex":      {kind: propCustom, fn: propSetex},
	"getset":      {kind: propCustom, fn: propGetset},
	"getdel":      {kind: propCustom, fn: propGetdel},
	"getex":       {kind: propCustom, pre: preTTL, fn: propGetex},
	"mset":        {kind: propAlways},
	"msetnx":      {kind: propIntPos},
	"append":      {kind: propAlways},
	"setrange":    {kind: propCustom, fn: propSetrange},
	"incr":        {kind: propAlways},
	"incrby":      {kind: propAlways},
	"decr":        {kind: propAlways},
	"decrby":      {kind: propAlways},
	"incrbyfloat": {kind: propCustom, fn: propIncrbyfloat},
	// Bitmaps and HyperLogLog.
	"setbit":   {kind: propNoted},
	"bitfield": {kind: propNoted},
	"bitop":    {kind: propCustom, pre: preExistsDst(2), fn: propStore},
	"pfadd":    {kind: propIntPos},
	"pfmerge":  {kind: propAlways},
	"pfdebug":  {kind: propNoted},
	// Keys.
	"del":       {kind: propIntPos},
	"unlink":    {kind: propIntPos},
	"expire":    {kind: propCustom, fn: propExpire},
	"pexpire":   {kind: propCustom, fn: propExpire},
	"expireat":  {kind: propCustom, fn: propExpire},
	"pexpireat": {kind: propCustom, fn: propExpire},
	"persist":   {kind: propIntPos},
	"rename":    {kind: propCustom, fn: propRename},
	"renamenx":  {kind: propIntPos},
	"copy":      {kind: propOwn},
	"move":      {kind: propOwn},
	"flushdb":   {kind: propOwn},
	"flushall":  {kind: propOwn},
	"swapdb":    {kind: propOwn},
	"sort":      {kind: propOwn},
	// Hashes.
	"hset":         {kind: propAlways},
	"hmset":        {kind: propAlways},
	"hsetnx":       {kind: propIntPos},
	"hdel":         {kind: propIntPos},
	"hincrby":      {kind: propAlways},
	"hincrbyfloat": {kind: propCustom, fn: propHincrbyfloat},
	// Lists.
	"lpush":      {kind: propAlways},
	"rpush":      {kind: propAlways},
	"lpushx":     {kind: propIntPos},
	"rpushx":     {kind: propIntPos},
	"lpop":       {kind: propNonNull},
	"rpop":       {kind: propNonNull},
	"linsert":    {kind: propIntPos},
	"lset":       {kind: propAlways},
	"lrem":       {kind: propIntPos},
	"ltrim":      {kind: propNoted},
	"lmove":      {kind: propNonNull},
	"rpoplpush":  {kind: propNonNull},
	"lmpop":      {kind: propCustom, fn: propMpop},
	"blmpop":     {kind: propCustom, fn: propMpop},
	"blpop":      {kind: propCustom, fn: propBpop},
	"brpop":      {kind: propCustom, fn: propBpop},
	"blmove":     {kind: propCustom, fn: propBlmove},
	"brpoplpush": {kind: propCustom, fn: propBlmove},
	// Sets.
	"sadd":        {kind: propIntPos},
	"srem":        {kind: propIntPos},
	"spop":        {kind: propCustom, fn: propSpop},
	"smove":       {kind: propCustom, fn: propSmove},
	"sinterstore": {kind: propCustom, pre: preExistsDst(1), fn: propStore},
	"sunionstore": {kind: propCustom, pre: preExistsDst(1), fn: propStore},
	"sdiffstore":  {kind: propCustom, pre: preExistsDst(1), fn: propStore},
	// Sorted sets.
	"zadd":             {kind: propNoted},
	"zincrby":          {kind: propNoted},
	"zrem":             {kind: propIntPos},
	"zremrangebyrank":  {kind: propIntPos},
	"zremrangebyscore": {kind: propIntPos},
	"zremrangebylex":   {kind: propIntPos},
	"zpopmin":          {kind: propNonNull},
	"zpopmax":          {kind: propNonNull},
	"zmpop":            {kind: propCustom, fn: propMpop},
	"bzmpop":           {kind: propCustom, fn: propMpop},
	"bzpopmin":         {kind: propCustom, fn: propBpop},
	"bzpopmax":         {kind: propCustom, fn: propBpop},
	"zunionstore":      {kind: propCustom, pre: preExistsDst(1), fn: propStore},
	"zinterstore":      {kind: propCustom, pre: preExistsDst(1), fn: propStore},
	"zdiffstore":       {kind: propCustom, pre: preExistsDst(1), fn: propStore},
	"zrangestore":      {kind: propCustom, pre: preExistsDst(1), fn: propStore},
	// Rate limits (cachalot's own): the buckets' new state, as SET or DEL,
	// so that the file loads into Redis too.
	"cl.throttle": {kind: propCustom, pre: preStringState, fn: propStringState},
	"gcra":        {kind: propCustom, pre: preStringState, fn: propStringState},
	"rl.take":     {kind: propCustom, pre: preStringState, fn: propStringState},
	"rl.mtake":    {kind: propCustom, pre: preStringState, fn: propStringState},
	"rl.refund":   {kind: propCustom, pre: preStringState, fn: propStringState},
	"rl.reset":    {kind: propCustom, pre: preStringState, fn: propStringState},
	// Function libraries (functions.go): verbatim, when they succeeded.
	"function|load":    {kind: propAlways},
	"function|delete":  {kind: propAlways},
	"function|flush":   {kind: propAlways},
	"function|restore": {kind: propAlways},
}

// attachPropRules gives every write row its rule.
func (t *commandTable) attachPropRules() {
	for _, c := range t.sorted {
		for _, sc := range append([]*command{c}, c.subs...) {
			if r, ok := propRules[sc.fullName]; ok {
				sc.prop = r
			}
		}
	}
}

// executeKeylessWrite runs a write row that names no key (FUNCTION LOAD…):
// there is no lock to hold, and the change belongs to the current epoch.
func (s *Server) executeKeylessWrite(c *client, cmd *command, argv [][]byte) error {
	if cmd.parent != nil && cmd.parent.name == "function" {
		s.aof.fnMu.RLock() // not while a rewrite copies the libraries (aof.go)
		defer s.aof.fnMu.RUnlock()
	}
	c.propBegin(s)
	err := cmd.handler(c, nil, argv)
	if c.prop.sink != nil {
		s.propagateCall(c, cmd, nil, argv, err)
	}
	return err
}

// propagateCall runs after a write handler, inside its transaction (tx is
// nil for a keyless row): it decides what the command propagates and
// appends it.
func (s *Server) propagateCall(c *client, cmd *command, tx *store.Tx, argv [][]byte, err error) {
	p := &c.prop
	if !p.custom {
		if err != nil {
			return
		}
		reply := c.w.Bytes()[p.mark:]
		switch cmd.prop.kind {
		case propAlways:
		case propIntPos:
			if n, ok := replyInt(reply); !ok || n <= 0 {
				return
			}
		case propNonNull:
			if replyEmpty(reply) {
				return
			}
		case propNoted:
			if !p.changed {
				return
			}
		case propCustom:
			if tx == nil {
				return
			}
			cmd.prop.fn(c, tx, argv, reply)
			if !p.custom {
				return
			}
		default:
			return // propOwn, or a row without a rule
		}
	}
	epoch, db := s.store.Epoch(), c.db.Index()
	if tx != nil {
		epoch, db = tx.Epoch(), tx.DB().Index()
	}
	if p.custom {
		s.emit(c, p.sink, epoch, db, p.ops...)
		return
	}
	s.emit(c, p.sink, epoch, db, argv)
}

// propagateOwn appends argv for a handler that takes its own locks (and
// for PFCOUNT, a read that updates the value's cached cardinality); call it
// with those locks held.
func (s *Server) propagateOwn(c *client, epoch uint64, db int, argv [][]byte) {
	ref := s.prop.sink.Load()
	if ref == nil {
		return
	}
	s.emit(c, ref, epoch, db, argv)
}

// propagateDel is the store's propagate hook: a key it deleted by itself
// (expiry, eviction) goes out as DEL, with the key's shard still locked.
func (s *Server) propagateDel(db *store.DB, epoch uint64, key []byte) {
	ref := s.prop.sink.Load()
	if ref == nil {
		return
	}
	s.emit(nil, ref, epoch, db.Index(), [][]byte{bDEL, key})
}

// emit appends ops (one command's effective commands) or, while EXEC or a
// script holds the gate exclusively, buffers them. More than one op goes
// out wrapped in MULTI/EXEC, as Redis 7.0's propagatePendingCommands.
func (s *Server) emit(c *client, ref *sinkRef, epoch uint64, db int, ops ...[][]byte) {
	if len(ops) == 0 {
		return
	}
	p := &s.prop
	if p.exclusive.Load() {
		p.mu.Lock()
		if p.exclusive.Load() {
			for _, op := range ops {
				p.buf = append(p.buf, propOp{epoch: epoch, db: db, argv: cloneArgv(op)})
			}
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
	}
	var seq uint64
	if len(ops) == 1 {
		seq = ref.Append(epoch, db, ops[0])
	} else {
		out := make([][][]byte, 0, len(ops)+2)
		out = append(out, argvMULTI)
		out = append(out, ops...)
		out = append(out, argvEXEC)
		seq = ref.Append(epoch, db, out...)
	}
	if c != nil && seq > c.aofSeq {
		c.aofSeq = seq
	}
}

// beginExclusiveProp starts buffering: EXEC or a script took the gate.
func (s *Server) beginExclusiveProp() {
	p := &s.prop
	p.mu.Lock()
	p.exclusive.Store(true)
	p.mu.Unlock()
}

// endExclusiveProp appends what the exclusive section changed, before the
// gate is released and before the clients it made ready are served, and
// records the sequence number on c (the EXEC or EVAL caller).
//
// Inside the section only the section's own commands run (every other
// command waits at the gate); the store's own deletions (active expiry,
// eviction) may happen meanwhile and are buffered in their place. Each op
// keeps its own transaction's epoch: a snapshot may begin during the
// section, so the buffer is split where the epoch changes, and each part
// goes out as its own record (wrapped when it holds more than one command).
func (s *Server) endExclusiveProp(c *client) {
	p := &s.prop
	p.mu.Lock()
	defer p.mu.Unlock()
	p.exclusive.Store(false)
	buf := p.buf
	p.buf = nil
	ref := p.sink.Load()
	if ref == nil || len(buf) == 0 {
		return
	}
	for len(buf) > 0 {
		n := 1
		for n < len(buf) && buf[n].epoch == buf[0].epoch {
			n++
		}
		seq := appendBlock(ref, buf[:n])
		if seq > c.aofSeq {
			c.aofSeq = seq
		}
		buf = buf[n:]
	}
}

// appendBlock appends ops of one epoch as one record: a single command as
// it is, several inside MULTI/EXEC, with SELECT where the database changes
// (the record starts in the first op's database and is brought back to it
// before EXEC, so the sink's idea of the selected database stays right).
func appendBlock(ref *sinkRef, ops []propOp) uint64 {
	if len(ops) == 1 {
		return ref.Append(ops[0].epoch, ops[0].db, ops[0].argv)
	}
	first := ops[0].db
	out := make([][][]byte, 0, len(ops)+4)
	out = append(out, argvMULTI)
	cur := first
	for _, op := range ops {
		if op.db != cur {
			out = append(out, selectArgv(op.db))
			cur = op.db
		}
		out = append(out, op.argv)
	}
	if cur != first {
		out = append(out, selectArgv(first))
	}
	out = append(out, argvEXEC)
	return ref.Append(ops[0].epoch, first, out...)
}

var (
	bDEL       = []byte("DEL")
	bSET       = []byte("SET")
	bPXAT      = []byte("PXAT")
	bKEEPTTL   = []byte("KEEPTTL")
	bPEXPIREAT = []byte("PEXPIREAT")
	bPERSIST   = []byte("PERSIST")
	bSREM      = []byte("SREM")
	bHSET      = []byte("HSET")
	argvMULTI  = [][]byte{[]byte("MULTI")}
	argvEXEC   = [][]byte{[]byte("EXEC")}
)

func selectArgv(db int) [][]byte {
	return [][]byte{[]byte("SELECT"), strconv.AppendInt(nil, int64(db), 10)}
}

func cloneArgv(argv [][]byte) [][]byte {
	n := 0
	for _, a := range argv {
		n += len(a)
	}
	flat := make([]byte, 0, n)
	out := make([][]byte, len(argv))
	for i, a := range argv {
		flat = append(flat, a...)
		out[i] = flat[len(flat)-len(a) : len(flat) : len(flat)]
	}
	return out
}

func msBytes(ms int64) []byte { return strconv.AppendInt(nil, ms, 10) }

// --- reading the reply the handler wrote ---

// replyInt reads an integer reply (":n\r\n").
func replyInt(r []byte) (int64, bool) {
	if len(r) < 4 || r[0] != ':' {
		return 0, false
	}
	end := bytes.IndexByte(r, '\r')
	if end < 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(string(r[1:end]), 10, 64)
	return n, err == nil
}

// replyEmpty reports a null (RESP2 or RESP3), an empty array or set, or an
// error: the shapes of "nothing popped / moved".
func replyEmpty(r []byte) bool {
	if len(r) == 0 {
		return true
	}
	switch r[0] {
	case '_', '-':
		return true
	case '$':
		return len(r) >= 2 && r[1] == '-'
	case '*', '~', '%':
		return len(r) >= 3 && (r[1] == '-' || (r[1] == '0' && r[2] == '\r'))
	}
	return false
}

// replyScanner walks a reply: aggregate headers and bulk strings.
type replyScanner struct {
	b  []byte
	ok bool
}

// header reads "<type><n>\r\n" and returns n (-1 for a null).
func (s *replyScanner) header() int64 {
	if !s.ok || len(s.b) < 3 {
		s.ok = false
		return 0
	}
	end := bytes.IndexByte(s.b, '\r')
	if end < 0 || s.b[0] == '_' {
		s.ok = s.ok && end >= 0
		if s.ok {
			s.b = s.b[end+2:]
		}
		return -1
	}
	n, err := strconv.ParseInt(string(s.b[1:end]), 10, 64)
	if err != nil || end+2 > len(s.b) {
		s.ok = false
		return 0
	}
	s.b = s.b[end+2:]
	return n
}

// bulk reads a bulk string.
func (s *replyScanner) bulk() []byte {
	if !s.ok || len(s.b) == 0 || s.b[0] != '$' {
		s.ok = false
		return nil
	}
	n := s.header()
	if !s.ok || n < 0 || int64(len(s.b)) < n+2 {
		s.ok = false
		return nil
	}
	v := s.b[:n:n]
	s.b = s.b[n+2:]
	return v
}

// --- pre functions ---

func preExistsKey(c *client, tx *store.Tx, argv [][]byte) {
	c.prop.pre = tx.Exists(argv[1])
}

func preExistsDst(i int) func(c *client, tx *store.Tx, argv [][]byte) {
	return func(c *client, tx *store.Tx, argv [][]byte) {
		c.prop.pre = i < len(argv) && tx.Exists(argv[i])
	}
}

func preTTL(c *client, tx *store.Tx, argv [][]byte) {
	at, ok := tx.ExpireAt(argv[1])
	c.prop.pre = ok && at != 0
}

// --- custom rules (Redis 7.0's rewrites) ---

// propSet: SET with an expire goes out as SET key value PXAT ms (NX, XX,
// GET dropped); otherwise verbatim without its GET arguments. A SET whose
// NX/XX condition failed changes nothing.
func propSet(c *client, tx *store.Tx, argv [][]byte, reply []byte) {
	o, err := parseSetOpts(argv[3:], true)
	if err != nil {
		return
	}
	if o.get {
		if (o.nx && c.prop.pre) || (o.xx && !c.prop.pre) {
			return
		}
	} else if len(reply) == 0 || reply[0] != '+' {
		return
	}
	if o.expire != nil {
		at, err := expireAtMs(o.expire, o.expKind, tx.NowMs(), "set")
		if err != nil {
			return
		}
		c.propAs(bSET, argv[1], argv[2], bPXAT, msBytes(at))
		return
	}
	if !o.get {
		c.propAs(argv...)
		return
	}
	out := make([][]byte, 0, len(argv))
	for j, a := range argv {
		if j >= 3 && equalFold(a, "get") {
			continue
		}
		out = append(out, a)
	}
	c.propAs(out...)
}

// propSetex: SETEX/PSETEX go out as SET key value PXAT ms.
func propSetex(c *client, tx *store.Tx, argv [][]byte, _ []byte) {
	kind := expEX
	if equalFold(argv[0], "psetex") {
		kind = expPX
	}
	at, err := expireAtMs(argv[2], kind, tx.NowMs(), "setex")
	if err != nil {
		return
	}
	c.propAs(bSET, argv[1], argv[3], bPXAT, msBytes(at))
}

// propGetset: GETSET goes out as SET key value.
func propGetset(c *client, _ *store.Tx, argv [][]byte, _ []byte) {
	c.propAs(bSET, argv[1], argv[2])
}

// propGetdel: a GETDEL that found the key goes out as DEL key.
func propGetdel(c *client, _ *store.Tx, argv [][]byte, reply []byte) {
	if !replyEmpty(reply) {
		c.propAs(bDEL, argv[1])
	}
}

// propGetex: GETEX with an expire goes out as PEXPIREAT key ms (DEL key when
// the time has passed), GETEX PERSIST as PERSIST key when there was a TTL;
// GETEX without options, or on a missing key, changes nothing.
func propGetex(c *client, tx *store.Tx, argv [][]byte, reply []byte) {
	if replyEmpty(reply) {
		return
	}
	o, err := parseSetOpts(argv[2:], false)
	if err != nil {
		return
	}
	switch {
	case o.expire != nil:
		if at, ok := tx.ExpireAt(argv[1]); ok {
			c.propAs(bPEXPIREAT, argv[1], msBytes(at))
		} else {
			c.propAs(bDEL, argv[1])
		}
	case o.persist && c.prop.pre:
		c.propAs(bPERSIST, argv[1])
	}
}

// propSetrange: an empty value changes nothing.
func propSetrange(c *client, _ *store.Tx, argv [][]byte, _ []byte) {
	if len(argv[3]) > 0 {
		c.propAs(argv...)
	}
}

// propIncrbyfloat: INCRBYFLOAT goes out as SET key result KEEPTTL.
func propIncrbyfloat(c *client, _ *store.Tx, argv [][]byte, reply []byte) {
	sc := replyScanner{b: reply, ok: true}
	if v := sc.bulk(); sc.ok {
		c.propAs(bSET, argv[1], v, bKEEPTTL)
	}
}

// propHincrbyfloat: HINCRBYFLOAT goes out as HSET key field result.
func propHincrbyfloat(c *client, _ *store.Tx, argv [][]byte, reply []byte) {
	sc := replyScanner{b: reply, ok: true}
	if v := sc.bulk(); sc.ok {
		c.propAs(bHSET, argv[1], argv[2], v)
	}
}

// propExpire: a successful EXPIRE, PEXPIRE or EXPIREAT goes out as PEXPIREAT
// key ms with the condition arguments kept; PEXPIREAT verbatim. A time
// already past deleted the key: DEL key.
func propExpire(c *client, tx *store.Tx, argv [][]byte, reply []byte) {
	if n, ok := replyInt(reply); !ok || n != 1 {
		return
	}
	at, ok := tx.ExpireAt(argv[1])
	if !ok {
		c.propAs(bDEL, argv[1])
		return
	}
	if equalFold(argv[0], "pexpireat") {
		c.propAs(argv...)
		return
	}
	out := make([][]byte, len(argv))
	copy(out, argv)
	out[0] = bPEXPIREAT
	out[2] = msBytes(at)
	c.propAs(out...)
}

// propRename: renaming a key to itself changes nothing.
func propRename(c *client, _ *store.Tx, argv [][]byte, _ []byte) {
	if !bytes.Equal(argv[1], argv[2]) {
		c.propAs(argv...)
	}
}

// propSmove: moving a member to its own set changes nothing.
func propSmove(c *client, _ *store.Tx, argv [][]byte, reply []byte) {
	if n, ok := replyInt(reply); ok && n > 0 && !bytes.Equal(argv[1], argv[2]) {
		c.propAs(argv...)
	}
}

// propStore: a *STORE command changes the destination unless the result is
// empty and the destination did not exist.
func propStore(c *client, _ *store.Tx, argv [][]byte, reply []byte) {
	n, ok := replyInt(reply)
	if ok && (n > 0 || c.prop.pre) {
		c.propAs(argv...)
	}
}

// propSpop: SPOP goes out as SREM key member, one SREM per member for SPOP
// key count (wrapped in MULTI/EXEC when more than one), or DEL key when the
// count took the whole set, as Redis 7.0 does.
func propSpop(c *client, tx *store.Tx, argv [][]byte, reply []byte) {
	sc := replyScanner{b: reply, ok: true}
	if len(argv) == 2 {
		if m := sc.bulk(); sc.ok {
			c.propAs(bSREM, argv[1], m)
		}
		return
	}
	n := sc.header()
	if !sc.ok || n <= 0 {
		return
	}
	if !tx.Exists(argv[1]) {
		c.propAs(bDEL, argv[1])
		return
	}
	for i := int64(0); i < n; i++ {
		m := sc.bulk()
		if !sc.ok {
			return
		}
		c.propAs(bSREM, argv[1], m)
	}
}

// propBpop: BLPOP/BRPOP go out as LPOP/RPOP key, BZPOPMIN/BZPOPMAX as
// ZPOPMIN/ZPOPMAX key, for the key that was served.
func propBpop(c *client, _ *store.Tx, argv [][]byte, reply []byte) {
	sc := replyScanner{b: reply, ok: true}
	if sc.header() <= 0 {
		return
	}
	key := sc.bulk()
	if !sc.ok {
		return
	}
	var name string
	switch {
	case equalFold(argv[0], "blpop"):
		name = "LPOP"
	case equalFold(argv[0], "brpop"):
		name = "RPOP"
	case equalFold(argv[0], "bzpopmin"):
		name = "ZPOPMIN"
	default:
		name = "ZPOPMAX"
	}
	c.propAs([]byte(name), key)
}

// propBlmove: BLMOVE goes out as LMOVE, BRPOPLPUSH as RPOPLPUSH, when an
// element moved.
func propBlmove(c *client, _ *store.Tx, argv [][]byte, reply []byte) {
	if replyEmpty(reply) {
		return
	}
	if equalFold(argv[0], "brpoplpush") {
		c.propAs([]byte("RPOPLPUSH"), argv[1], argv[2])
		return
	}
	c.propAs([]byte("LMOVE"), argv[1], argv[2], argv[3], argv[4])
}

// propMpop: LMPOP/BLMPOP go out as LPOP/RPOP key count, ZMPOP/BZMPOP as
// ZPOPMIN/ZPOPMAX key count, with the key served and the count popped.
func propMpop(c *client, _ *store.Tx, argv [][]byte, reply []byte) {
	sc := replyScanner{b: reply, ok: true}
	if sc.header() <= 0 {
		return
	}
	key := sc.bulk()
	n := sc.header()
	if !sc.ok || n <= 0 {
		return
	}
	numIdx := 1
	if equalFold(argv[0], "blmpop") || equalFold(argv[0], "bzmpop") {
		numIdx = 2
	}
	numkeys, err := parseInt(argv[numIdx])
	if err != nil || numIdx+1+int(numkeys) >= len(argv) {
		return
	}
	where := argv[numIdx+1+int(numkeys)]
	var name string
	switch {
	case equalFold(where, "left"):
		name = "LPOP"
	case equalFold(where, "right"):
		name = "RPOP"
	case equalFold(where, "min"):
		name = "ZPOPMIN"
	default:
		name = "ZPOPMAX"
	}
	c.propAs([]byte(name), key, strconv.AppendInt(nil, n, 10))
}

// preStringState records the value and expiry of each key a rate-limit
// command may write.
func preStringState(c *client, tx *store.Tx, argv [][]byte) {
	p := &c.prop
	p.preVal = p.preVal[:0]
	p.preAt = p.preAt[:0]
	var buf [8]int
	cmd := c.srv.table.lookup(argv[0])
	if cmd == nil {
		return
	}
	for _, i := range cmd.keyPositions(argv, buf[:0]) {
		var v []byte
		if val, ok, err := tx.PeekString(argv[i]); err == nil && ok {
			v = append([]byte{}, val...)
		}
		at, _ := tx.ExpireAt(argv[i])
		p.preVal = append(p.preVal, v)
		p.preAt = append(p.preAt, at)
	}
}

// propStringState: a rate-limit decision goes out as the new state of each
// bucket it changed: SET key state PXAT ms (or without PXAT when the state
// has no expiry), or DEL key when the bucket was deleted. A decision that
// changed no state propagates nothing.
func propStringState(c *client, tx *store.Tx, argv [][]byte, _ []byte) {
	if !tx.Dirty() {
		return
	}
	var buf [8]int
	cmd := c.srv.table.lookup(argv[0])
	if cmd == nil {
		return
	}
	p := &c.prop
	pos := cmd.keyPositions(argv, buf[:0])
next:
	for j, i := range pos {
		if j >= len(p.preVal) {
			return
		}
		key := argv[i]
		for _, k := range pos[:j] {
			if bytes.Equal(argv[k], key) {
				continue next // RL.MTAKE may name a bucket twice
			}
		}
		val, ok, err := tx.PeekString(key)
		if err != nil {
			continue
		}
		at, _ := tx.ExpireAt(key)
		before := p.preVal[j]
		switch {
		case !ok && before == nil:
		case !ok:
			c.propAs(bDEL, key)
		case before != nil && bytes.Equal(before, val) && p.preAt[j] == at:
		case at != 0:
			c.propAs(bSET, key, val, bPXAT, msBytes(at))
		default:
			c.propAs(bSET, key, val)
		}
	}
}
