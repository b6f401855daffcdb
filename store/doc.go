// Package store owns cachalot's keyspace: databases split into shards, the
// values they hold, expiry (lazy and active), access clocks for eviction and
// per-entry memory accounting.
//
// It knows nothing of RESP, files or metrics. Callers work inside managed
// transactions (DB.Update and DB.View) that lock the shards of the keys they
// name in a fixed order, so multi-key operations are atomic and deadlock-free.
// Slices handed out by a transaction are valid only until the transaction
// function returns: callers copy what they keep, so the layout behind this API
// can change without touching its users.
package store
