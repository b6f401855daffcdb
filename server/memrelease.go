package server

import (
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// Giving memory back after a burst.
//
// The Go runtime returns freed heap to the OS on its own, but only down to
// about 10 % over the heap goal (twice the live heap by default), only after
// a garbage collection has found the memory free, and a collection only
// starts when the program allocates. After a burst that ends at once
// (10,000 clients that disconnect together, a subscriber cut at its output
// limit) nothing may allocate for minutes: the stacks and buffers of the
// dead connections stay resident, and even after a collection the runtime
// keeps what is under its goal. A cache that sits at 180 MB with 1M keys
// then stays at 260 MB after 10,000 clients came and went.
//
// The background loop therefore checks, about once a second, how much the
// process holds without needing it: the free heap pages not yet returned,
// plus the memory of connections closed since the last collection, which
// no collection has found free yet (estimated as each one closes). When
// that is at least a quarter of the rest of the heap (and at least
// memReleaseMinBytes), and the heap is quiet — at the allocation rate of
// the last second, those pages would not be reused within
// memReleaseHorizon — it calls debug.FreeOSMemory (a collection, then every
// free page returned), at most once every memReleaseInterval.
//
// The quiet test keeps it out of the way of a loaded server: there the
// free pages are the room the heap grows into before its next collection,
// and returning them would only have them faulted back in. The quarter
// keeps a large heap from paying a full collection for a small gain (with
// 1M keys, about 170 MB of heap, it takes 42 MB; the call then costs 40 to
// 125 ms of collection on two cores, see docs/memory.md). A quiet heap
// gains no free pages until its next collection, so the release does not
// repeat by itself. MEMORY PURGE does the same release on request.

const (
	memReleaseMinBytes = 1 << 20
	memReleaseInterval = 5 * time.Second
	memReleaseCheck    = time.Second
	memReleaseHorizon  = 30 * time.Second
	// closedConnStack is the stack a connection's goroutine leaves behind:
	// 4 KB for one that never ran a command (the runtime's adaptive
	// starting size, measured), more for busy ones.
	closedConnStack = 4 << 10
)

// memReleaser is the background releaser's state.
type memReleaser struct {
	closedBytes atomic.Int64 // estimated memory of connections closed, in total

	mu          sync.Mutex // the fields below; held by the background loop
	lastCheck   time.Time
	lastRelease time.Time
	last        memFigures // at lastCheck
	closedAtGC  int64      // closedBytes when the last collection was seen
	closedSeen  int64      // closedBytes at the previous check
	samples     []metrics.Sample
	// figures reads the runtime's figures; nil reads runtime/metrics
	// (tests replay sequences through it).
	figures func() memFigures

	releases atomic.Int64 // FreeOSMemory calls made
	lastDur  atomic.Int64 // nanoseconds the last call took
	lastFree atomic.Int64 // bytes it returned
}

// memSampleNames are the runtime/metrics the releaser reads, in the order
// of memFigures' fields.
var memSampleNames = []string{
	"/memory/classes/heap/free:bytes",     // free, not yet returned
	"/memory/classes/heap/objects:bytes",  // live and not yet swept objects
	"/memory/classes/heap/stacks:bytes",   // goroutine stacks
	"/memory/classes/heap/released:bytes", // returned to the OS
	"/gc/heap/allocs:bytes",               // allocated since the start
	"/gc/cycles/total:gc-cycles",
}

// memFigures are the runtime's memory figures the releaser decides on.
type memFigures struct {
	free, objects, stacks, released, allocs, cycles uint64
}

func (m *memReleaser) read() memFigures {
	if m.figures != nil {
		return m.figures()
	}
	if m.samples == nil {
		m.samples = make([]metrics.Sample, len(memSampleNames))
		for i, n := range memSampleNames {
			m.samples[i].Name = n
		}
	}
	metrics.Read(m.samples)
	v := func(i int) uint64 {
		if m.samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return m.samples[i].Value.Uint64()
	}
	return memFigures{free: v(0), objects: v(1), stacks: v(2), released: v(3), allocs: v(4), cycles: v(5)}
}

// noteClosed records what a closing connection leaves for the collector:
// its goroutine's stack, its client state and its buffers. It runs on the
// connection's own goroutine, after its last read.
func (s *Server) noteClosed(c *client) {
	n := closedConnStack + clientOverhead + cap(c.w.buf)
	if c.rd != nil {
		n += cap(c.rd.buf)
	}
	s.memRel.closedBytes.Add(int64(n))
}

// releaseDecision is the releaser's rule, apart from its timers: reclaim
// is the free heap plus the pending memory of closed connections, inUse
// the rest of the heap (live objects and stacks), allocated what the
// program allocated during elapsed.
func releaseDecision(reclaim, inUse, allocated int64, elapsed time.Duration) bool {
	if reclaim < memReleaseMinBytes || reclaim < inUse/4 || elapsed <= 0 {
		return false
	}
	// Quiet: at this rate, the allocations of the next horizon would not
	// reuse all of it.
	perHorizon := float64(allocated) * float64(memReleaseHorizon) / float64(elapsed)
	return perHorizon < float64(reclaim)
}

// releaseMemoryTick runs from the background loop: at most once every
// memReleaseCheck it reads the runtime's figures and, when enough is
// reclaimable, the heap is quiet and the last release is
// memReleaseInterval old, returns memory to the OS.
func (s *Server) releaseMemoryTick(now time.Time) {
	m := &s.memRel
	m.mu.Lock()
	defer m.mu.Unlock()
	elapsed := now.Sub(m.lastCheck)
	if elapsed < memReleaseCheck {
		return
	}
	f := m.read()
	prev := m.last
	first := m.lastCheck.IsZero()
	m.lastCheck, m.last = now, f
	closed := m.closedBytes.Load()
	if f.cycles != prev.cycles {
		// A collection ran since the last check: what closed before that
		// check is now free heap (or was live), counted through f.free.
		// What closed since may have closed after the collection, so it
		// stays pending: counting it twice only errs toward a release,
		// while dropping it left a burst's memory held when a collection
		// fell in the middle of the burst.
		m.closedAtGC = m.closedSeen
	}
	m.closedSeen = closed
	if first || now.Sub(m.lastRelease) < memReleaseInterval {
		return
	}
	// The dead connections' stacks and objects are still counted in use
	// until a collection finds them.
	pending := closed - m.closedAtGC
	reclaim := int64(f.free) + pending
	inUse := max(int64(f.objects+f.stacks)-pending, 0)
	if !releaseDecision(reclaim, inUse, int64(f.allocs-prev.allocs), elapsed) {
		return
	}
	start := time.Now()
	debug.FreeOSMemory()
	took := time.Since(start)
	after := m.read()
	m.lastRelease, m.last = time.Now(), after
	m.closedAtGC = m.closedBytes.Load()
	m.closedSeen = m.closedAtGC
	released := int64(after.released) - int64(f.released)
	m.releases.Add(1)
	m.lastDur.Store(int64(took))
	m.lastFree.Store(released)
	s.log.Debug("returned memory to the OS", "estimated_reclaimable", reclaim, "released", released, "took", took)
}
