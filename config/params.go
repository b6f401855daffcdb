package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"time"
)

// Param describes one configuration parameter: its Redis name, a help line,
// whether CONFIG SET may change it while the server runs, and how to read
// and write it on a Config in Redis's string notation.
type Param struct {
	// Name is the lower-case Redis parameter name, also the TOML key and
	// the long flag name.
	Name string
	// Help is a one-line description used by --help.
	Help string
	// Mutable reports whether CONFIG SET may change the parameter on a
	// running server. Config.Set ignores it; the caller enforces it.
	Mutable bool

	kind    valueKind
	metavar string   // placeholder shown by --help, e.g. "SIZE"
	enum    []string // allowed values of enum parameters, in Redis's order

	get func(*Config) string
	set func(*Config, string) error
}

// valueKind tells the TOML loader which native TOML types a parameter
// accepts besides strings.
type valueKind int

const (
	kindString valueKind = iota // TOML string only
	kindBool                    // TOML bool, or "yes"/"no"
	kindInt                     // TOML integer only
	kindMemory                  // TOML integer (bytes), or a string with units
	kindList                    // TOML string (space separated) or array of strings
	kindEnum                    // TOML string; bool too when the enum is yes/no/...
)

// Bounds that mirror the C types Redis stores these parameters in. min keeps
// them within int on 32-bit platforms.
const (
	maxCInt  = math.MaxInt32
	maxCUint = min(math.MaxUint32, math.MaxInt)

	maxBindAddrs = 16 // Redis's CONFIG_BINDADDR_MAX
	maxShards    = 1 << 16
)

// Values for the enum parameters, in the order Redis lists them in its
// "argument(s) must be one of the following" reply.
var (
	loglevelValues        = []string{"debug", "verbose", "notice", "warning", "nothing"}
	logFormatValues       = []string{"text", "json"}
	maxmemoryPolicyValues = []string{
		"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
		"allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction",
	}
	appendfsyncValues        = []string{"everysec", "always", "no"}
	enableDebugCommandValues = []string{"no", "yes", "local"}
	supervisedValues         = []string{"upstart", "systemd", "auto", "no"}
	tlsAuthClientsValues     = []string{"no", "yes", "optional"}
)

// paramTable is the single source of truth for every parameter. It is built
// once and never modified; Params hands out copies.
//
// Mutable is true only where a running server can apply a change in place.
// Redis also lets CONFIG SET change port, bind and dir, but those need
// listeners or files reopened, so cachalot asks for a restart instead.
var paramTable = []Param{
	// Network.
	intParam("port", "TCP port to listen on; 0 disables TCP", false, 0, 65535,
		func(c *Config) *int { return &c.Port }),
	bindParam(),
	stringParam("unixsocket", "Unix socket path to listen on; empty disables it", false, nil,
		func(c *Config) *string { return &c.Unixsocket }),
	boolParam("protected-mode", "refuse clients from non-loopback addresses while no password is set (as Redis 7.0)", true,
		func(c *Config) *bool { return &c.ProtectedMode }),
	stringParam("requirepass", "password clients must AUTH with; empty disables authentication", true, nil,
		func(c *Config) *string { return &c.Requirepass }),
	stringParam("aclfile", "ACL users file (user <name> <rules> lines) loaded at startup and by ACL LOAD, written by ACL SAVE; empty: none", false, nil,
		func(c *Config) *string { return &c.Aclfile }),
	intParam("acllog-max-len", "number of entries kept in the ACL log", true, 0, math.MaxInt,
		func(c *Config) *int { return &c.AcllogMaxLen }),
	intParam("maxclients", "maximum number of connected clients", true, 1, maxCUint,
		func(c *Config) *int { return &c.Maxclients }),
	intParam("event-loops", "epoll event loops serving plain TCP clients: 0 one per CPU (GOMAXPROCS), -1 none (a goroutine per client, as TLS and unix-socket clients always have)", false, -1, 1024,
		func(c *Config) *int { return &c.EventLoops }),
	secondsParam("timeout", "close a client after this many idle seconds; 0 never closes", true, 0, maxCInt,
		func(c *Config) *time.Duration { return &c.Timeout }),
	secondsParam("tcp-keepalive", "TCP keepalive period in seconds; 0 disables keepalives", true, 0, maxCInt,
		func(c *Config) *time.Duration { return &c.TCPKeepalive }),
	memoryParam("proto-max-bulk-len", "largest bulk string a client may send", true, 1024*1024, math.MaxInt64,
		func(c *Config) *int64 { return &c.ProtoMaxBulkLen }),
	memoryParam("client-query-buffer-limit", "largest query buffer a single client may accumulate", true, 1024*1024, math.MaxInt64,
		func(c *Config) *int64 { return &c.ClientQueryBufferLimit }),

	// Keyspace.
	intParam("databases", "number of logical databases (SELECT 0..databases-1)", false, 1, maxCInt,
		func(c *Config) *int { return &c.Databases }),
	shardsParam(),
	intParam("hz", "background task frequency in calls per second", true, 1, 500,
		func(c *Config) *int { return &c.Hz }),
	boolParam("lazyfree-lazy-user-flush", "make FLUSHALL and FLUSHDB without a mode argument free memory asynchronously", true,
		func(c *Config) *bool { return &c.LazyfreeLazyUserFlush }),

	// Memory and eviction.
	memoryParam("maxmemory", "memory limit in bytes (units like 2gb allowed); 0 means no limit", true, 0, math.MaxInt64,
		func(c *Config) *int64 { return &c.Maxmemory }),
	enumParam("maxmemory-policy", "how to pick keys to evict when maxmemory is reached", true, maxmemoryPolicyValues,
		func(c *Config) *string { return &c.MaxmemoryPolicy }),
	intParam("maxmemory-samples", "keys sampled per eviction; more is more precise and slower", true, 1, maxCInt,
		func(c *Config) *int { return &c.MaxmemorySamples }),
	intParam("maxmemory-eviction-tenacity", "how long eviction may run per command, 0 (least) to 100 (most)", true, 0, 100,
		func(c *Config) *int { return &c.MaxmemoryEvictionTenacity }),
	intParam("lfu-log-factor", "LFU counter logarithm factor; higher needs more hits to saturate", true, 0, maxCInt,
		func(c *Config) *int { return &c.LFULogFactor }),
	intParam("lfu-decay-time", "minutes after which an idle key's LFU counter is halved", true, 0, maxCInt,
		func(c *Config) *int { return &c.LFUDecayTime }),

	// Data-type encodings: the thresholds at which Redis converts a compact
	// encoding to the general one; OBJECT ENCODING reports the result.
	int64Param("hash-max-listpack-entries", "a hash stays a listpack up to this many fields", true, 0, math.MaxInt64,
		func(c *Config) *int64 { return &c.HashMaxListpackEntries }),
	int64Param("hash-max-listpack-value", "a hash stays a listpack while every field and value is at most this long", true, 0, math.MaxInt64,
		func(c *Config) *int64 { return &c.HashMaxListpackValue }),
	int64Param("set-max-intset-entries", "a set of integers stays an intset up to this many members", true, 0, math.MaxInt64,
		func(c *Config) *int64 { return &c.SetMaxIntsetEntries }),
	int64Param("zset-max-listpack-entries", "a sorted set stays a listpack up to this many members", true, 0, math.MaxInt64,
		func(c *Config) *int64 { return &c.ZsetMaxListpackEntries }),
	int64Param("zset-max-listpack-value", "a sorted set stays a listpack while every member is at most this long", true, 0, math.MaxInt64,
		func(c *Config) *int64 { return &c.ZsetMaxListpackValue }),
	intParam("list-max-listpack-size", "quicklist node size: positive is entries per node, -1..-5 is 4..64 KB per node", true, math.MinInt32, math.MaxInt32,
		func(c *Config) *int { return &c.ListMaxListpackSize }),
	intParam("list-compress-depth", "quicklist nodes left uncompressed at each end (accepted; cachalot does not compress)", true, 0, math.MaxInt32,
		func(c *Config) *int { return &c.ListCompressDepth }),
	memoryParam("hll-sparse-max-bytes", "a HyperLogLog stays sparse-encoded up to this many bytes, then becomes dense", true, 0, math.MaxInt64,
		func(c *Config) *int64 { return &c.HllSparseMaxBytes }),

	// Persistence.
	boolParam("appendonly", "enable the append-only file; turning it on at run time first writes a base file from the data in memory", true,
		func(c *Config) *bool { return &c.Appendonly }),
	enumParam("appendfsync", "when to fsync the append-only file", true, appendfsyncValues,
		func(c *Config) *string { return &c.Appendfsync }),
	stringParam("appendfilename", "base name of the append-only files", false, checkAppendfilename,
		func(c *Config) *string { return &c.Appendfilename }),
	stringParam("appenddirname", "directory, inside dir, that holds the append-only files", false, checkAppenddirname,
		func(c *Config) *string { return &c.Appenddirname }),
	stringParam("dir", "working directory for persistence files", false, checkNotEmpty,
		func(c *Config) *string { return &c.Dir }),
	saveParam(),
	intParam("auto-aof-rewrite-percentage", "rewrite the append-only file when it grows by this percentage over its size after the last rewrite; 0 disables", true, 0, maxCInt,
		func(c *Config) *int { return &c.AutoAOFRewritePercentage }),
	memoryParam("auto-aof-rewrite-min-size", "smallest append-only file size for an automatic rewrite", true, 0, math.MaxInt64,
		func(c *Config) *int64 { return &c.AutoAOFRewriteMinSize }),
	boolParam("aof-load-truncated", "load an append-only file whose last command is cut short (dropping it) instead of refusing to start", true,
		func(c *Config) *bool { return &c.AOFLoadTruncated }),

	// Logging and observability.
	enumParam("loglevel", "log verbosity", true, loglevelValues,
		func(c *Config) *string { return &c.Loglevel }),
	stringParam("logfile", "log file path; empty logs to standard error", false, nil,
		func(c *Config) *string { return &c.Logfile }),
	int64Param("slowlog-log-slower-than", "log commands slower than this many microseconds; negative disables the slow log", true, -1, math.MaxInt64,
		func(c *Config) *int64 { return &c.SlowlogLogSlowerThan }),
	intParam("slowlog-max-len", "number of entries kept in the slow log", true, 0, math.MaxInt,
		func(c *Config) *int { return &c.SlowlogMaxLen }),
	boolParam("latency-tracking", "track per-command latency percentiles", true,
		func(c *Config) *bool { return &c.LatencyTracking }),
	boolParam("metrics-pprof", "serve Go's /debug/pprof/ profiles on the metrics endpoint (cachalot only)", false,
		func(c *Config) *bool { return &c.MetricsPprof }),
	stringParam("metrics-addr", "host:port for the Prometheus metrics endpoint (cachalot only); empty disables it", false, checkMetricsAddr,
		func(c *Config) *string { return &c.MetricsAddr }),
	metricsKeyPrefixesParam(),
	int64Param("busy-reply-threshold", "milliseconds a script or function runs before other clients get -BUSY and SCRIPT KILL or FUNCTION KILL may stop it (alias lua-time-limit)", true, 0, math.MaxInt64,
		func(c *Config) *int64 { return &c.BusyReplyThreshold }),
	int64Param("latency-monitor-threshold", "record latency events of at least this many milliseconds; 0 disables the latency monitor", true, 0, math.MaxInt64,
		func(c *Config) *int64 { return &c.LatencyMonitorThreshold }),
	enumParam("log-format", "log line format: text or json (cachalot only)", false, logFormatValues,
		func(c *Config) *string { return &c.LogFormat }),

	// Push traffic.
	notifyKeyspaceEventsParam(),
	clientOutputBufferLimitParam(),
	trackingTableMaxKeysParam(),

	// Process.
	enumParam("enable-debug-command", "allow the DEBUG command: no, yes, or local (loopback clients only)", false, enableDebugCommandValues,
		func(c *Config) *string { return &c.EnableDebugCommand }),
	daemonizeParam(),
	enumParam("supervised", "service manager to report to: no, systemd (sd_notify READY/STOPPING/STATUS) or auto (systemd when NOTIFY_SOCKET is set)", false, supervisedValues,
		func(c *Config) *string { return &c.Supervised }),
	stringParam("pidfile", "write the process id to this file at startup and remove it at exit; empty writes none", false, nil,
		func(c *Config) *string { return &c.Pidfile }),
	disableCommandsParam(),
	secondsParam("shutdown-timeout", "seconds in-flight commands may take to finish on SIGTERM/SIGINT before connections are closed", true, 0, maxCInt,
		func(c *Config) *time.Duration { return &c.ShutdownTimeout }),

	// TLS. Certificates are read at startup and again on SIGHUP; CONFIG
	// SET cannot change them (restart or SIGHUP after editing the file).
	intParam("tls-port", "TLS port to listen on (on the bind addresses); 0 disables TLS", false, 0, 65535,
		func(c *Config) *int { return &c.TLSPort }),
	stringParam("tls-cert-file", "PEM certificate the TLS listener presents", false, nil,
		func(c *Config) *string { return &c.TLSCertFile }),
	stringParam("tls-key-file", "PEM private key of tls-cert-file", false, nil,
		func(c *Config) *string { return &c.TLSKeyFile }),
	stringParam("tls-ca-cert-file", "PEM CA certificates that client certificates must chain to", false, nil,
		func(c *Config) *string { return &c.TLSCACertFile }),
	enumParam("tls-auth-clients", "client certificates: yes (required), no (not asked for) or optional (verified when sent)", false, tlsAuthClientsValues,
		func(c *Config) *string { return &c.TLSAuthClients }),
	stringParam("tls-protocols", `space-separated TLS versions to accept, from "TLSv1.2" and "TLSv1.3"; empty accepts both`, false, checkTLSProtocols,
		func(c *Config) *string { return &c.TLSProtocols }),
}

// paramAliases are the old names Redis still accepts for a parameter;
// Lookup (CONFIG GET and SET, TOML keys) finds the parameter by either.
var paramAliases = map[string]string{
	"lua-time-limit": "busy-reply-threshold",
}

// paramIndex finds rows by lower-case name. Built once from paramTable.
var paramIndex = func() map[string]int {
	index := make(map[string]int, len(paramTable))
	for i, p := range paramTable {
		if _, dup := index[p.Name]; dup {
			panic("config: duplicate parameter " + p.Name)
		}
		index[p.Name] = i
	}
	for alias, name := range paramAliases {
		index[alias] = index[name]
	}
	return index
}()

// Params returns the parameter table in documentation order. The slice is a
// fresh copy, so callers cannot alter the package's table.
func Params() []Param {
	return append([]Param(nil), paramTable...)
}

// Lookup finds a parameter by name, ignoring case as Redis does.
func Lookup(name string) (Param, bool) {
	i, ok := paramIndex[strings.ToLower(name)]
	if !ok {
		return Param{}, false
	}
	return paramTable[i], true
}

// rangeError builds Redis's out-of-range reason.
func rangeError(lo, hi int64) error {
	return fmt.Errorf("argument must be between %d and %d inclusive", lo, hi)
}

// intParam declares an integer parameter stored in an int field, parsed with
// Redis's string2ll rules and bounded to [lo, hi].
func intParam(name, help string, mutable bool, lo, hi int64, field func(*Config) *int) Param {
	return Param{
		Name: name, Help: help, Mutable: mutable, kind: kindInt, metavar: "N",
		get: func(c *Config) string { return strconv.Itoa(*field(c)) },
		set: func(c *Config, v string) error {
			n, err := parseBoundedInteger(v, lo, hi)
			if err != nil {
				return err
			}
			*field(c) = int(n)
			return nil
		},
	}
}

// int64Param is intParam for fields that need the full int64 range.
func int64Param(name, help string, mutable bool, lo, hi int64, field func(*Config) *int64) Param {
	return Param{
		Name: name, Help: help, Mutable: mutable, kind: kindInt, metavar: "N",
		get: func(c *Config) string { return strconv.FormatInt(*field(c), 10) },
		set: func(c *Config, v string) error {
			n, err := parseBoundedInteger(v, lo, hi)
			if err != nil {
				return err
			}
			*field(c) = n
			return nil
		},
	}
}

func parseBoundedInteger(v string, lo, hi int64) (int64, error) {
	n, err := parseInteger(v)
	if err != nil {
		return 0, err
	}
	if n < lo || n > hi {
		return 0, rangeError(lo, hi)
	}
	return n, nil
}

// secondsParam declares a parameter that Redis expresses in whole seconds
// but that Go code wants as a time.Duration.
func secondsParam(name, help string, mutable bool, lo, hi int64, field func(*Config) *time.Duration) Param {
	return Param{
		Name: name, Help: help, Mutable: mutable, kind: kindInt, metavar: "SECONDS",
		get: func(c *Config) string { return strconv.FormatInt(int64(*field(c)/time.Second), 10) },
		set: func(c *Config, v string) error {
			n, err := parseBoundedInteger(v, lo, hi)
			if err != nil {
				return err
			}
			*field(c) = time.Duration(n) * time.Second
			return nil
		},
	}
}

// memoryParam declares a byte-size parameter: Redis units on input, plain
// bytes on output (as CONFIG GET prints them).
func memoryParam(name, help string, mutable bool, lo, hi int64, field func(*Config) *int64) Param {
	return Param{
		Name: name, Help: help, Mutable: mutable, kind: kindMemory, metavar: "SIZE",
		get: func(c *Config) string { return strconv.FormatInt(*field(c), 10) },
		set: func(c *Config, v string) error {
			n, err := ParseMemory(v)
			if err != nil {
				return err
			}
			if n < lo || n > hi {
				return rangeError(lo, hi)
			}
			*field(c) = n
			return nil
		},
	}
}

func boolParam(name, help string, mutable bool, field func(*Config) *bool) Param {
	return Param{
		Name: name, Help: help, Mutable: mutable, kind: kindBool, metavar: "yes|no",
		get: func(c *Config) string { return formatYesNo(*field(c)) },
		set: func(c *Config, v string) error {
			b, err := parseYesNo(v)
			if err != nil {
				return err
			}
			*field(c) = b
			return nil
		},
	}
}

// enumParam declares a parameter restricted to values. Matching ignores case
// like Redis; the canonical spelling is stored.
func enumParam(name, help string, mutable bool, values []string, field func(*Config) *string) Param {
	reason := "argument(s) must be one of the following: " + strings.Join(values, ", ")
	return Param{
		Name: name, Help: help, Mutable: mutable, kind: kindEnum,
		metavar: strings.Join(values, "|"), enum: values,
		get: func(c *Config) string { return *field(c) },
		set: func(c *Config, v string) error {
			for _, allowed := range values {
				if strings.EqualFold(v, allowed) {
					*field(c) = allowed
					return nil
				}
			}
			return errors.New(reason)
		},
	}
}

// stringParam declares a free-form string parameter; check, when not nil,
// rejects bad values before they are stored.
func stringParam(name, help string, mutable bool, check func(string) error, field func(*Config) *string) Param {
	return Param{
		Name: name, Help: help, Mutable: mutable, kind: kindString, metavar: "STRING",
		get: func(c *Config) string { return *field(c) },
		set: func(c *Config, v string) error {
			if check != nil {
				if err := check(v); err != nil {
					return err
				}
			}
			*field(c) = v
			return nil
		},
	}
}

// bindParam declares "bind": space-separated addresses, as in redis.conf.
// Cachalot defaults to loopback only instead of Redis's "* -::*" so a fresh
// install is not reachable from the network.
func bindParam() Param {
	return Param{
		Name:    "bind",
		Help:    `space-separated addresses to listen on; "*" is every IPv4 address, "::*" every IPv6 one, a leading "-" makes an address optional`,
		Mutable: false, kind: kindList, metavar: "ADDRS",
		get: func(c *Config) string { return strings.Join(c.Bind, " ") },
		set: func(c *Config, v string) error {
			addrs := strings.Fields(v)
			switch {
			case len(addrs) == 0:
				// Redis reads an empty bind as "all interfaces"; cachalot
				// refuses it so exposure is always spelled out.
				return errors.New(`argument must name at least one address (use "*" for all interfaces)`)
			case len(addrs) > maxBindAddrs:
				return errors.New("Too many bind addresses specified.") // Redis's exact text
			}
			c.Bind = addrs
			return nil
		},
	}
}

// shardsParam declares cachalot's per-database shard count. A power of two
// lets the store pick a shard with a mask instead of a division.
func shardsParam() Param {
	reason := fmt.Sprintf("argument must be a power of two between 1 and %d inclusive", maxShards)
	return Param{
		Name:    "shards",
		Help:    "lock shards per database (cachalot only); a power of two, more reduces contention",
		Mutable: false, kind: kindInt, metavar: "N",
		get: func(c *Config) string { return strconv.Itoa(c.Shards) },
		set: func(c *Config, v string) error {
			n, err := parseInteger(v)
			if err != nil {
				return err
			}
			if n < 1 || n > maxShards || n&(n-1) != 0 {
				return errors.New(reason)
			}
			c.Shards = int(n)
			return nil
		},
	}
}

// saveParam declares "save", accepted only so redis-server command lines
// and configs keep working; cachalot takes no RDB snapshots. The value is
// validated like Redis does and stored normalised.
func saveParam() Param {
	return Param{
		Name:    "save",
		Help:    `RDB snapshot schedule "<seconds> <changes> ..."; accepted for redis-server compatibility and ignored`,
		Mutable: true, kind: kindString, metavar: "SCHEDULE",
		get: func(c *Config) string { return c.Save },
		set: func(c *Config, v string) error {
			fields := strings.Fields(v)
			// "Invalid save parameters" is Redis's exact text.
			if len(fields)%2 != 0 {
				return errors.New("Invalid save parameters")
			}
			for i, f := range fields {
				n, err := parseInteger(f)
				// Even positions are seconds (at least 1), odd ones are
				// change counts (at least 0), as in Redis.
				if err != nil || (i%2 == 0 && n < 1) || n < 0 {
					return errors.New("Invalid save parameters")
				}
			}
			c.Save = strings.Join(fields, " ")
			return nil
		},
	}
}

// daemonizeParam declares "daemonize", accepted so existing configs load;
// forking is left to the service manager, so only "no" is valid.
func daemonizeParam() Param {
	return Param{
		Name:    "daemonize",
		Help:    `must be "no": cachalot runs in the foreground; use systemd or another supervisor to background it`,
		Mutable: false, kind: kindBool, metavar: "no",
		get: func(c *Config) string { return formatYesNo(c.Daemonize) },
		set: func(c *Config, v string) error {
			b, err := parseYesNo(v)
			if err != nil {
				return err
			}
			if b {
				return errors.New("daemonize yes is not supported: cachalot stays in the foreground; run it under systemd (Type=simple) or another supervisor")
			}
			c.Daemonize = false
			return nil
		},
	}
}

func checkNotEmpty(v string) error {
	if v == "" {
		return errors.New("argument must not be empty")
	}
	return nil
}

// checkAppendfilename and checkAppenddirname use Redis's reasons: the
// names are joined under dir, so they must not carry a path of their own.
func checkAppendfilename(v string) error {
	if v == "" {
		return errors.New("appendfilename can't be empty")
	}
	if strings.ContainsAny(v, `/\`) {
		return errors.New("appendfilename can't be a path, just a filename")
	}
	return nil
}

func checkAppenddirname(v string) error {
	if v == "" {
		return errors.New("appenddirname can't be empty")
	}
	if strings.ContainsAny(v, `/\`) {
		return errors.New("appenddirname can't be a path, just a dirname")
	}
	return nil
}

// checkMetricsAddr accepts "" (disabled) or host:port with a non-zero port;
// the host may be empty to listen on every interface.
func checkMetricsAddr(v string) error {
	if v == "" {
		return nil
	}
	reason := errors.New(`argument must be empty or host:port, e.g. "127.0.0.1:9121"`)
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return reason
	}
	n, err := parseInteger(port)
	if err != nil || n < 1 || n > 65535 {
		return reason
	}
	return nil
}
