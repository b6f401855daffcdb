package server

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cachalotdb/cachalot/store"
)

// Server-assisted client-side caching (CLIENT TRACKING).
//
// A tracking client's reads (readonly commands) record their keys in the
// server's tracking table, key name -> client ids, as Redis's global
// TrackingTable (not per database). A successful write command, an expiry
// (the store's expired hook) or FLUSHALL/FLUSHDB invalidates: each client
// that had read the key gets ["invalidate", [key]] (RESP3 push), or, with
// REDIRECT, its redirect target gets it (a RESP2 target only while it is
// subscribed, as the message on __redis__:invalidate), and the entry goes.
// BCAST clients register prefixes instead and hear about every write to a
// key that starts with one: as in Redis, the keys written are collected per
// prefix and sent as one message per prefix (keys in byte order) when a
// client finishes its batch of pipelined commands (where Redis's event loop
// would reach beforeSleep) or at the next background tick (expiry and
// eviction), see flushBroadcasts. Delivery goes through the target's push
// queue (pubsub.go), so a client's own invalidations come after its reply.
// When a REDIRECT target has gone, the tracking client (RESP3) is told with
// a tracking-redir-broken push each time an invalidation is due.
// Invalidation is per write command, not per modified key: apart from the
// cases writeChangedNothing recognises, a write that changed nothing still
// invalidates its keys, which only costs the client a refetch.

// trackState is one client's CLIENT TRACKING settings. mu guards the fields
// other goroutines read (on, noloop, redirect); caching and depth belong to
// the client's goroutine.
type trackState struct {
	mu       sync.Mutex
	on       bool
	bcast    bool
	optin    bool
	optout   bool
	noloop   bool
	broken   bool // an invalidation found the redirect target gone
	redirect int64
	prefixes []string

	caching int8 // CLIENT CACHING for the next command: 1 yes, -1 no
	depth   int  // nesting of call (EXEC runs its commands inside its own)
}

// trackingTable is the server's record of who may cache what.
type trackingTable struct {
	n     atomic.Int32 // clients with tracking on
	mu    sync.Mutex
	keys  map[string]map[int64]struct{}
	bcast map[string]*bcastState // prefix -> its clients and pending keys
	// bcastPending: some prefix has keys waiting for flushBroadcasts.
	bcastPending atomic.Bool
}

// bcastState is one BCAST prefix: its clients and the keys written since
// the last flush, each with the id of the client that wrote it last (0 for
// expiry and eviction), for NOLOOP.
type bcastState struct {
	clients map[int64]struct{}
	keys    map[string]int64
}

func (t *trackingTable) lazyInit() {
	if t.keys == nil {
		t.keys = make(map[string]map[int64]struct{})
		t.bcast = make(map[string]*bcastState)
	}
}

var (
	trackingChannel  = []byte("__redis__:invalidate")
	errTrackingRedir = respError("ERR The client ID you want redirect to does not exist")
)

// tracking returns the server's tracking table.
func (s *Server) tracking() *trackingTable { return &s.trackTable }

func (c *client) tracking() *trackState {
	if t := c.trk.Load(); t != nil {
		return t
	}
	t := &trackState{}
	c.trk.Store(t)
	return t
}

// trackingListInfo is CLIENT LIST's view: the flags (t, R, B) and redir.
func (c *client) trackingListInfo() (flags []byte, redir int64) {
	t := c.trk.Load()
	if t == nil {
		return nil, -1
	}
	t.mu.Lock()
	on, bcast, broken, redirect := t.on, t.bcast, t.broken, t.redirect
	t.mu.Unlock()
	if !on {
		return nil, -1
	}
	flags = append(flags, 't')
	if broken {
		flags = append(flags, 'R')
	}
	if bcast {
		flags = append(flags, 'B')
	}
	return flags, redirect
}

// cmdClientTracking is CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p]…
// [BCAST] [OPTIN] [OPTOUT] [NOLOOP].
func cmdClientTracking(c *client, _ *store.Tx, argv [][]byte) error {
	var on bool
	switch {
	case equalFold(argv[2], "on"):
		on = true
	case equalFold(argv[2], "off"):
	default:
		return errSyntax
	}
	var bcast, optin, optout, noloop bool
	var redirect int64
	var prefixes []string
	for i := 3; i < len(argv); i++ {
		more := i+1 < len(argv)
		switch {
		case equalFold(argv[i], "redirect") && more:
			i++
			if redirect != 0 {
				return respError("ERR A client can only redirect to a single other client")
			}
			id, err := parseInt(argv[i])
			if err != nil {
				return err
			}
			if id != c.id {
				target := c.srv.clientByID(id)
				if target == nil {
					return errTrackingRedir
				}
				c.srv.makePushTarget(target) // netloop_linux.go
			}
			redirect = id
		case equalFold(argv[i], "bcast"):
			bcast = true
		case equalFold(argv[i], "optin"):
			optin = true
		case equalFold(argv[i], "optout"):
			optout = true
		case equalFold(argv[i], "noloop"):
			noloop = true
		case equalFold(argv[i], "prefix") && more:
			i++
			prefixes = append(prefixes, string(argv[i]))
		default:
			return errSyntax
		}
	}
	t := c.tracking()
	tt := c.srv.tracking()
	if !on {
		c.trackingOff()
		c.w.OK()
		return nil
	}
	if !bcast && len(prefixes) > 0 {
		return respError("ERR PREFIX option requires BCAST mode to be enabled")
	}
	if t.on && t.bcast != bcast {
		return respError("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.")
	}
	if optin && optout {
		return respError("ERR You can't specify both OPTIN mode and OPTOUT mode")
	}
	if (optin || optout) && bcast {
		return respError("ERR OPTIN and OPTOUT are not compatible with BCAST")
	}
	if t.on && ((optin && t.optout) || (optout && t.optin)) {
		return respError("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.")
	}
	if bcast {
		if err := checkPrefixCollisions(c, t, prefixes); err != nil {
			return err
		}
	}
	if bcast && len(prefixes) == 0 {
		prefixes = []string{""}
	}
	if c.w.proto == 3 {
		c.enablePush()
	}
	t.mu.Lock()
	wasOn := t.on
	t.on, t.bcast, t.optin, t.optout, t.noloop, t.redirect = true, bcast, optin, optout, noloop, redirect
	t.broken = false
	for _, p := range prefixes {
		if !containsString(t.prefixes, p) {
			t.prefixes = append(t.prefixes, p)
		}
	}
	t.mu.Unlock()
	t.caching = 0
	if !wasOn {
		tt.n.Add(1)
	}
	if bcast {
		tt.mu.Lock()
		tt.lazyInit()
		for _, p := range prefixes {
			bs := tt.bcast[p]
			if bs == nil {
				bs = &bcastState{clients: make(map[int64]struct{}), keys: make(map[string]int64)}
				tt.bcast[p] = bs
			}
			bs.clients[c.id] = struct{}{}
		}
		tt.mu.Unlock()
	}
	c.w.OK()
	return nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// trackingOff disables tracking (CLIENT TRACKING OFF, RESET, disconnect).
func (c *client) trackingOff() {
	t := c.trk.Load()
	if t == nil {
		return
	}
	t.mu.Lock()
	wasOn := t.on
	prefixes := t.prefixes
	t.on, t.bcast, t.optin, t.optout, t.noloop, t.redirect, t.prefixes = false, false, false, false, false, 0, nil
	t.broken = false
	t.mu.Unlock()
	t.caching = 0
	if !wasOn {
		return
	}
	tt := c.srv.tracking()
	tt.n.Add(-1)
	if len(prefixes) > 0 {
		tt.mu.Lock()
		for _, p := range prefixes {
			if bs := tt.bcast[p]; bs != nil {
				delete(bs.clients, c.id)
				if len(bs.clients) == 0 {
					delete(tt.bcast, p)
				}
			}
		}
		tt.mu.Unlock()
	}
}

// cmdClientCaching is CLIENT CACHING YES|NO.
func clientCaching(c *client, argv [][]byte) error {
	t := c.trk.Load()
	if t == nil || !t.on || (!t.optin && !t.optout) {
		return errCachingNoTracking
	}
	switch {
	case equalFold(argv[2], "yes"):
		if !t.optin {
			return respError("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
		}
		t.caching = 1
	case equalFold(argv[2], "no"):
		if !t.optout {
			return respError("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
		}
		t.caching = -1
	default:
		return errSyntax
	}
	c.w.OK()
	return nil
}

// clientGetredir is CLIENT GETREDIR.
func clientGetredir(c *client) error {
	t := c.trk.Load()
	if t == nil || !t.on {
		c.w.Int(-1)
		return nil
	}
	c.w.Int(t.redirect)
	return nil
}

// clientTrackinginfo is CLIENT TRACKINGINFO.
func clientTrackinginfo(c *client) error {
	t := c.trk.Load()
	if t == nil {
		t = &trackState{}
	}
	flags := []string{"off"}
	if t.on {
		flags = []string{"on"}
		if t.bcast {
			flags = append(flags, "bcast")
		}
		if t.optin {
			flags = append(flags, "optin")
			if t.caching == 1 {
				flags = append(flags, "caching-yes")
			}
		}
		if t.optout {
			flags = append(flags, "optout")
			if t.caching == -1 {
				flags = append(flags, "caching-no")
			}
		}
		if t.noloop {
			flags = append(flags, "noloop")
		}
		if t.broken {
			flags = append(flags, "broken_redirect")
		}
	}
	c.w.Map(3)
	c.w.BulkString("flags")
	c.w.Set(len(flags))
	for _, f := range flags {
		c.w.BulkString(f)
	}
	c.w.BulkString("redirect")
	if t.on {
		c.w.Int(t.redirect)
	} else {
		c.w.Int(-1)
	}
	c.w.BulkString("prefixes")
	prefixes := slices.Clone(t.prefixes)
	slices.Sort(prefixes) // Redis keeps them in a radix tree
	c.w.Array(len(prefixes))
	for _, p := range prefixes {
		c.w.BulkString(p)
	}
	return nil
}

// trackBefore notes a call's nesting for the CLIENT CACHING flag.
func (c *client) trackBefore() {
	if t := c.trk.Load(); t != nil {
		t.depth++
	}
}

// trackAfter records a tracking client's reads and invalidates what a
// write changed. It runs after every call.
func (s *Server) trackAfter(c *client, cmd *command, argv [][]byte, reply []byte, err error) {
	t := c.trk.Load()
	if t != nil {
		t.depth--
	}
	tt := s.tracking()
	if tt.n.Load() == 0 {
		if t != nil && t.depth <= 0 {
			t.caching = 0
		}
		return
	}
	if err == nil {
		switch {
		case cmd.fullName == "flushall" || cmd.fullName == "flushdb":
			s.trackingFlush(c)
		case cmd.has(flagWrite) && !writeChangedNothing(cmd, argv, reply):
			var posBuf [8]int
			for _, p := range cmd.keyPositions(argv, posBuf[:0]) {
				s.invalidateKey(c, argv[p])
			}
		case cmd.has(flagReadonly) && t != nil && t.on && !t.bcast:
			if (t.optin && t.caching != 1) || (t.optout && t.caching == -1) {
				break
			}
			var posBuf [8]int
			pos := cmd.keyPositions(argv, posBuf[:0])
			if len(pos) > 0 {
				tt.mu.Lock()
				tt.lazyInit()
				for _, p := range pos {
					set := tt.keys[string(argv[p])]
					if set == nil {
						set = make(map[int64]struct{})
						tt.keys[string(argv[p])] = set
					}
					set[c.id] = struct{}{}
				}
				over := s.trackingOverflow(tt)
				tt.mu.Unlock()
				for _, k := range over {
					s.sendForgotten(k)
				}
			}
		}
	}
	// As Redis's resetClient: any CLIENT subcommand, and MULTI, keep the
	// CLIENT CACHING flag for the command after them.
	if t != nil && t.depth <= 0 && !strings.HasPrefix(cmd.fullName, "client|") && cmd.fullName != "multi" {
		t.caching = 0
	}
}

// trackingInvalidate is the expiry path: no client caused it.
func (s *Server) trackingInvalidate(_ *store.DB, key []byte) {
	if s.tracking().n.Load() == 0 {
		return
	}
	s.invalidateKey(nil, key)
}

// invalidateKey tells every client that may cache key that it changed.
func (s *Server) invalidateKey(from *client, key []byte) {
	tt := s.tracking()
	var ids []int64
	tt.mu.Lock()
	if set := tt.keys[string(key)]; set != nil {
		for id := range set {
			ids = append(ids, id)
		}
		delete(tt.keys, string(key))
	}
	if len(tt.bcast) > 0 {
		var writer int64
		if from != nil {
			writer = from.id
		}
		for p, bs := range tt.bcast {
			if strings.HasPrefix(string(key), p) {
				bs.keys[string(key)] = writer
				tt.bcastPending.Store(true)
			}
		}
	}
	tt.mu.Unlock()
	for _, id := range ids {
		if tc := s.clientByID(id); tc != nil {
			s.sendInvalidation(from, tc, key)
		}
	}
}

// trackingFlush sends the null invalidation to every tracking client and
// empties the table (FLUSHALL, FLUSHDB).
func (s *Server) trackingFlush(from *client) {
	tt := s.tracking()
	tt.mu.Lock()
	tt.keys = make(map[string]map[int64]struct{})
	tt.mu.Unlock()
	for _, tc := range s.snapshotClients() {
		s.sendInvalidation(from, tc, nil)
	}
}

// sendInvalidation delivers one invalidation for tracker (key nil: flush).
func (s *Server) sendInvalidation(from, tracker *client, key []byte) {
	if key == nil {
		s.sendTracking(from, tracker, nil)
		return
	}
	s.sendTracking(from, tracker, [][]byte{key})
}

// sendTracking delivers ["invalidate", keys] for tracker (keys nil: the
// flush message, a null), to the tracker or its redirect target, as Redis's
// sendTrackingMessage.
func (s *Server) sendTracking(from, tracker *client, keys [][]byte) {
	t := tracker.trk.Load()
	if t == nil {
		return
	}
	t.mu.Lock()
	on, noloop, redirect := t.on, t.noloop, t.redirect
	t.mu.Unlock()
	if !on || (noloop && tracker == from) {
		return
	}
	target := tracker
	if redirect != 0 && redirect != tracker.id {
		target = s.clientByID(redirect)
		if target == nil {
			s.redirBroken(tracker, t, redirect)
			return
		}
	}
	p := target.push.Load()
	if p == nil || target.killed.Load() {
		return
	}
	target.mu.Lock()
	proto := target.proto
	target.mu.Unlock()
	w := Writer{proto: proto}
	switch {
	case proto == 3:
		w.Push(2)
		w.BulkString("invalidate")
	case target != tracker && p.all.Load() > 0:
		w.Push(3)
		w.BulkString("message")
		w.Bulk(trackingChannel)
	default:
		return // RESP2 without a subscribed redirect target: nowhere to say it
	}
	if keys == nil {
		w.Null()
	} else {
		w.Array(len(keys))
		for _, k := range keys {
			w.Bulk(k)
		}
	}
	p.enqueue(w.buf)
}

// redirBroken notes that tracker's redirect target has gone and, for a
// RESP3 tracker, says so: ["tracking-redir-broken", id].
func (s *Server) redirBroken(tracker *client, t *trackState, redirect int64) {
	t.mu.Lock()
	t.broken = true
	t.mu.Unlock()
	tracker.mu.Lock()
	proto := tracker.proto
	tracker.mu.Unlock()
	p := tracker.push.Load()
	if proto != 3 || p == nil || tracker.killed.Load() {
		return
	}
	w := Writer{proto: 3}
	w.Push(2)
	w.BulkString("tracking-redir-broken")
	w.Int(redirect)
	p.enqueue(w.buf)
}

// flushBroadcasts sends the keys collected for each BCAST prefix since the
// last flush: one message per prefix and client, keys in byte order, a
// NOLOOP client's own writes left out (Redis's
// trackingBroadcastInvalidationMessages). It costs one atomic load when
// nothing is pending.
func (s *Server) flushBroadcasts() {
	tt := s.tracking()
	if !tt.bcastPending.Load() {
		return
	}
	type batch struct {
		keys    []string
		writers []int64
		clients []int64
	}
	var batches []batch
	tt.mu.Lock()
	tt.bcastPending.Store(false)
	prefixes := make([]string, 0, len(tt.bcast))
	for p, bs := range tt.bcast {
		if len(bs.keys) > 0 {
			prefixes = append(prefixes, p)
		}
	}
	slices.Sort(prefixes) // Redis walks its prefix table in byte order
	for _, p := range prefixes {
		bs := tt.bcast[p]
		b := batch{keys: make([]string, 0, len(bs.keys))}
		for k := range bs.keys {
			b.keys = append(b.keys, k)
		}
		slices.Sort(b.keys)
		for _, k := range b.keys {
			b.writers = append(b.writers, bs.keys[k])
		}
		for id := range bs.clients {
			b.clients = append(b.clients, id)
		}
		clear(bs.keys)
		batches = append(batches, b)
	}
	tt.mu.Unlock()
	for _, b := range batches {
		all := make([][]byte, len(b.keys))
		for i, k := range b.keys {
			all[i] = []byte(k)
		}
		for _, id := range b.clients {
			tc := s.clientByID(id)
			if tc == nil {
				continue
			}
			keys := all
			if t := tc.trk.Load(); t != nil {
				t.mu.Lock()
				noloop := t.noloop
				t.mu.Unlock()
				if noloop {
					keys = nil
					for i, k := range all {
						if b.writers[i] != id {
							keys = append(keys, k)
						}
					}
					if len(keys) == 0 {
						continue
					}
				}
			}
			s.sendTracking(nil, tc, keys)
		}
	}
}

// checkPrefixCollisions refuses BCAST prefixes that overlap (one is a
// prefix of the other) with the client's prefixes or with each other, with
// Redis 7.0's errors. Redis reports an overlap among the new prefixes found
// after the first one and then goes on to enable tracking anyway, so the
// client gets the error and then +OK: reproduced here.
func checkPrefixCollisions(c *client, t *trackState, prefixes []string) error {
	overlap := func(a, b string) bool {
		n := min(len(a), len(b))
		return a[:n] == b[:n]
	}
	t.mu.Lock()
	existing := slices.Clone(t.prefixes)
	t.mu.Unlock()
	slices.Sort(existing)
	for i, p := range prefixes {
		for _, e := range existing {
			if overlap(e, p) {
				return respError(sanitize("ERR Prefix '" + p + "' overlaps with an existing prefix '" + e +
					"'. Prefixes for a single client must not overlap."))
			}
		}
		for _, q := range prefixes[i+1:] {
			if overlap(p, q) {
				err := respError(sanitize("ERR Prefix '" + p + "' overlaps with another provided prefix '" + q +
					"'. Prefixes for a single client must not overlap."))
				if i == 0 {
					return err
				}
				c.w.Error(err)
				c.srv.countError(err)
				return nil
			}
		}
	}
	return nil
}

// pushInfo is INFO's pub/sub and tracking figures.
func (s *Server) pushInfo() (channels, patterns, shards, trackKeys, trackItems, trackPrefixes int64) {
	h := &s.pubsub
	h.mu.RLock()
	channels, patterns, shards = int64(len(h.channels)), int64(len(h.patterns)), int64(len(h.shards))
	h.mu.RUnlock()
	tt := s.tracking()
	tt.mu.Lock()
	trackKeys = int64(len(tt.keys))
	for _, set := range tt.keys {
		trackItems += int64(len(set))
	}
	trackPrefixes = int64(len(tt.bcast))
	tt.mu.Unlock()
	return
}

// trackedKey is a key the table forgot, with the clients that had it.
type trackedKey struct {
	key []byte
	ids []int64
}

// trackingOverflow drops entries while the table holds more keys than
// tracking-table-max-keys (map order stands in for Redis's random pick).
// tt.mu is held.
func (s *Server) trackingOverflow(tt *trackingTable) []trackedKey {
	max := s.Config().TrackingTableMaxKeys
	if max <= 0 || int64(len(tt.keys)) <= max {
		return nil
	}
	var out []trackedKey
	for k, set := range tt.keys {
		if int64(len(tt.keys)) <= max {
			break
		}
		tk := trackedKey{key: []byte(k)}
		for id := range set {
			tk.ids = append(tk.ids, id)
		}
		delete(tt.keys, k)
		out = append(out, tk)
	}
	return out
}

// sendForgotten invalidates a key the table dropped, as Redis does.
func (s *Server) sendForgotten(k trackedKey) {
	for _, id := range k.ids {
		if tc := s.clientByID(id); tc != nil {
			s.sendInvalidation(nil, tc, k.key)
		}
	}
}

// writeChangedNothing recognises the commonest writes whose reply shows
// they modified nothing, which therefore invalidate nothing: a DEL or
// UNLINK that deleted no key, a SET (without GET) whose NX/XX condition
// failed.
func writeChangedNothing(cmd *command, argv [][]byte, reply []byte) bool {
	switch cmd.fullName {
	case "del", "unlink":
		return string(reply) == ":0\r\n"
	case "set":
		return (string(reply) == "$-1\r\n" || string(reply) == "_\r\n") && !hasArg(argv, 3, "get")
	}
	return false
}
