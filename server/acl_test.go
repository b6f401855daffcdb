package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/config"
)

// aclDo dispatches one command on c and returns the raw reply.
func aclDo(c *client, args ...string) string {
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	c.w.Reset()
	c.srv.dispatch(c, argv)
	out := string(c.w.Bytes())
	c.w.Reset()
	return out
}

// aclExpect checks one reply.
func aclExpect(t *testing.T, c *client, want string, args ...string) {
	t.Helper()
	if got := aclDo(c, args...); got != want {
		t.Errorf("%v: got %q, want %q", args, got, want)
	}
}

// Expected texts below were taken from redis-server 7.0.15.
func TestACLListDescribesRulesAsRedis(t *testing.T) {
	cases := []struct {
		rules []string
		want  string
	}{
		{nil, "off resetchannels -@all"},
		{[]string{"reset"}, "off sanitize-payload resetchannels -@all"},
		{[]string{"on", ">pw", "~k*", "+@all", "-@dangerous"},
			"on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~k* resetchannels +@all -@dangerous"},
		{[]string{"on", "nopass", "~*", "&*", "+@all"}, "on nopass ~* &* +@all"},
		{[]string{"%R~r*", "%W~w*", "%RW~x*", "allchannels", "-@all", "+get"}, "off %R~r* %W~w* ~x* &* -@all +get"},
		{[]string{"%R~a", "%W~a"}, "off ~a resetchannels -@all"},
		{[]string{"-@all", "+select|0"}, "off resetchannels -@all +select|0"},
		{[]string{"-@all", "+config|get"}, "off resetchannels -@all +config|get"},
		{[]string{"+@all", "-config|set"}, "off resetchannels +@all -config|set"},
		{[]string{"allcommands", "-flushall"}, "off resetchannels +@all -flushall"},
		{[]string{"-@all", "+@read"}, "off resetchannels -@all +@read"},
		{[]string{"+@all", "-@write"}, "off resetchannels +@all -@write"},
		{[]string{"&ch*", "&ch*", "&x"}, "off resetchannels &ch* &x -@all"},
		{[]string{">a", ">a", ">b", "<a"},
			"off #3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d resetchannels -@all"},
		{[]string{"nopass", ">a", "resetpass"}, "off resetchannels -@all"},
		{[]string{"(~a +get)", "(%R~b +@read)"},
			"off resetchannels -@all (~a resetchannels -@all +get) (%R~b resetchannels -@all +@read)"},
		{[]string{"(~a +get)", "clearselectors"}, "off resetchannels -@all"},
		{[]string{"%R"}, "off %R~ resetchannels -@all"},
		{[]string{"", "on"}, "on resetchannels -@all"},
	}
	c := benchClient(t)
	for i, tc := range cases {
		name := "u" + strings.Repeat("x", i)
		args := append([]string{"ACL", "SETUSER", name}, tc.rules...)
		aclExpect(t, c, "+OK\r\n", args...)
		u := c.srv.acl.user(name)
		if got := c.srv.acl.describeUser(u.rules.Load()); got != tc.want {
			t.Errorf("%v: ACL LIST %q, want %q", tc.rules, got, tc.want)
		}
	}
	if got := c.srv.acl.describeUser(c.srv.acl.def.rules.Load()); got != "on nopass ~* &* +@all" {
		t.Errorf("default user: %q", got)
	}
}

func TestACLSetuserErrors(t *testing.T) {
	const prefix = "-ERR Error in ACL SETUSER modifier '"
	cases := []struct {
		rules []string
		want  string
	}{
		{[]string{"a b"}, prefix + "a b': Syntax error\r\n"},
		{[]string{"+nocmd"}, prefix + "+nocmd': Unknown command or category name in ACL\r\n"},
		{[]string{"+@nocat"}, prefix + "+@nocat': Unknown command or category name in ACL\r\n"},
		{[]string{"~*", "~a"}, prefix + "~a': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns\r\n"},
		{[]string{"&*", "&a"}, prefix + "&a': Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels\r\n"},
		{[]string{"<nopass"}, prefix + "<nopass': The password you are trying to remove from the user does not exist\r\n"},
		{[]string{"#abc"}, prefix + "#abc': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters\r\n"},
		{[]string{"+config|get|x"}, prefix + "+config|get|x': Allowing first-arg of a subcommand is not supported\r\n"},
		{[]string{"-get|x"}, prefix + "-get|x': Unknown command or category name in ACL\r\n"},
		{[]string{"+config|nosuch"}, prefix + "+config|nosuch': Unknown command or category name in ACL\r\n"},
		{[]string{"+debug|"}, prefix + "+debug|': Syntax error\r\n"},
		{[]string{"%X~a"}, prefix + "%X~a': Syntax error\r\n"},
		{[]string{"%~a"}, prefix + "%~a': Syntax error\r\n"},
		{[]string{"%RR~a"}, prefix + "%RR~a': Syntax error\r\n"},
		{[]string{"(~a", "+get"}, "-ERR Unmatched parenthesis in acl selector starting at '(~a'.\r\n"},
		{[]string{"(~a +nocmd)"}, prefix + "(~a +nocmd)': Unknown command or category name in ACL\r\n"},
		{[]string{"(on)"}, prefix + "(on)': Syntax error\r\n"},
	}
	c := benchClient(t)
	for _, tc := range cases {
		args := append([]string{"ACL", "SETUSER", "x", "on"}, tc.rules...)
		aclExpect(t, c, tc.want, args...)
	}
	// A failed SETUSER changes nothing, and did not create the user.
	aclExpect(t, c, "$-1\r\n", "ACL", "GETUSER", "x")
	aclExpect(t, c, "-ERR Usernames can't contain spaces or null characters\r\n", "ACL", "SETUSER", "a b")
	aclExpect(t, c, "-ERR The 'default' user cannot be removed\r\n", "ACL", "DELUSER", "x", "default")
}

func TestACLPermissionChecks(t *testing.T) {
	type check struct {
		argv []string
		res  int
		idx  int
	}
	cases := []struct {
		rules  []string
		checks []check
	}{
		{[]string{"~k*", "&ch*", "+@all", "-@dangerous"}, []check{
			{[]string{"get", "k1"}, aclOK, 0},
			{[]string{"get", "other"}, aclDeniedKey, 1},
			{[]string{"mset", "k1", "v", "other", "v"}, aclDeniedKey, 3},
			{[]string{"flushall"}, aclDeniedCmd, 0},
			{[]string{"publish", "ch1", "x"}, aclOK, 0},
			{[]string{"publish", "other", "x"}, aclDeniedChannel, 1},
			{[]string{"subscribe", "ch1", "no"}, aclDeniedChannel, 2},
			{[]string{"psubscribe", "ch*"}, aclOK, 0},
			{[]string{"psubscribe", "ch1*"}, aclDeniedChannel, 1}, // patterns compare literally
			{[]string{"auth", "a", "b"}, aclOK, 0},                // no_auth commands always run
		}},
		{[]string{"%R~r*", "%W~w*", "~x*", "+@all"}, []check{
			{[]string{"get", "r1"}, aclOK, 0},
			{[]string{"get", "w1"}, aclDeniedKey, 1},
			{[]string{"set", "w1", "v"}, aclOK, 0},
			{[]string{"set", "w1", "v", "get"}, aclDeniedKey, 1},
			{[]string{"set", "r1", "v"}, aclDeniedKey, 1},
			{[]string{"del", "w1"}, aclOK, 0},
			{[]string{"incr", "w1"}, aclDeniedKey, 1},
			{[]string{"incr", "x1"}, aclOK, 0},
		}},
		{[]string{"allkeys", "-@all", "+select|0", "+config|get", "+client"}, []check{
			{[]string{"select", "0"}, aclOK, 0},
			{[]string{"select", "1"}, aclDeniedCmd, 0},
			{[]string{"config", "get", "x"}, aclOK, 0},
			{[]string{"config", "set", "x", "y"}, aclDeniedCmd, 0},
			{[]string{"client", "kill", "1.2.3.4:5"}, aclOK, 0},
		}},
		{[]string{"~a*", "+get", "(~b* +set)"}, []check{
			{[]string{"get", "a1"}, aclOK, 0},
			{[]string{"set", "b1", "v"}, aclOK, 0},
			{[]string{"get", "b1"}, aclDeniedKey, 1},
			{[]string{"set", "a1", "v"}, aclDeniedKey, 1},
			{[]string{"del", "a1"}, aclDeniedCmd, 0},
		}},
	}
	c := benchClient(t)
	for i, tc := range cases {
		name := "p" + strings.Repeat("x", i)
		aclExpect(t, c, "+OK\r\n", append([]string{"ACL", "SETUSER", name}, tc.rules...)...)
		r := c.srv.acl.user(name).rules.Load()
		for _, ck := range tc.checks {
			argv := make([][]byte, len(ck.argv))
			for j, a := range ck.argv {
				argv[j] = []byte(a)
			}
			cmd := c.srv.table.lookup(argv[0])
			if cmd.subIndex != nil {
				cmd = cmd.subLookup(argv[1])
			}
			res, idx := checkRules(r, cmd, argv)
			if res != ck.res || idx != ck.idx {
				t.Errorf("%v %v: got (%d, %d), want (%d, %d)", tc.rules, ck.argv, res, idx, ck.res, ck.idx)
			}
		}
	}
}

func TestACLAuthNopermAndLog(t *testing.T) {
	c := benchClient(t)
	aclExpect(t, c, "+OK\r\n", "ACL", "SETUSER", "carol", "on", ">pw", "~k*", "&ch*", "+@all", "-@dangerous")
	aclExpect(t, c, "-WRONGPASS invalid username-password pair or user is disabled.\r\n", "AUTH", "carol", "bad")
	aclExpect(t, c, "-WRONGPASS invalid username-password pair or user is disabled.\r\n", "AUTH", "nobody", "bad")
	aclExpect(t, c, "+OK\r\n", "AUTH", "carol", "pw")
	aclExpect(t, c, "$5\r\ncarol\r\n", "ACL", "WHOAMI")
	aclExpect(t, c, "-NOPERM this user has no permissions to run the 'flushall' command\r\n", "FLUSHALL")
	aclExpect(t, c, "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n", "GET", "other")
	aclExpect(t, c, "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n", "GET", "other")
	aclExpect(t, c, "-NOPERM this user has no permissions to access one of the channels used as arguments\r\n", "PUBLISH", "other", "x")
	aclExpect(t, c, "-NOPERM this user has no permissions to run the 'acl|log' command\r\n", "ACL", "LOG")
	aclExpect(t, c, "+OK\r\n", "AUTH", "default", "any")

	a := &c.srv.acl
	a.mu.Lock()
	var got []string
	for _, e := range a.log {
		got = append(got, strings.Join([]string{itoa(int(e.count)), aclLogReasons[e.reason], aclLogContexts[e.context], e.object, e.username}, " "))
	}
	a.mu.Unlock()
	want := []string{
		"1 command toplevel acl|log carol",
		"1 channel toplevel other carol",
		"2 key toplevel other carol",
		"1 command toplevel flushall carol",
		"1 auth toplevel AUTH nobody",
		"1 auth toplevel AUTH carol",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ACL LOG entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	reply := aclDo(c, "ACL", "LOG", "1")
	for _, field := range []string{"count", "reason", "context", "object", "username", "age-seconds", "client-info"} {
		if !strings.Contains(reply, "$"+itoa(len(field))+"\r\n"+field+"\r\n") {
			t.Errorf("ACL LOG 1 lacks %s: %q", field, reply)
		}
	}
	if !strings.HasPrefix(reply, "*1\r\n") || !strings.Contains(reply, "user=carol") {
		t.Errorf("ACL LOG 1: %q", reply)
	}
	aclExpect(t, c, "*0\r\n", "ACL", "LOG", "-5")
	aclExpect(t, c, "-ERR value is not an integer or out of range\r\n", "ACL", "LOG", "x")
	aclExpect(t, c, "+OK\r\n", "ACL", "LOG", "RESET")
	aclExpect(t, c, "*0\r\n", "ACL", "LOG")

	// MULTI: a denied command aborts the transaction, logged as "multi".
	aclExpect(t, c, "+OK\r\n", "AUTH", "carol", "pw")
	aclExpect(t, c, "+OK\r\n", "MULTI")
	aclExpect(t, c, "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n", "GET", "other")
	aclExpect(t, c, "-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC")
	a.mu.Lock()
	if len(a.log) != 1 || a.log[0].context != aclCtxMulti {
		t.Errorf("MULTI denial not logged in the multi context: %+v", a.log)
	}
	a.mu.Unlock()
}

func TestACLRequirepassIsTheDefaultUsersPassword(t *testing.T) {
	c := benchClient(t)
	aclExpect(t, c, "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n", "AUTH", "x")
	aclExpect(t, c, "+OK\r\n", "CONFIG", "SET", "requirepass", "secret")
	if got := c.srv.acl.describeUser(c.srv.acl.def.rules.Load()); got != "on #"+hashPassword([]byte("secret"))+" ~* &* +@all" {
		t.Errorf("default user after requirepass: %q", got)
	}
	// The connection stays authenticated; RESET logs it out.
	aclExpect(t, c, "+PONG\r\n", "PING")
	aclExpect(t, c, "+RESET\r\n", "RESET")
	aclExpect(t, c, "-NOAUTH Authentication required.\r\n", "PING")
	aclExpect(t, c, "-WRONGPASS invalid username-password pair or user is disabled.\r\n", "AUTH", "nope")
	aclExpect(t, c, "+OK\r\n", "AUTH", "secret")
	// ACL SETUSER default nopass lifts authentication for new connections.
	aclExpect(t, c, "+OK\r\n", "ACL", "SETUSER", "default", "nopass")
	if c.srv.acl.authRequired.Load() {
		t.Error("default nopass: authentication still required")
	}
	aclExpect(t, c, "+OK\r\n", "CONFIG", "SET", "requirepass", "")
	aclExpect(t, c, "+OK\r\n", "ACL", "SETUSER", "default", "off")
	if !c.srv.acl.authRequired.Load() {
		t.Error("default off: authentication not required")
	}
}

func TestACLDryrunCatGenpassHelp(t *testing.T) {
	c := benchClient(t)
	aclExpect(t, c, "+OK\r\n", "ACL", "SETUSER", "carol", "~k*", "&ch*", "+@all", "-@dangerous")
	aclExpect(t, c, "+OK\r\n", "ACL", "DRYRUN", "carol", "get", "k1")
	aclExpect(t, c, bulk("This user has no permissions to access the 'other' key"), "ACL", "DRYRUN", "carol", "get", "other")
	aclExpect(t, c, bulk("This user has no permissions to run the 'flushall' command"), "ACL", "DRYRUN", "carol", "flushall")
	aclExpect(t, c, bulk("This user has no permissions to access the 'other' channel"), "ACL", "DRYRUN", "carol", "publish", "other", "x")
	aclExpect(t, c, "-ERR User 'nobody' not found\r\n", "ACL", "DRYRUN", "nobody", "get", "k")
	aclExpect(t, c, "-ERR Command 'nocmd' not found\r\n", "ACL", "DRYRUN", "carol", "nocmd", "k")
	aclExpect(t, c, "-ERR Command 'config' not found\r\n", "ACL", "DRYRUN", "carol", "config", "foo")
	aclExpect(t, c, "-ERR wrong number of arguments for 'get' command\r\n", "ACL", "DRYRUN", "carol", "get")
	cats := aclDo(c, "ACL", "CAT")
	if !strings.HasPrefix(cats, "*21\r\n$8\r\nkeyspace\r\n") || !strings.HasSuffix(cats, "$9\r\nscripting\r\n") {
		t.Errorf("ACL CAT: %q", cats)
	}
	if s := aclDo(c, "ACL", "CAT", "DANGEROUS"); !strings.Contains(s, "\r\nflushall\r\n") || strings.Contains(s, "\r\nget\r\n") {
		t.Errorf("ACL CAT dangerous: %q", s)
	}
	if s := aclDo(c, "ACL", "CAT", "admin"); !strings.Contains(s, "\r\nconfig|set\r\n") {
		t.Errorf("ACL CAT admin lacks subcommands: %q", s)
	}
	aclExpect(t, c, "-ERR Unknown category 'nocat'\r\n", "ACL", "CAT", "nocat")
	if s := aclDo(c, "ACL", "GENPASS"); len(s) != len("$64\r\n\r\n")+64 {
		t.Errorf("ACL GENPASS: %q", s)
	}
	if s := aclDo(c, "ACL", "GENPASS", "5"); !strings.HasPrefix(s, "$2\r\n") {
		t.Errorf("ACL GENPASS 5: %q", s)
	}
	aclExpect(t, c, "-ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096\r\n", "ACL", "GENPASS", "0")
	aclExpect(t, c, "-ERR unknown subcommand or wrong number of arguments for 'GENPASS'. Try ACL HELP.\r\n", "ACL", "GENPASS", "1", "2")
	aclExpect(t, c, "-ERR unknown subcommand 'FOO'. Try ACL HELP.\r\n", "ACL", "FOO")
	if s := aclDo(c, "ACL", "HELP"); !strings.HasPrefix(s, "*29\r\n+ACL <subcommand>") {
		t.Errorf("ACL HELP: %q", s)
	}
	aclExpect(t, c, "-ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.\r\n", "ACL", "SAVE")
}

func TestACLGetuserShape(t *testing.T) {
	c := benchClient(t)
	aclExpect(t, c, "+OK\r\n", "ACL", "SETUSER", "x", "on", "nopass", "%R~a", "&c", "-@all", "+get", "(~b +set)")
	want2 := "*12\r\n$5\r\nflags\r\n*2\r\n$2\r\non\r\n$6\r\nnopass\r\n$9\r\npasswords\r\n*0\r\n" +
		"$8\r\ncommands\r\n$10\r\n-@all +get\r\n$4\r\nkeys\r\n$4\r\n%R~a\r\n$8\r\nchannels\r\n$2\r\n&c\r\n" +
		"$9\r\nselectors\r\n*1\r\n*6\r\n$8\r\ncommands\r\n$10\r\n-@all +set\r\n$4\r\nkeys\r\n$2\r\n~b\r\n$8\r\nchannels\r\n$0\r\n\r\n"
	aclExpect(t, c, want2, "ACL", "GETUSER", "x")
	aclDo(c, "HELLO", "3")
	want3 := "%6\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$6\r\nnopass\r\n$9\r\npasswords\r\n*0\r\n" +
		"$8\r\ncommands\r\n$10\r\n-@all +get\r\n$4\r\nkeys\r\n$4\r\n%R~a\r\n$8\r\nchannels\r\n$2\r\n&c\r\n" +
		"$9\r\nselectors\r\n*1\r\n%3\r\n$8\r\ncommands\r\n$10\r\n-@all +set\r\n$4\r\nkeys\r\n$2\r\n~b\r\n$8\r\nchannels\r\n$0\r\n\r\n"
	aclExpect(t, c, want3, "ACL", "GETUSER", "x")
	aclExpect(t, c, "_\r\n", "ACL", "GETUSER", "nobody")
}

func TestACLDeluserClosesItsConnections(t *testing.T) {
	srv, addr, _ := startTestServer(t, nil)
	admin := dialRaw(t, addr)
	if got := admin.do("ACL", "SETUSER", "dave", "on", "nopass", "~*", "+@all"); got != "+OK\r\n" {
		t.Fatalf("SETUSER: %q", got)
	}
	d := dialRaw(t, addr)
	if got := d.do("AUTH", "dave", "x"); got != "+OK\r\n" {
		t.Fatalf("AUTH: %q", got)
	}
	if got := admin.do("CLIENT", "KILL", "USER", "nobody"); got != "-ERR No such user 'nobody'\r\n" {
		t.Errorf("CLIENT KILL USER nobody: %q", got)
	}
	// SETUSER off keeps the session (as Redis 7.0); new rules apply at once.
	admin.do("ACL", "SETUSER", "dave", "off", "-@all")
	if got := d.do("PING"); got != "-NOPERM this user has no permissions to run the 'ping' command\r\n" {
		t.Errorf("PING after -@all: %q", got)
	}
	if got := admin.do("ACL", "DELUSER", "dave", "nosuch"); got != ":1\r\n" {
		t.Errorf("DELUSER: %q", got)
	}
	if !d.closed(2 * time.Second) {
		t.Error("connection of the deleted user still open")
	}
	_ = srv
}

func TestACLSaveAndLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "users.acl")
	cfg := config.Default()
	cfg.Aclfile = path
	c := benchClient(t)
	c.srv.cfg.Store(cfg)
	aclExpect(t, c, "+OK\r\n", "ACL", "SETUSER", "alice", "on", ">pw", "~k*", "+@all", "-@dangerous", "(%R~r* +get)")
	aclExpect(t, c, "+OK\r\n", "ACL", "SAVE")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "user alice on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~k* resetchannels +@all -@dangerous (%R~r* resetchannels -@all +get)\n" +
		"user default on nopass ~* &* +@all\n"
	if string(data) != want {
		t.Errorf("ACL SAVE wrote:\n%s\nwant:\n%s", data, want)
	}
	aclExpect(t, c, ":1\r\n", "ACL", "DELUSER", "alice")
	aclExpect(t, c, "+OK\r\n", "ACL", "LOAD")
	aclExpect(t, c, "*2\r\n$5\r\nalice\r\n$7\r\ndefault\r\n", "ACL", "USERS")
	if got := aclDo(c, "ACL", "LIST"); !strings.Contains(got, strings.TrimSuffix(strings.SplitN(want, "\n", 2)[0], "\n")) {
		t.Errorf("ACL LIST after LOAD: %q", got)
	}
	// A file with errors changes nothing and reports every line.
	bad := "user bob on +nocmd\nfoo bar\nuser bob on\n"
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	wantErr := "-ERR " + path + ":1: Unknown command or category name in ACL. " + path + ":2 should start with user keyword followed by the username. WARNING: Duplicate user 'bob' found on line 3. WARNING: ACL errors detected, no change to the previously active ACL rules was performed\r\n"
	aclExpect(t, c, wantErr, "ACL", "LOAD")
	aclExpect(t, c, "*2\r\n$5\r\nalice\r\n$7\r\ndefault\r\n", "ACL", "USERS")
	os.Remove(path)
	aclExpect(t, c, "-ERR Error loading ACLs, opening file '"+path+"': No such file or directory\r\n", "ACL", "LOAD")
}

func TestACLHotPathAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	c := benchClient(t)
	aclDo(c, "ACL", "SETUSER", "limited", "on", "nopass", "~*", "&*", "+@all", "-@dangerous")
	for _, user := range []string{"default", "limited"} {
		aclDo(c, "AUTH", user, "x")
		argv := [][]byte{[]byte("GET"), []byte("k")}
		c.srv.dispatch(c, argv)
		allocs := testing.AllocsPerRun(200, func() {
			c.srv.dispatch(c, argv)
			c.w.Reset()
		})
		if allocs != 0 {
			t.Errorf("GET as %s: %.1f allocations, want 0", user, allocs)
		}
	}
}

// BenchmarkACLDispatchGet measures GET as an unrestricted user (the fast
// path), as a user with command restrictions only, and as a user with key
// patterns too.
func BenchmarkACLDispatchGet(b *testing.B) {
	for _, tc := range []struct{ name, rules string }{
		{"default", ""},
		{"no-dangerous", "~* &* +@all -@dangerous"},
		{"key-patterns", "~k* ~user:* &* +@all -@dangerous"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := benchClient(b)
			if tc.rules != "" {
				aclDo(c, append([]string{"ACL", "SETUSER", "u", "on", "nopass"}, strings.Fields(tc.rules)...)...)
				aclDo(c, "AUTH", "u", "x")
			}
			argv := [][]byte{[]byte("GET"), []byte("k")}
			c.srv.dispatch(c, argv)
			c.w.Reset()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.srv.dispatch(c, argv)
				c.w.Reset()
			}
		})
	}
}
