package config

import (
	"strings"
	"testing"
)

func TestStringMasksEverySecret(t *testing.T) {
	secrets := map[string]string{
		"BELVO_SECRET_ID": "id-XYZZY1", "BELVO_SECRET_PASSWORD": "pw-XYZZY2",
		"BELVO_WEBHOOK_AUTHORIZATION": "Bearer XYZZY3", "BELVO_WEBHOOK_AUTHORIZATION_PREVIOUS": "Bearer XYZZY4",
		"PAYLOAD_ENCRYPTION_KEYS": "k1:XYZZY5", "STORE_DSN": "postgres://app:XYZZY6@X@db:5432/belvo?password=XYZZY7",
	}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	c, err := FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	out := c.String()
	for k, v := range secrets {
		if strings.Contains(out, "XYZZY") {
			t.Fatalf("%s leaks through String(): %s", k, out)
		}
		_ = v
	}
	if !strings.Contains(out, "postgres://app:****@db:5432/belvo?password=%2A%2A%2A%2A") {
		t.Errorf("DSN not shown masked: %s", out)
	}
}

func TestBadValuesAreClearErrors(t *testing.T) {
	cases := []struct{ name, value, want string }{
		{"HISTORICAL_FETCH_TIMEOUT", "soon", "HISTORICAL_FETCH_TIMEOUT"},
		{"WEBHOOK_DELIVERY_TIMEOUT", "6s", "5 s"},
		{"WEBHOOK_MAX_IN_FLIGHT", "-1", "WEBHOOK_MAX_IN_FLIGHT"},
		{"WEBHOOK_ALLOWED_NETWORKS", "10.0.0.0/8,nonsense", "nonsense"},
		{"HISTORICAL_WEBHOOK_GRACE", "48h", "shorter than HISTORICAL_FETCH_TIMEOUT"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(c.name, c.value)
			if _, err := FromEnv(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s=%s: error %v, want one mentioning %q", c.name, c.value, err, c.want)
			}
		})
	}
}
