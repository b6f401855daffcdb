package server

import (
	"math"
	"time"
)

// blockRequest is what a blocking command's handler returns when nothing is
// ready yet: the dispatcher parks the client on keys until one of them is
// made ready (store.Tx.MarkReady), the timeout passes, or the client is
// unblocked or killed, then runs the command again.
type blockRequest struct {
	keys    [][]byte
	timeout time.Duration // 0 waits forever
}

func (b *blockRequest) Error() string { return "client must block" }

// blockOn asks the dispatcher to park the client. keys alias argv.
func blockOn(keys [][]byte, timeout time.Duration) error {
	return &blockRequest{keys: keys, timeout: timeout}
}

// parseTimeout reads a blocking command's timeout in seconds, fractional
// allowed, with Redis 7's errors.
func parseTimeout(arg []byte) (time.Duration, error) {
	f, err := parseFloat(arg)
	if err != nil || math.IsInf(f, 0) {
		return 0, errTimeoutNotFloat
	}
	if f < 0 {
		return 0, errTimeoutNegative
	}
	ms := f * 1000
	if ms > float64(math.MaxInt64/int64(time.Millisecond)) {
		return 0, errTimeoutOutOfRange
	}
	return time.Duration(ms * float64(time.Millisecond)), nil
}
