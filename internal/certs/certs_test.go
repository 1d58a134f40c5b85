package certs

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"
)

// The generated set chains: the server certificate verifies for its names
// and the client certificate for client auth, both against the CA; the keys
// are private to their owner.
func TestGenerateChains(t *testing.T) {
	s, err := Generate(t.TempDir(), Options{ServerName: "temporal.test", ClientName: "worker"})
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(s.CA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("CA not PEM")
	}
	cases := []struct {
		name      string
		cert, key string
		dns       string
		usage     x509.ExtKeyUsage
		wantCN    string
	}{
		{"server for its name", s.ServerCert, s.ServerKey, "temporal.test", x509.ExtKeyUsageServerAuth, "temporal.test"},
		{"server for localhost", s.ServerCert, s.ServerKey, "localhost", x509.ExtKeyUsageServerAuth, "temporal.test"},
		{"server for 127.0.0.1", s.ServerCert, s.ServerKey, "127.0.0.1", x509.ExtKeyUsageServerAuth, "temporal.test"},
		{"client", s.ClientCert, s.ClientKey, "", x509.ExtKeyUsageClientAuth, "worker"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pair, err := tls.LoadX509KeyPair(c.cert, c.key)
			if err != nil {
				t.Fatal(err)
			}
			leaf, err := x509.ParseCertificate(pair.Certificate[0])
			if err != nil {
				t.Fatal(err)
			}
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: c.dns, KeyUsages: []x509.ExtKeyUsage{c.usage}}); err != nil {
				t.Errorf("does not verify: %v", err)
			}
			if leaf.Subject.CommonName != c.wantCN {
				t.Errorf("common name %q, want %q", leaf.Subject.CommonName, c.wantCN)
			}
			if fi, err := os.Stat(c.key); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("key mode %v, %v; want 0600", fi.Mode().Perm(), err)
			}
		})
	}
	if _, err := Generate(t.TempDir(), Options{}); err != nil {
		t.Errorf("defaults: %v", err)
	}
}
