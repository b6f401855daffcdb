package server

// Generic (keyspace) commands: https://redis.io/commands/?group=generic

import "github.com/cachalotdb/cachalot/store"

func genericCommands() []*command {
	return []*command{
		{name: "del", arity: -2, flags: flagWrite, first: 1, last: -1, step: 1, keySpecFlags: "RM DELETE",
			acl: "@keyspace", group: "generic", since: "1.0.0", summary: "Deletes one or more keys.", complexity: "O(N) where N is the number of keys that will be removed.",
			usage: "key [key ...]", handler: cmdDel},
	}
}

func cmdDel(c *client, tx *store.Tx, argv [][]byte) error {
	n := 0
	for _, k := range argv[1:] {
		if tx.Delete(k) {
			n++
		}
	}
	c.w.Int(int64(n))
	return nil
}
