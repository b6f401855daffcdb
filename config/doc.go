// Package config owns cachalot's configuration: the parameter table, the
// Config value built from it, and loading from defaults, a TOML file and
// command-line flags.
//
// Parameters keep their redis-server names and Redis 7 defaults so that
// CONFIG GET, CONFIG SET, redis.conf habits and redis-server style flags
// (--port 6380, --maxmemory 2gb) carry over unchanged. Values travel as
// strings in Redis's own notation everywhere: booleans are "yes"/"no",
// memory sizes accept Redis units (k, kb, m, mb, g, gb) and are reported
// as plain bytes, and enum and range errors reuse Redis's CONFIG SET
// reason text so the server can reply exactly as Redis would:
//
//	ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value
//
// A single table of Param rows drives everything (Get, Set, Match, the
// TOML keys, the flags and --help), so adding a parameter in one place
// makes it available on every path and the checks cannot drift apart.
//
// Precedence when loading is: built-in defaults, then the TOML file named
// by --config, then command-line flags the user actually passed.
//
// A Config is a plain value and is not safe for concurrent mutation; a
// server that applies CONFIG SET at run time should Clone, modify and
// publish the copy under its own synchronisation.
package config
