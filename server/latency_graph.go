package server

import (
	"strconv"
	"strings"
	"time"

	"github.com/cachalotdb/cachalot/store"
)

// LATENCY GRAPH: Redis's ASCII sparkline of an event's samples (latency.c
// latencyCommandGenSparkeline, sparkline.c), 80 columns by 4 rows, filled,
// each column labelled with the sample's age.

const (
	graphColumns = 80
	graphRows    = 4
)

// sparkSample is one column of the graph.
type sparkSample struct {
	value float64
	label string
}

func cmdLatencyGraph(c *client, _ *store.Tx, argv [][]byte) error {
	m := &c.srv.latency
	m.mu.Lock()
	ev := m.events[string(argv[2])]
	var samples []latencySample
	var allTime int64
	if ev != nil {
		samples = append(samples, ev.samples...)
		allTime = ev.max
	}
	m.mu.Unlock()
	if len(samples) == 0 {
		return respError(sanitize("ERR No samples available for event '" + string(argv[2]) + "'"))
	}
	c.w.Verbatim("txt", latencyGraph(string(argv[2]), samples, allTime, time.Now().Unix()))
	return nil
}

// latencyGraph renders an event's samples (oldest first) as of now (Unix
// seconds).
func latencyGraph(event string, samples []latencySample, allTime, now int64) string {
	var seq []sparkSample
	var lo, hi int64
	for i, s := range samples {
		if i == 0 {
			lo, hi = s.latency, s.latency
		}
		lo, hi = min(lo, s.latency), max(hi, s.latency)
		seq = append(seq, sparkSample{value: float64(s.latency), label: ageLabel(now - s.time)})
	}
	var b strings.Builder
	b.WriteString(event + " - high " + strconv.FormatInt(hi, 10) + " ms, low " + strconv.FormatInt(lo, 10) +
		" ms (all time high " + strconv.FormatInt(allTime, 10) + " ms)\n")
	b.WriteString(strings.Repeat("-", graphColumns) + "\n")
	renderSparkline(&b, seq, graphColumns, graphRows)
	return b.String()
}

// ageLabel is a sample's age as Redis prints it: 12s, 5m, 3h, 2d.
func ageLabel(elapsed int64) string {
	switch {
	case elapsed < 60:
		return strconv.FormatInt(elapsed, 10) + "s"
	case elapsed < 3600:
		return strconv.FormatInt(elapsed/60, 10) + "m"
	case elapsed < 3600*24:
		return strconv.FormatInt(elapsed/3600, 10) + "h"
	}
	return strconv.FormatInt(elapsed/(3600*24), 10) + "d"
}

// renderSparkline draws seq in chunks of columns samples, rows character
// rows high, filled, with the labels written vertically below a blank
// line: sparkline.c's sparklineRender with SPARKLINE_FILL.
func renderSparkline(b *strings.Builder, seq []sparkSample, columns, rows int) {
	if len(seq) == 0 {
		return
	}
	lo, hi := seq[0].value, seq[0].value
	for _, s := range seq[1:] {
		// sparkline.c updates min, else max: the same extremes.
		if s.value < lo {
			lo = s.value
		} else if s.value > hi {
			hi = s.value
		}
	}
	for j := 0; j < len(seq); j += columns {
		if j != 0 {
			b.WriteByte('\n')
		}
		renderSparkRange(b, seq[j:min(j+columns, len(seq))], lo, hi, rows)
	}
}

func renderSparkRange(b *strings.Builder, part []sparkSample, lo, hi float64, rows int) {
	const fill = "_o#"
	steps := len(fill) * rows
	relmax := hi - lo
	if relmax == 0 {
		relmax = 1
	}
	chars := make([]byte, len(part))
	for row := 0; ; row++ {
		more := false
		for j := range chars {
			chars[j] = ' '
		}
		for j, s := range part {
			if row < rows {
				// C: step = (int)(relval*steps)/relmax, truncated twice.
				step := int(float64(int((s.value-lo)*float64(steps))) / relmax)
				step = max(0, min(step, steps-1))
				idx := step - (rows-row-1)*len(fill)
				more = true
				if idx >= 0 && idx < len(fill) {
					chars[j] = fill[idx]
				} else if idx >= len(fill) {
					chars[j] = '|'
				}
				continue
			}
			if row-rows < 1 { // one blank line between graph and labels
				more = true
				break
			}
			if k := row - rows - 1; k < len(s.label) {
				more = true
				chars[j] = s.label[k]
			}
		}
		if !more {
			return
		}
		b.Write(chars)
		b.WriteByte('\n')
	}
}
