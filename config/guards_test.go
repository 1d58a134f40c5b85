package config

import (
	"strings"
	"testing"
)

func TestRefuseSandboxCredentials(t *testing.T) {
	cases := []struct {
		name, url, id, password string
		wantNames               []string // the variables the error names; none: accepted
	}{
		{"the local emulator with its defaults", "http://127.0.0.1:8090", DefaultSecretID, DefaultSecretPassword, nil},
		{"localhost with its defaults", "http://localhost:8090", DefaultSecretID, DefaultSecretPassword, nil},
		{"Belvo's sandbox with the defaults", "https://sandbox.belvo.com", DefaultSecretID, DefaultSecretPassword,
			[]string{"BELVO_SECRET_ID", "BELVO_SECRET_PASSWORD", "https://sandbox.belvo.com"}},
		{"production with the default password only", "https://api.belvo.com", "real-id", DefaultSecretPassword,
			[]string{"BELVO_SECRET_PASSWORD"}},
		{"production with the default id only", "https://api.belvo.com", DefaultSecretID, "real-password", []string{"BELVO_SECRET_ID"}},
		{"production with real keys", "https://api.belvo.com", "real-id", "real-password", nil},
		{"an emulator on another host", "http://10.1.2.3:8090", DefaultSecretID, DefaultSecretPassword, []string{"BELVO_SECRET_ID"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Config{BelvoBaseURL: c.url, BelvoSecretID: c.id, BelvoSecretPassword: c.password}.RefuseSandboxCredentials()
			if (err != nil) != (len(c.wantNames) > 0) {
				t.Fatalf("error %v, want refusal %v", err, len(c.wantNames) > 0)
			}
			for _, n := range c.wantNames {
				if !strings.Contains(err.Error(), n) {
					t.Errorf("error %q does not name %s", err, n)
				}
			}
			if err != nil && (strings.Contains(err.Error(), DefaultSecretPassword) || strings.Contains(err.Error(), "real-password")) {
				t.Errorf("error %q shows a secret", err)
			}
		})
	}
}

func TestRefuseLocalWebhookSecret(t *testing.T) {
	cases := []struct {
		auth, addr string
		refused    bool
	}{
		{DefaultWebhookAuthorization, "127.0.0.1:8080", false},
		{DefaultWebhookAuthorization, "0.0.0.0:8080", true},
		{DefaultWebhookAuthorization, ":8080", true},
		{"Bearer mine", "0.0.0.0:8080", false},
	}
	for _, c := range cases {
		err := Config{WebhookAuthorization: c.auth, WebhookListenAddr: c.addr}.RefuseLocalWebhookSecret()
		if (err != nil) != c.refused {
			t.Errorf("%s on %s: %v, want refused %v", c.auth, c.addr, err, c.refused)
		}
		if err != nil && strings.Contains(err.Error(), c.auth) {
			t.Errorf("error %q shows the secret", err)
		}
	}
}
