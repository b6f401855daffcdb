package server

// Server commands: https://redis.io/commands/?group=server

import "github.com/cachalotdb/cachalot/store"

func serverCommands() []*command {
	return []*command{
		{name: "dbsize", arity: 1, flags: flagReadonly | flagFast | flagOwnLocks, acl: "@keyspace", group: "server", since: "1.0.0",
			summary: "Returns the number of keys in the database.", complexity: "O(1)", handler: cmdDbsize},
	}
}

func cmdDbsize(c *client, _ *store.Tx, _ [][]byte) error {
	c.w.Int(int64(c.db.Len()))
	return nil
}
