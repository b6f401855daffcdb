package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Config holds every cachalot setting. Field comments give the Redis
// parameter name; the parameter table (Params) is what parses, prints and
// validates them.
type Config struct {
	// Network.
	Port                   int           // port: TCP port, 0 disables TCP
	Bind                   []string      // bind: listen addresses (cachalot default "127.0.0.1 -::1", Redis "* -::*")
	Unixsocket             string        // unixsocket: socket path, "" disables it
	ProtectedMode          bool          // protected-mode
	Requirepass            string        // requirepass: "" disables AUTH
	Aclfile                string        // aclfile: ACL users file for ACL LOAD/SAVE, "" none
	AcllogMaxLen           int           // acllog-max-len: entries kept in ACL LOG
	Maxclients             int           // maxclients
	EventLoops             int           // event-loops: epoll loops for TCP clients; 0 one per CPU, -1 a goroutine per client
	Timeout                time.Duration // timeout: idle client timeout, whole seconds, 0 never
	TCPKeepalive           time.Duration // tcp-keepalive: whole seconds, 0 disables
	ProtoMaxBulkLen        int64         // proto-max-bulk-len: bytes
	ClientQueryBufferLimit int64         // client-query-buffer-limit: bytes

	// Keyspace.
	Databases             int  // databases
	Shards                int  // shards: per database, power of two (cachalot only)
	Hz                    int  // hz: background task frequency, 1..500
	LazyfreeLazyUserFlush bool // lazyfree-lazy-user-flush

	// Memory and eviction.
	Maxmemory                 int64  // maxmemory: bytes, 0 means no limit
	MaxmemoryPolicy           string // maxmemory-policy: one of the 8 Redis policies
	MaxmemorySamples          int    // maxmemory-samples
	MaxmemoryEvictionTenacity int    // maxmemory-eviction-tenacity: 0..100
	LFULogFactor              int    // lfu-log-factor
	LFUDecayTime              int    // lfu-decay-time: minutes

	// Data-type encodings.
	HashMaxListpackEntries int64 // hash-max-listpack-entries
	HashMaxListpackValue   int64 // hash-max-listpack-value
	SetMaxIntsetEntries    int64 // set-max-intset-entries
	ZsetMaxListpackEntries int64 // zset-max-listpack-entries
	ZsetMaxListpackValue   int64 // zset-max-listpack-value
	ListMaxListpackSize    int   // list-max-listpack-size
	ListCompressDepth      int   // list-compress-depth
	HllSparseMaxBytes      int64 // hll-sparse-max-bytes

	// Persistence.
	Appendonly     bool   // appendonly
	Appendfsync    string // appendfsync: always, everysec or no
	Appendfilename string // appendfilename
	Appenddirname  string // appenddirname: relative to Dir
	Dir            string // dir
	Save           string // save: accepted for compatibility, ignored

	AutoAOFRewritePercentage int   // auto-aof-rewrite-percentage: 0 disables automatic rewrites
	AutoAOFRewriteMinSize    int64 // auto-aof-rewrite-min-size
	AOFLoadTruncated         bool  // aof-load-truncated

	// Logging and observability.
	Loglevel                string // loglevel: debug, verbose, notice, warning or nothing
	Logfile                 string // logfile: "" logs to standard error
	SlowlogLogSlowerThan    int64  // slowlog-log-slower-than: microseconds, negative disables
	SlowlogMaxLen           int    // slowlog-max-len
	LatencyTracking         bool   // latency-tracking
	MetricsAddr             string // metrics-addr: Prometheus endpoint, "" disables (cachalot only)
	MetricsPprof            bool   // metrics-pprof: /debug/pprof/ on the metrics endpoint (cachalot only)
	MetricsKeyPrefixes      string // metrics-key-prefixes: comma-separated key prefixes counted apart (cachalot only)
	LatencyMonitorThreshold int64  // latency-monitor-threshold: milliseconds, 0 disables
	BusyReplyThreshold      int64  // busy-reply-threshold (alias lua-time-limit): milliseconds a script runs before -BUSY
	LogFormat               string // log-format: text or json (cachalot only)

	// Push traffic (pub/sub, keyspace notifications).
	NotifyKeyspaceEvents    int    // notify-keyspace-events: Notify* bits (push.go)
	ClientOutputBufferLimit string // client-output-buffer-limit: canonical "normal h s t slave h s t pubsub h s t"
	TrackingTableMaxKeys    int64  // tracking-table-max-keys: 0 means no limit

	// Process.
	EnableDebugCommand string        // enable-debug-command: no, yes or local
	Daemonize          bool          // daemonize: always false; cachalot does not fork
	Supervised         string        // supervised: no, systemd or auto (sd_notify when NOTIFY_SOCKET is set)
	Pidfile            string        // pidfile: "" writes none
	ShutdownTimeout    time.Duration // shutdown-timeout: whole seconds in-flight work may take on SIGTERM
	DisableCommands    string        // disable-commands: space-separated lower-case command names (cachalot only)

	// TLS.
	TLSPort        int    // tls-port: 0 disables the TLS listener
	TLSCertFile    string // tls-cert-file: PEM server certificate
	TLSKeyFile     string // tls-key-file: PEM private key
	TLSCACertFile  string // tls-ca-cert-file: PEM CA bundle that signs client certificates
	TLSAuthClients string // tls-auth-clients: yes, no or optional
	TLSProtocols   string // tls-protocols: e.g. "TLSv1.2 TLSv1.3"; "" means TLSv1.2 and TLSv1.3

	// File is the TOML file the configuration was loaded from ("" when
	// none). It is not a parameter: CONFIG REWRITE and INFO read it.
	File string
}

// Default returns Redis 7's defaults, except bind, which is loopback only,
// and the cachalot-only parameters.
func Default() *Config {
	return &Config{
		Port:                   6379,
		Bind:                   []string{"127.0.0.1", "-::1"},
		ProtectedMode:          true,
		Maxclients:             10000,
		EventLoops:             0,
		AcllogMaxLen:           128,
		TCPKeepalive:           300 * time.Second,
		ProtoMaxBulkLen:        512 * 1024 * 1024,
		ClientQueryBufferLimit: 1024 * 1024 * 1024,

		Databases: 16,
		Shards:    256,
		Hz:        10,

		MaxmemoryPolicy:           "noeviction",
		MaxmemorySamples:          5,
		MaxmemoryEvictionTenacity: 10,
		LFULogFactor:              10,
		LFUDecayTime:              1,

		HashMaxListpackEntries: 128,
		HashMaxListpackValue:   64,
		SetMaxIntsetEntries:    512,
		ZsetMaxListpackEntries: 128,
		ZsetMaxListpackValue:   64,
		ListMaxListpackSize:    -2,
		HllSparseMaxBytes:      3000,

		Appendfsync:    "everysec",
		Appendfilename: "appendonly.aof",
		Appenddirname:  "appendonlydir",
		Dir:            ".",

		AutoAOFRewritePercentage: 100,
		AutoAOFRewriteMinSize:    64 << 20,
		AOFLoadTruncated:         true,

		Loglevel:             "notice",
		SlowlogLogSlowerThan: 10000,
		SlowlogMaxLen:        128,
		LatencyTracking:      true,
		MetricsAddr:          "127.0.0.1:9121",
		LogFormat:            "text",
		BusyReplyThreshold:   5000,

		ClientOutputBufferLimit: DefaultClientOutputBufferLimit,
		TrackingTableMaxKeys:    1000000,

		EnableDebugCommand: "no",
		Supervised:         "no",
		ShutdownTimeout:    10 * time.Second,

		TLSAuthClients: "yes",
	}
}

// Clone returns a deep copy, so the copy can be changed (say by CONFIG SET)
// while readers keep using the original.
func (c *Config) Clone() *Config {
	clone := *c
	clone.Bind = append([]string(nil), c.Bind...)
	return &clone
}

// ErrUnknownParam is matched (errors.Is) by the *ParamError that Set
// returns for a name that is not in the parameter table.
var ErrUnknownParam = errors.New("unknown parameter")

// ParamError reports a value refused for one parameter. Reason is Redis's
// CONFIG SET reason text, e.g. "argument must be a memory value", so a
// server can reply
//
//	ERR CONFIG SET failed (possibly related to argument '<Name>') - <Reason>
type ParamError struct {
	Name   string
	Reason string
}

func (e *ParamError) Error() string {
	if e.Reason == ErrUnknownParam.Error() {
		return fmt.Sprintf("%s %q", e.Reason, e.Name)
	}
	return e.Name + ": " + e.Reason
}

// Unwrap exposes ErrUnknownParam for unknown names.
func (e *ParamError) Unwrap() error {
	if e.Reason == ErrUnknownParam.Error() {
		return ErrUnknownParam
	}
	return nil
}

// Get returns the named parameter's value in CONFIG GET notation (plain
// bytes for sizes, yes/no for booleans). The name is case-insensitive.
func (c *Config) Get(name string) (string, bool) {
	p, ok := Lookup(name)
	if !ok {
		return "", false
	}
	return p.get(c), true
}

// Set parses value with the parameter's rules and stores it; on error c is
// left unchanged and the error is a *ParamError. Set does not consult
// Param.Mutable: startup loading may set anything, while CONFIG SET must
// check Mutable itself.
func (c *Config) Set(name, value string) error {
	p, ok := Lookup(name)
	if !ok {
		return &ParamError{Name: name, Reason: ErrUnknownParam.Error()}
	}
	if err := p.set(c, value); err != nil {
		return &ParamError{Name: p.Name, Reason: err.Error()}
	}
	return nil
}

// Match returns the name/value pairs of every parameter whose name matches
// the Redis glob pattern, ignoring case as CONFIG GET does, in table order.
func (c *Config) Match(pattern string) [][2]string {
	var pairs [][2]string
	for _, p := range paramTable {
		if Glob(pattern, p.Name, true) {
			pairs = append(pairs, [2]string{p.Name, p.get(c)})
		}
	}
	return pairs
}

// Validate checks every field with the same rules Set applies (fields are
// exported, so code may have assigned them directly) plus rules that span
// several parameters. All problems are reported, joined.
func (c *Config) Validate() error {
	var errs []error
	scratch := Default()
	for _, p := range paramTable {
		value := p.get(c)
		if err := p.set(scratch, value); err != nil {
			errs = append(errs, &ParamError{Name: p.Name, Reason: err.Error()})
			continue
		}
		// Catch values Set would have normalised, e.g. "ALLKEYS-LRU",
		// so that code comparing fields sees one spelling.
		if canonical := p.get(scratch); canonical != value {
			errs = append(errs, &ParamError{Name: p.Name, Reason: fmt.Sprintf("value must be written as %q", canonical)})
		}
	}
	for _, d := range []struct {
		name  string
		value time.Duration
	}{{"timeout", c.Timeout}, {"tcp-keepalive", c.TCPKeepalive}, {"shutdown-timeout", c.ShutdownTimeout}} {
		if d.value%time.Second != 0 {
			errs = append(errs, &ParamError{Name: d.name, Reason: "argument must be a whole number of seconds"})
		}
	}

	errs = append(errs, c.validateTLS()...)
	if c.Port == 0 && c.Unixsocket == "" && c.TLSPort == 0 {
		// Redis exits with "Configured to not listen anywhere" here too.
		errs = append(errs, errors.New("configured to not listen anywhere: port is 0 and unixsocket is empty"))
	}
	if c.metricsPortClashes() {
		errs = append(errs, fmt.Errorf("metrics-addr %q uses port %d, which the Redis listener already binds", c.MetricsAddr, c.Port))
	}
	return errors.Join(errs...)
}

// metricsPortClashes reports whether the metrics endpoint would listen on
// the Redis port on an address the Redis listener also covers.
func (c *Config) metricsPortClashes() bool {
	if c.MetricsAddr == "" || c.Port == 0 {
		return false
	}
	host, port, err := net.SplitHostPort(c.MetricsAddr)
	if err != nil || port != strconv.Itoa(c.Port) {
		return false
	}
	if isWildcardHost(host) {
		return true
	}
	for _, addr := range c.Bind {
		addr = strings.TrimPrefix(addr, "-")
		if isWildcardHost(addr) || addr == host {
			return true
		}
	}
	return false
}

func isWildcardHost(host string) bool {
	switch host {
	case "", "*", "::*", "0.0.0.0", "::":
		return true
	}
	return false
}
