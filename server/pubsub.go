package server

import (
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cachalotdb/cachalot/config"
)

// Pub/sub and other push traffic (keyspace notifications, tracking
// invalidations).
//
// Delivery to another client never touches that client's Writer: each
// client that can receive pushes owns a pushState, an outbound queue of
// encoded frames (guarded by qmu, never held during I/O) plus a write mutex
// (wmu) that serialises every write to the connection. Publishers only
// append to the queue and wake the client's pusher goroutine, so PUBLISH
// never blocks on a slow subscriber and holds no store lock.
//
// The pusher writes the queue to the socket only while the client is idle
// (blocked reading its next request, with no unflushed replies). While the
// client runs commands its own flush writes its replies and then drains
// the queue, under wmu. Frames and replies therefore never interleave
// mid-frame, a frame queued before a reply was produced is sent before it
// or right after it, and frames from one publisher keep their order (one
// FIFO queue, drained only under wmu).
//
// The queue is capped by client-output-buffer-limit, class pubsub for a
// client with subscriptions and normal otherwise (Redis's getClientType):
// past the hard limit, or past the soft limit for longer than its seconds,
// the client is disconnected, as Redis does. The reply buffer counts too,
// beyond its first 16 KiB (Redis's static buffer, which its limit ignores):
// checked after each command against the hard limit only, since replies
// never outlive the batch they answer (see checkOutputLimit).

// pushState is a client's push machinery and subscriptions.
type pushState struct {
	c *client

	wmu sync.Mutex // serialises writes to c.conn once push is enabled

	qmu       sync.Mutex
	queue     []byte
	idle      bool      // the client waits for input with nothing unflushed
	softSince time.Time // when the queue first went over the soft limit
	inflight  int       // bytes taken from the queue and being written: they count toward the limit

	wake    chan struct{}
	done    chan struct{}
	started atomic.Bool // the pusher goroutine runs
	// overflow: the client was cut at the output limit; when its pusher
	// ends, the memory its queue held is handed back to the OS.
	overflow atomic.Bool

	// Subscriptions, under the hub's mu. n counts channels and patterns
	// (Redis's clientSubscriptionsCount); all also counts shard channels
	// and decides RESP2 subscribe mode.
	channels map[string]struct{}
	patterns map[string]struct{}
	shards   map[string]struct{}
	n, all   atomic.Int32
}

// enablePush gives c its push state (SUBSCRIBE, CLIENT TRACKING, HELLO 3);
// the pusher goroutine starts with the first queued frame. c's own
// goroutine calls it, or makePushTarget for a client an event loop serves.
func (c *client) enablePush() *pushState {
	if p := c.push.Load(); p != nil {
		return p
	}
	p := &pushState{
		c:        c,
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		channels: make(map[string]struct{}),
		patterns: make(map[string]struct{}),
		shards:   make(map[string]struct{}),
	}
	if !c.push.CompareAndSwap(nil, p) {
		return c.push.Load() // makePushTarget got there first
	}
	return p
}

// subscribeMode reports whether c is a RESP2 client in subscribe mode.
func (c *client) subscribeMode() bool {
	p := c.push.Load()
	return p != nil && c.w.proto == 2 && p.all.Load() > 0
}

// enqueue appends a frame for the client, enforcing the output limit.
func (p *pushState) enqueue(frame []byte) {
	lim := p.c.outputLimit()
	p.qmu.Lock()
	p.queue = append(p.queue, frame...)
	n := int64(len(p.queue) + p.inflight)
	kill := false
	switch {
	case lim.hard > 0 && n > lim.hard:
		kill = true
	case lim.soft > 0 && n > lim.soft:
		now := time.Now()
		if p.softSince.IsZero() {
			p.softSince = now
		} else if now.Sub(p.softSince) > lim.secs {
			kill = true
		}
	default:
		p.softSince = time.Time{}
	}
	if kill {
		p.queue = nil
		p.overflow.Store(true)
	}
	p.qmu.Unlock()
	if kill {
		p.c.srv.log.Warn("client scheduled to be closed for overcoming of output buffer limits",
			"client_id", p.c.id, "addr", p.c.addr, "class", lim.class)
		p.c.kill()
		return
	}
	if p.started.CompareAndSwap(false, true) {
		go p.run() // the pusher starts with the first frame
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// run writes queued frames while the client is idle, until it goes away.
func (p *pushState) run() {
	defer func() {
		if p.overflow.Load() {
			releaseMemory()
		}
	}()
	for {
		select {
		case <-p.done:
			return
		case <-p.wake:
		}
		p.wmu.Lock()
		p.qmu.Lock()
		var out []byte
		if p.idle && len(p.queue) > 0 {
			out = p.queue
			p.queue = nil
			p.inflight = len(out)
		}
		p.qmu.Unlock()
		if len(out) > 0 {
			_, err := p.c.conn.Write(out)
			p.qmu.Lock()
			p.inflight = 0
			p.qmu.Unlock()
			if err != nil {
				p.wmu.Unlock()
				p.c.kill()
				return
			}
			p.c.srv.stats.netOutputBytes.Add(int64(len(out)))
		}
		p.wmu.Unlock()
	}
}

// flushPush writes the client's replies and then its queued frames, under
// wmu. With idle set the client is about to wait for input, so later
// frames go straight out through the pusher.
func (p *pushState) flushPush(idle bool) error {
	c := p.c
	p.wmu.Lock()
	defer p.wmu.Unlock()
	var err error
	if c.w.Len() > 0 {
		_, err = c.conn.Write(c.w.Bytes())
		c.srv.stats.netOutputBytes.Add(int64(c.w.Len()))
		c.w.Reset()
		if cap(c.w.buf) > 1<<20 {
			c.w.buf = nil
		}
	}
	for err == nil {
		p.qmu.Lock()
		out := p.queue
		p.queue = nil
		if len(out) == 0 {
			p.softSince = time.Time{}
			if idle {
				p.idle = true
			}
			p.qmu.Unlock()
			break
		}
		p.inflight = len(out)
		p.qmu.Unlock()
		_, err = c.conn.Write(out)
		p.qmu.Lock()
		p.inflight = 0
		p.qmu.Unlock()
		c.srv.stats.netOutputBytes.Add(int64(len(out)))
	}
	return err
}

// lastRelease rate-limits releaseMemory.
var lastRelease atomic.Int64

// releaseMemory returns freed heap to the OS after a subscriber was cut at
// its output limit, so a burst of backlog doesn't stay in the RSS. It runs
// at most once every 10 seconds.
func releaseMemory() {
	now := time.Now().UnixNano()
	last := lastRelease.Load()
	if now-last < int64(10*time.Second) || !lastRelease.CompareAndSwap(last, now) {
		return
	}
	debug.FreeOSMemory()
}

// busy marks the client as running commands: frames wait for its flush.
func (p *pushState) busy() {
	p.qmu.Lock()
	p.idle = false
	p.qmu.Unlock()
}

// pushBefore runs before the client's goroutine reads its next request.
func (c *client) pushBeforeRead() error {
	if p := c.push.Load(); p != nil {
		return p.flushPush(true)
	}
	return nil
}

// pushAfterRead runs when a request has arrived.
func (c *client) pushAfterRead() {
	if p := c.push.Load(); p != nil {
		p.busy()
	}
}

// outLimit is one class of client-output-buffer-limit.
type outLimit struct {
	class      string
	hard, soft int64
	secs       time.Duration
}

// outLimits are the classes in force, parsed once per configuration.
type outLimits struct {
	normal, pubsub outLimit
}

// applyOutputLimits parses client-output-buffer-limit for the clients.
func (s *Server) applyOutputLimits(cfg *config.Config) {
	s.outLimits.Store(&outLimits{
		normal: parseOutLimit(cfg, "normal", outLimit{class: "normal"}),
		pubsub: parseOutLimit(cfg, "pubsub", outLimit{class: "pubsub", hard: 32 << 20, soft: 8 << 20, secs: 60 * time.Second}),
	})
}

// outputLimit is the limit of c's class: pubsub while it has
// subscriptions, normal otherwise.
func (c *client) outputLimit() outLimit {
	l := c.srv.outLimits.Load()
	if l == nil {
		return outLimit{class: "normal"}
	}
	if p := c.push.Load(); p != nil && p.all.Load() > 0 {
		return l.pubsub
	}
	return l.normal
}

// replyStaticBuffer is the part of the reply buffer output limits ignore,
// as Redis's client static buffer.
const replyStaticBuffer = 16 << 10

// checkOutputLimit disconnects c, dropping its replies, when they and its
// queued pushes exceed the hard limit of its class. It runs after each
// command; with no hard limit it costs a load and a comparison.
func (c *client) checkOutputLimit() bool {
	lim := c.outputLimit()
	if (lim.hard <= 0 && lim.soft <= 0) || int64(c.w.Len()) <= replyStaticBuffer {
		c.softOverSince = time.Time{}
		return false
	}
	n := int64(c.w.Len()) - replyStaticBuffer
	if p := c.push.Load(); p != nil {
		p.qmu.Lock()
		n += int64(len(p.queue) + p.inflight)
		p.qmu.Unlock()
	}
	if !c.overOutputLimit(lim, n, time.Now()) {
		return false
	}
	c.srv.log.Warn("client scheduled to be closed for overcoming of output buffer limits",
		"client_id", c.id, "addr", c.addr, "class", lim.class)
	c.w.Reset()
	c.kill()
	return true
}

// parseOutLimit reads one class of client-output-buffer-limit.
func parseOutLimit(cfg *config.Config, class string, def outLimit) outLimit {
	f := strings.Fields(cfg.ClientOutputBufferLimit)
	for i := 0; i+3 < len(f); i += 4 {
		if strings.EqualFold(f[i], class) {
			h, err1 := parseMemory(f[i+1])
			s, err2 := parseMemory(f[i+2])
			sec, err3 := strconv.ParseInt(f[i+3], 10, 64)
			if err1 != nil || err2 != nil || err3 != nil {
				return def
			}
			return outLimit{class: class, hard: h, soft: s, secs: time.Duration(sec) * time.Second}
		}
	}
	return def
}

// parseMemory reads "32mb"-style sizes.
func parseMemory(s string) (int64, error) {
	v, err := config.ParseMemory(s)
	return v, err
}

// pubsubHub is the server's subscription registry.
type pubsubHub struct {
	mu       sync.RWMutex
	channels map[string]map[*client]struct{}
	patterns map[string]map[*client]struct{}
	shards   map[string]map[*client]struct{}
	npat     atomic.Int32 // len(patterns), read without mu by PUBLISH's fast path
}

func (h *pubsubHub) init() {
	h.channels = make(map[string]map[*client]struct{})
	h.patterns = make(map[string]map[*client]struct{})
	h.shards = make(map[string]map[*client]struct{})
}

// pubKind selects a subscription space.
type pubKind uint8

const (
	kindChannel pubKind = iota
	kindPattern
	kindShard
)

func (h *pubsubHub) space(k pubKind) map[string]map[*client]struct{} {
	switch k {
	case kindPattern:
		return h.patterns
	case kindShard:
		return h.shards
	}
	return h.channels
}

func (p *pushState) space(k pubKind) map[string]struct{} {
	switch k {
	case kindPattern:
		return p.patterns
	case kindShard:
		return p.shards
	}
	return p.channels
}

// subscribe adds c to name; it reports whether c was not yet subscribed,
// and the count Redis replies with.
func (h *pubsubHub) subscribe(p *pushState, k pubKind, name string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	mine := p.space(k)
	if _, ok := mine[name]; !ok {
		mine[name] = struct{}{}
		sp := h.space(k)
		set := sp[name]
		if set == nil {
			set = make(map[*client]struct{})
			sp[name] = set
		}
		set[p.c] = struct{}{}
		p.updateCounts()
		h.npat.Store(int32(len(h.patterns)))
	}
	return p.countFor(k)
}

// unsubscribe removes c from name and returns the count Redis replies with.
func (h *pubsubHub) unsubscribe(p *pushState, k pubKind, name string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.unsubscribeLocked(p, k, name)
	return p.countFor(k)
}

func (h *pubsubHub) unsubscribeLocked(p *pushState, k pubKind, name string) {
	mine := p.space(k)
	if _, ok := mine[name]; !ok {
		return
	}
	delete(mine, name)
	sp := h.space(k)
	if set := sp[name]; set != nil {
		delete(set, p.c)
		if len(set) == 0 {
			delete(sp, name)
		}
	}
	p.updateCounts()
	h.npat.Store(int32(len(h.patterns)))
}

// names lists c's subscriptions of kind k, sorted (Redis walks a dict, so
// its order is unspecified; sorting keeps replies reproducible).
func (h *pubsubHub) names(p *pushState, k pubKind) []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]string, 0, len(p.space(k)))
	for n := range p.space(k) {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (p *pushState) updateCounts() {
	p.n.Store(int32(len(p.channels) + len(p.patterns)))
	p.all.Store(int32(len(p.channels) + len(p.patterns) + len(p.shards)))
}

func (p *pushState) countFor(k pubKind) int {
	if k == kindShard {
		return len(p.shards)
	}
	return len(p.channels) + len(p.patterns)
}

// removeClient drops every subscription of c (disconnect) and stops its
// pusher.
func (h *pubsubHub) removeClient(c *client) {
	c.trackingOff()
	p := c.push.Load()
	if p == nil {
		return
	}
	h.mu.Lock()
	for _, k := range []pubKind{kindChannel, kindPattern, kindShard} {
		for n := range p.space(k) {
			h.unsubscribeLocked(p, k, n)
		}
	}
	h.mu.Unlock()
	close(p.done)
	p.qmu.Lock()
	p.queue = nil
	p.qmu.Unlock()
}

// frameCache encodes a push frame once per protocol.
type frameCache struct {
	build func(w *Writer)
	enc   [2][]byte
}

func (f *frameCache) get(proto int) []byte {
	i := 0
	if proto == 3 {
		i = 1
	}
	if f.enc[i] == nil {
		w := Writer{proto: proto}
		f.build(&w)
		f.enc[i] = w.buf
	}
	return f.enc[i]
}

// deliver sends a frame to target. When target is the publishing client
// itself the frame goes into its reply buffer, where Redis puts it (before
// the command's own reply).
// It reports false when target is gone (killed, not yet unregistered).
func deliver(from, target *client, f *frameCache) bool {
	if target == from {
		target.w.buf = append(target.w.buf, f.get(target.w.proto)...)
		return true
	}
	p := target.push.Load()
	if p == nil || target.killed.Load() {
		return false
	}
	target.mu.Lock()
	proto := target.proto
	target.mu.Unlock()
	p.enqueue(f.get(proto))
	return true
}

// publish delivers msg on channel (or, with shard, on a shard channel) and
// returns the number of receivers. from may be nil (server-originated
// messages such as keyspace notifications).
func (h *pubsubHub) publish(from *client, channel, msg []byte, shard bool) int {
	type target struct {
		c       *client
		pattern string
	}
	var buf [16]target
	targets := buf[:0]
	h.mu.RLock()
	if shard {
		for c := range h.shards[string(channel)] {
			targets = append(targets, target{c: c})
		}
	} else {
		for c := range h.channels[string(channel)] {
			targets = append(targets, target{c: c})
		}
		if h.npat.Load() > 0 {
			ch := string(channel)
			for pat, set := range h.patterns {
				if config.Glob(pat, ch, false) {
					for c := range set {
						targets = append(targets, target{c: c, pattern: pat})
					}
				}
			}
		}
	}
	h.mu.RUnlock()
	if len(targets) == 0 {
		return 0
	}
	kind := "message"
	if shard {
		kind = "smessage"
	}
	plain := &frameCache{build: func(w *Writer) {
		w.Push(3)
		w.BulkString(kind)
		w.Bulk(channel)
		w.Bulk(msg)
	}}
	n := 0
	for _, t := range targets {
		f := plain
		if t.pattern != "" {
			pat := t.pattern
			f = &frameCache{build: func(w *Writer) {
				w.Push(4)
				w.BulkString("pmessage")
				w.BulkString(pat)
				w.Bulk(channel)
				w.Bulk(msg)
			}}
		}
		if deliver(from, t.c, f) {
			n++
		}
	}
	return n
}

// overOutputLimit applies Redis's checkClientOutputBufferLimits to n
// pending bytes: over the hard limit closes at once; over the soft limit
// closes once it has stayed over for longer than the soft seconds (the
// first time over only starts the clock).
func (c *client) overOutputLimit(lim outLimit, n int64, now time.Time) bool {
	if lim.hard > 0 && n > lim.hard {
		return true
	}
	if lim.soft <= 0 || n <= lim.soft {
		c.softOverSince = time.Time{}
		return false
	}
	if c.softOverSince.IsZero() {
		c.softOverSince = now
		return false
	}
	return now.Sub(c.softOverSince) > lim.secs
}
