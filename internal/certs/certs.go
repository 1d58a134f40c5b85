// Package certs generates the certificates a TLS or mTLS Temporal needs,
// with the standard library only: a CA, a server certificate it signs and a
// client certificate it signs. The production-like stack creates a fresh
// set at every start-up and the tests their own; none is ever committed.
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Set is a generated CA with its server and client certificates, as PEM
// files in one directory.
type Set struct {
	Dir string
	// CA is the CA certificate: servers trust clients it signed, clients
	// trust servers it signed.
	CA string
	// ServerCert and ServerKey are the server's pair, valid for ServerName,
	// localhost and 127.0.0.1.
	ServerCert, ServerKey string
	ServerName            string
	// ClientCert and ClientKey are a client's pair (common name
	// ClientName).
	ClientCert, ClientKey string
	ClientName            string
}

// Options name what Generate creates.
type Options struct {
	// ServerName is the DNS name the server certificate carries besides
	// localhost (default "temporal.local").
	ServerName string
	// ClientName is the client certificate's common name (default
	// "belvo-backbone").
	ClientName string
	// Validity defaults to 30 days.
	Validity time.Duration
}

// Generate writes a fresh Set into dir (created 0700; keys 0600).
func Generate(dir string, o Options) (Set, error) {
	if o.ServerName == "" {
		o.ServerName = "temporal.local"
	}
	if o.ClientName == "" {
		o.ClientName = "belvo-backbone"
	}
	if o.Validity <= 0 {
		o.Validity = 30 * 24 * time.Hour
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Set{}, fmt.Errorf("certs: %w", err)
	}
	s := Set{Dir: dir, CA: filepath.Join(dir, "ca.pem"), ServerCert: filepath.Join(dir, "server.pem"), ServerKey: filepath.Join(dir, "server-key.pem"),
		ServerName: o.ServerName, ClientCert: filepath.Join(dir, "client.pem"), ClientKey: filepath.Join(dir, "client-key.pem"), ClientName: o.ClientName}
	now := time.Now().Add(-time.Minute) // a little slack for clocks
	caKey, caDER, err := issue(&x509.Certificate{
		Subject: pkix.Name{CommonName: "belvo-backbone test CA " + now.Format(time.RFC3339)}, NotBefore: now, NotAfter: now.Add(o.Validity),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, nil, nil)
	if err != nil {
		return Set{}, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return Set{}, fmt.Errorf("certs: parse the CA: %w", err)
	}
	serverKey, serverDER, err := issue(&x509.Certificate{
		Subject: pkix.Name{CommonName: o.ServerName}, NotBefore: now, NotAfter: now.Add(o.Validity),
		DNSNames: []string{o.ServerName, "localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}, caCert, caKey)
	if err != nil {
		return Set{}, err
	}
	clientKey, clientDER, err := issue(&x509.Certificate{
		Subject: pkix.Name{CommonName: o.ClientName}, NotBefore: now, NotAfter: now.Add(o.Validity),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, caCert, caKey)
	if err != nil {
		return Set{}, err
	}
	serverKeyDER, err := x509.MarshalECPrivateKey(serverKey)
	if err != nil {
		return Set{}, fmt.Errorf("certs: encode the server key: %w", err)
	}
	clientKeyDER, err := x509.MarshalECPrivateKey(clientKey)
	if err != nil {
		return Set{}, fmt.Errorf("certs: encode the client key: %w", err)
	}
	for _, f := range []struct {
		path, kind string
		der        []byte
	}{
		{s.CA, "CERTIFICATE", caDER}, {s.ServerCert, "CERTIFICATE", serverDER}, {s.ClientCert, "CERTIFICATE", clientDER},
		{s.ServerKey, "EC PRIVATE KEY", serverKeyDER}, {s.ClientKey, "EC PRIVATE KEY", clientKeyDER},
	} {
		b := pem.EncodeToMemory(&pem.Block{Type: f.kind, Bytes: f.der})
		if err := os.WriteFile(f.path, b, 0o600); err != nil {
			return Set{}, fmt.Errorf("certs: write %s: %w", f.path, err)
		}
	}
	return s, nil
}

// issue creates a key and a certificate (DER) for tmpl, signed by parent
// (self-signed when parent is nil).
func issue(tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, nil, fmt.Errorf("certs: serial: %w", err)
	}
	tmpl.SerialNumber = serial
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: sign %s: %w", tmpl.Subject.CommonName, err)
	}
	return key, der, nil
}
