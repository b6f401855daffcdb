package server

// DEBUG: the subcommands Redis's tooling and test suites use, behind
// enable-debug-command.

func debugCommands() []*command {
	return []*command{}
}
