package config_test

import (
	"net"
	"strings"
	"testing"

	"github.com/belvo-temporal/backbone/internal/fakefrontend"
)

// A misconfigured client fails at start-up with one line that says what
// to change.
func TestMisconfiguredClientsFailInOneClearLine(t *testing.T) {
	set := testCerts(t)
	other := testCerts(t) // a CA the frontend does not know
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	cases := []struct {
		name string
		mode fakefrontend.Mode
		// env uses {addr} for the frontend and files of set ({ca}, {cert},
		// {key}) or of other ({otherca}, {othercert}, {otherkey}).
		env  map[string]string
		want []string
	}{
		{"the client certificate file is missing", fakefrontend.MutualTLS,
			map[string]string{"TEMPORAL_TLS_CLIENT_CERT_PATH": "/nonexistent/client.pem", "TEMPORAL_TLS_CLIENT_KEY_PATH": "{key}"},
			[]string{"/nonexistent/client.pem", "TEMPORAL_TLS_"}},
		{"TLS expected, plaintext offered", fakefrontend.Plaintext,
			map[string]string{"TEMPORAL_TLS": "true"},
			[]string{"answered in plaintext", "TEMPORAL_TLS=false", "TLS)"}},
		{"plaintext expected, TLS offered", fakefrontend.ServerTLS,
			map[string]string{},
			[]string{"expects TLS", "TEMPORAL_TLS=true", "plaintext)"}},
		{"no client certificate for an mTLS server", fakefrontend.MutualTLS,
			map[string]string{"TEMPORAL_TLS_SERVER_CA_CERT_PATH": "{ca}", "TEMPORAL_TLS_SERVER_NAME": "temporal.test"},
			[]string{"TEMPORAL_TLS_CLIENT_CERT_PATH"}},
		{"a client certificate of another CA", fakefrontend.MutualTLS,
			map[string]string{"TEMPORAL_TLS_SERVER_CA_CERT_PATH": "{ca}", "TEMPORAL_TLS_SERVER_NAME": "temporal.test",
				"TEMPORAL_TLS_CLIENT_CERT_PATH": "{othercert}", "TEMPORAL_TLS_CLIENT_KEY_PATH": "{otherkey}"},
			[]string{"client", "TEMPORAL_TLS_CLIENT_CERT_PATH"}},
		{"the server's CA is not trusted", fakefrontend.ServerTLS,
			map[string]string{"TEMPORAL_TLS_SERVER_CA_CERT_PATH": "{otherca}", "TEMPORAL_TLS_SERVER_NAME": "temporal.test"},
			[]string{"TEMPORAL_TLS_SERVER_CA_CERT_PATH"}},
		{"the server's certificate names another host", fakefrontend.ServerTLS,
			map[string]string{"TEMPORAL_TLS_SERVER_CA_CERT_PATH": "{ca}", "TEMPORAL_TLS_SERVER_NAME": "elsewhere.test"},
			[]string{"TEMPORAL_TLS_SERVER_NAME"}},
		{"nothing listens", fakefrontend.Plaintext,
			map[string]string{"TEMPORAL_ADDRESS": closedAddr},
			[]string{"nothing listens", "TEMPORAL_ADDRESS", closedAddr}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clearTemporalEnv(t)
			f := fakefrontend.Start(t, c.mode, set)
			fill := strings.NewReplacer("{addr}", f.Addr, "{ca}", set.CA, "{cert}", set.ClientCert, "{key}", set.ClientKey,
				"{otherca}", other.CA, "{othercert}", other.ClientCert, "{otherkey}", other.ClientKey).Replace
			env := map[string]string{"TEMPORAL_ADDRESS": f.Addr}
			for k, v := range c.env {
				env[k] = fill(v)
			}
			err := listWithConfig(t, env)
			if err == nil {
				t.Fatal("connected")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
		})
	}
}
