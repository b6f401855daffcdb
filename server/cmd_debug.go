package server

// DEBUG: the subcommands Redis's tooling and test suites use, behind
// enable-debug-command. As in Redis 7.0, DEBUG is not a container in the
// command table: the handler dispatches on the subcommand itself.

import (
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/cachalotdb/cachalot/store"
)

func debugCommands() []*command {
	return []*command{
		{name: "debug", arity: -2, flags: flagAdmin | flagNoScript | flagLoading | flagStale | flagOwnLocks,
			group: "server", since: "1.0.0", summary: "A container for debugging commands",
			complexity: "Depends on subcommand.", docFlags: "syscmd", handler: cmdDebug},
	}
}

// debugSub is one DEBUG subcommand: its argument count rule (as Redis
// checks c->argc) and its handler.
type debugSub struct {
	argc    int  // exact argument count including DEBUG and the subcommand
	atLeast bool // argc is a minimum
	run     func(c *client, argv [][]byte) error
}

var debugSubs map[string]debugSub

func init() {
	debugSubs = map[string]debugSub{
		"help":              {argc: 2, run: debugHelp},
		"sleep":             {argc: 3, run: debugSleep},
		"set-active-expire": {argc: 3, run: debugSetActiveExpire},
		"object":            {argc: 3, run: debugObject},
		"log":               {argc: 3, run: debugLog},
		"change-repl-id":    {argc: 2, run: debugChangeReplID},
		"digest":            {argc: 2, run: debugDigest},
		"digest-value":      {argc: 2, atLeast: true, run: debugDigestValue},
	}
}

var debugHelpLines = []string{
	"DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CHANGE-REPL-ID",
	"    Change the replication IDs of the instance.",
	"    Dangerous: should be used only for testing the replication subsystem.",
	"DIGEST",
	"    Output a hex signature representing the current DB content.",
	"DIGEST-VALUE <key> [<key> ...]",
	"    Output a hex signature of the values of all the specified keys.",
	"LOG <message>",
	"    Write <message> to the server log.",
	"OBJECT <key>",
	"    Show low level info about `key` and associated value.",
	"SET-ACTIVE-EXPIRE <0|1>",
	"    Setting it to 0 disables expiring keys in background when they are not",
	"    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
	"    default.",
	"SLEEP <seconds>",
	"    Stop the server for <seconds>. Decimals allowed.",
	"HELP",
	"    Prints this help.",
}

// debugAllowed applies enable-debug-command: "yes", or "local" for
// loopback and unix-socket clients.
func debugAllowed(c *client) bool {
	switch c.srv.Config().EnableDebugCommand {
	case "yes":
		return true
	case "local":
		return isLocalClient(c)
	}
	return false
}

// isLocalClient is Redis's islocalClient: a unix socket, or a TCP peer on
// 127.0.0.1 or ::1.
func isLocalClient(c *client) bool {
	if c.conn == nil {
		return false
	}
	switch a := c.conn.RemoteAddr().(type) {
	case *net.UnixAddr:
		return true
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	}
	return c.conn.RemoteAddr().Network() == "unix"
}

func cmdDebug(c *client, _ *store.Tx, argv [][]byte) error {
	if !debugAllowed(c) {
		return errDebugDisabled
	}
	sub, ok := debugSubs[strings.ToLower(string(argv[1]))]
	if !ok || (sub.atLeast && len(argv) < sub.argc) || (!sub.atLeast && len(argv) != sub.argc) {
		return errSubcommandSyntax("DEBUG", argv[1])
	}
	return sub.run(c, argv)
}

// errSubcommandSyntax is Redis's addReplySubcommandSyntaxError.
func errSubcommandSyntax(container string, sub []byte) respError {
	return respError(sanitize("ERR unknown subcommand or wrong number of arguments for '" +
		truncate(sub, 128) + "'. Try " + container + " HELP."))
}

func debugHelp(c *client, _ [][]byte) error {
	c.w.Array(len(debugHelpLines))
	for _, l := range debugHelpLines {
		c.w.Simple(l)
	}
	return nil
}

// debugSleep parses its argument like strtod (a leading number, the rest
// ignored, no number is 0) and sleeps this connection for that long.
func debugSleep(c *client, argv [][]byte) error {
	secs := strtodPrefix(string(argv[2]))
	if secs > 0 && !math.IsInf(secs, 1) {
		time.Sleep(time.Duration(secs*1e6) * time.Microsecond)
	}
	c.w.OK()
	return nil
}

// strtodPrefix returns the longest prefix of s that parses as a float, as C's
// strtod does, or 0.
func strtodPrefix(s string) float64 {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	if len(s) > 64 {
		s = s[:64]
	}
	for end := len(s); end > 0; end-- {
		if f, err := strconv.ParseFloat(s[:end], 64); err == nil {
			return f
		}
	}
	return 0
}

// atoi is C's atoi: optional spaces and sign, then digits; anything else
// stops the number.
func atoi(s string) int64 {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var n int64
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int64(s[i]-'0')
	}
	if neg {
		return -n
	}
	return n
}

func debugSetActiveExpire(c *client, argv [][]byte) error {
	c.srv.activeExpire.Store(atoi(string(argv[2])) != 0)
	c.w.OK()
	return nil
}

func debugLog(c *client, argv [][]byte) error {
	c.srv.log.Warn("DEBUG LOG: " + string(argv[2]))
	c.w.OK()
	return nil
}

func debugChangeReplID(c *client, _ [][]byte) error {
	c.srv.changeReplicationID()
	c.w.OK()
	return nil
}

func debugDigest(c *client, _ [][]byte) error {
	c.w.Simple(datasetDigest(c.srv.store))
	return nil
}

func debugDigestValue(c *client, argv [][]byte) error {
	keys := argv[2:]
	digests := make([]string, len(keys))
	err := c.db.View(keys, func(tx *store.Tx) error {
		for i, k := range keys {
			it, ok := tx.Item(k)
			digests[i] = valueDigest(it, ok)
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.w.Array(len(digests))
	for _, d := range digests {
		c.w.Simple(d)
	}
	return nil
}

// debugObject prints Redis's DEBUG OBJECT line. The address is the
// value's, refcount is always 1 (cachalot shares no values) and lru is the
// 24-bit seconds clock at the last access.
func debugObject(c *client, argv [][]byte) error {
	var line string
	err := c.db.View(argv[2:3], func(tx *store.Tx) error {
		info, ok := tx.Object(argv[2])
		if !ok {
			return errNoSuchKey
		}
		it, _ := tx.Item(argv[2])
		lru := (tx.NowMs()/1000 - info.IdleSeconds) & lruClockMax
		line = fmt.Sprintf("Value at:%p refcount:1 encoding:%s serializedlength:%d lru:%d lru_seconds_idle:%d",
			it.Str, info.Encoding, serializedLength(it), lru, info.IdleSeconds)
		return nil
	})
	if err != nil {
		return err
	}
	c.w.Simple(line)
	return nil
}
