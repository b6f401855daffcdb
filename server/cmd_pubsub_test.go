package server

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cachalotdb/cachalot/config"
)

func TestPubsubSubscribeModeAllowList(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	c := connTestDial(t, addr)
	c.expect("*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n", "SUBSCRIBE", "ch")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"GET", "k"}, "-" + string(errSubscribeContext("get")) + "\r\n"},
		{[]string{"CLIENT", "LIST"}, "-" + string(errSubscribeContext("client|list")) + "\r\n"},
		{[]string{"PUBLISH", "x", "y"}, "-" + string(errSubscribeContext("publish")) + "\r\n"},
		{[]string{"GET"}, "-ERR wrong number of arguments for 'get' command\r\n"},
		{[]string{"PING"}, "*2\r\n$4\r\npong\r\n$0\r\n\r\n"},
		{[]string{"PING", "hi"}, "*2\r\n$4\r\npong\r\n$2\r\nhi\r\n"},
		{[]string{"PSUBSCRIBE", "p*"}, "*3\r\n$10\r\npsubscribe\r\n$2\r\np*\r\n:2\r\n"},
		{[]string{"SSUBSCRIBE", "s"}, "*3\r\n$10\r\nssubscribe\r\n$1\r\ns\r\n:1\r\n"},
		{[]string{"UNSUBSCRIBE", "ch"}, "*3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:1\r\n"},
		{[]string{"PUNSUBSCRIBE"}, "*3\r\n$12\r\npunsubscribe\r\n$2\r\np*\r\n:0\r\n"},
		// The shard subscription alone keeps subscribe mode.
		{[]string{"ECHO", "x"}, "-" + string(errSubscribeContext("echo")) + "\r\n"},
		{[]string{"SUNSUBSCRIBE"}, "*3\r\n$12\r\nsunsubscribe\r\n$1\r\ns\r\n:0\r\n"},
		{[]string{"ECHO", "x"}, "$1\r\nx\r\n"},
		{[]string{"PING"}, "+PONG\r\n"},
	}
	for _, tt := range tests {
		c.expect(tt.want, tt.args...)
	}
}

func TestPubsubResp3KeepsServing(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	sub, pub := connTestDial(t, addr), connTestDial(t, addr)
	sub.do("HELLO", "3")
	sub.expect(">3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n", "SUBSCRIBE", "c")
	sub.expect("+OK\r\n", "SET", "k", "v")
	pub.expect(":1\r\n", "PUBLISH", "c", "m")
	if got := sub.reply(); got != ">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n" {
		t.Fatalf("push = %q", got)
	}
	sub.expect("$1\r\nv\r\n", "GET", "k")
	// Its own publication: the push first, then the reply, as Redis.
	sub.send("PUBLISH", "c", "self")
	if got := sub.reply(); got != ">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$4\r\nself\r\n" {
		t.Fatalf("own push = %q", got)
	}
	if got := sub.reply(); got != ":1\r\n" {
		t.Fatalf("PUBLISH reply = %q", got)
	}
}

// TestPubsubOrderPerPublisher: with several publishers at once, each
// publisher's messages reach the subscriber in the order it sent them.
func TestPubsubOrderPerPublisher(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	sub := connTestDial(t, addr)
	sub.do("SUBSCRIBE", "c")
	const pubs, per = 4, 300
	var wg sync.WaitGroup
	for p := 0; p < pubs; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := connTestDial(t, addr)
			for i := 0; i < per; i++ {
				c.send("PUBLISH", "c", fmt.Sprintf("%d:%d", p, i))
			}
			for i := 0; i < per; i++ {
				c.reply()
			}
		}()
	}
	next := make([]int, pubs)
	for n := 0; n < pubs*per; n++ {
		r := sub.reply()
		parts := strings.Split(r, "\r\n")
		msg := parts[len(parts)-2]
		p, _ := strconv.Atoi(strings.Split(msg, ":")[0])
		i, _ := strconv.Atoi(strings.Split(msg, ":")[1])
		if i != next[p] {
			t.Fatalf("publisher %d: got message %d, want %d", p, i, next[p])
		}
		next[p]++
	}
	wg.Wait()
}

func TestPubsubOutputLimitDisconnects(t *testing.T) {
	srv, addr, logs := startTestServer(t, func(c *config.Config) {
		c.ClientOutputBufferLimit = "normal 0 0 0 slave 268435456 67108864 60 pubsub 262144 0 0"
	})
	slow, pub := connTestDial(t, addr), connTestDial(t, addr)
	slow.expect("*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n", "SUBSCRIBE", "c")
	payload := strings.Repeat("x", 32<<10)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if pub.do("PUBLISH", "c", payload) == ":0\r\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("slow subscriber never disconnected")
		}
	}
	if !strings.Contains(logs.String(), "output buffer limits") {
		t.Errorf("no log line for the disconnection")
	}
	// The server forgets the subscription once the connection is gone.
	for time.Now().Before(deadline) {
		srv.pubsub.mu.RLock()
		n := len(srv.pubsub.channels["c"])
		srv.pubsub.mu.RUnlock()
		if n == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("subscription still registered after the disconnection")
}

func TestPubsubIntrospection(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	a, b := connTestDial(t, addr), connTestDial(t, addr)
	a.do("SUBSCRIBE", "news")
	b.do("SUBSCRIBE", "news")
	b.do("PSUBSCRIBE", "n*")
	q := connTestDial(t, addr)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"PUBSUB", "NUMSUB", "news", "none"}, "*4\r\n$4\r\nnews\r\n:2\r\n$4\r\nnone\r\n:0\r\n"},
		{[]string{"PUBSUB", "NUMPAT"}, ":1\r\n"},
		{[]string{"PUBSUB", "CHANNELS"}, "*1\r\n$4\r\nnews\r\n"},
		{[]string{"PUBSUB", "CHANNELS", "x*"}, "*0\r\n"},
		{[]string{"PUBLISH", "news", "m"}, ":3\r\n"},
		{[]string{"PUBSUB", "CHANNELS", "a", "b"}, "-ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.\r\n"},
	}
	for _, tt := range tests {
		q.expect(tt.want, tt.args...)
	}
}
