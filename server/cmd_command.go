package server

// COMMAND and its subcommands: introspection of the command table.

func introspectionCommands() []*command {
	return []*command{}
}
