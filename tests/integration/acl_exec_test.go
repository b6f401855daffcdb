package integration

import (
	"strings"
	"testing"

	"github.com/cachalotdb/cachalot/tests/difftest"
)

// TestExecRechecksACLMatchesRedis runs the same two-connection session
// against redis-server 7.0 and cachalot: a user's rules change (from
// another connection, by ACL SETUSER queued in the transaction itself, or
// by AUTH as another user) between the moment commands are queued and
// EXEC. Redis checks every queued command again at EXEC time; one no
// longer allowed gets the "ACLs rules changed" NOPERM in its slot of the
// EXEC reply, does not run, and is logged in ACL LOG with context
// "multi". Replies must be byte-identical; the statistics and the stable
// fields of the ACL LOG entries must match.
func TestExecRechecksACLMatchesRedis(t *testing.T) {
	difftest.RedisServerPath(t)
	session := func(t *testing.T, addr string) []string {
		a, admin := difftest.Dial(t, addr), difftest.Dial(t, addr)
		var out []string
		do := func(c *difftest.Conn, args ...string) {
			out = append(out, strings.Join(args, " ")+" => "+string(c.Do(args...)))
		}
		admin.Do("FLUSHALL")
		admin.Do("ACL", "LOG", "RESET")
		admin.Do("CONFIG", "RESETSTAT")
		do(admin, "ACL", "SETUSER", "ex1", "on", ">pw", "~*", "&*", "+@all")
		do(admin, "ACL", "SETUSER", "ex2", "on", ">pw", "~a*", "resetchannels", "&c*", "+@all", "-get")
		do(a, "AUTH", "ex1", "pw")

		// Another connection takes rights away between MULTI and EXEC:
		// command, key and channel denials, the others still run.
		do(a, "MULTI")
		do(a, "SET", "k", "v")
		do(a, "SET", "ab", "v")
		do(a, "GET", "ab")
		do(a, "PUBLISH", "x", "y")
		do(a, "PUBLISH", "c1", "y")
		do(a, "INCR", "a1")
		do(admin, "ACL", "SETUSER", "ex1", "resetkeys", "~a*", "resetchannels", "&c*", "-get")
		do(a, "EXEC")
		do(a, "GET", "ab") // refused outside MULTI as usual
		do(admin, "ACL", "SETUSER", "ex1", "~*", "&*", "+@all")

		// The transaction changes its own user's rules: commands after
		// the ACL SETUSER are checked with the new rules. The denied
		// command is the last one, which Redis also counts as a failed
		// EXEC.
		do(a, "MULTI")
		do(a, "SET", "k", "v1")
		do(a, "ACL", "SETUSER", "ex1", "-set")
		do(a, "SET", "k", "v2")
		do(a, "EXEC")
		do(a, "GET", "k")

		// AUTH inside the transaction: later commands run as the new user.
		do(admin, "ACL", "SETUSER", "ex1", "+@all")
		do(a, "MULTI")
		do(a, "GET", "k")
		do(a, "AUTH", "ex2", "pw")
		do(a, "GET", "ab")
		do(a, "SET", "k", "v3")
		do(a, "SET", "ab", "v3")
		do(a, "EXEC")
		do(a, "ACL", "WHOAMI")

		for _, field := range []string{"cmdstat_exec", "cmdstat_get", "cmdstat_set", "cmdstat_publish", "cmdstat_incr", "errorstat_NOPERM"} {
			out = append(out, field+" => "+infoLine(t, admin, field))
		}
		out = append(out, aclLogStable(t, admin)...)
		admin.Do("ACL", "DELUSER", "ex1", "ex2")
		admin.Do("ACL", "LOG", "RESET")
		return out
	}
	compareSessions(t, session) // push_obs_test.go
}

// aclLogStable returns the ACL LOG entries without the fields that differ
// between servers (age, client info): one line per entry.
func aclLogStable(t *testing.T, c *difftest.Conn) []string {
	t.Helper()
	_, entries, ok := difftest.SplitAggregate(c.Do("ACL", "LOG"))
	if !ok {
		t.Fatal("ACL LOG: not an array")
	}
	var out []string
	for _, e := range entries {
		_, kv, ok := difftest.SplitAggregate(e)
		if !ok {
			t.Fatalf("ACL LOG entry %q", e)
		}
		var line []string
		for i := 0; i+1 < len(kv); i += 2 {
			k := string(kv[i])
			if strings.Contains(k, "age-seconds") || strings.Contains(k, "client-info") {
				continue
			}
			line = append(line, strings.ReplaceAll(string(kv[i])+string(kv[i+1]), "\r\n", " "))
		}
		out = append(out, "acl log => "+strings.Join(line, ""))
	}
	return out
}
