package integration

import (
	"strings"
	"testing"

	"github.com/cachalotdb/cachalot/tests/difftest"
)

// TestOOMInTransactionsAndScriptsMatchesRedis runs the same two-connection
// session against redis-server 7.0 and cachalot, both under noeviction, and
// requires byte-identical replies: the OOM refusals Redis makes while
// commands are queued in MULTI (every command but EXEC, DISCARD, QUIT and
// RESET), at EXEC time (a queue holding a denyoom command turns EXEC into
// EXECABORT … OOM …), and inside scripts (the first denyoom redis.call
// before any write fails when memory was over the limit at the start). A
// second connection moves maxmemory between the steps, which one
// connection cannot do inside MULTI.
func TestOOMInTransactionsAndScriptsMatchesRedis(t *testing.T) {
	difftest.RedisServerPath(t)
	session := func(t *testing.T, addr string) []string {
		a, b := difftest.Dial(t, addr), difftest.Dial(t, addr)
		var out []string
		do := func(c *difftest.Conn, args ...string) {
			out = append(out, strings.Join(args, " ")+" => "+string(c.Do(args...)))
		}
		limit := func(v string) {
			if got := string(b.Do("CONFIG", "SET", "maxmemory", v)); got != "+OK\r\n" {
				t.Fatalf("CONFIG SET maxmemory %s: %q", v, got)
			}
		}
		b.Do("FLUSHALL")
		b.Do("CONFIG", "SET", "maxmemory-policy", "noeviction")
		b.Do("CONFIG", "RESETSTAT")
		b.Do("SET", "k", "v")

		// Queue time: under OOM every queued command is refused, reads
		// and PING too, and EXEC aborts; DISCARD still works.
		limit("1")
		do(a, "MULTI")
		do(a, "GET", "k")
		do(a, "PING")
		do(a, "SET", "k", "v2")
		do(a, "EXEC")
		do(a, "MULTI")
		do(a, "GET", "k")
		do(a, "DISCARD")
		// Commands that are not denyoom go on outside MULTI.
		do(a, "GET", "k")
		do(a, "DEL", "nothing")

		// EXEC time: queued while under the limit, run while over it.
		limit("0")
		do(a, "MULTI")
		do(a, "SET", "k", "v3")
		do(a, "GET", "k")
		limit("1")
		do(a, "EXEC")
		do(a, "EXEC") // the transaction is gone
		do(a, "GET", "k")
		limit("0")
		do(a, "MULTI")
		do(a, "GET", "k")
		do(a, "DEL", "nothing")
		do(a, "EXPIRE", "k", "1000")
		limit("1")
		do(a, "EXEC") // no denyoom command queued: it runs

		// Rejections count in commandstats and errorstats as in Redis.
		for _, field := range []string{"cmdstat_exec", "cmdstat_get", "cmdstat_set", "cmdstat_ping", "cmdstat_discard", "errorstat_OOM", "errorstat_EXECABORT"} {
			out = append(out, field+" => "+infoLine(t, b, field))
		}

		// Scripts without a shebang: EVAL itself is not denyoom, the
		// refusal comes from redis.call (counted in SET's rejected_calls
		// and errorstats once, not again in EVAL's error reply).
		do(a, "EVAL", "return redis.call('SET', KEYS[1], 'x')", "1", "k")
		do(a, "EVAL", "return redis.pcall('SET', KEYS[1], 'x')", "1", "k")
		do(a, "EVAL", "return redis.call('GET', KEYS[1])", "1", "k")
		do(a, "EVAL", "return redis.call('EXPIRE', KEYS[1], 100)", "1", "k")
		do(a, "EVAL", "redis.call('DEL', KEYS[2]); return redis.call('SET', KEYS[1], 'y')", "2", "k", "other")
		do(a, "EVAL_RO", "return redis.call('GET', KEYS[1])", "1", "k")
		// EVAL queued before the limit, run by EXEC under it.
		limit("0")
		do(a, "MULTI")
		do(a, "EVAL", "return redis.call('SET', KEYS[1], 'z')", "1", "k")
		limit("1")
		do(a, "EXEC")
		do(a, "GET", "k")

		// Scripts and functions that declare flags are denyoom unless
		// no-writes or allow-oom: refused up front with the plain OOM
		// error (before numkeys is parsed), in MULTI they abort EXEC.
		limit("0")
		const withShebang = "#!lua\nreturn redis.call('SET', KEYS[1], 'w')"
		const noWrites = "#!lua flags=no-writes\nreturn redis.call('GET', KEYS[1])"
		do(a, "SCRIPT", "LOAD", withShebang)
		do(a, "FUNCTION", "LOAD", "REPLACE", "#!lua name=oomlib\n"+
			"redis.register_function('oomw', function(k) return redis.call('SET', k[1], 'f') end)\n"+
			"redis.register_function{function_name='oomr', callback=function(k) return redis.call('GET', k[1]) end, flags={'no-writes'}}\n"+
			"redis.register_function{function_name='oomo', callback=function(k) return redis.call('SET', k[1], 'o') end, flags={'allow-oom'}}")
		limit("1")
		do(a, "EVAL", withShebang, "1", "k")
		do(a, "EVAL", withShebang, "x", "k")
		do(a, "EVAL_RO", withShebang, "1", "k")
		do(a, "EVALSHA", "a0a7e983decba6ccc0c015d5e115627880b3e663", "1", "k")
		do(a, "EVAL", noWrites, "1", "k")
		do(a, "EVAL", "#!lua flags=allow-oom\nreturn redis.call('SET', KEYS[1], 'a')", "1", "k")
		do(a, "EVAL", "#!lua flags=nosuch\nreturn 1", "0")
		do(a, "FCALL", "oomw", "1", "k")
		do(a, "FCALL", "oomw", "x", "k")
		do(a, "FCALL_RO", "oomw", "1", "k")
		do(a, "FCALL", "oomr", "1", "k")
		do(a, "FCALL", "oomo", "1", "k")
		do(a, "FCALL", "nosuch", "1", "k")
		limit("0")
		do(a, "MULTI")
		do(a, "EVAL", noWrites, "1", "k")
		do(a, "FCALL", "oomw", "1", "k")
		limit("1")
		do(a, "EXEC")
		limit("0")
		do(a, "MULTI")
		do(a, "EVAL", noWrites, "1", "k")
		do(a, "FCALL", "oomr", "1", "k")
		limit("1")
		do(a, "EXEC")

		limit("0")
		for _, field := range []string{"cmdstat_eval", "cmdstat_eval_ro", "cmdstat_evalsha", "cmdstat_fcall", "cmdstat_fcall_ro", "cmdstat_exec", "cmdstat_set", "cmdstat_get", "errorstat_OOM", "errorstat_ERR", "errorstat_EXECABORT"} {
			out = append(out, field+" => "+infoLine(t, b, field))
		}
		b.Do("FUNCTION", "DELETE", "oomlib")
		return out
	}
	r := difftest.StartRedis(t)
	c := difftest.StartSubject(t)
	want := session(t, r.Addr)
	got := session(t, c.Addr)
	for i := range max(len(want), len(got)) {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			t.Errorf("step %d:\n redis:    %q\n cachalot: %q", i, w, g)
		}
	}
}

// infoLine returns the INFO line starting with field+":" (without the
// per-call timings, which differ), or "" when there is none.
func infoLine(t *testing.T, c *difftest.Conn, field string) string {
	t.Helper()
	section := "commandstats"
	if strings.HasPrefix(field, "errorstat_") {
		section = "errorstats"
	}
	for _, line := range strings.Split(string(c.Do("INFO", section)), "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			var keep []string
			for _, kv := range strings.Split(v, ",") {
				if !strings.HasPrefix(kv, "usec") {
					keep = append(keep, kv)
				}
			}
			return strings.Join(keep, ",")
		}
	}
	return ""
}
