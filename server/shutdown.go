package server

import "time"

// Shutdown stops the server gracefully: it stops accepting, lets every
// command already read finish and its reply reach the client, then closes
// the connections as they go idle. Clients parked in blocking commands are
// released at once. After grace, whatever is left is closed by Close.
// Shutdown returns how many connections had to be closed by force.
func (s *Server) Shutdown(grace time.Duration) int {
	s.closing.Store(true)
	s.closeListeners()

	done := make(chan struct{})
	go func() {
		s.conns.Wait()
		close(done)
	}()
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		// A read deadline in the past ends idle reads; a connection that
		// is running a command finishes it and flushes the reply first,
		// and its next read fails. Repeated because a connection resets
		// its deadline before each read when timeout is set.
		for _, c := range s.snapshotClients() {
			s.blocking.cancelClient(c.id, wakeKilled)
			c.netConn().SetReadDeadline(time.Now())
		}
		select {
		case <-done:
			s.stopLoops()
			s.closeAOFLogged()
			return 0
		case <-deadline.C:
			forced := len(s.snapshotClients())
			s.Close()
			s.closeAOFLogged()
			return forced
		case <-tick.C:
		}
	}
}
