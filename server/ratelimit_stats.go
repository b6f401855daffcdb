package server

import "sync/atomic"

// rlCmd indexes the rate-limit commands whose decisions are counted.
type rlCmd int

const (
	rlThrottle rlCmd = iota
	rlGCRA
	rlTake
	rlMTake
	rlCmdCount
)

var rlCmdNames = [rlCmdCount]string{"cl.throttle", "gcra", "rl.take", "rl.mtake"}

// rateLimitStats counts rate-limit decisions per command and result, for
// the cachalot_ratelimit_decisions_total{cmd,result} metric. The zero value
// is ready; it is safe for concurrent use.
type rateLimitStats struct {
	counts [rlCmdCount][2]atomic.Int64 // [cmd][0 allowed, 1 limited]
}

func (s *rateLimitStats) record(cmd rlCmd, allowed bool) {
	if allowed {
		s.counts[cmd][0].Add(1)
	} else {
		s.counts[cmd][1].Add(1)
	}
}

// rateLimitDecisions is one counter: the command's lower-case name, the
// result ("allowed" or "limited") and how many decisions had it.
type rateLimitDecisions struct {
	Cmd, Result string
	Count       int64
}

// Decisions returns every counter, zeros included, in a fixed order
// (command, then allowed before limited).
func (s *rateLimitStats) Decisions() []rateLimitDecisions {
	out := make([]rateLimitDecisions, 0, 2*int(rlCmdCount))
	for cmd := range rlCmdCount {
		out = append(out,
			rateLimitDecisions{rlCmdNames[cmd], "allowed", s.counts[cmd][0].Load()},
			rateLimitDecisions{rlCmdNames[cmd], "limited", s.counts[cmd][1].Load()})
	}
	return out
}
