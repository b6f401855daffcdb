package server

import "strings"

// disableCommands removes the named commands (disable-commands) from the
// table, as Redis's `rename-command NAME ""` does: they answer "unknown
// command" and COMMAND no longer lists them. Unknown names are logged.
func (s *Server) disableCommands(names string) {
	for _, name := range strings.Fields(names) {
		cmd, ok := s.table.byName[name]
		if !ok {
			s.log.Warn("disable-commands names an unknown command", "command", name)
			continue
		}
		delete(s.table.byName, name)
		for i, c := range s.table.sorted {
			if c == cmd {
				s.table.sorted = append(s.table.sorted[:i:i], s.table.sorted[i+1:]...)
				break
			}
		}
		s.log.Info("command disabled by configuration", "command", name)
	}
}
