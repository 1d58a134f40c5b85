package config_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/codec"
	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/internal/certs"
	"github.com/belvo-temporal/backbone/internal/fakefrontend"
	"go.temporal.io/api/workflowservice/v1"
)

// profileCase is one way to tell a client where and how to connect: a
// client config file, variables, or both. {addr}, {ca}, {cert}, {key} in
// them stand for the frontend's address and the generated files.
type profileCase struct {
	name string
	mode fakefrontend.Mode
	file string
	env  map[string]string
	// want is what the frontend must see of the listing call.
	want fakefrontend.Call
}

// profileCases are the cases both this product and the temporal CLI must
// resolve alike (cli_test.go runs the CLI over them).
var profileCases = []profileCase{
	{name: "a file's default profile, plaintext", mode: fakefrontend.Plaintext,
		file: "[profile.default]\naddress = \"{addr}\"\nnamespace = \"ns-file\"\n",
		want: fakefrontend.Call{Namespace: "ns-file"}},
	{name: "TEMPORAL_PROFILE picks a TLS profile with its CA and server name", mode: fakefrontend.ServerTLS,
		file: "[profile.default]\naddress = \"127.0.0.1:1\"\n\n[profile.prod]\naddress = \"{addr}\"\nnamespace = \"ns-prod\"\n" +
			"[profile.prod.tls]\nserver_ca_cert_path = \"{ca}\"\nserver_name = \"temporal.test\"\n",
		env:  map[string]string{"TEMPORAL_PROFILE": "prod"},
		want: fakefrontend.Call{TLS: true, ServerName: "temporal.test", Namespace: "ns-prod"}},
	{name: "mTLS from TEMPORAL_TLS_* over a file's plaintext profile", mode: fakefrontend.MutualTLS,
		file: "[profile.default]\naddress = \"{addr}\"\nnamespace = \"ns-file\"\n",
		env: map[string]string{"TEMPORAL_TLS_CLIENT_CERT_PATH": "{cert}", "TEMPORAL_TLS_CLIENT_KEY_PATH": "{key}",
			"TEMPORAL_TLS_SERVER_CA_CERT_PATH": "{ca}", "TEMPORAL_TLS_SERVER_NAME": "temporal.test"},
		want: fakefrontend.Call{TLS: true, ServerName: "temporal.test", ClientCN: "backbone-test-client", Namespace: "ns-file"}},
	{name: "an API key turns TLS on and goes as a bearer token", mode: fakefrontend.ServerTLS,
		env: map[string]string{"TEMPORAL_ADDRESS": "{addr}", "TEMPORAL_NAMESPACE": "ns.acct", "TEMPORAL_API_KEY": "key-123",
			"TEMPORAL_TLS_SERVER_CA_CERT_PATH": "{ca}", "TEMPORAL_TLS_SERVER_NAME": "temporal.test"},
		want: fakefrontend.Call{TLS: true, ServerName: "temporal.test", Authorization: "Bearer key-123", Namespace: "ns.acct"}},
	{name: "variables override the file; gRPC metadata from TEMPORAL_GRPC_META_*", mode: fakefrontend.Plaintext,
		file: "[profile.default]\naddress = \"{addr}\"\nnamespace = \"ns-file\"\n[profile.default.grpc_meta]\nx-team = \"file\"\n",
		env:  map[string]string{"TEMPORAL_NAMESPACE": "ns-env", "TEMPORAL_GRPC_META_X_TEAM": "payments"},
		want: fakefrontend.Call{Namespace: "ns-env", Team: "payments"}},
}

// testCerts generates a test's certificates.
func testCerts(t *testing.T) certs.Set {
	t.Helper()
	set, err := certs.Generate(t.TempDir(), certs.Options{ServerName: "temporal.test", ClientName: "backbone-test-client"})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// environment is c's variables with the placeholders filled in, the file
// written and named by TEMPORAL_CONFIG_FILE (an absent file without one).
func (c profileCase) environment(t *testing.T, addr string, set certs.Set) map[string]string {
	t.Helper()
	fill := strings.NewReplacer("{addr}", addr, "{ca}", set.CA, "{cert}", set.ClientCert, "{key}", set.ClientKey).Replace
	file := filepath.Join(t.TempDir(), "temporal.toml")
	if c.file != "" {
		if err := os.WriteFile(file, []byte(fill(c.file)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"TEMPORAL_CONFIG_FILE": file}
	for k, v := range c.env {
		env[k] = fill(v)
	}
	return env
}

// clearTemporalEnv unsets every TEMPORAL_* variable of the machine for the
// test, so a case sees only its own, and gives the test a payload key.
func clearTemporalEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "TEMPORAL_") {
			t.Setenv(name, "")
			os.Unsetenv(name) //nolint:errcheck // t.Setenv restores it
		}
	}
	t.Setenv("TEMPORAL_PROFILE", "")
	os.Unsetenv("TEMPORAL_PROFILE") //nolint:errcheck // t.Setenv restores it
	key, err := codec.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PAYLOAD_ENCRYPTION_KEYS", codec.FormatKeys(key))
}

// listWithConfig connects as the product does and lists workflows once.
func listWithConfig(t *testing.T, env map[string]string) error {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	c, err := cfg.DialTemporal(nil)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{})
	return err
}

// The product's clients resolve every profile case to the connection the
// case describes.
func TestProfilesResolve(t *testing.T) {
	set := testCerts(t)
	for _, c := range profileCases {
		t.Run(c.name, func(t *testing.T) {
			clearTemporalEnv(t)
			f := fakefrontend.Start(t, c.mode, set)
			if err := listWithConfig(t, c.environment(t, f.Addr, set)); err != nil {
				t.Fatal(err)
			}
			got := f.Listed()
			want := c.want
			want.Method = "ListWorkflowExecutions"
			if len(got) != 1 || got[0] != want {
				t.Errorf("frontend saw %+v, want %+v", got, want)
			}
		})
	}
}
