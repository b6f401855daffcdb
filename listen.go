package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync/atomic"

	"github.com/cachalotdb/cachalot/config"
)

// listen opens every configured TCP address, the TLS port on the same
// addresses and the unix socket. tlsConf supplies the TLS settings in force
// at each handshake, so SIGHUP can swap certificates under open listeners.
func listen(cfg *config.Config, tlsConf *atomic.Pointer[tls.Config]) ([]net.Listener, error) {
	var out []net.Listener
	fail := func(err error) ([]net.Listener, error) {
		for _, ln := range out {
			ln.Close()
		}
		return nil, err
	}
	for _, p := range []struct {
		port int
		tls  bool
	}{{cfg.Port, false}, {cfg.TLSPort, true}} {
		if p.port == 0 {
			continue
		}
		for _, host := range cfg.Bind {
			optional := len(host) > 0 && host[0] == '-' // Redis: "-addr" may fail
			if optional {
				host = host[1:]
			}
			switch host {
			case "*":
				host = "0.0.0.0"
			case "::*":
				host = "::"
			}
			ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p.port)))
			if err != nil {
				if optional {
					continue
				}
				return fail(fmt.Errorf("bind %s port %d: %w", host, p.port, err))
			}
			if p.tls {
				ln = tls.NewListener(ln, &tls.Config{
					GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return tlsConf.Load(), nil },
				})
			}
			out = append(out, ln)
		}
	}
	if cfg.Unixsocket != "" {
		os.Remove(cfg.Unixsocket)
		ln, err := net.Listen("unix", cfg.Unixsocket)
		if err != nil {
			return fail(fmt.Errorf("unixsocket %s: %w", cfg.Unixsocket, err))
		}
		out = append(out, ln)
	}
	if len(out) == 0 {
		return nil, errors.New("nothing to listen on: set port and bind, tls-port, or unixsocket")
	}
	return out, nil
}

// loadTLS builds the server's TLS settings from the tls-* parameters; it
// returns nil when tls-port is 0.
func loadTLS(cfg *config.Config) (*tls.Config, error) {
	if cfg.TLSPort == 0 {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("tls-cert-file/tls-key-file: %w", err)
	}
	lo, hi, err := config.TLSVersions(cfg.TLSProtocols)
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: lo, MaxVersion: hi}
	switch cfg.TLSAuthClients {
	case "yes":
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	case "optional":
		tc.ClientAuth = tls.VerifyClientCertIfGiven
	default:
		tc.ClientAuth = tls.NoClientCert
	}
	if cfg.TLSCACertFile != "" {
		pem, err := os.ReadFile(cfg.TLSCACertFile)
		if err != nil {
			return nil, fmt.Errorf("tls-ca-cert-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls-ca-cert-file %s: no PEM certificate found", cfg.TLSCACertFile)
		}
		tc.ClientCAs = pool
	}
	return tc, nil
}

// writePidfile writes the process id, as Redis does, and returns a function
// that removes the file; both do nothing when path is "".
func writePidfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("pidfile: %w", err)
	}
	return func() { os.Remove(path) }, nil
}
