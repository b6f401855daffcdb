package server

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cachalotdb/cachalot/store"
)

// LATENCY: Redis 7.0's latency monitor (events of at least
// latency-monitor-threshold ms, 160 samples each, one per second) and
// LATENCY HISTOGRAM from the rows' histograms (metrics.go).

const latencyHistoryLen = 160

type latencySample struct {
	time    int64 // Unix seconds
	latency int64 // ms
}

type latencyEvent struct {
	samples []latencySample // oldest first, at most latencyHistoryLen
	max     int64
}

type latencyMonitor struct {
	mu     sync.Mutex
	events map[string]*latencyEvent
}

// add records a sample; samples of the same second merge into their max.
func (m *latencyMonitor) add(event string, ms int64) {
	now := time.Now().Unix()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.events == nil {
		m.events = make(map[string]*latencyEvent)
	}
	ev := m.events[event]
	if ev == nil {
		ev = &latencyEvent{}
		m.events[event] = ev
	}
	ev.max = max(ev.max, ms)
	if n := len(ev.samples); n > 0 && ev.samples[n-1].time == now {
		ev.samples[n-1].latency = max(ev.samples[n-1].latency, ms)
		return
	}
	if len(ev.samples) == latencyHistoryLen {
		copy(ev.samples, ev.samples[1:])
		ev.samples = ev.samples[:latencyHistoryLen-1]
	}
	ev.samples = append(ev.samples, latencySample{now, ms})
}

func latencyCommand() *command {
	const adminFlags = flagAdmin | flagNoScript | flagLoading | flagStale
	return &command{name: "latency", arity: -2, group: "server", since: "2.8.13",
		summary: "A container for latency diagnostics commands", complexity: "Depends on subcommand.",
		subs: []*command{
			{name: "doctor", arity: 2, flags: adminFlags, since: "2.8.13",
				summary: "Return a human readable latency analysis report.", complexity: "O(1)", handler: cmdLatencyDoctor},
			{name: "graph", arity: 3, flags: adminFlags, since: "2.8.13",
				summary: "Return a latency graph for the event.", complexity: "O(1)",
				usage: "event", handler: cmdLatencyGraph}, // latency_graph.go
			{name: "histogram", arity: -2, flags: adminFlags, since: "7.0.0",
				summary:    "Return the cumulative distribution of latencies of a subset of commands or all.",
				complexity: "O(N) where N is the number of commands with latency information being retrieved.",
				usage:      "[command [command ...]]", handler: cmdLatencyHistogram},
			{name: "history", arity: 3, flags: adminFlags, since: "2.8.13",
				summary: "Return timestamp-latency samples for the event.", complexity: "O(1)",
				usage: "event", handler: cmdLatencyHistory},
			{name: "latest", arity: 2, flags: adminFlags, since: "2.8.13",
				summary: "Return the latest latency samples for all events.", complexity: "O(1)", handler: cmdLatencyLatest},
			{name: "reset", arity: -2, flags: adminFlags, since: "2.8.13",
				summary: "Reset latency data for one or more events.", complexity: "O(1)",
				usage: "[event [event ...]]", handler: cmdLatencyReset},
			{name: "help", arity: 2, flags: flagLoading | flagStale, since: "2.8.13",
				summary: "Show helpful text about the different subcommands.", complexity: "O(1)", handler: cmdLatencyHelp},
		}}
}

var latencyHelpLines = []string{
	"LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"DOCTOR",
	"    Return a human readable latency analysis report.",
	"GRAPH <event>",
	"    Return an ASCII latency graph for the <event> class.",
	"HISTORY <event>",
	"    Return time-latency samples for the <event> class.",
	"LATEST",
	"    Return the latest latency samples for all events.",
	"RESET [<event> ...]",
	"    Reset latency data of one or more <event> classes.",
	"    (default: reset all data for all event classes)",
	"HISTOGRAM [COMMAND ...]",
	"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
	"    If no commands are specified then all histograms are replied.",
	"HELP",
	"    Prints this help.",
}

func cmdLatencyHelp(c *client, _ *store.Tx, _ [][]byte) error {
	writeHelp(&c.w, latencyHelpLines)
	return nil
}

func cmdLatencyLatest(c *client, _ *store.Tx, _ [][]byte) error {
	m := &c.srv.latency
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make([]string, 0, len(m.events))
	for name, ev := range m.events {
		if len(ev.samples) > 0 {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	c.w.Array(len(names))
	for _, name := range names {
		ev := m.events[name]
		last := ev.samples[len(ev.samples)-1]
		c.w.Array(4)
		c.w.BulkString(name)
		c.w.Int(last.time)
		c.w.Int(last.latency)
		c.w.Int(ev.max)
	}
	return nil
}

func cmdLatencyHistory(c *client, _ *store.Tx, argv [][]byte) error {
	m := &c.srv.latency
	m.mu.Lock()
	defer m.mu.Unlock()
	ev := m.events[string(argv[2])]
	if ev == nil {
		c.w.Array(0)
		return nil
	}
	c.w.Array(len(ev.samples))
	for _, s := range ev.samples {
		c.w.Array(2)
		c.w.Int(s.time)
		c.w.Int(s.latency)
	}
	return nil
}

func cmdLatencyReset(c *client, _ *store.Tx, argv [][]byte) error {
	m := &c.srv.latency
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	if len(argv) == 2 {
		n = len(m.events)
		m.events = nil
	} else {
		for _, a := range argv[2:] {
			if _, ok := m.events[string(a)]; ok {
				delete(m.events, string(a))
				n++
			}
		}
	}
	c.w.Int(int64(n))
	return nil
}

// cmdLatencyDoctor is a short form of Redis's report: the same opening
// sentences and one line per event, without the advice section.
func cmdLatencyDoctor(c *client, _ *store.Tx, _ [][]byte) error {
	var b strings.Builder
	if c.srv.Config().LatencyMonitorThreshold == 0 {
		b.WriteString("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. " +
			"You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. " +
			"If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n")
		c.w.Verbatim("txt", b.String())
		return nil
	}
	m := &c.srv.latency
	m.mu.Lock()
	names := make([]string, 0, len(m.events))
	for name := range m.events {
		names = append(names, name)
	}
	slices.Sort(names)
	if len(names) == 0 {
		b.WriteString("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. " +
			"I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n")
	} else {
		b.WriteString("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n")
		for i, name := range names {
			ev := m.events[name]
			var sum int64
			for _, s := range ev.samples {
				sum += s.latency
			}
			avg := sum / int64(len(ev.samples))
			var dev int64
			for _, s := range ev.samples {
				d := s.latency - avg
				dev += max(d, -d)
			}
			dev /= int64(len(ev.samples))
			period := int64(0)
			if n := len(ev.samples); n > 1 {
				period = (ev.samples[n-1].time - ev.samples[0].time) / int64(n-1)
			}
			fmt.Fprintf(&b, "%d. %s: %d latency spikes (average %dms, mean deviation %dms, period %d.00 sec). Worst all time event %dms.\n",
				i+1, name, len(ev.samples), avg, dev, period, ev.max)
		}
	}
	m.mu.Unlock()
	c.w.Verbatim("txt", b.String())
	return nil
}

// cmdLatencyHistogram replies as Redis does: command → {calls,
// histogram_usec → {bucket upper bound in µs → cumulative calls}}, with
// power-of-two buckets from 1024 ns, listing only buckets that add calls.
func cmdLatencyHistogram(c *client, _ *store.Tx, argv [][]byte) error {
	var rows []*command
	if len(argv) == 2 {
		rows = c.srv.allRowsSorted()
	} else {
		for _, a := range argv[2:] {
			name, sub, hasSub := bytes.Cut(a, []byte("|"))
			cmd := c.srv.table.lookup(name)
			if cmd != nil && hasSub {
				cmd = cmd.subLookup(sub)
			}
			if cmd == nil {
				continue
			}
			rows = append(rows, cmd)
			rows = append(rows, cmd.subs...)
		}
	}
	type hist struct {
		name   string
		calls  uint64
		bounds []int64
		cum    []uint64
	}
	var out []hist
	for _, cmd := range rows {
		counts, total := cmd.stats.hist.counts()
		if total == 0 {
			continue
		}
		h := hist{name: cmd.fullName, calls: total}
		var cum, prev uint64
		for i, n := range counts {
			cum += n
			if i%4 == 0 || i == latHistBuckets-1 {
				if cum > prev {
					// Redis prints HdrHistogram's highest value
					// equivalent to 2^k ns at 2 significant figures:
					// 2^k + 2^(k-7) - 1 (1031 ns -> 1, 33023 ns -> 33).
					up := latBucketUpper(i)
					h.bounds = append(h.bounds, (up+up>>7-1)/1000)
					h.cum = append(h.cum, cum)
				}
				prev = cum
			}
		}
		out = append(out, h)
	}
	c.w.Map(len(out))
	for _, h := range out {
		c.w.BulkString(h.name)
		c.w.Map(2)
		c.w.BulkString("calls")
		c.w.Int(int64(h.calls))
		c.w.BulkString("histogram_usec")
		c.w.Map(len(h.bounds))
		for i := range h.bounds {
			c.w.Int(h.bounds[i])
			c.w.Int(int64(h.cum[i]))
		}
	}
	return nil
}
