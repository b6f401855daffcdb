package server

import (
	"bytes"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
)

// TestPipelinedConnectionAllocations holds the whole connection path —
// reading a pipelined batch from a real socket, parsing, dispatching and
// writing the replies back — to (almost) no allocations per command, for
// SET and GET on existing keys in batches of 16, as redis-benchmark -P 16
// sends them. The count is process-wide, so background work is included;
// the bound leaves room for that, not for one allocation per command.
func TestPipelinedConnectionAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	_, addr, _ := startTestServer(t, nil)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const batch = 16
	value := strings.Repeat("v", 100)
	var set, get bytes.Buffer
	for i := range batch {
		key := "key:" + string(rune('a'+i))
		set.WriteString("*3\r\n$3\r\nSET\r\n$5\r\n" + key + "\r\n$100\r\n" + value + "\r\n")
		get.WriteString("*2\r\n$3\r\nGET\r\n$5\r\n" + key + "\r\n")
	}
	setReply := []byte(strings.Repeat("+OK\r\n", batch))
	getReply := []byte(strings.Repeat("$100\r\n"+value+"\r\n", batch))
	buf := make([]byte, len(getReply))
	round := func(req, want []byte) {
		if _, err := conn.Write(req); err != nil {
			t.Fatal(err)
		}
		got := buf[:len(want)]
		if _, err := io.ReadFull(conn, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("reply %q, want %q", got, want)
		}
	}
	for range 100 { // create the keys, size every buffer
		round(set.Bytes(), setReply)
		round(get.Bytes(), getReply)
	}
	const rounds = 2000
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range rounds {
		round(set.Bytes(), setReply)
		round(get.Bytes(), getReply)
	}
	runtime.ReadMemStats(&after)
	perCommand := float64(after.Mallocs-before.Mallocs) / (2 * rounds * batch)
	t.Logf("%.4f allocations per pipelined command", perCommand)
	if perCommand > 0.05 {
		t.Errorf("%.3f allocations per pipelined command, want about 0", perCommand)
	}
}
