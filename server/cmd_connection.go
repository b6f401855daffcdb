package server

// Connection commands: https://redis.io/commands/?group=connection

import (
	"math"
	"strconv"
	"time"

	"github.com/cachalotdb/cachalot/store"
)

// helloVersion is the Redis version HELLO reports. Client libraries gate
// features (CLIENT SETINFO, RESP3 handling) on it, so it names the Redis
// release whose connection commands cachalot implements, not cachalot's own
// version.
const helloVersion = "7.2.4"

// connFlags are the flags Redis gives the commands a client may send before
// it authenticates (AUTH, HELLO, QUIT, RESET).
const connFlags = flagNoScript | flagLoading | flagStale | flagFast | flagNoAuth | flagAllowBusy

// clientSubFlags are the flags of most CLIENT subcommands.
const clientSubFlags = flagNoScript | flagLoading | flagStale

func connectionCommands() []*command {
	return []*command{
		{name: "ping", arity: -1, flags: flagFast, acl: "@connection", group: "connection", since: "1.0.0",
			summary: "Ping the server", complexity: "O(1)", usage: "[message]", handler: cmdPing},
		{name: "echo", arity: 2, flags: flagLoading | flagStale | flagFast, acl: "@connection", group: "connection", since: "1.0.0",
			summary: "Echo the given string", complexity: "O(1)", usage: "message", handler: cmdEcho},
		{name: "quit", arity: -1, flags: connFlags, acl: "@connection", group: "connection", since: "1.0.0",
			summary: "Close the connection", complexity: "O(1)", handler: cmdQuit},
		{name: "reset", arity: 1, flags: connFlags, acl: "@connection", group: "connection", since: "6.2.0",
			summary: "Reset the connection", complexity: "O(1)", handler: cmdReset},
		{name: "select", arity: 2, flags: flagLoading | flagStale | flagFast, acl: "@connection", group: "connection", since: "1.0.0",
			summary: "Change the selected database for the current connection", complexity: "O(1)", usage: "index:integer", handler: cmdSelect},
		{name: "auth", arity: -2, flags: connFlags, acl: "@connection", group: "connection", since: "1.0.0",
			summary: "Authenticate to the server", complexity: "O(N) where N is the number of passwords defined for the user",
			usage: "[username@6.0.0] password", handler: cmdAuth},
		{name: "hello", arity: -1, flags: connFlags, acl: "@connection", group: "connection", since: "6.0.0",
			summary: "Handshake with Redis", complexity: "O(1)",
			usage: "arguments=[protover:integer username_password=[AUTH username password] [SETNAME clientname]]", handler: cmdHello},
		{name: "client", arity: -2, group: "connection", since: "2.4.0",
			summary: "A container for client connection commands", complexity: "Depends on subcommand.",
			subs: clientSubcommands()},
	}
}

// clientSubcommands are CLIENT's rows, in the order Redis 7.0 lists them.
// TRACKING, PAUSE and UNPAUSE are not implemented.
func clientSubcommands() []*command {
	return []*command{
		{name: "id", arity: 2, flags: clientSubFlags, acl: "@connection", since: "5.0.0",
			summary: "Returns the client ID for the current connection", complexity: "O(1)", handler: cmdClientID},
		{name: "getname", arity: 2, flags: clientSubFlags, acl: "@connection", since: "2.6.9",
			summary: "Get the current connection name", complexity: "O(1)", handler: cmdClientGetname},
		{name: "kill", arity: -3, flags: flagAdmin | clientSubFlags, acl: "@connection", since: "2.4.0",
			summary: "Kill the connection of a client", complexity: "O(N) where N is the number of client connections",
			usage:   "filter=<ip:port | new-format=<[ID client-id:integer]@2.8.12 | normal_master_slave_pubsub=[TYPE <NORMAL | MASTER@3.2.0 | SLAVE | REPLICA@5.0.0 | PUBSUB>]@2.8.12 | [USER username] | [ADDR ip:port] | [LADDR ip:port]@6.2.0 | [SKIPME yes/no]> ...>",
			handler: cmdClientKill},
		{name: "setname", arity: 3, flags: clientSubFlags, acl: "@connection", since: "2.6.9",
			summary: "Set the current connection name", complexity: "O(1)", usage: "connection-name", handler: cmdClientSetname},
		{name: "caching", arity: 3, flags: clientSubFlags, acl: "@connection", since: "6.0.0",
			summary: "Instruct the server about tracking or not keys in the next request", complexity: "O(1)",
			usage: "mode=<YES | NO>", handler: cmdClientCaching},
		{name: "reply", arity: 3, flags: clientSubFlags, acl: "@connection", since: "3.2.0",
			summary: "Instruct the server whether to reply to commands", complexity: "O(1)",
			usage: "on_off_skip=<ON | OFF | SKIP>", handler: cmdClientReply},
		{name: "help", arity: 2, flags: flagLoading | flagStale, acl: "@connection", since: "5.0.0",
			summary: "Show helpful text about the different subcommands", complexity: "O(1)", handler: cmdClientHelp},
		{name: "tracking", arity: -3, flags: clientSubFlags, acl: "@connection", since: "6.0.0",
			summary: "Enable or disable server assisted client side caching support", complexity: "O(1). Some options may introduce additional complexity.",
			usage: "status=<ON | OFF> [REDIRECT client-id:integer] [PREFIX prefix [PREFIX prefix ...]] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]", handler: cmdClientTracking},
		{name: "getredir", arity: 2, flags: clientSubFlags, acl: "@connection", since: "6.0.0",
			summary: "Get tracking notifications redirection client ID if any", complexity: "O(1)", handler: cmdClientGetredir},
		{name: "trackinginfo", arity: 2, flags: clientSubFlags, acl: "@connection", since: "6.2.0",
			summary:    "Return information about server assisted client side caching for the current connection",
			complexity: "O(1)", handler: cmdClientTrackinginfo},
		{name: "info", arity: 2, flags: clientSubFlags, acl: "@connection", since: "6.2.0",
			summary: "Returns information about the current client connection.", complexity: "O(1)", handler: cmdClientInfo},
		{name: "list", arity: -2, flags: flagAdmin | clientSubFlags, acl: "@connection", since: "2.4.0",
			summary: "Get the list of client connections", complexity: "O(N) where N is the number of client connections",
			usage: "normal_master_replica_pubsub=[TYPE <NORMAL | MASTER | REPLICA | PUBSUB>]@5.0.0 id=[ID client-id:integer ...]@6.2.0", handler: cmdClientList},
		{name: "unblock", arity: -3, flags: flagAdmin | clientSubFlags, acl: "@connection", since: "5.0.0",
			summary: "Unblock a client blocked in a blocking command from a different connection", complexity: "O(log N) where N is the number of client connections",
			usage: "client-id:integer timeout_error=[TIMEOUT | ERROR]", handler: cmdClientUnblock},
		{name: "no-evict", arity: 3, flags: flagAdmin | clientSubFlags, acl: "@connection", since: "7.0.0",
			summary: "Set client eviction mode for the current connection", complexity: "O(1)",
			usage: "enabled=<ON | OFF>", handler: cmdClientNoEvict},
		// Redis 7.2's; 7.0 does not have them, but client libraries send
		// SETINFO when they connect and NO-TOUCH is cheap to honour.
		{name: "no-touch", arity: 3, flags: clientSubFlags, acl: "@connection", since: "7.2.0",
			summary: "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.", complexity: "O(1)",
			usage: "enabled=<ON | OFF>", handler: cmdClientNoTouch},
		{name: "setinfo", arity: 4, flags: clientSubFlags, acl: "@connection", since: "7.2.0",
			summary: "Sets information specific to the client or connection.", complexity: "O(1)",
			usage: "attr=<LIB-NAME libname | LIB-VER libver>", handler: cmdClientSetinfo},
	}
}

func cmdPing(c *client, _ *store.Tx, argv [][]byte) error {
	if len(argv) <= 2 && pingSubscribed(c, argv) {
		return nil
	}
	switch len(argv) {
	case 1:
		c.w.Simple("PONG")
	case 2:
		c.w.Bulk(argv[1])
	default:
		return errArity("ping")
	}
	return nil
}

func cmdEcho(c *client, _ *store.Tx, argv [][]byte) error {
	c.w.Bulk(argv[1])
	return nil
}

func cmdQuit(c *client, _ *store.Tx, _ [][]byte) error {
	c.w.OK()
	c.closeAfter = true
	return nil
}

// cmdReset returns the connection to the state it had when it connected,
// as Redis's clearClientConnectionState does. The name, the reply mode and
// NO-EVICT/NO-TOUCH go; LIB-NAME/LIB-VER stay. A pending CLIENT REPLY SKIP
// still swallows RESET's own reply, as in Redis.
func cmdReset(c *client, _ *store.Tx, _ [][]byte) error {
	c.setDB(0)
	c.setProto(2)
	c.setDefaultAuth() // back to the default user (acl.go)
	c.replyMode = replyOn
	c.mu.Lock()
	c.name = ""
	c.noEvict = false
	c.noTouch = false
	c.mu.Unlock()
	c.srv.pubsub.resetClient(c)
	c.trackingOff()
	c.w.Simple("RESET")
	return nil
}

func cmdSelect(c *client, _ *store.Tx, argv [][]byte) error {
	n, err := parseInt(argv[1])
	if err != nil {
		return err
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return errIntRange
	}
	if n < 0 || n >= int64(c.srv.store.Databases()) {
		return errDBIndex
	}
	c.setDB(int(n))
	c.w.OK()
	return nil
}

func cmdAuth(c *client, _ *store.Tx, argv [][]byte) error {
	var user, pass []byte
	switch len(argv) {
	case 2:
		if c.srv.acl.defaultNoPass() {
			return errAuthNotSet
		}
		user, pass = []byte("default"), argv[1]
	case 3:
		user, pass = argv[1], argv[2]
	default:
		return errSyntax
	}
	if !c.srv.authenticate(c, user, pass, argv[0], argv) { // ACL users (acl.go)
		return errWrongPass
	}
	c.w.OK()
	return nil
}

// cmdHello follows Redis 7.0: parse everything (validating SETNAME's name)
// before acting, authenticate, refuse an unauthenticated client, then set
// the name and the protocol and describe the server.
func cmdHello(c *client, _ *store.Tx, argv [][]byte) error {
	var ver int64
	next := 1
	if len(argv) >= 2 {
		v, err := parseInt(argv[1])
		if err != nil {
			return errHelloProtover
		}
		if v < 2 || v > 3 {
			return errNoProto
		}
		ver = v
		next = 2
	}
	var user, pass, name []byte
	setName := false
	for j := next; j < len(argv); j++ {
		more := len(argv) - 1 - j
		switch {
		case equalFold(argv[j], "auth") && more >= 2:
			user, pass = argv[j+1], argv[j+2]
			j += 2
		case equalFold(argv[j], "setname") && more >= 1:
			name = argv[j+1]
			if !validClientName(name) {
				return errClientName
			}
			setName = true
			j++
		default:
			return errHelloOption(argv[j])
		}
	}
	if user != nil {
		if !c.srv.authenticate(c, user, pass, argv[0], argv) { // ACL users (acl.go)
			return errWrongPass
		}
	}
	if !c.authenticated {
		return errHelloNoAuth
	}
	if setName {
		c.setName(name)
	}
	if ver != 0 {
		c.setProto(int(ver))
		// RESP3 clients may be sent pushes (pubsub.go), also as a tracking
		// redirect target that never subscribed. An event loop's client
		// gets the machinery when it first needs it (makePushTarget).
		if ver == 3 && !c.loopServed() {
			c.enablePush()
		}
	}
	c.w.Map(7)
	c.w.BulkString("server")
	c.w.BulkString("redis")
	c.w.BulkString("version")
	c.w.BulkString(helloVersion)
	c.w.BulkString("proto")
	c.w.Int(int64(c.w.Proto()))
	c.w.BulkString("id")
	c.w.Int(c.id)
	c.w.BulkString("mode")
	c.w.BulkString("standalone")
	c.w.BulkString("role")
	c.w.BulkString("master")
	c.w.BulkString("modules")
	c.w.Array(0)
	return nil
}

// validClientName is Redis's rule for client names and SETINFO values:
// printable ASCII other than space ('!' to '~'). The empty string is valid
// and clears the value.
func validClientName(b []byte) bool {
	for _, ch := range b {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

func cmdClientID(c *client, _ *store.Tx, _ [][]byte) error {
	c.w.Int(c.id)
	return nil
}

func cmdClientGetname(c *client, _ *store.Tx, _ [][]byte) error {
	c.mu.Lock()
	name := c.name
	c.mu.Unlock()
	if name == "" {
		c.w.Null()
		return nil
	}
	c.w.BulkString(name)
	return nil
}

func cmdClientSetname(c *client, _ *store.Tx, argv [][]byte) error {
	if !validClientName(argv[2]) {
		return errClientName
	}
	c.setName(argv[2])
	c.w.OK()
	return nil
}

func cmdClientSetinfo(c *client, _ *store.Tx, argv [][]byte) error {
	attr, val := argv[2], argv[3]
	isName := equalFold(attr, "lib-name")
	if !isName && !equalFold(attr, "lib-ver") {
		return errUnrecognizedOption(attr)
	}
	if !validClientName(val) {
		return errClientAttr(attr)
	}
	c.mu.Lock()
	if isName {
		c.libName = string(val)
	} else {
		c.libVer = string(val)
	}
	c.mu.Unlock()
	c.w.OK()
	return nil
}

// CLIENT CACHING, GETREDIR and TRACKINGINFO live with CLIENT TRACKING in
// tracking.go.
func cmdClientCaching(c *client, _ *store.Tx, argv [][]byte) error { return clientCaching(c, argv) }

func cmdClientGetredir(c *client, _ *store.Tx, _ [][]byte) error { return clientGetredir(c) }

func cmdClientTrackinginfo(c *client, _ *store.Tx, _ [][]byte) error { return clientTrackinginfo(c) }

// cmdClientReply sets the reply mode. The dispatcher leaves this command's
// own reply alone, so the handler applies Redis's rules itself: ON replies
// OK, OFF and SKIP reply nothing, and an error is swallowed when the client
// was not being answered (OFF, or the command right after SKIP).
func cmdClientReply(c *client, _ *store.Tx, argv [][]byte) error {
	silent := c.replyMode == replyOff || c.skipNext
	c.skipNext = false
	switch {
	case equalFold(argv[2], "on"):
		c.replyMode = replyOn
		c.w.OK()
	case equalFold(argv[2], "off"):
		c.replyMode = replyOff
	case equalFold(argv[2], "skip"):
		if c.replyMode != replyOff {
			c.skipNext = true
		}
	default:
		if silent {
			return nil
		}
		return errSyntax
	}
	return nil
}

func cmdClientNoEvict(c *client, _ *store.Tx, argv [][]byte) error {
	on, err := parseOnOff(argv[2])
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.noEvict = on
	c.mu.Unlock()
	c.w.OK()
	return nil
}

// cmdClientNoTouch records the mode on the client; reads should then skip
// the LRU/LFU update (see client.noTouch).
func cmdClientNoTouch(c *client, _ *store.Tx, argv [][]byte) error {
	on, err := parseOnOff(argv[2])
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.noTouch = on
	c.mu.Unlock()
	c.w.OK()
	return nil
}

func parseOnOff(b []byte) (bool, error) {
	switch {
	case equalFold(b, "on"):
		return true, nil
	case equalFold(b, "off"):
		return false, nil
	}
	return false, errSyntax
}

func cmdClientInfo(c *client, _ *store.Tx, argv [][]byte) error {
	line := c.appendInfo(nil, time.Now(), c, argv)
	c.w.Verbatim("txt", string(append(line, '\n')))
	return nil
}

// clientType is a CLIENT LIST / CLIENT KILL TYPE argument.
type clientType uint8

const (
	typeNormal clientType = iota
	typeReplica
	typePubsub
	typeMaster
)

func parseClientType(b []byte) (clientType, bool) {
	switch {
	case equalFold(b, "normal"):
		return typeNormal, true
	case equalFold(b, "slave"), equalFold(b, "replica"):
		return typeReplica, true
	case equalFold(b, "pubsub"):
		return typePubsub, true
	case equalFold(b, "master"):
		return typeMaster, true
	}
	return 0, false
}

// typeOf classifies a connection as Redis's getClientType does. cachalot has
// no replication, so a client is pubsub when it has subscriptions and
// normal otherwise.
func (c *client) typeOf() clientType {
	sub, psub, ssub := c.subscriptionCounts()
	if sub+psub+ssub > 0 {
		return typePubsub
	}
	return typeNormal
}

func cmdClientList(c *client, _ *store.Tx, argv [][]byte) error {
	now := time.Now()
	var out []byte
	switch {
	case len(argv) == 4 && equalFold(argv[2], "type"):
		t, ok := parseClientType(argv[3])
		if !ok {
			return errUnknownClientType(argv[3])
		}
		for _, o := range c.srv.liveClients() {
			if o.typeOf() == t {
				out = append(o.appendInfo(out, now, c, argv), '\n')
			}
		}
	case len(argv) > 3 && equalFold(argv[2], "id"):
		ids := make([]int64, 0, len(argv)-3)
		for _, a := range argv[3:] {
			id, err := parseInt(a)
			if err != nil {
				return errInvalidClientID
			}
			ids = append(ids, id)
		}
		for _, id := range ids {
			if o := c.srv.clientByID(id); o != nil {
				out = append(o.appendInfo(out, now, c, argv), '\n')
			}
		}
	case len(argv) == 2:
		for _, o := range c.srv.liveClients() {
			out = append(o.appendInfo(out, now, c, argv), '\n')
		}
	default:
		return errSyntax
	}
	c.w.Verbatim("txt", string(out))
	return nil
}

// killFilter is CLIENT KILL's new-form options; zero values match all.
type killFilter struct {
	id        int64
	addr      []byte
	laddr     []byte
	typ       clientType
	hasType   bool
	skipMe    bool
	oldSyntax bool
	user      *aclUser // USER: connections logged in as this user
}

func parseKillFilter(self *client, argv [][]byte) (killFilter, error) {
	f := killFilter{skipMe: true}
	if len(argv) == 3 {
		// CLIENT KILL addr:port: a client may kill itself this way.
		f.addr, f.skipMe, f.oldSyntax = argv[2], false, true
		return f, nil
	}
	for i := 2; i < len(argv); i += 2 {
		if i+1 >= len(argv) {
			return f, errSyntax
		}
		opt, val := argv[i], argv[i+1]
		switch {
		case equalFold(opt, "id"):
			id, err := parseInt(val)
			if err != nil || id < 1 {
				return f, errClientIDPositive
			}
			f.id = id
		case equalFold(opt, "type"):
			t, ok := parseClientType(val)
			if !ok {
				return f, errUnknownClientType(val)
			}
			f.typ, f.hasType = t, true
		case equalFold(opt, "addr"):
			f.addr = val
		case equalFold(opt, "laddr"):
			f.laddr = val
		case equalFold(opt, "user"):
			if f.user = self.srv.acl.user(string(val)); f.user == nil {
				return f, errNoSuchUser(val)
			}
		case equalFold(opt, "skipme"):
			switch {
			case equalFold(val, "yes"):
				f.skipMe = true
			case equalFold(val, "no"):
				f.skipMe = false
			default:
				return f, errSyntax
			}
		default:
			return f, errSyntax
		}
	}
	return f, nil
}

func (f *killFilter) matches(self, o *client) bool {
	switch {
	case f.addr != nil && o.addr != string(f.addr):
		return false
	case f.laddr != nil && o.laddr != string(f.laddr):
		return false
	case f.hasType && o.typeOf() != f.typ:
		return false
	case f.id != 0 && o.id != f.id:
		return false
	case f.user != nil && o.user.Load() != f.user:
		return false
	case o == self && f.skipMe:
		return false
	}
	return true
}

// cmdClientKill closes the matching connections. Killing itself, the
// client first gets its reply, then is closed.
func cmdClientKill(c *client, _ *store.Tx, argv [][]byte) error {
	f, err := parseKillFilter(c, argv)
	if err != nil {
		return err
	}
	killed := 0
	closeSelf := false
	for _, o := range c.srv.liveClients() {
		if !f.matches(c, o) {
			continue
		}
		if o == c {
			closeSelf = true
		} else {
			o.kill()
		}
		killed++
	}
	if f.oldSyntax {
		if killed == 0 {
			return errNoSuchClient
		}
		c.w.OK()
	} else {
		c.w.Int(int64(killed))
	}
	if closeSelf {
		c.closeAfter = true
	}
	return nil
}

// clientHelp is Redis 7.0's CLIENT HELP text, line for line.
var clientHelp = []string{
	"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CACHING (YES|NO)",
	"    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
	"GETREDIR",
	"    Return the client ID we are redirecting to when tracking is enabled.",
	"GETNAME",
	"    Return the name of the current connection.",
	"ID",
	"    Return the ID of the current connection.",
	"INFO",
	"    Return information about the current client connection.",
	"KILL <ip:port>",
	"    Kill connection made from <ip:port>.",
	"KILL <option> <value> [<option> <value> [...]]",
	"    Kill connections. Options are:",
	"    * ADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made from the specified address",
	"    * LADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made to specified local address",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Kill connections by type.",
	"    * USER <username>",
	"      Kill connections authenticated by <username>.",
	"    * SKIPME (YES|NO)",
	"      Skip killing current connection (default: yes).",
	"LIST [options ...]",
	"    Return information about client connections. Options:",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Return clients of specified type.",
	"UNPAUSE",
	"    Stop the current client pause, resuming traffic.",
	"PAUSE <timeout> [WRITE|ALL]",
	"    Suspend all, or just write, clients for <timeout> milliseconds.",
	"REPLY (ON|OFF|SKIP)",
	"    Control the replies sent to the current connection.",
	"SETNAME <name>",
	"    Assign the name <name> to the current connection.",
	"UNBLOCK <clientid> [TIMEOUT|ERROR]",
	"    Unblock the specified blocked client.",
	"TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
	"         [OPTIN] [OPTOUT] [NOLOOP]",
	"    Control server assisted client side caching.",
	"TRACKINGINFO",
	"    Report tracking status for the current connection.",
	"NO-EVICT (ON|OFF)",
	"    Protect current client connection from eviction.",
	"HELP",
	"    Prints this help.",
}

func cmdClientHelp(c *client, _ *store.Tx, _ [][]byte) error {
	c.w.Array(len(clientHelp))
	for _, line := range clientHelp {
		c.w.Simple(line)
	}
	return nil
}

// Parameterised error replies of this group.

func errHelloOption(opt []byte) respError {
	return respError(sanitize("ERR Syntax error in HELLO option '" + string(opt) + "'"))
}

func errUnknownClientType(t []byte) respError {
	return respError(sanitize("ERR Unknown client type '" + string(t) + "'"))
}

func errNoSuchUser(u []byte) respError {
	return respError(sanitize("ERR No such user '" + string(u) + "'"))
}

func errUnrecognizedOption(o []byte) respError {
	return respError(sanitize("ERR Unrecognized option '" + string(o) + "'"))
}

func errClientAttr(attr []byte) respError {
	return respError(sanitize("ERR " + string(attr) + " cannot contain spaces, newlines or special characters."))
}

// appendInfo appends the CLIENT LIST line describing c, without the
// newline, as seen from self (the client running the command, whose argv
// it is). Buffer sizes are exact for self; for other connections, whose
// buffers belong to their own goroutines, they are the idle values.
func (c *client) appendInfo(b []byte, now time.Time, self *client, argv [][]byte) []byte {
	c.mu.Lock()
	name, libName, libVer, lastCmd := c.name, c.libName, c.libVer, c.lastCmd
	dbIndex, proto := c.dbIndex, c.proto
	noEvict, noTouch := c.noEvict, c.noTouch
	c.mu.Unlock()
	if lastCmd == "" {
		lastCmd = "NULL"
	}
	var qbuf, qbufFree, argvMem, obl int
	rbs := readChunk
	if c == self {
		qbuf = c.rd.w - c.rd.r
		qbufFree = len(c.rd.buf) - c.rd.w
		rbs = len(c.rd.buf)
		for _, a := range argv {
			argvMem += len(a)
		}
		obl = c.w.Len()
	}
	sub, psub, ssub := c.subscriptionCounts()
	flags := make([]byte, 0, 4)
	if sub+psub+ssub > 0 {
		flags = append(flags, 'P')
	}
	if c.srv != nil && c.srv.blocking.isBlocked(c.id) {
		flags = append(flags, 'b')
	}
	tflags, redir := c.trackingListInfo() // tracking.go
	flags = append(flags, tflags...)
	if c == self && c.closeAfter {
		flags = append(flags, 'c')
	}
	if noEvict {
		flags = append(flags, 'e')
	}
	if noTouch {
		flags = append(flags, 'T')
	}
	if len(flags) == 0 {
		flags = append(flags, 'N')
	}
	num := func(key string, n int64) {
		b = append(b, ' ')
		b = append(b, key...)
		b = append(b, '=')
		b = strconv.AppendInt(b, n, 10)
	}
	str := func(key, v string) {
		b = append(b, ' ')
		b = append(b, key...)
		b = append(b, '=')
		b = append(b, v...)
	}
	b = append(b, "id="...)
	b = strconv.AppendInt(b, c.id, 10)
	str("addr", c.addr)
	str("laddr", c.laddr)
	num("fd", int64(c.fileDescriptor()))
	str("name", name)
	num("age", now.Unix()-c.born.Unix())
	num("idle", (now.UnixMilli()-c.lastActive.Load())/1000)
	str("flags", string(flags))
	num("db", int64(dbIndex))
	num("sub", int64(sub))
	num("psub", int64(psub))
	num("ssub", int64(ssub))
	num("multi", -1)
	num("qbuf", int64(qbuf))
	num("qbuf-free", int64(qbufFree))
	num("argv-mem", int64(argvMem))
	num("multi-mem", 0)
	num("rbs", int64(rbs))
	num("rbp", int64(rbs))
	num("obl", int64(obl))
	num("oll", 0)
	num("omem", 0)
	num("tot-mem", int64(clientOverhead+rbs+argvMem+obl))
	str("events", "r")
	str("cmd", lastCmd)
	str("user", c.userName())
	num("redir", redir)
	num("resp", int64(proto))
	str("lib-name", libName)
	str("lib-ver", libVer)
	return b
}

// liveClients are the connected clients, by id, leaving out those already
// killed whose goroutines have not yet unregistered them.
func (s *Server) liveClients() []*client {
	all := s.snapshotClients()
	live := all[:0]
	for _, o := range all {
		if !o.killed.Load() {
			live = append(live, o)
		}
	}
	return live
}

// clientByID finds a live client.
func (s *Server) clientByID(id int64) *client {
	s.clientsMu.Lock()
	o := s.clients[id]
	s.clientsMu.Unlock()
	if o == nil || o.killed.Load() {
		return nil
	}
	return o
}

// cmdClientUnblock is CLIENT UNBLOCK client-id [TIMEOUT | ERROR]: it wakes
// a client parked by a blocking command, with its timeout reply or with an
// UNBLOCKED error; the reply is 1 when the client was blocked, else 0.
func cmdClientUnblock(c *client, _ *store.Tx, argv [][]byte) error {
	if len(argv) > 4 {
		return errSubcommandSyntax("CLIENT", argv[1])
	}
	reason := wakeTimeout
	if len(argv) == 4 {
		switch {
		case equalFold(argv[3], "timeout"):
		case equalFold(argv[3], "error"):
			reason = wakeUnblockError
		default:
			return errUnblockReason
		}
	}
	id, err := parseInt(argv[2])
	if err != nil {
		return errNotInteger
	}
	if c.srv.blocking.cancelClient(id, reason) {
		c.w.Int(1)
	} else {
		c.w.Int(0)
	}
	return nil
}
