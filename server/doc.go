// Package server speaks RESP: it owns the listener, the connections, the
// command table and the reply writer, and turns each command into store
// operations. Every command is one row of the declarative table (table.go);
// dispatch, arity errors, COMMAND replies and statistics all come from it.
package server
