//go:build !linux

package server

import (
	"errors"
	"net"
	"sync/atomic"
)

// Event loops need epoll; elsewhere every client has a goroutine.

type loopConn struct {
	net.Conn
	gone atomic.Bool
}

type loopSet struct{}

func (s *Server) loopsEnabled() bool { return false }

func (s *Server) serveLoops(*net.TCPListener) error {
	return errors.New("event loops need Linux")
}

func (s *Server) stopLoops() {}

func (c *client) loopServed() bool { return false }

func (s *Server) makePushTarget(*client) {}
