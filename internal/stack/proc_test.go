package stack

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

// TestReserveServerPortsKeepsThemFromFreeAddr checks that once a server's
// frontend port is reserved, none of the ports it derives from it can be
// handed out: a private PostgreSQL once took the membership port 24934 of
// the reliability suite's server on 25233, which then could not start.
func TestReserveServerPortsKeepsThemFromFreeAddr(t *testing.T) {
	const frontend = 21233 // below every kernel's default ephemeral range
	ReserveServerPorts(frontend)
	ports := ServerPorts(frontend)
	if len(ports) == 0 || ports[0] != frontend {
		t.Fatalf("ServerPorts(%d) = %v, want the frontend first", frontend, ports)
	}
	for _, p := range ports {
		if claimPort(p) {
			t.Errorf("port %d of the server on %d could still be handed out", p, frontend)
		}
	}
}

// TestFileTail checks that an exited process's error quotes the end of its
// log: whole lines only, read from the file's end however long it is.
func TestFileTail(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("x", tailBytes) + "\nbefore\nworker: store: migrate: database is locked\n"
	tests := []struct {
		name    string
		content *string // nil: no file
		n       int
		want    string
	}{
		{name: "no file", n: 3, want: ""},
		{name: "empty", content: new(""), n: 3, want: ""},
		{name: "fewer lines than asked", content: new("a\nb\n"), n: 3, want: "a\nb"},
		{name: "the last lines", content: new("a\nb\nc\nd\n"), n: 2, want: "c\nd"},
		{name: "longer than what is read", content: &long, n: 5, want: "before\nworker: store: migrate: database is locked"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strconv.Itoa(i)+".log")
			if tt.content != nil {
				if err := os.WriteFile(path, []byte(*tt.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if got := fileTail(path, tt.n); got != tt.want {
				t.Errorf("fileTail(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}
