package server

// Connection commands: https://redis.io/commands/?group=connection

import "github.com/cachalotdb/cachalot/store"

func connectionCommands() []*command {
	return []*command{
		{name: "ping", arity: -1, flags: flagFast | flagStale, acl: "@connection", group: "connection", since: "1.0.0",
			summary: "Returns the server's liveliness response.", complexity: "O(1)", usage: "[message]", handler: cmdPing},
		{name: "echo", arity: 2, flags: flagFast | flagLoading | flagStale, acl: "@connection", group: "connection", since: "1.0.0",
			summary: "Returns the given string.", complexity: "O(1)", usage: "message", handler: cmdEcho},
		{name: "quit", arity: -1, flags: flagAllowBusy | flagNoAuth | flagNoScript | flagLoading | flagStale | flagFast, acl: "@connection", group: "connection", since: "1.0.0",
			summary: "Closes the connection.", complexity: "O(1)", handler: cmdQuit},
		{name: "select", arity: 2, flags: flagLoading | flagStale | flagFast, acl: "@connection", group: "connection", since: "1.0.0",
			summary: "Changes the selected database.", complexity: "O(1)", usage: "index:integer", handler: cmdSelect},
	}
}

func cmdPing(c *client, _ *store.Tx, argv [][]byte) error {
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

func cmdSelect(c *client, _ *store.Tx, argv [][]byte) error {
	n, err := parseInt(argv[1])
	if err != nil {
		return errInvalidDB
	}
	if n < 0 || n >= int64(c.srv.store.Databases()) {
		return errDBIndex
	}
	c.setDB(int(n))
	c.w.OK()
	return nil
}
