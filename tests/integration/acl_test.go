package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/tests/difftest"
	"github.com/redis/go-redis/v9"
)

// TestACLWithClients runs ACL users through real clients against the
// binary: go-redis with a username and password, -NOPERM for a user
// without @dangerous, key patterns, channel patterns, and redis-cli
// --user/--pass; then ACL SAVE and a restart that loads the aclfile.
func TestACLWithClients(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	aclfile := filepath.Join(dir, "users.acl")
	if err := os.WriteFile(aclfile, []byte("user default on nopass ~* &* +@all\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, nil, "--aclfile", aclfile)

	admin := redis.NewClient(&redis.Options{Addr: d.addr, Protocol: 2})
	defer admin.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(admin.Do(ctx, "ACL", "SETUSER", "app", "on", ">app-secret", "~app:*", "&news.*", "+@all", "-@dangerous").Err())

	for _, proto := range []int{2, 3} {
		app := redis.NewClient(&redis.Options{Addr: d.addr, Username: "app", Password: "app-secret", Protocol: proto})
		who, err := app.Do(ctx, "ACL", "WHOAMI").Text()
		if err != nil || who != "app" {
			t.Fatalf("RESP%d: ACL WHOAMI = %q, %v", proto, who, err)
		}
		must(app.Set(ctx, "app:1", "v", 0).Err())
		if v, err := app.Get(ctx, "app:1").Result(); err != nil || v != "v" {
			t.Errorf("RESP%d: GET app:1 = %q, %v", proto, v, err)
		}
		checkErr := func(err error, want string) {
			t.Helper()
			if err == nil || err.Error() != want {
				t.Errorf("RESP%d: got %v, want %q", proto, err, want)
			}
		}
		checkErr(app.FlushAll(ctx).Err(), "NOPERM this user has no permissions to run the 'flushall' command")
		checkErr(app.Get(ctx, "other").Err(), "NOPERM this user has no permissions to access one of the keys used as arguments")
		checkErr(app.Publish(ctx, "chat", "x").Err(), "NOPERM this user has no permissions to access one of the channels used as arguments")
		if err := app.Publish(ctx, "news.today", "x").Err(); err != nil {
			t.Errorf("RESP%d: PUBLISH news.today: %v", proto, err)
		}
		app.Close()
	}

	// Wrong passwords are refused and logged.
	bad := redis.NewClient(&redis.Options{Addr: d.addr, Username: "app", Password: "nope", MaxRetries: -1})
	if err := bad.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "WRONGPASS invalid username-password pair or user is disabled.") {
		t.Errorf("wrong password: %v", err)
	}
	bad.Close()
	entries, err := admin.Do(ctx, "ACL", "LOG").Slice()
	must(err)
	reasons := map[string]int{}
	for _, e := range entries {
		m := map[string]any{}
		switch v := e.(type) {
		case []any:
			for i := 0; i+1 < len(v); i += 2 {
				m[v[i].(string)] = v[i+1]
			}
		case map[any]any:
			for k, x := range v {
				m[k.(string)] = x
			}
		}
		if m["username"] != "app" {
			t.Errorf("ACL LOG entry for %v", m["username"])
		}
		reasons[m["reason"].(string)]++
	}
	for _, r := range []string{"auth", "command", "key", "channel"} {
		if reasons[r] == 0 {
			t.Errorf("ACL LOG has no %q entry: %v", r, reasons)
		}
	}

	// redis-cli --user/--pass.
	if _, err := exec.LookPath("redis-cli"); err == nil {
		cli := func(args ...string) string {
			full := append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(d.port), "--no-auth-warning"}, args...)
			out, err := exec.CommandContext(ctx, "redis-cli", full...).CombinedOutput()
			if err != nil {
				t.Fatalf("redis-cli %q: %v\n%s", args, err, out)
			}
			return strings.TrimSpace(string(out))
		}
		if got := cli("--user", "app", "--pass", "app-secret", "ACL", "WHOAMI"); got != "app" {
			t.Errorf("redis-cli ACL WHOAMI = %q", got)
		}
		if got := cli("--user", "app", "--pass", "app-secret", "FLUSHALL"); got != "NOPERM this user has no permissions to run the 'flushall' command" {
			t.Errorf("redis-cli FLUSHALL = %q", got)
		}
		if got := cli("--user", "app", "--pass", "wrong", "PING"); !strings.Contains(got, "WRONGPASS") {
			t.Errorf("redis-cli with a wrong password: %q", got)
		}
	}

	// ACL SAVE writes the file; a restart loads it.
	must(admin.Do(ctx, "ACL", "SAVE").Err())
	data, err := os.ReadFile(aclfile)
	must(err)
	if !strings.Contains(string(data), "user app on #") || !strings.Contains(string(data), "~app:* resetchannels &news.* +@all -@dangerous") {
		t.Errorf("aclfile after ACL SAVE:\n%s", data)
	}
	d2 := startDaemon(t, nil, "--aclfile", aclfile)
	app := redis.NewClient(&redis.Options{Addr: d2.addr, Username: "app", Password: "app-secret"})
	defer app.Close()
	if err := app.FlushAll(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
		t.Errorf("after restart, FLUSHALL as app: %v", err)
	}
}

// TestACLFileErrorStopsStartup: like Redis, a broken aclfile aborts
// startup.
func TestACLFileErrorStopsStartup(t *testing.T) {
	aclfile := filepath.Join(t.TempDir(), "users.acl")
	if err := os.WriteFile(aclfile, []byte("user app on +nocmd\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(difftest.FreePort(t))
	code, out, stderr := runBinary(t, "--port", port, "--bind", "127.0.0.1", "--metrics-addr", "", "--aclfile", aclfile)
	stderr += out
	if code == 0 || !strings.Contains(stderr, "Unknown command or category name in ACL") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
