package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// TLSVersions parses tls-protocols into the lowest and highest TLS
// versions to accept. An empty value means TLS 1.2 and 1.3, as in Redis.
func TLSVersions(protocols string) (lo, hi uint16, err error) {
	fields := strings.Fields(protocols)
	if len(fields) == 0 {
		return tls.VersionTLS12, tls.VersionTLS13, nil
	}
	for _, f := range fields {
		var v uint16
		switch strings.ToLower(f) {
		case "tlsv1.2":
			v = tls.VersionTLS12
		case "tlsv1.3":
			v = tls.VersionTLS13
		default:
			return 0, 0, fmt.Errorf("invalid tls-protocols value %q: cachalot accepts TLSv1.2 and TLSv1.3", f)
		}
		if lo == 0 || v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	return lo, hi, nil
}

func checkTLSProtocols(v string) error {
	_, _, err := TLSVersions(v)
	return err
}

// validateTLS checks that a TLS listener has what it needs.
func (c *Config) validateTLS() []error {
	if c.TLSPort == 0 {
		return nil
	}
	var errs []error
	if c.TLSCertFile == "" || c.TLSKeyFile == "" {
		errs = append(errs, errors.New("tls-port needs tls-cert-file and tls-key-file"))
	}
	if c.TLSAuthClients != "no" && c.TLSCACertFile == "" {
		errs = append(errs, fmt.Errorf("tls-auth-clients %s needs tls-ca-cert-file to verify client certificates", c.TLSAuthClients))
	}
	if c.TLSPort == c.Port {
		errs = append(errs, fmt.Errorf("tls-port %d is also the port", c.TLSPort))
	}
	return errs
}

// SupervisedBySystemd reports whether the process should speak the sd_notify
// protocol: supervised systemd, or auto with NOTIFY_SOCKET set (notifySocket
// is that variable's value). upstart is accepted for redis.conf
// compatibility and does nothing.
func (c *Config) SupervisedBySystemd(notifySocket string) bool {
	switch c.Supervised {
	case "systemd":
		return true
	case "auto":
		return notifySocket != ""
	}
	return false
}

// disableCommandsParam declares "disable-commands" (cachalot only): the
// commands removed from the command table at start-up, as Redis's
// `rename-command NAME ""` does. Names are stored lower-case, deduplicated,
// in the order given.
func disableCommandsParam() Param {
	return Param{
		Name:    "disable-commands",
		Help:    `space-separated commands to remove entirely, e.g. "FLUSHALL FLUSHDB CONFIG DEBUG KEYS" (cachalot only; like rename-command NAME "")`,
		Mutable: false, kind: kindList, metavar: "COMMANDS",
		get: func(c *Config) string { return c.DisableCommands },
		set: func(c *Config, v string) error {
			var names []string
			for _, f := range strings.Fields(v) {
				if strings.ContainsAny(f, "|") {
					return errors.New("argument must name whole commands, not subcommands")
				}
				f = strings.ToLower(f)
				if !slices.Contains(names, f) {
					names = append(names, f)
				}
			}
			c.DisableCommands = strings.Join(names, " ")
			return nil
		},
	}
}
