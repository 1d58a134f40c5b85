package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/internal/certs"
	"go.temporal.io/sdk/contrib/envconfig"
)

// clientEnv is the stack's Temporal connection as variables (what the
// processes get), for a person's CLI.
func clientEnv(cfg config.Config) []string {
	var out []string
	for _, kv := range cfg.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "TEMPORAL_ADDRESS") || strings.HasPrefix(name, "TEMPORAL_TLS") {
			out = append(out, kv)
		}
	}
	return out
}

// checkRefusals proves the server takes only clients with a certificate
// its CA signed: plaintext, TLS without a certificate and TLS with a
// certificate of another CA must all fail to connect, while the stack's
// own client certificate works.
func checkRefusals(cfg config.Config, set certs.Set, dataDir string) error {
	other, err := certs.Generate(filepath.Join(dataDir, "tls-other-ca"), certs.Options{ServerName: set.ServerName, ClientName: "intruder"})
	if err != nil {
		return err
	}
	fmt.Println("\n=== mTLS: the server refuses clients without a certificate its CA signed")
	cases := []struct {
		name string
		tls  *envconfig.ClientConfigTLS
	}{
		{"plaintext", &envconfig.ClientConfigTLS{Disabled: true}},
		{"TLS without a client certificate", &envconfig.ClientConfigTLS{ServerCACertPath: set.CA, ServerName: set.ServerName}},
		{"TLS with a client certificate of another CA", &envconfig.ClientConfigTLS{ClientCertPath: other.ClientCert,
			ClientKeyPath: other.ClientKey, ServerCACertPath: set.CA, ServerName: set.ServerName}},
	}
	for _, c := range cases {
		bad := cfg
		bad.TemporalClient.TLS = c.tls
		cl, err := bad.DialTemporal(nil)
		if err == nil {
			cl.Close()
			return fmt.Errorf("mTLS: a client with %s connected to %s: the server must refuse it", c.name, cfg.TemporalAddress)
		}
		var de *config.DialError
		if !errors.As(err, &de) {
			return fmt.Errorf("mTLS: a client with %s failed before it reached the server: %w", c.name, err)
		}
		fmt.Printf("✓ refused: %s (%s)\n", c.name, de.Message)
	}
	cl, err := cfg.DialTemporal(nil)
	if err != nil {
		return fmt.Errorf("mTLS: the stack's own client certificate: %w", err)
	}
	cl.Close()
	fmt.Printf("✓ accepted: the client certificate %s, as every worker, bridge and starter of the stack connects\n", set.ClientName)
	return nil
}
