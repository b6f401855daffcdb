package integration

import (
	"strings"
	"testing"

	"github.com/cachalotdb/cachalot/tests/difftest"
)

// TestScriptErrorStatsMatchRedis runs scripts whose redis.call and
// redis.pcall fail in every way Redis 7.0 tells apart, against
// redis-server and cachalot, and requires byte-identical replies and the
// same INFO commandstats and errorstats: an error produced by a command
// run or refused inside a script counts once (errorstats, and the inner
// command's failed_calls or rejected_calls) even when pcall catches it; a
// script's reply carrying such an error only counts as a failed call of
// EVAL; errors the script makes itself (error_reply, Lua errors, bad
// redis.call arguments) count when EVAL replies them. The error table of
// a counted error carries Redis's ignore_error_stats_update field.
func TestScriptErrorStatsMatchRedis(t *testing.T) {
	difftest.RedisServerPath(t)
	session := func(t *testing.T, addr string) []string {
		a, b := difftest.Dial(t, addr), difftest.Dial(t, addr)
		var out []string
		do := func(c *difftest.Conn, args ...string) {
			out = append(out, strings.Join(args, " ")+" => "+string(c.Do(args...)))
		}
		b.Do("FLUSHALL")
		b.Do("CONFIG", "RESETSTAT")
		b.Do("SET", "s", "abc")
		do(b, "ACL", "SETUSER", "es-user", "on", ">pw", "~*", "+@all", "-del")
		for _, body := range []string{
			"redis.pcall('INCR', 's'); return 1",
			"return redis.pcall('INCR', 's')",
			"return redis.call('INCR', 's')",
			"return {redis.pcall('INCR', 's'), redis.pcall('LPUSH', 's', 'x'), 1}",
			"return {redis.pcall('INCR', 's'), redis.error_reply('MY bad')}",
			"return redis.error_reply('MY bad')",
			"return {err='OTHER x'}",
			"error('boom')",
			"return redis.pcall('nosuchcmd')",
			"redis.pcall('nosuchcmd'); return 2",
			"return redis.pcall('get')",
			"return redis.call('get')",
			"return redis.pcall('eval', 'return 1', '0')",
			"return redis.pcall()",
			"return redis.call()",
			"return redis.pcall({})",
			"local t = redis.pcall('INCR', 's'); return tostring(t['ignore_error_stats_update'])",
			"local t = redis.pcall('nosuch'); local n = 0; for k,v in pairs(t) do n = n + 1 end; return n",
			"local t = redis.pcall(); return tostring(t['ignore_error_stats_update'])",
			"#!lua flags=no-writes\nreturn redis.pcall('SET', 'k', 'v')",
		} {
			do(a, "EVAL", body, "0")
		}
		do(a, "EVAL_RO", "return redis.pcall('SET', 'k', 'v')", "0")
		do(a, "EVAL_RO", "return redis.call('SET', 'k', 'v')", "0")
		do(a, "AUTH", "es-user", "pw")
		do(a, "EVAL", "return redis.pcall('DEL', 'k')", "0")
		do(a, "EVAL", "return redis.call('DEL', 'k')", "0")
		do(a, "AUTH", "default", "x")
		do(a, "MULTI")
		do(a, "EVAL", "return redis.pcall('INCR', 's')", "0")
		do(a, "EVAL", "return redis.call('INCR', 's')", "0")
		do(a, "EVAL", "redis.pcall('INCR', 's') return 5", "0")
		do(a, "EXEC")
		for _, field := range []string{"cmdstat_eval", "cmdstat_eval_ro", "cmdstat_exec", "cmdstat_set",
			"cmdstat_get", "cmdstat_incr", "cmdstat_lpush", "cmdstat_del", "errorstat_ERR",
			"errorstat_WRONGTYPE", "errorstat_MY", "errorstat_OTHER"} {
			out = append(out, field+" => "+infoLine(t, b, field))
		}
		b.Do("ACL", "DELUSER", "es-user")
		b.Do("ACL", "LOG", "RESET")
		return out
	}
	compareSessions(t, session) // push_obs_test.go
}
