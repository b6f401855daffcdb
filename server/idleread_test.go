package server

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// TestIdleReaderHoldsNoBuffer: on a socket, a reader waiting for the next
// request holds no read buffer (it waits through the raw connection), reads
// correctly once bytes arrive, counts them, and honours read deadlines as
// Read does (blocking.go stops its watcher with one).
func TestIdleReaderHoldsNoBuffer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cl, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	var counted atomic.Int64
	rd := newReader(countingReader{sc, &counted}, readLimits{maxBulk: 1 << 20, maxQuery: 1 << 20, authenticated: true})
	if rd.raw == nil {
		t.Fatal("a TCP connection should be read through its raw socket")
	}
	if rd.buf != nil {
		t.Fatal("a new connection should hold no read buffer")
	}
	noop := func() error { return nil }

	sc.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := rd.next(noop); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("waiting past the deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	if rd.buf != nil {
		t.Fatal("the reader kept a buffer through an idle wait")
	}
	sc.SetReadDeadline(time.Time{})

	// A request split over two writes, then two pipelined together.
	first, second := "*2\r\n$4\r\nECHO\r\n$5\r\nhel", "lo\r\n*1\r\n$4\r\nPING\r\nPING\r\n"
	cl.Write([]byte(first))
	go func() {
		time.Sleep(10 * time.Millisecond)
		cl.Write([]byte(second))
	}()
	for _, want := range [][]string{{"ECHO", "hello"}, {"PING"}, {"PING"}} {
		argv, err := rd.next(noop)
		if err != nil {
			t.Fatal(err)
		}
		if len(argv) != len(want) {
			t.Fatalf("argv %q, want %q", argv, want)
		}
		for i := range want {
			if !bytes.Equal(argv[i], []byte(want[i])) {
				t.Fatalf("argv %q, want %q", argv, want)
			}
		}
	}
	if n, want := counted.Load(), int64(len(first)+len(second)); n != want {
		t.Errorf("counted %d input bytes, want %d", n, want)
	}
	cl.Close()
	if _, err := rd.next(noop); err != io.EOF {
		t.Fatalf("after the client closed: %v, want io.EOF", err)
	}
	if rd.buf != nil {
		t.Error("the reader kept a buffer after the connection ended")
	}
}

// TestRawSourceOnlyForSockets: readers that are not sockets keep the plain
// path with a buffer allocated up front.
func TestRawSourceOnlyForSockets(t *testing.T) {
	for _, src := range []io.Reader{bytes.NewReader(nil), countingReader{bytes.NewReader(nil), new(atomic.Int64)}} {
		rd := newReader(src, readLimits{maxBulk: 1 << 20, maxQuery: 1 << 20, authenticated: true})
		if rd.raw != nil || len(rd.buf) != readChunk {
			t.Errorf("%T: raw %v, buffer %d bytes; want the plain path", src, rd.raw != nil, len(rd.buf))
		}
	}
}
