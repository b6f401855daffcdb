package server

import (
	"strconv"
	"sync"
	"time"

	"github.com/cachalotdb/cachalot/store"
)

// SLOWLOG: Redis 7.0's slow log. Entries are made by observe (metrics.go)
// for calls at least slowlog-log-slower-than microseconds long.

// Redis's limits on what an entry keeps (slowlog.h).
const (
	slowlogMaxArgc   = 32
	slowlogMaxString = 128
)

type slowlogEntry struct {
	id       int64
	time     int64 // Unix seconds
	duration int64 // microseconds
	argv     [][]byte
	addr     string
	name     string
}

// slowLog holds the newest entries first.
type slowLog struct {
	mu      sync.Mutex
	entries []slowlogEntry
	nextID  int64
}

// push records a call, copying (and truncating as Redis does) its arguments,
// and trims the log to maxLen entries.
func (l *slowLog) push(c *client, argv [][]byte, usec int64, maxLen int) {
	argv = redactArgs(argv)
	n := min(len(argv), slowlogMaxArgc)
	kept := make([][]byte, n)
	for i := 0; i < n; i++ {
		if i == slowlogMaxArgc-1 && len(argv) > slowlogMaxArgc {
			kept[i] = []byte("... (" + strconv.Itoa(len(argv)-slowlogMaxArgc+1) + " more arguments)")
			break
		}
		a := argv[i]
		if len(a) > slowlogMaxString {
			b := make([]byte, 0, slowlogMaxString+32)
			b = append(b, a[:slowlogMaxString]...)
			b = append(b, "... ("+strconv.Itoa(len(a)-slowlogMaxString)+" more bytes)"...)
			kept[i] = b
		} else {
			kept[i] = append([]byte(nil), a...)
		}
	}
	e := slowlogEntry{time: time.Now().Unix(), duration: usec, argv: kept, addr: c.addr, name: c.name}
	l.mu.Lock()
	e.id = l.nextID
	l.nextID++
	l.entries = append(l.entries, slowlogEntry{})
	copy(l.entries[1:], l.entries)
	l.entries[0] = e
	if len(l.entries) > maxLen {
		clear(l.entries[maxLen:])
		l.entries = l.entries[:maxLen]
	}
	l.mu.Unlock()
}

// stats are the log's length and the id the next entry gets.
func (l *slowLog) stats() (length, nextID int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(len(l.entries)), l.nextID
}

// redactArgs hides what Redis redacts in the slow log and MONITOR: AUTH's
// arguments and HELLO's AUTH username and password.
func redactArgs(argv [][]byte) [][]byte {
	redacted := []byte("(redacted)")
	switch {
	case equalFold(argv[0], "auth"):
		out := make([][]byte, len(argv))
		out[0] = argv[0]
		for i := 1; i < len(argv); i++ {
			out[i] = redacted
		}
		return out
	case equalFold(argv[0], "hello"):
		for i := 2; i+2 < len(argv); i++ {
			if equalFold(argv[i], "auth") {
				out := append([][]byte(nil), argv...)
				out[i+1], out[i+2] = redacted, redacted
				return out
			}
		}
	}
	return argv
}

func slowlogCommand() *command {
	const adminFlags = flagAdmin | flagLoading | flagStale
	return &command{name: "slowlog", arity: -2, group: "server", since: "2.2.12",
		summary: "A container for slow log commands", complexity: "Depends on subcommand.",
		subs: []*command{
			{name: "get", arity: -2, flags: adminFlags, since: "2.2.12",
				summary: "Get the slow log's entries", complexity: "O(N) where N is the number of entries returned",
				usage: "[count]", handler: cmdSlowlogGet,
				history: [][2]string{{"4.0.0", "Added client IP address, port and name to the reply."}}},
			{name: "len", arity: 2, flags: adminFlags, since: "2.2.12",
				summary: "Get the slow log's length", complexity: "O(1)", handler: cmdSlowlogLen},
			{name: "reset", arity: 2, flags: adminFlags, since: "2.2.12",
				summary: "Clear all entries from the slow log", complexity: "O(N) where N is the number of entries in the slowlog",
				handler: cmdSlowlogReset},
			{name: "help", arity: 2, flags: flagLoading | flagStale, since: "6.2.0",
				summary: "Show helpful text about the different subcommands", complexity: "O(1)", handler: cmdSlowlogHelp},
		}}
}

var slowlogHelpLines = []string{
	"SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"GET [<count>]",
	"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
	"    Entries are made of:",
	"    id, timestamp, time in microseconds, arguments array, client IP and port,",
	"    client name",
	"LEN",
	"    Return the length of the slowlog.",
	"RESET",
	"    Reset the slowlog.",
	"HELP",
	"    Prints this help.",
}

func cmdSlowlogHelp(c *client, _ *store.Tx, _ [][]byte) error {
	writeHelp(&c.w, slowlogHelpLines)
	return nil
}

func cmdSlowlogGet(c *client, _ *store.Tx, argv [][]byte) error {
	count := int64(10)
	if len(argv) > 3 {
		return errSubcommandSyntax("SLOWLOG", argv[1])
	}
	if len(argv) == 3 {
		n, err := parseInt(argv[2])
		if err != nil || n < -1 {
			return errSlowlogCount
		}
		count = n
	}
	l := &c.srv.slowlog
	l.mu.Lock()
	if count == -1 || count > int64(len(l.entries)) {
		count = int64(len(l.entries))
	}
	entries := append([]slowlogEntry(nil), l.entries[:count]...)
	l.mu.Unlock()
	c.w.Array(len(entries))
	for _, e := range entries {
		c.w.Array(6)
		c.w.Int(e.id)
		c.w.Int(e.time)
		c.w.Int(e.duration)
		c.w.Array(len(e.argv))
		for _, a := range e.argv {
			c.w.Bulk(a)
		}
		c.w.BulkString(e.addr)
		c.w.BulkString(e.name)
	}
	return nil
}

func cmdSlowlogLen(c *client, _ *store.Tx, _ [][]byte) error {
	n, _ := c.srv.slowlog.stats()
	c.w.Int(n)
	return nil
}

func cmdSlowlogReset(c *client, _ *store.Tx, _ [][]byte) error {
	l := &c.srv.slowlog
	l.mu.Lock()
	l.entries = nil
	l.mu.Unlock()
	c.w.OK()
	return nil
}
