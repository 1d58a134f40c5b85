package stack

import (
	"net"
	"strconv"
	"testing"
)

// TestFreeAddrBelowEphemeralRange checks that handed-out ports cannot be
// taken by an outgoing connection (they lie below the kernel's ephemeral
// range), are distinct within a process, and are bindable.
func TestFreeAddrBelowEphemeralRange(t *testing.T) {
	lo := ephemeralLow()
	seen := map[string]bool{}
	for range 50 {
		addr, err := FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		if seen[addr] {
			t.Fatalf("FreeAddr returned %s twice", addr)
		}
		seen[addr] = true
		_, p, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		port, _ := strconv.Atoi(p)
		if port >= lo {
			t.Fatalf("port %d is inside the ephemeral range (from %d)", port, lo)
		}
		if err := PortFree(addr); err != nil {
			t.Fatalf("handed-out %s is not bindable: %v", addr, err)
		}
	}
}
