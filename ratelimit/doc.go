// Package ratelimit holds cachalot's rate-limiting algorithms as pure
// functions: each takes the stored state, the current time and the
// parameters, and returns a decision and the state to store. There are no
// locks and no clock here; the server calls these functions under the key's
// shard lock with the store's clock.
//
// Two algorithms live here:
//
//   - GCRA (the generic cell rate algorithm, virtual-scheduling form), the
//     one redis-cell's CL.THROTTLE and the GCRA command use. Its state is a
//     single integer: the theoretical arrival time (TAT) in Unix
//     nanoseconds, stored as a decimal string exactly as redis-cell stores
//     it. Durations are int64 nanoseconds; every sum and product saturates
//     at MaxDuration instead of overflowing.
//
//   - A token bucket for the RL.* family. Its state counts the tokens in the
//     bucket in exact integer units (token-milliseconds: one token is
//     interval_ms units and the bucket gains `tokens` units per
//     millisecond), the time of the last update in Unix milliseconds, and
//     the parameters it was last used with, so that a bucket can be
//     inspected or refunded without repeating them.
//
// Both states are plain byte strings a server keeps in an ordinary string key
// whose expiry is the moment the bucket is full again (a full bucket and a
// missing key mean the same thing).
package ratelimit
