package server

// Server commands: https://redis.io/commands/?group=server — plus CLUSTER,
// READONLY and READWRITE, which answer as a Redis 7.0 with cluster support
// disabled does, and WAIT, which has no replicas to wait for.

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/store"
	"github.com/pelletier/go-toml/v2"
)

func serverCommands() []*command {
	return []*command{
		{name: "dbsize", arity: 1, flags: flagReadonly | flagFast | flagOwnLocks, acl: "@keyspace", group: "server", since: "1.0.0",
			summary: "Return the number of keys in the selected database", complexity: "O(1)", handler: cmdDbsize},
		{name: "flushdb", arity: -1, flags: flagWrite | flagOwnLocks, acl: "@keyspace @dangerous", group: "server", since: "1.0.0",
			summary: "Remove all keys from the current database", complexity: "O(N) where N is the number of keys in the selected database",
			usage: "[ASYNC@4.0.0 | SYNC@6.2.0]", handler: cmdFlushdb,
			history: [][2]string{{"4.0.0", "Added the `ASYNC` flushing mode modifier."}, {"6.2.0", "Added the `SYNC` flushing mode modifier."}},
		},
		{name: "flushall", arity: -1, flags: flagWrite | flagOwnLocks, acl: "@keyspace @dangerous", group: "server", since: "1.0.0",
			summary: "Remove all keys from all databases", complexity: "O(N) where N is the total number of keys in all databases",
			usage: "[ASYNC@4.0.0 | SYNC@6.2.0]", handler: cmdFlushall,
			history: [][2]string{{"4.0.0", "Added the `ASYNC` flushing mode modifier."}, {"6.2.0", "Added the `SYNC` flushing mode modifier."}},
		},
		{name: "swapdb", arity: 3, flags: flagWrite | flagFast | flagOwnLocks, acl: "@keyspace @dangerous", group: "server", since: "4.0.0",
			summary:    "Swaps two Redis databases",
			complexity: "O(N) where N is the count of clients watching or blocking on keys from both databases.",
			usage:      "index1:integer index2:integer", handler: cmdSwapdb},
		{name: "time", arity: 1, flags: flagLoading | flagStale | flagFast, group: "server", since: "2.6.0",
			summary: "Return the current server time", complexity: "O(1)", handler: cmdTime},
		{name: "bgrewriteaof", arity: 1, flags: flagAdmin | flagNoScript | flagNoAsyncLoading, group: "server", since: "1.0.0",
			summary: "Asynchronously rewrite the append-only file", complexity: "O(1)", handler: cmdBgrewriteaof},
		{name: "lastsave", arity: 1, flags: flagLoading | flagStale | flagFast, acl: "@admin @dangerous", group: "server", since: "1.0.0",
			summary: "Get the UNIX time stamp of the last successful save to disk", complexity: "O(1)", handler: cmdLastsave},
		{name: "wait", arity: 3, flags: flagNoScript, acl: "@connection", group: "generic", since: "3.0.0",
			summary:    "Wait for the synchronous replication of all the write commands sent in the context of the current connection",
			complexity: "O(1)", usage: "numreplicas:integer timeout:integer", handler: cmdWait},
		{name: "shutdown", arity: -1, flags: flagAdmin | flagNoScript | flagLoading | flagStale | flagNoMulti | flagAllowBusy,
			group: "server", since: "1.0.0", summary: "Synchronously save the dataset to disk and then shut down the server",
			complexity: "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
			usage:      "nosave_save=[NOSAVE | SAVE] [NOW]@7.0.0 [FORCE]@7.0.0 [ABORT]@7.0.0", handler: cmdShutdown,
			history: [][2]string{{"7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers."}}},
		{name: "info", arity: -1, flags: flagLoading | flagStale, acl: "@dangerous", group: "server", since: "1.0.0",
			summary: "Get information and statistics about the server", complexity: "O(1)",
			usage: "[section [section ...]]", handler: cmdInfo,
			history: [][2]string{{"7.0.0", "Added support for taking multiple section arguments."}}},
		{name: "readonly", arity: 1, flags: flagLoading | flagStale | flagFast, acl: "@connection", group: "cluster", since: "3.0.0",
			summary: "Enables read queries for a connection to a cluster replica node", complexity: "O(1)", handler: cmdClusterDisabled},
		{name: "readwrite", arity: 1, flags: flagLoading | flagStale | flagFast, acl: "@connection", group: "cluster", since: "3.0.0",
			summary: "Disables read queries for a connection to a cluster replica node", complexity: "O(1)", handler: cmdClusterDisabled},
		configCommand(),
		clusterCommand(),
	}
}

func configCommand() *command {
	const adminFlags = flagAdmin | flagNoScript | flagLoading | flagStale
	return &command{name: "config", arity: -2, group: "server", since: "2.0.0",
		summary: "A container for server configuration commands", complexity: "Depends on subcommand.",
		subs: []*command{
			{name: "get", arity: -3, flags: adminFlags, since: "2.0.0",
				summary:    "Get the values of configuration parameters",
				complexity: "O(N) when N is the number of configuration parameters provided",
				usage:      "parameter [parameter ...]", handler: cmdConfigGet,
				history: [][2]string{{"7.0.0", "Added the ability to pass multiple pattern parameters in one call"}}},
			{name: "set", arity: -4, flags: adminFlags, since: "2.0.0",
				summary:    "Set configuration parameters to the given values",
				complexity: "O(N) when N is the number of configuration parameters provided",
				usage:      "parameter value [parameter value ...]", handler: cmdConfigSet,
				history: [][2]string{{"7.0.0", "Added the ability to set multiple parameters in one call."}}},
			{name: "resetstat", arity: 2, flags: adminFlags, since: "2.0.0",
				summary: "Reset the stats returned by INFO", complexity: "O(1)", handler: cmdConfigResetstat},
			{name: "rewrite", arity: 2, flags: adminFlags, since: "2.8.0",
				summary: "Rewrite the configuration file with the in memory configuration", complexity: "O(1)", handler: cmdConfigRewrite},
			{name: "help", arity: 2, flags: flagLoading | flagStale, since: "5.0.0",
				summary: "Show helpful text about the different subcommands", complexity: "O(1)", handler: cmdConfigHelp},
		}}
}

// clusterCommand is CLUSTER with Redis 7.0's subcommand rows; every one
// answers that cluster support is disabled, as Redis does without
// cluster-enabled.
func clusterCommand() *command {
	const (
		admin = flagAdmin | flagStale | flagNoAsyncLoading
		info  = flagStale
		peer  = flagAdmin | flagStale
	)
	sub := func(name string, arity int, flags cmdFlags, since, summary, complexity, usage string) *command {
		return &command{name: name, arity: arity, flags: flags, since: since, summary: summary,
			complexity: complexity, usage: usage, handler: cmdClusterDisabled}
	}
	const slotsN = "O(N) where N is the total number of hash slot arguments"
	const rangeN = "O(N) where N is the total number of the slots between the start slot and end slot arguments."
	c := &command{name: "cluster", arity: -2, group: "cluster", since: "3.0.0",
		summary: "A container for cluster commands", complexity: "Depends on subcommand.",
		subs: []*command{
			sub("addslots", -3, admin, "3.0.0", "Assign new hash slots to receiving node", slotsN, "slot:integer [slot:integer ...]"),
			sub("addslotsrange", -4, admin, "7.0.0", "Assign new hash slots to receiving node", rangeN,
				"start-slot:integer end-slot:integer [start-slot:integer end-slot:integer ...]"),
			sub("bumpepoch", 2, admin, "3.0.0", "Advance the cluster config epoch", "O(1)", ""),
			sub("count-failure-reports", 3, peer, "3.0.0", "Return the number of failure reports active for a given node",
				"O(N) where N is the number of failure reports", "node-id"),
			sub("countkeysinslot", 3, info, "3.0.0", "Return the number of local keys in the specified hash slot", "O(1)", "slot:integer"),
			sub("delslots", -3, admin, "3.0.0", "Set hash slots as unbound in receiving node", slotsN, "slot:integer [slot:integer ...]"),
			sub("delslotsrange", -4, admin, "7.0.0", "Set hash slots as unbound in receiving node", rangeN,
				"start-slot:integer end-slot:integer [start-slot:integer end-slot:integer ...]"),
			sub("failover", -2, admin, "3.0.0", "Forces a replica to perform a manual failover of its master.", "O(1)", "options=[FORCE | TAKEOVER]"),
			sub("flushslots", 2, admin, "3.0.0", "Delete a node's own slots information", "O(1)", ""),
			sub("forget", 3, admin, "3.0.0", "Remove a node from the nodes table", "O(1)", "node-id"),
			sub("getkeysinslot", 4, info, "3.0.0", "Return local key names in the specified hash slot",
				"O(log(N)) where N is the number of requested keys", "slot:integer count:integer"),
			sub("help", 2, flagLoading|flagStale, "5.0.0", "Show helpful text about the different subcommands", "O(1)", ""),
			sub("info", 2, info, "3.0.0", "Provides info about Redis Cluster node state", "O(1)", ""),
			sub("keyslot", 3, info, "3.0.0", "Returns the hash slot of the specified key", "O(N) where N is the number of bytes in the key", "key:string"),
			sub("links", 2, info, "7.0.0", "Returns a list of all TCP links to and from peer nodes in cluster",
				"O(N) where N is the total number of Cluster nodes", ""),
			sub("meet", -4, admin, "3.0.0", "Force a node cluster to handshake with another node", "O(1)",
				"ip port:integer [cluster_bus_port:integer]@4.0.0"),
			sub("myid", 2, info, "3.0.0", "Return the node id", "O(1)", ""),
			sub("nodes", 2, info, "3.0.0", "Get Cluster config for the node", "O(N) where N is the total number of Cluster nodes", ""),
			sub("replicas", 3, peer, "5.0.0", "List replica nodes of the specified master node", "O(1)", "node-id"),
			sub("replicate", 3, admin, "3.0.0", "Reconfigure a node as a replica of the specified master node", "O(1)", "node-id"),
			sub("reset", -2, flagAdmin|flagNoScript|flagStale, "3.0.0", "Reset a Redis Cluster node",
				"O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect.", "hard_soft=[HARD | SOFT]"),
			sub("saveconfig", 2, admin, "3.0.0", "Forces the node to save cluster state on disk", "O(1)", ""),
			sub("set-config-epoch", 3, admin, "3.0.0", "Set the configuration epoch in a new node", "O(1)", "config-epoch:integer"),
			sub("setslot", -4, admin, "3.0.0", "Bind a hash slot to a specific node", "O(1)",
				"slot:integer subcommand=(IMPORTING node-id | MIGRATING node-id | NODE node-id | STABLE)"),
			sub("shards", 2, info, "7.0.0", "Get array of cluster slots to node mappings",
				"O(N) where N is the total number of cluster nodes", ""),
			sub("slaves", 3, peer, "3.0.0", "List replica nodes of the specified master node", "O(1)", "node-id"),
			sub("slots", 2, info, "3.0.0", "Get array of Cluster slot to node mappings",
				"O(N) where N is the total number of Cluster nodes", ""),
		}}
	for _, sc := range c.subs {
		switch sc.name {
		case "meet":
			sc.history = [][2]string{{"4.0.0", "Added the optional `cluster_bus_port` argument."}}
		case "slaves":
			sc.docFlags, sc.deprecatedSince, sc.replacedBy = "deprecated", "5.0.0", "`CLUSTER REPLICAS`"
		case "slots":
			sc.docFlags, sc.deprecatedSince, sc.replacedBy = "deprecated", "7.0.0", "`CLUSTER SHARDS`"
			sc.history = [][2]string{{"4.0.0", "Added node IDs."}, {"7.0.0", "Added additional networking metadata field."}}
		}
	}
	return c
}

func cmdDbsize(c *client, _ *store.Tx, _ [][]byte) error {
	c.w.Int(int64(c.db.Len()))
	return nil
}

// flushMode validates FLUSHDB/FLUSHALL's optional SYNC|ASYNC. Both flush
// synchronously: the store frees a shard's map by dropping it.
func flushMode(argv [][]byte) error {
	switch {
	case len(argv) == 1:
		return nil
	case len(argv) == 2 && (equalFold(argv[1], "sync") || equalFold(argv[1], "async")):
		return nil
	}
	return errSyntax
}

func cmdFlushdb(c *client, _ *store.Tx, argv [][]byte) error {
	if err := flushMode(argv); err != nil {
		return err
	}
	c.db.FlushWith(func(epoch uint64) {
		c.srv.propagateOwn(c, epoch, c.db.Index(), argv) // propagate.go
	})
	c.w.OK()
	return nil
}

func cmdFlushall(c *client, _ *store.Tx, argv [][]byte) error {
	if err := flushMode(argv); err != nil {
		return err
	}
	c.srv.store.FlushAllWith(func(epoch uint64) {
		c.srv.propagateOwn(c, epoch, c.db.Index(), argv) // propagate.go
	})
	c.w.OK()
	return nil
}

// parseDBIndexArg is getIntFromObjectOrReply: an integer that fits a C int.
func parseDBIndexArg(b []byte, bad respError) (int, error) {
	n, err := parseInt(b)
	if err != nil || n < math.MinInt32 || n > math.MaxInt32 {
		return 0, bad
	}
	return int(n), nil
}

func cmdSwapdb(c *client, _ *store.Tx, argv [][]byte) error {
	a, err := parseDBIndexArg(argv[1], errInvalidFirstDB)
	if err != nil {
		return err
	}
	b, err := parseDBIndexArg(argv[2], errInvalidSecondDB)
	if err != nil {
		return err
	}
	n := c.srv.store.Databases()
	if a < 0 || a >= n || b < 0 || b >= n {
		return errDBIndex
	}
	err = c.srv.store.SwapDBWith(a, b, func(epoch uint64) {
		c.srv.propagateOwn(c, epoch, c.db.Index(), argv) // propagate.go
	})
	if err != nil {
		return errDBIndex
	}
	if a == b { // no change, but Redis propagates it all the same
		c.srv.propagateOwn(c, c.srv.store.Epoch(), c.db.Index(), argv)
	}
	c.srv.serveDBs(a, b) // clients blocked there may now find their keys
	c.w.OK()
	return nil
}

func cmdTime(c *client, _ *store.Tx, _ [][]byte) error {
	now := time.Now().UnixMicro()
	c.w.Array(2)
	c.w.BulkString(strconv.FormatInt(now/1e6, 10))
	c.w.BulkString(strconv.FormatInt(now%1e6, 10))
	return nil
}

func cmdLastsave(c *client, _ *store.Tx, _ [][]byte) error {
	c.w.Int(c.srv.lastSave.Load())
	return nil
}

// cmdWait answers 0: cachalot has no replicas. Like Redis, it replies at
// once when no replica is asked for (numreplicas is kept in a C int, so
// values that wrap to zero or below count as none), and otherwise blocks
// for the timeout (0: until the connection or the server closes).
func cmdWait(c *client, _ *store.Tx, argv [][]byte) error {
	numReplicas, err := parseInt(argv[1])
	if err != nil {
		return errNotInteger
	}
	timeout, err := parseInt(argv[2])
	if err != nil {
		return errTimeoutNotInt
	}
	if timeout < 0 {
		return errTimeoutNegative
	}
	if int32(numReplicas) > 0 {
		var deadline time.Time
		if timeout > 0 && timeout < math.MaxInt64/int64(time.Millisecond) {
			deadline = time.Now().Add(time.Duration(timeout) * time.Millisecond)
		}
		for !c.killed.Load() && !c.srv.closing.Load() {
			step := 100 * time.Millisecond
			if !deadline.IsZero() {
				left := time.Until(deadline)
				if left <= 0 {
					break
				}
				step = min(step, left)
			}
			time.Sleep(step)
		}
	}
	c.w.Int(0)
	return nil
}

// cmdShutdown validates the flags as Redis 7.0 does, then asks main to
// stop. The connection closes without a reply, as with Redis, whose
// process exits. With no shutdown in progress ABORT is an error.
func cmdShutdown(c *client, _ *store.Tx, argv [][]byte) error {
	var nosave, save, abort, other bool
	for _, a := range argv[1:] {
		switch {
		case equalFold(a, "nosave"):
			nosave = true
		case equalFold(a, "save"):
			save = true
		case equalFold(a, "now"), equalFold(a, "force"):
			other = true
		case equalFold(a, "abort"):
			abort = true
		default:
			return errSyntax
		}
	}
	if (abort && (nosave || save || other)) || (nosave && save) {
		return errSyntax
	}
	if abort {
		return errNoShutdown
	}
	s := c.srv
	s.log.Warn("User requested shutdown...", "client_id", c.id, "addr", c.addr)
	if s.shutdown != nil {
		s.shutdown()
	} else {
		go s.Close() // Close waits for this connection, so not inline
	}
	c.closeAfter = true
	return nil
}

func cmdClusterDisabled(_ *client, _ *store.Tx, _ [][]byte) error {
	return errClusterDisabled
}

// CONFIG

var configHelpLines = []string{
	"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"GET <pattern>",
	"    Return parameters matching the glob-like <pattern> and their values.",
	"SET <directive> <value>",
	"    Set the configuration <directive> to <value>.",
	"RESETSTAT",
	"    Reset statistics reported by the INFO command.",
	"REWRITE",
	"    Rewrite the configuration file.",
	"HELP",
	"    Prints this help.",
}

func cmdConfigHelp(c *client, _ *store.Tx, _ [][]byte) error {
	c.w.Array(len(configHelpLines))
	for _, l := range configHelpLines {
		c.w.Simple(l)
	}
	return nil
}

// cmdConfigGet replies with every parameter any argument names, once each:
// an argument without glob characters is looked up directly and echoed as
// given, as Redis does; a pattern matches parameter names ignoring case.
func cmdConfigGet(c *client, _ *store.Tx, argv [][]byte) error {
	cfg := c.srv.Config()
	seen := make(map[string]bool)
	var pairs [][2]string
	for _, a := range argv[2:] {
		pattern := string(a)
		if !strings.ContainsAny(pattern, "[*?") {
			p, ok := config.Lookup(pattern)
			if !ok || seen[p.Name] {
				continue
			}
			seen[p.Name] = true
			v, _ := cfg.Get(p.Name)
			pairs = append(pairs, [2]string{pattern, v})
			continue
		}
		for _, kv := range cfg.Match(pattern) {
			if seen[kv[0]] {
				continue
			}
			seen[kv[0]] = true
			pairs = append(pairs, kv)
		}
	}
	c.w.Map(len(pairs))
	for _, kv := range pairs {
		c.w.BulkString(kv[0])
		c.w.BulkString(kv[1])
	}
	return nil
}

func errConfigSetFailed(name, reason string) respError {
	return respError(sanitize("ERR CONFIG SET failed (possibly related to argument '" + name + "') - " + reason))
}

// cmdConfigSet sets every pair or none, as Redis 7.0: names are checked
// first (unknown, immutable, repeated; the first problem wins), then the
// values are applied in order to a copy of the configuration, which
// replaces the one in force only when all of them were accepted.
func cmdConfigSet(c *client, _ *store.Tx, argv [][]byte) error {
	if len(argv)%2 != 0 {
		return errSyntax
	}
	type change struct {
		param config.Param
		value string
		name  string // as Redis reports it: the alias when given by it
	}
	changes := make([]change, 0, (len(argv)-2)/2)
	for i := 2; i < len(argv); i += 2 {
		name := string(argv[i])
		p, ok := config.Lookup(name)
		if !ok {
			return respError(sanitize("ERR Unknown option or number of arguments for CONFIG SET - '" + name + "'"))
		}
		if !p.Mutable {
			return errConfigSetFailed(name, config.ReasonImmutable)
		}
		for _, ch := range changes {
			if ch.param.Name == p.Name {
				return errConfigSetFailed(name, "duplicate parameter")
			}
		}
		changes = append(changes, change{p, string(argv[i+1]), strings.ToLower(name)})
	}

	s := c.srv
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	old := s.Config()
	next := old.Clone()
	for _, ch := range changes {
		value, err := redisConfigValue(ch.param.Name, ch.value)
		if err == nil {
			err = next.Set(ch.param.Name, value)
		}
		if err != nil {
			reason := err.Error()
			var pe *config.ParamError
			if errors.As(err, &pe) {
				reason = pe.Reason
			}
			return errConfigSetFailed(ch.name, reason)
		}
	}
	if err := next.Validate(); err != nil {
		name := changes[0].param.Name
		reason := err.Error()
		var pe *config.ParamError
		if errors.As(err, &pe) {
			name, reason = pe.Name, pe.Reason
		}
		return errConfigSetFailed(name, reason)
	}
	s.cfg.Store(next)
	s.applyConfig(old, next)
	c.w.OK()
	return nil
}

// redisConfigValue adapts values Redis accepts more widely than the
// parameter table before they are set: hz takes 0..INT_MAX and is clamped
// to 1..500 (Redis's updateHZ).
func redisConfigValue(name, value string) (string, error) {
	if name == "hz" {
		n, err := parseInt([]byte(value))
		if err != nil {
			return "", &config.ParamError{Name: name, Reason: config.ReasonInteger}
		}
		if n < 0 || n > math.MaxInt32 {
			return "", &config.ParamError{Name: name, Reason: "argument must be between 0 and 2147483647 inclusive"}
		}
		return strconv.FormatInt(min(max(n, 1), 500), 10), nil
	}
	return value, nil
}

// applyConfig carries out the side effects of a configuration change.
// Most settings are read where they are used (timeout, maxclients, hz,
// maxmemory…), so nothing is needed for them; a new requirepass, as in
// Redis, leaves connections that already authenticated (or needed no
// password) authenticated.
func (s *Server) applyConfig(old, next *config.Config) {
	s.applyEviction(next)
	// Key prefixes, keymiss, output limits (observe.go).
	s.applyObservability(next)
	s.applyAppendonly(old, next) // aof.go
	if s.store != nil {
		s.store.EnsureFree() // a lower maxmemory evicts now, as Redis's updateMaxmemory
	}
	if s.logLevel != nil && old.Loglevel != next.Loglevel {
		s.logLevel.Set(config.SlogLevel(next.Loglevel))
	}
	if old.Requirepass != next.Requirepass {
		s.acl.setRequirepass(next.Requirepass) // the default user's password (acl.go)
		s.log.Info("requirepass changed by CONFIG SET; existing connections keep their authentication")
	}
}

func cmdConfigResetstat(c *client, _ *store.Tx, _ [][]byte) error {
	c.srv.resetStats()
	// Redis counts CONFIG RESETSTAT itself once it returns; the dispatcher
	// counted it before the reset.
	c.srv.stats.commandsProcessed.Add(1)
	c.w.OK()
	return nil
}

func cmdConfigRewrite(c *client, _ *store.Tx, _ [][]byte) error {
	s := c.srv
	if s.configFile == "" {
		return errNoConfigFile
	}
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	if err := rewriteConfigFile(s.configFile, s.Config()); err != nil {
		s.log.Warn("CONFIG REWRITE failed", "path", s.configFile, "err", err)
		return respError(sanitize("ERR Rewriting config file: " + err.Error()))
	}
	s.log.Info("CONFIG REWRITE executed with success", "path", s.configFile)
	c.w.OK()
	return nil
}

// rewriteConfigFile updates the TOML file at path to hold cfg, as Redis's
// CONFIG REWRITE does for redis.conf: a line that sets a parameter gets the
// current value in place (comments and other lines are kept), parameters
// the file does not mention are appended when they differ from the
// default, and the result replaces the file atomically. If the file cannot
// be edited line by line (say a value spans lines), it is regenerated.
func rewriteConfigFile(path string, cfg *config.Config) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	text := rewriteTOML(string(old), cfg)
	var check map[string]any
	if toml.Unmarshal([]byte(text), &check) != nil {
		text = rewriteTOML("", cfg)
	}
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".cachalot-rewrite-*.toml")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(text); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

const rewriteMarker = "# Generated by CONFIG REWRITE"

// rewriteTOML produces the rewritten file text from the old one.
func rewriteTOML(old string, cfg *config.Config) string {
	var lines []string
	if old != "" {
		lines = strings.Split(strings.TrimRight(old, "\n"), "\n")
	}
	done := make(map[string]bool)
	for i, line := range lines {
		p, ok := config.Lookup(tomlLineKey(line))
		if !ok || done[p.Name] {
			continue
		}
		done[p.Name] = true
		lines[i] = tomlSetting(p.Name, cfg)
	}
	defaults := config.Default()
	var extra []string
	for _, p := range config.Params() {
		if done[p.Name] {
			continue
		}
		v, _ := cfg.Get(p.Name)
		if d, _ := defaults.Get(p.Name); d == v {
			continue
		}
		extra = append(extra, tomlSetting(p.Name, cfg))
	}
	if len(extra) > 0 {
		hasMarker := false
		for _, l := range lines {
			hasMarker = hasMarker || strings.TrimSpace(l) == rewriteMarker
		}
		if !hasMarker {
			lines = append(lines, rewriteMarker)
		}
		lines = append(lines, extra...)
	}
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// tomlLineKey returns the key a "key = value" line sets, or "".
func tomlLineKey(line string) string {
	t := strings.TrimSpace(line)
	eq := strings.IndexByte(t, '=')
	if eq <= 0 || strings.HasPrefix(t, "#") || strings.HasPrefix(t, "[") {
		return ""
	}
	key := strings.TrimSpace(t[:eq])
	if len(key) >= 2 && (key[0] == '"' || key[0] == '\'') && key[len(key)-1] == key[0] {
		key = key[1 : len(key)-1]
	}
	return key
}

// tomlSetting renders one parameter as a TOML line in the type its loader
// expects: integers for integer and size parameters, booleans for yes/no
// ones, strings for the rest.
func tomlSetting(name string, cfg *config.Config) string {
	v, _ := cfg.Get(name)
	probe := config.Default()
	var reason string
	var pe *config.ParamError
	if err := probe.Set(name, "\x00"); errors.As(err, &pe) {
		reason = pe.Reason
	}
	switch reason {
	case config.ReasonInteger, config.ReasonMemory:
		return name + " = " + v
	case config.ReasonYesNo:
		return name + " = " + strconv.FormatBool(v == "yes")
	}
	return name + " = " + tomlQuote(v)
}

// tomlQuote writes s as a TOML basic string.
func tomlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
