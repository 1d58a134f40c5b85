package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The set lands in a private directory, readable file by file (compose's
// bind mounts keep the mode), with the server name asked for; a second run
// needs -force.
func TestRunWritesAReadableSetInAPrivateDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	var out bytes.Buffer
	if err := run(options{out: dir, serverName: "temporal", clientName: "belvo-backbone", validity: time.Hour}, &out); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %04o, want 0700", fi.Mode().Perm())
	}
	for _, name := range []string{"ca.pem", "server.pem", "server-key.pem", "client.pem", "client-key.pem"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %04o, want 0644 (the containers' users read it)", name, fi.Mode().Perm())
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "server.pem"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		t.Fatal("server.pem is not PEM")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := cert.VerifyHostname("temporal"); err != nil {
		t.Errorf("the server certificate does not name temporal: %v", err)
	}
	if !strings.Contains(out.String(), "--from-file=tls.key="+filepath.Join(dir, "client-key.pem")) {
		t.Errorf("output lacks the kubectl command with the client key:\n%s", out.String())
	}
	if err := run(options{out: dir, serverName: "temporal", validity: time.Hour}, &out); err == nil || !strings.Contains(err.Error(), "-force") {
		t.Errorf("second run without -force: got %v, want a refusal naming -force", err)
	}
	if err := run(options{out: dir, serverName: "temporal", validity: time.Hour, force: true}, &out); err != nil {
		t.Errorf("second run with -force: %v", err)
	}
}

func TestRunRefuses(t *testing.T) {
	open := t.TempDir()
	if err := os.Chmod(open, 0o755); err != nil { //nolint:gosec // G302: the case is a directory others can enter
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		o    options
		want string
	}{
		{"no -out", options{serverName: "temporal", validity: time.Hour}, "required"},
		{"no -server-name", options{out: filepath.Join(t.TempDir(), "x"), validity: time.Hour}, "required"},
		{"no validity", options{out: filepath.Join(t.TempDir(), "x"), serverName: "temporal"}, "-validity"},
		{"a directory others can enter", options{out: open, serverName: "temporal", validity: time.Hour}, "chmod 700"},
		{"a file", options{out: file, serverName: "temporal", validity: time.Hour}, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(tt.o, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if entries, err := os.ReadDir(open); err != nil || len(entries) != 0 {
		t.Errorf("the refused directory was written to: %v, %v", entries, err)
	}
}
