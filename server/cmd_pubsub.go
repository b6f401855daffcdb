package server

import (
	"sort"

	"github.com/cachalotdb/cachalot/config"
	"github.com/cachalotdb/cachalot/store"
)

// pubsubCommands is the pubsub group: SUBSCRIBE and friends, PUBLISH,
// SPUBLISH and the PUBSUB container. The machinery is in pubsub.go.
func pubsubCommands() []*command {
	const subFlags = flagPubsub | flagNoScript | flagLoading | flagStale
	const pubFlags = flagPubsub | flagLoading | flagStale | flagFast
	const infoFlags = flagPubsub | flagLoading | flagStale
	return []*command{
		{name: "subscribe", arity: -2, flags: subFlags, group: "pubsub", since: "2.0.0",
			summary:    "Listen for messages published to the given channels",
			complexity: "O(N) where N is the number of channels to subscribe to.",
			usage:      "channel [channel ...]", handler: cmdSubscribe},
		{name: "unsubscribe", arity: -1, flags: subFlags, group: "pubsub", since: "2.0.0",
			summary:    "Stop listening for messages posted to the given channels",
			complexity: "O(N) where N is the number of clients already subscribed to a channel.",
			usage:      "[channel [channel ...]]", handler: cmdUnsubscribe},
		{name: "psubscribe", arity: -2, flags: subFlags, group: "pubsub", since: "2.0.0",
			summary:    "Listen for messages published to channels matching the given patterns",
			complexity: "O(N) where N is the number of patterns the client is already subscribed to.",
			usage:      "pattern:pattern [pattern:pattern ...]", handler: cmdPsubscribe},
		{name: "punsubscribe", arity: -1, flags: subFlags, group: "pubsub", since: "2.0.0",
			summary:    "Stop listening for messages posted to channels matching the given patterns",
			complexity: "O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).",
			usage:      "[pattern:pattern [pattern:pattern ...]]", handler: cmdPunsubscribe},
		{name: "ssubscribe", arity: -2, flags: subFlags | flagOwnLocks, first: 1, last: -1, step: 1,
			keySpecFlags: "NOT_KEY", group: "pubsub", since: "7.0.0",
			summary:    "Listen for messages published to the given shard channels",
			complexity: "O(N) where N is the number of shard channels to subscribe to.",
			usage:      "shardchannel [shardchannel ...]", handler: cmdSsubscribe},
		{name: "sunsubscribe", arity: -1, flags: subFlags | flagOwnLocks, first: 1, last: -1, step: 1,
			keySpecFlags: "NOT_KEY", group: "pubsub", since: "7.0.0",
			summary:    "Stop listening for messages posted to the given shard channels",
			complexity: "O(N) where N is the number of clients already subscribed to a shard channel.",
			usage:      "[shardchannel [shardchannel ...]]", handler: cmdSunsubscribe},
		{name: "publish", arity: 3, flags: pubFlags, group: "pubsub", since: "2.0.0",
			summary:    "Post a message to a channel",
			complexity: "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
			usage:      "channel message", handler: cmdPublish},
		{name: "spublish", arity: 3, flags: pubFlags | flagOwnLocks, first: 1, last: 1, step: 1,
			keySpecFlags: "NOT_KEY", group: "pubsub", since: "7.0.0",
			summary:    "Post a message to a shard channel",
			complexity: "O(N) where N is the number of clients subscribed to the receiving shard channel.",
			usage:      "shardchannel message", handler: cmdSpublish},
		{name: "pubsub", arity: -2, group: "pubsub", since: "2.8.0",
			summary: "A container for Pub/Sub commands", complexity: "Depends on subcommand.",
			subs: []*command{
				{name: "channels", arity: -2, flags: infoFlags, since: "2.8.0",
					summary:    "List active channels",
					complexity: "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
					usage:      "[pattern]", handler: cmdPubsubChannels},
				{name: "numpat", arity: 2, flags: infoFlags, since: "2.8.0",
					summary: "Get the count of unique patterns pattern subscriptions", complexity: "O(1)", handler: cmdPubsubNumpat},
				{name: "shardchannels", arity: -2, flags: infoFlags, since: "7.0.0",
					summary:    "List active shard channels",
					complexity: "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
					usage:      "[pattern]", handler: cmdPubsubShardchannels},
				{name: "help", arity: 2, flags: flagLoading | flagStale, since: "6.2.0",
					summary: "Show helpful text about the different subcommands", complexity: "O(1)", handler: cmdPubsubHelp},
				{name: "numsub", arity: -2, flags: infoFlags, since: "2.8.0",
					summary:    "Get the count of subscribers for channels",
					complexity: "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
					usage:      "[channel [channel ...]]", handler: cmdPubsubNumsub},
				{name: "shardnumsub", arity: -2, flags: infoFlags, since: "7.0.0",
					summary:    "Get the count of subscribers for shard channels",
					complexity: "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
					usage:      "[shardchannel [shardchannel ...]]", handler: cmdPubsubShardnumsub},
			}},
	}
}

// subscribeAllowed lists the commands a RESP2 client in subscribe mode may
// run (Redis 7.0's processCommand).
var subscribeAllowed = map[string]bool{
	"subscribe": true, "ssubscribe": true, "psubscribe": true,
	"unsubscribe": true, "sunsubscribe": true, "punsubscribe": true,
	"ping": true, "quit": true, "reset": true,
}

// checkSubscribeMode refuses commands a RESP2 subscriber may not run.
func checkSubscribeMode(c *client, cmd *command) error {
	if c.subscribeMode() && !subscribeAllowed[cmd.fullName] {
		return errSubscribeContext(cmd.fullName)
	}
	return nil
}

func errSubscribeContext(fullName string) respError {
	return respError(sanitize("ERR Can't execute '" + fullName +
		"': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"))
}

// subscribeReply writes one confirmation: [kind, name, count].
func subscribeReply(w *Writer, kind string, name []byte, count int) {
	w.Push(3)
	w.BulkString(kind)
	if name == nil {
		w.Null()
	} else {
		w.Bulk(name)
	}
	w.Int(int64(count))
}

func subscribeKind(c *client, argv [][]byte, k pubKind, kind string) error {
	p := c.enablePush()
	h := &c.srv.pubsub
	for _, name := range argv[1:] {
		subscribeReply(&c.w, kind, name, h.subscribe(p, k, string(name)))
	}
	return nil
}

func unsubscribeKind(c *client, argv [][]byte, k pubKind, kind string) error {
	p := c.push.Load()
	h := &c.srv.pubsub
	if len(argv) > 1 {
		for _, name := range argv[1:] {
			n := 0
			if p != nil {
				n = h.unsubscribe(p, k, string(name))
			}
			subscribeReply(&c.w, kind, name, n)
		}
		return nil
	}
	var names []string
	if p != nil {
		names = h.names(p, k)
	}
	if len(names) == 0 {
		n := 0
		if p != nil {
			h.mu.RLock()
			n = p.countFor(k)
			h.mu.RUnlock()
		}
		subscribeReply(&c.w, kind, nil, n)
		return nil
	}
	for _, name := range names {
		subscribeReply(&c.w, kind, []byte(name), h.unsubscribe(p, k, name))
	}
	return nil
}

func cmdSubscribe(c *client, _ *store.Tx, argv [][]byte) error {
	return subscribeKind(c, argv, kindChannel, "subscribe")
}

func cmdUnsubscribe(c *client, _ *store.Tx, argv [][]byte) error {
	return unsubscribeKind(c, argv, kindChannel, "unsubscribe")
}

func cmdPsubscribe(c *client, _ *store.Tx, argv [][]byte) error {
	return subscribeKind(c, argv, kindPattern, "psubscribe")
}

func cmdPunsubscribe(c *client, _ *store.Tx, argv [][]byte) error {
	return unsubscribeKind(c, argv, kindPattern, "punsubscribe")
}

func cmdSsubscribe(c *client, _ *store.Tx, argv [][]byte) error {
	return subscribeKind(c, argv, kindShard, "ssubscribe")
}

func cmdSunsubscribe(c *client, _ *store.Tx, argv [][]byte) error {
	return unsubscribeKind(c, argv, kindShard, "sunsubscribe")
}

func cmdPublish(c *client, _ *store.Tx, argv [][]byte) error {
	n := c.srv.pubsub.publish(c, argv[1], argv[2], false)
	c.w.Int(int64(n))
	return nil
}

func cmdSpublish(c *client, _ *store.Tx, argv [][]byte) error {
	n := c.srv.pubsub.publish(c, argv[1], argv[2], true)
	c.w.Int(int64(n))
	return nil
}

// resetPubsub drops every subscription of c without replies (RESET).
func (h *pubsubHub) resetClient(c *client) {
	p := c.push.Load()
	if p == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, k := range []pubKind{kindChannel, kindPattern, kindShard} {
		for n := range p.space(k) {
			h.unsubscribeLocked(p, k, n)
		}
	}
}

func errPubsubSyntax(sub []byte) respError {
	return respError(sanitize("ERR unknown subcommand or wrong number of arguments for '" + truncate(sub, 128) + "'. Try PUBSUB HELP."))
}

func listChannels(c *client, argv [][]byte, k pubKind) error {
	if len(argv) > 3 {
		return errPubsubSyntax(argv[1])
	}
	h := &c.srv.pubsub
	var out []string
	h.mu.RLock()
	for name := range h.space(k) {
		if len(argv) == 2 || config.Glob(string(argv[2]), name, false) {
			out = append(out, name)
		}
	}
	h.mu.RUnlock()
	sort.Strings(out)
	c.w.Array(len(out))
	for _, n := range out {
		c.w.BulkString(n)
	}
	return nil
}

func numsub(c *client, argv [][]byte, k pubKind) error {
	h := &c.srv.pubsub
	c.w.Array(2 * (len(argv) - 2))
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, name := range argv[2:] {
		c.w.Bulk(name)
		c.w.Int(int64(len(h.space(k)[string(name)])))
	}
	return nil
}

func cmdPubsubChannels(c *client, _ *store.Tx, argv [][]byte) error {
	return listChannels(c, argv, kindChannel)
}

func cmdPubsubShardchannels(c *client, _ *store.Tx, argv [][]byte) error {
	return listChannels(c, argv, kindShard)
}

func cmdPubsubNumsub(c *client, _ *store.Tx, argv [][]byte) error {
	return numsub(c, argv, kindChannel)
}

func cmdPubsubShardnumsub(c *client, _ *store.Tx, argv [][]byte) error {
	return numsub(c, argv, kindShard)
}

func cmdPubsubNumpat(c *client, _ *store.Tx, _ [][]byte) error {
	c.w.Int(int64(c.srv.pubsub.npat.Load()))
	return nil
}

var pubsubHelp = []string{
	"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CHANNELS [<pattern>]",
	"    Return the currently active channels matching a <pattern> (default: '*').",
	"NUMPAT",
	"    Return number of subscriptions to patterns.",
	"NUMSUB [<channel> ...]",
	"    Return the number of subscribers for the specified channels, excluding",
	"    pattern subscriptions(default: no channels).",
	"SHARDCHANNELS [<pattern>]",
	"    Return the currently active shard level channels matching a <pattern> (default: '*').",
	"SHARDNUMSUB [<shardchannel> ...]",
	"    Return the number of subscribers for the specified shard level channel(s)",
	"HELP",
	"    Prints this help.",
}

func cmdPubsubHelp(c *client, _ *store.Tx, _ [][]byte) error {
	writeHelp(&c.w, pubsubHelp)
	return nil
}

// pingSubscribed is PING's RESP2 subscribe-mode reply: ["pong", message].
func pingSubscribed(c *client, argv [][]byte) bool {
	if !c.subscribeMode() {
		return false
	}
	c.w.Array(2)
	c.w.BulkString("pong")
	if len(argv) > 1 {
		c.w.Bulk(argv[1])
	} else {
		c.w.BulkString("")
	}
	return true
}
