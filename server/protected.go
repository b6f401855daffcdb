package server

import (
	"net"
	"time"

	"github.com/cachalotdb/cachalot/config"
)

// protectedModeMessage is Redis 7.0's refusal, byte for byte (including its
// "Setup a an" typo), sent to non-loopback clients in protected mode.
const protectedModeMessage = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n"

// maxClientsMessage is Redis's refusal once maxclients are connected.
const maxClientsMessage = "-ERR max number of clients reached\r\n"

// protectedModeRefuses reports whether a client connecting from remote must
// be turned away, as Redis 7.0 decides it: protected mode is on, the
// default user has no password, and the client is neither on a Unix socket
// nor on a loopback address (127.0.0.0/8 or ::1). Unlike Redis 6, Redis 7.0
// no longer exempts servers whose bind was set explicitly.
func protectedModeRefuses(cfg *config.Config, remote net.Addr) bool {
	if !cfg.ProtectedMode || cfg.Requirepass != "" {
		return false
	}
	var ip net.IP
	switch a := remote.(type) {
	case *net.TCPAddr:
		ip = a.IP
	case *net.UnixAddr:
		return false
	default:
		if remote == nil {
			return false
		}
		host, _, err := net.SplitHostPort(remote.String())
		if err != nil {
			return false // not an IP transport (e.g. a pipe in tests)
		}
		ip = net.ParseIP(host)
	}
	return ip == nil || !ip.IsLoopback()
}

// refuse writes msg to a connection that will not be served and closes it.
// It runs on its own goroutine with a deadline so that a slow peer (or a
// TLS handshake) cannot hold up the accept loop.
func refuse(conn net.Conn, msg string) {
	go func() {
		conn.SetDeadline(time.Now().Add(2 * time.Second))
		conn.Write([]byte(msg))
		conn.Close()
	}()
}
