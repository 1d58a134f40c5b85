package netfault

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// upstream serves a line protocol on loopback: "GET n\n" answers n bytes,
// any number of times per connection, so a test can make requests on a
// connection opened before a fault and on new ones.
func upstream(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(c)
		}
	}()
	return ln.Addr().String()
}

func serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	chunk := []byte(strings.Repeat("x", 32<<10))
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(line), "GET "))
		if err != nil {
			return
		}
		for n > 0 {
			k, err := c.Write(chunk[:min(n, len(chunk))])
			if err != nil {
				return
			}
			n -= k
		}
	}
}

// get asks for n bytes on c and reads them, returning how many came and
// the error that stopped the read, if any.
func get(c net.Conn, n int) (int, error) {
	if _, err := fmt.Fprintf(c, "GET %d\n", n); err != nil {
		return 0, err
	}
	return io.ReadFull(c, make([]byte, n))
}

// proxyTo starts a server with one proxy to a fresh upstream.
func proxyTo(t *testing.T) *Proxy {
	t.Helper()
	s := New()
	t.Cleanup(s.Close)
	p, err := s.Proxy("test", upstream(t))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func dial(t *testing.T, p *Proxy) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// roundTrip is the duration of one 1-byte request and answer.
func roundTrip(t *testing.T, c net.Conn) time.Duration {
	t.Helper()
	start := time.Now()
	if _, err := get(c, 1); err != nil {
		t.Fatalf("round trip: %v", err)
	}
	return time.Since(start)
}

// Latency's lower bound is certain (the toxic sleeps at least latency −
// jitter); the upper bound is not asserted, since a loaded machine only
// adds. Without the fault the fastest of a few loopback round trips is
// orders of magnitude below it.
func TestLatencyDelaysEveryRoundTripUntilRemoved(t *testing.T) {
	p := proxyTo(t)
	c := dial(t, p)
	roundTrip(t, c)
	f := Latency(200*time.Millisecond, 100*time.Millisecond)
	if err := p.Add(f); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if d := roundTrip(t, c); d < 100*time.Millisecond {
			t.Fatalf("round trip of %s under %s: below the 100 ms floor", d, f.Name)
		}
	}
	if err := p.Remove(f); err != nil {
		t.Fatal(err)
	}
	fastest := time.Hour
	for range 5 {
		fastest = min(fastest, roundTrip(t, c))
	}
	if fastest >= 100*time.Millisecond {
		t.Fatalf("fastest round trip %s after removing %s: the latency stayed", fastest, f.Name)
	}
}

// 512 KB at 256 KB/s cannot take less than about 2 s; 1 s is asserted.
func TestBandwidthCapsTheTransfer(t *testing.T) {
	p := proxyTo(t)
	c := dial(t, p)
	if err := p.Add(Bandwidth(256)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if n, err := get(c, 512<<10); err != nil {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	if d := time.Since(start); d < time.Second {
		t.Fatalf("512 KB in %s through a 256 KB/s cap", d)
	}
}

// The reset must reach a client in the middle of a response, as a reset
// (ECONNRESET) and not a clean close, on a connection opened before the
// fault (Temporal's gRPC connection is opened once) and on a new one.
func TestResetsCutResponsesWithECONNRESET(t *testing.T) {
	p := proxyTo(t)
	before := dial(t, p)
	if _, err := get(before, 1<<20); err != nil {
		t.Fatalf("before the fault: %v", err)
	}
	const after = 16 << 10
	f := Resets(after, 1, 0)
	if err := p.Add(f); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    net.Conn
	}{{"connection opened before the fault", before}, {"new connection", dial(t, p)}} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := get(tc.c, 1<<20)
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("read %d of 1 MiB: err %v, want ECONNRESET", n, err)
			}
			if n == 0 || n > after {
				t.Fatalf("read %d bytes before the reset, want some and at most %d: not mid-response", n, after)
			}
		})
	}
	if err := p.Remove(f); err != nil {
		t.Fatal(err)
	}
	if n, err := get(dial(t, p), 1<<20); err != nil {
		t.Fatalf("after the fault: read %d of 1 MiB: %v", n, err)
	}
}

// Partition and Blackhole hang reads on open and new connections (they
// neither refuse nor close) until healed. Healing a partition delivers
// what was sent during it, as TCP's retransmissions would; healing a
// blackhole closes the connections it held. New connections work after
// either.
func TestPartitionsHangUntilHealed(t *testing.T) {
	for _, tc := range []struct {
		fault Fault
		// delivers: the held connection gets its answer after healing;
		// otherwise it is closed.
		delivers bool
	}{{Partition(), true}, {Blackhole(), false}} {
		t.Run(tc.fault.Name, func(t *testing.T) {
			p := proxyTo(t)
			held := dial(t, p)
			if _, err := get(held, 1); err != nil {
				t.Fatal(err)
			}
			if err := p.Add(tc.fault); err != nil {
				t.Fatal(err)
			}
			fresh := dial(t, p) // the proxy accepts: the handshake is with it
			if err := fresh.SetReadDeadline(time.Now().Add(time.Second)); err != nil {
				t.Fatal(err)
			}
			if n, err := get(fresh, 1); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("new connection during the fault: read %d, err %v, want a hang (deadline)", n, err)
			}
			// A request on the held connection gets no answer while the
			// fault lasts.
			if _, err := fmt.Fprintf(held, "GET 1\n"); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { _, err := io.ReadFull(held, make([]byte, 1)); done <- err }()
			select {
			case err := <-done:
				t.Fatalf("read returned during the fault: %v", err)
			case <-time.After(time.Second):
			}
			if err := p.Remove(tc.fault); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if tc.delivers && err != nil {
					t.Fatalf("the held request's answer after healing: %v", err)
				}
				if !tc.delivers && err == nil {
					t.Fatal("the held connection delivered data the blackhole swallowed")
				}
			case <-time.After(30 * time.Second):
				t.Fatal("the held connection still hangs 30 s after healing")
			}
			if n, err := get(dial(t, p), 1<<20); err != nil {
				t.Fatalf("new connection after healing: read %d of 1 MiB: %v", n, err)
			}
		})
	}
}

func TestAddRejectsTheZeroFaultAndTwiceTheSame(t *testing.T) {
	p := proxyTo(t)
	if err := p.Add(Fault{}); err == nil {
		t.Fatal("the zero Fault was added")
	}
	f := Bandwidth(100)
	if err := p.Add(f); err != nil {
		t.Fatal(err)
	}
	if err := p.Add(f); err == nil {
		t.Fatal("the same fault was added twice")
	}
	if err := p.Remove(f); err != nil {
		t.Fatal(err)
	}
	if err := p.Remove(f); err == nil {
		t.Fatal("removing a fault that is off gave no error")
	}
}
