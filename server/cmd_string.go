package server

// String commands: https://redis.io/commands/?group=string

import "github.com/cachalotdb/cachalot/store"

func stringCommands() []*command {
	return []*command{
		{name: "get", arity: 2, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, keySpecFlags: "RO ACCESS",
			acl: "@string", group: "string", since: "1.0.0", summary: "Returns the string value of a key.", complexity: "O(1)",
			usage: "key", handler: cmdGet},
		{name: "set", arity: -3, flags: flagWrite | flagDenyOOM, first: 1, last: 1, step: 1, keySpecFlags: "RW ACCESS UPDATE VARIABLE_FLAGS",
			acl: "@string", group: "string", since: "1.0.0", summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
			complexity: "O(1)", usage: "key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]",
			handler: cmdSet},
	}
}

func cmdGet(c *client, tx *store.Tx, argv [][]byte) error {
	val, ok, err := tx.GetString(argv[1])
	if err != nil {
		return err
	}
	if !ok {
		c.w.Null()
		return nil
	}
	c.w.Bulk(val)
	return nil
}

// cmdSet is a placeholder handling only "SET key value"; the string group
// owner completes the options.
func cmdSet(c *client, tx *store.Tx, argv [][]byte) error {
	if len(argv) != 3 {
		return errSyntax
	}
	tx.SetString(argv[1], argv[2], store.SetOptions{})
	c.w.OK()
	return nil
}
