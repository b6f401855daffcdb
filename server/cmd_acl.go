package server

// ACL: https://redis.io/commands/?group=server (ACL subcommands).

import (
	"slices"
	"strings"
	"time"

	"github.com/cachalotdb/cachalot/store"
)

func aclCommands() []*command {
	const (
		admin = flagAdmin | flagNoScript | flagLoading | flagStale
		plain = flagNoScript | flagLoading | flagStale
	)
	return []*command{{name: "acl", arity: -2, group: "server", since: "6.0.0",
		summary: "A container for Access List Control commands ", complexity: "Depends on subcommand.",
		subs: []*command{
			{name: "cat", arity: -2, flags: plain, since: "6.0.0",
				summary:    "List the ACL categories or the commands inside a category",
				complexity: "O(1) since the categories and commands are a fixed set.", usage: "[categoryname]", handler: cmdACLCat},
			{name: "deluser", arity: -3, flags: admin, since: "6.0.0",
				summary:    "Remove the specified ACL users and the associated rules",
				complexity: "O(1) amortized time considering the typical user.", usage: "username [username ...]", handler: cmdACLDeluser},
			{name: "dryrun", arity: -4, flags: admin, since: "7.0.0",
				summary:    "Returns whether the user can execute the given command without executing the command.",
				complexity: "O(1).", usage: "username command [arg [arg ...]]", handler: cmdACLDryrun},
			{name: "genpass", arity: -2, flags: plain, since: "6.0.0",
				summary:    "Generate a pseudorandom secure password to use for ACL users",
				complexity: "O(1)", usage: "[bits:integer]", handler: cmdACLGenpass},
			{name: "getuser", arity: 3, flags: admin, since: "6.0.0",
				summary:    "Get the rules for a specific ACL user",
				complexity: "O(N). Where N is the number of password, command and pattern rules that the user has.",
				usage:      "username", handler: cmdACLGetuser,
				history: [][2]string{{"6.2.0", "Added Pub/Sub channel patterns."},
					{"7.0.0", "Added selectors and changed the format of key and channel patterns from a list to their rule representation."}}},
			{name: "help", arity: 2, flags: flagLoading | flagStale, since: "6.0.0",
				summary: "Show helpful text about the different subcommands", complexity: "O(1)", handler: cmdACLHelp},
			{name: "list", arity: 2, flags: admin, since: "6.0.0",
				summary:    "List the current ACL rules in ACL config file format",
				complexity: "O(N). Where N is the number of configured users.", handler: cmdACLList},
			{name: "load", arity: 2, flags: admin, since: "6.0.0",
				summary:    "Reload the ACLs from the configured ACL file",
				complexity: "O(N). Where N is the number of configured users.", handler: cmdACLLoad},
			{name: "log", arity: -2, flags: admin, since: "6.0.0",
				summary:    "List latest events denied because of ACLs in place",
				complexity: "O(N) with N being the number of entries shown.", usage: "[operation=<count:integer | RESET>]", handler: cmdACLLog},
			{name: "save", arity: 2, flags: admin, since: "6.0.0",
				summary:    "Save the current ACL rules in the configured ACL file",
				complexity: "O(N). Where N is the number of configured users.", handler: cmdACLSave},
			{name: "setuser", arity: -3, flags: admin, since: "6.0.0",
				summary:    "Modify or create the rules for a specific ACL user",
				complexity: "O(N). Where N is the number of rules provided.", usage: "username [rule [rule ...]]", handler: cmdACLSetuser,
				history: [][2]string{{"6.2.0", "Added Pub/Sub channel patterns."},
					{"7.0.0", "Added selectors and key based permissions."}}},
			{name: "users", arity: 2, flags: admin, since: "6.0.0",
				summary:    "List the username of all the configured ACL rules",
				complexity: "O(N). Where N is the number of configured users.", handler: cmdACLUsers},
			{name: "whoami", arity: 2, flags: plain, since: "6.0.0",
				summary:    "Return the name of the user associated to the current connection",
				complexity: "O(1)", handler: cmdACLWhoami},
		}}}
}

func cmdACLSetuser(c *client, _ *store.Tx, argv [][]byte) error {
	if hasSpaces(argv[2]) {
		return respError("ERR Usernames can't contain spaces or null characters")
	}
	ops, bad := mergeSelectorArgs(argv[3:])
	if bad >= 0 {
		return respError(sanitize("ERR Unmatched parenthesis in acl selector starting at '" + string(argv[bad+3]) + "'."))
	}
	a := &c.srv.acl
	a.mu.Lock()
	name := string(argv[2])
	u := a.users[name]
	var r *aclRules
	if u != nil {
		r = u.rules.Load().clone()
	} else {
		r = a.newRules()
	}
	for _, op := range ops {
		if err := a.setUser(r, op); err != nil {
			a.mu.Unlock()
			return respError(sanitize("ERR Error in ACL SETUSER modifier '" + string(op) + "': " + err.Error()))
		}
	}
	var old *aclRules
	if u == nil {
		u = &aclUser{name: name}
		a.users[name] = u
	} else {
		old = u.rules.Load()
	}
	u.publish(r)
	if u == a.def {
		a.updateAuthRequired()
	}
	a.mu.Unlock()
	if old != nil {
		c.srv.killPubsubClientsIfNeeded(u, old, r)
	}
	c.w.OK()
	return nil
}

// killPubsubClientsIfNeeded is ACLKillPubsubClientsIfNeeded: when the
// user's channel permissions shrank, its subscribers holding a channel or
// pattern no longer allowed are disconnected.
func (s *Server) killPubsubClientsIfNeeded(u *aclUser, old, next *aclRules) {
	var upcoming []string
	for _, sel := range next.selectors {
		if sel.allChannels {
			return
		}
		upcoming = append(upcoming, sel.channels...)
	}
	superset := true
	for _, sel := range old.selectors {
		for _, ch := range sel.channels {
			if !slices.Contains(upcoming, ch) {
				superset = false
			}
		}
	}
	if superset {
		return
	}
	allowed := &aclSelector{channels: upcoming}
	for _, o := range s.liveClients() {
		if o.user.Load() != u || o.typeOf() != typePubsub {
			continue
		}
		chans, pats, shards := o.subscriptionNames()
		kill := false
		for _, p := range pats {
			kill = kill || !allowed.channelAllowed([]byte(p), true)
		}
		for _, ch := range append(chans, shards...) {
			kill = kill || !allowed.channelAllowed([]byte(ch), false)
		}
		if kill {
			o.kill()
		}
	}
}

func cmdACLDeluser(c *client, _ *store.Tx, argv [][]byte) error {
	for _, n := range argv[2:] {
		if string(n) == "default" {
			return respError("ERR The 'default' user cannot be removed")
		}
	}
	a := &c.srv.acl
	a.mu.Lock()
	gone := make(map[*aclUser]bool)
	for _, n := range argv[2:] {
		if u, ok := a.users[string(n)]; ok {
			delete(a.users, string(n))
			u.rules.Store(deletedUserRules)
			gone[u] = true
		}
	}
	a.mu.Unlock()
	c.srv.killUserClients(c, gone)
	c.w.Int(int64(len(gone)))
	return nil
}

func cmdACLGetuser(c *client, _ *store.Tx, argv [][]byte) error {
	a := &c.srv.acl
	u := a.user(string(argv[2]))
	if u == nil {
		c.w.Null() // Redis 7.0 answers nil for an unknown user
		return nil
	}
	r := u.rules.Load()
	w := &c.w
	w.Map(6)
	w.BulkString("flags")
	var flags []string
	for _, f := range userFlagNames {
		if r.flags&f.flag != 0 {
			flags = append(flags, f.name)
		}
	}
	w.Set(len(flags))
	for _, f := range flags {
		w.BulkString(f)
	}
	w.BulkString("passwords")
	w.BulkStrings(r.passwords)
	a.writeSelector(w, r.selectors[0])
	w.BulkString("selectors")
	w.Array(len(r.selectors) - 1)
	for _, sel := range r.selectors[1:] {
		w.Map(3)
		a.writeSelector(w, sel)
	}
	return nil
}

// writeSelector is aclAddReplySelectorDescription: commands, keys and
// channels.
func (a *aclState) writeSelector(w *Writer, sel *aclSelector) {
	w.BulkString("commands")
	w.BulkString(a.describeCommands(sel))
	w.BulkString("keys")
	if sel.allKeys {
		w.BulkString("~*")
	} else {
		parts := make([]string, len(sel.keys))
		for i, k := range sel.keys {
			parts[i] = k.String()
		}
		w.BulkString(strings.Join(parts, " "))
	}
	w.BulkString("channels")
	if sel.allChannels {
		w.BulkString("&*")
	} else {
		parts := make([]string, len(sel.channels))
		for i, ch := range sel.channels {
			parts[i] = "&" + ch
		}
		w.BulkString(strings.Join(parts, " "))
	}
}

func cmdACLList(c *client, _ *store.Tx, _ [][]byte) error {
	a := &c.srv.acl
	users := a.sortedUsers()
	c.w.Array(len(users))
	for _, u := range users {
		c.w.BulkString("user " + u.name + " " + a.describeUser(u.rules.Load()))
	}
	return nil
}

func cmdACLUsers(c *client, _ *store.Tx, _ [][]byte) error {
	users := c.srv.acl.sortedUsers()
	c.w.Array(len(users))
	for _, u := range users {
		c.w.BulkString(u.name)
	}
	return nil
}

func cmdACLWhoami(c *client, _ *store.Tx, _ [][]byte) error {
	c.w.BulkString(c.userName())
	return nil
}

var errNoACLFile respError = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."

func cmdACLLoad(c *client, _ *store.Tx, _ [][]byte) error {
	path := c.srv.Config().Aclfile
	if path == "" {
		return errNoACLFile
	}
	if err := c.srv.loadACLFile(c, path); err != nil {
		return respError(sanitize("ERR " + err.Error()))
	}
	c.w.OK()
	return nil
}

func cmdACLSave(c *client, _ *store.Tx, _ [][]byte) error {
	path := c.srv.Config().Aclfile
	if path == "" {
		return errNoACLFile
	}
	if err := c.srv.acl.saveFile(path); err != nil {
		c.srv.log.Warn("ACL SAVE failed", "path", path, "err", err)
		return respError("ERR There was an error trying to save the ACLs. Please check the server logs for more information")
	}
	c.w.OK()
	return nil
}

func cmdACLCat(c *client, _ *store.Tx, argv [][]byte) error {
	switch len(argv) {
	case 2:
		c.w.BulkStrings(aclOrder)
		return nil
	case 3:
	default:
		return errSubcommandSyntax("ACL", argv[1])
	}
	i := categoryIndex(string(argv[2]))
	if i < 0 {
		return respError(sanitize("ERR Unknown category '" + truncate(argv[2], 128) + "'"))
	}
	var names []string
	for _, cmd := range c.srv.acl.all {
		if cmd.aclInfo.cats&(1<<i) != 0 {
			names = append(names, cmd.fullName)
		}
	}
	c.w.BulkStrings(names)
	return nil
}

func cmdACLGenpass(c *client, _ *store.Tx, argv [][]byte) error {
	bits := int64(256)
	switch len(argv) {
	case 2:
	case 3:
		n, err := parseInt(argv[2])
		if err != nil {
			return errNotInteger
		}
		bits = n
	default:
		return errSubcommandSyntax("ACL", argv[1])
	}
	if bits <= 0 || bits > 4096 {
		return respError("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")
	}
	c.w.BulkString(generatePassword(int(bits)))
	return nil
}

var aclLogReasons = map[int]string{aclDeniedCmd: "command", aclDeniedKey: "key", aclDeniedChannel: "channel", aclDeniedAuth: "auth"}
var aclLogContexts = map[int]string{aclCtxToplevel: "toplevel", aclCtxMulti: "multi", aclCtxLua: "lua"}

func cmdACLLog(c *client, _ *store.Tx, argv [][]byte) error {
	count := int64(10)
	a := &c.srv.acl
	switch len(argv) {
	case 2:
	case 3:
		if equalFold(argv[2], "reset") {
			a.mu.Lock()
			a.log = nil
			a.mu.Unlock()
			c.w.OK()
			return nil
		}
		n, err := parseInt(argv[2])
		if err != nil {
			return errNotInteger
		}
		count = max(n, 0)
	default:
		return errSubcommandSyntax("ACL", argv[1])
	}
	a.mu.Lock()
	entries := make([]aclLogEntry, 0, min(count, int64(len(a.log))))
	for i := 0; i < len(a.log) && int64(i) < count; i++ {
		entries = append(entries, *a.log[i])
	}
	a.mu.Unlock()
	now := time.Now().UnixMilli()
	c.w.Array(len(entries))
	for _, e := range entries {
		c.w.Map(7)
		c.w.BulkString("count")
		c.w.Int(e.count)
		c.w.BulkString("reason")
		c.w.BulkString(aclLogReasons[e.reason])
		c.w.BulkString("context")
		c.w.BulkString(aclLogContexts[e.context])
		c.w.BulkString("object")
		c.w.BulkString(e.object)
		c.w.BulkString("username")
		c.w.BulkString(e.username)
		c.w.BulkString("age-seconds")
		c.w.Double(float64(now-e.ctime) / 1000)
		c.w.BulkString("client-info")
		c.w.BulkString(e.cinfo)
	}
	return nil
}

// cmdACLDryrun checks a command against a user's rules without running
// it; a denial is a bulk string, not an error, and is not logged.
func cmdACLDryrun(c *client, _ *store.Tx, argv [][]byte) error {
	u := c.srv.acl.user(string(argv[2]))
	if u == nil {
		return respError(sanitize("ERR User '" + string(argv[2]) + "' not found"))
	}
	args := argv[3:]
	cmd := c.srv.table.lookup(args[0])
	if cmd != nil && cmd.subIndex != nil && len(args) >= 2 {
		cmd = cmd.subLookup(args[1])
	}
	if cmd == nil {
		return respError(sanitize("ERR Command '" + string(args[0]) + "' not found"))
	}
	if (cmd.arity > 0 && len(args) != cmd.arity) || len(args) < -cmd.arity {
		return errArity(cmd.fullName)
	}
	res, idx := checkRules(u.rules.Load(), cmd, args)
	switch res {
	case aclOK:
		c.w.OK()
	case aclDeniedCmd:
		c.w.BulkString("This user has no permissions to run the '" + cmd.fullName + "' command")
	case aclDeniedKey:
		c.w.BulkString("This user has no permissions to access the '" + string(args[idx]) + "' key")
	default:
		c.w.BulkString("This user has no permissions to access the '" + string(args[idx]) + "' channel")
	}
	return nil
}

// aclHelp is Redis 7.0's ACL HELP text.
var aclHelp = []string{
	"ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CAT [<category>]",
	"    List all commands that belong to <category>, or all command categories",
	"    when no category is specified.",
	"DELUSER <username> [<username> ...]",
	"    Delete a list of users.",
	"DRYRUN <username> <command> [<arg> ...]",
	"    Returns whether the user can execute the given command without executing the command.",
	"GETUSER <username>",
	"    Get the user's details.",
	"GENPASS [<bits>]",
	"    Generate a secure 256-bit user password. The optional `bits` argument can",
	"    be used to specify a different size.",
	"LIST",
	"    Show users details in config file format.",
	"LOAD",
	"    Reload users from the ACL file.",
	"LOG [<count> | RESET]",
	"    Show the ACL log entries.",
	"SAVE",
	"    Save the current config to the ACL file.",
	"SETUSER <username> <attribute> [<attribute> ...]",
	"    Create or modify a user with the specified attributes.",
	"USERS",
	"    List all the registered usernames.",
	"WHOAMI",
	"    Return the current connection username.",
	"HELP",
	"    Prints this help.",
}

func cmdACLHelp(c *client, _ *store.Tx, _ [][]byte) error {
	c.w.Array(len(aclHelp))
	for _, line := range aclHelp {
		c.w.Simple(line)
	}
	return nil
}
