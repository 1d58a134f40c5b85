package config

import (
	"cmp"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/contrib/envconfig"
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
		{"WORKER_TASK_POLLERS", "many", `WORKER_TASK_POLLERS="many" is not a positive integer`},
		{"WORKER_TASK_POLLERS", "1", "WORKER_TASK_POLLERS=1: use at least 2"},
		{"WEBHOOK_ALLOWED_NETWORKS", "10.0.0.0/8,nonsense", "nonsense"},
		{"HISTORICAL_WEBHOOK_GRACE", "48h", "shorter than HISTORICAL_FETCH_TIMEOUT"},
		{"TEMPORAL_GRPC_COMPRESSION", "zstd", `TEMPORAL_GRPC_COMPRESSION="zstd": want none or gzip`},
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

// Environ is FromEnv's inverse: every setting, none forgotten (a field
// added to Config without its variable fails here).
func TestEnvironRoundTrips(t *testing.T) {
	_, nets, _ := net.ParseCIDR("10.0.0.0/8")
	c := Config{
		TemporalAddress: "t:1", TemporalNamespace: "ns", TaskQueue: "q", TemporalGRPCCompression: "gzip", TemporalUIURL: "http://ui:1",
		TemporalClient: envconfig.ClientConfigProfile{APIKey: "key", Authority: "auth", GRPCMeta: map[string]string{"x-team": "payments"},
			TLS: &envconfig.ClientConfigTLS{ClientCertPath: "/c.pem", ClientKeyPath: "/c.key", ServerCACertData: []byte("CA PEM"),
				ServerName: "temporal.internal", DisableHostVerification: true},
			Codec: &envconfig.ClientConfigCodec{Endpoint: "https://codec", Auth: "Bearer c"}},
		BelvoBaseURL: "https://sandbox.belvo.com", BelvoSecretID: "id", BelvoSecretPassword: "pw", BelvoHTTPTimeout: 7 * time.Second,
		WebhookAuthorization: "Bearer a", WebhookAuthorizationPrevious: "Bearer b", WebhookAllowedNetworks: []*net.IPNet{nets},
		PayloadKeys: "k1:AAAA", PayloadKeysFile: "/keys", StoreDSN: "postgres://h/db", WebhookListenAddr: "w:1", SandboxListenAddr: "s:1",
		HistoricalFetchTimeout: 5 * time.Hour, HistoricalWebhookGrace: time.Hour, AsyncTimeout: 3 * time.Hour, AsyncOrphanTimeout: 2 * time.Hour,
		WebhookDeliveryTimeout: 3 * time.Second, WebhookMaxInFlight: 9, WebhookMaxBodyBytes: 99, WorkerTaskPollers: 5, MetricsListenAddr: "m:1",
		LogFormat: "json", LogLevel: "debug",
	}
	v := reflect.ValueOf(c)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Fatalf("test config leaves %s unset: set it, so the round trip covers it", v.Type().Field(i).Name)
		}
	}
	isolateTemporalProfile(t)
	for _, kv := range c.Environ() {
		name, value, _ := strings.Cut(kv, "=")
		t.Setenv(name, value)
	}
	got, err := FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("FromEnv(Environ(c)) = %+v\nwant %+v", got, c)
	}
}

// isolateTemporalProfile keeps the machine's own temporal CLI profile out
// of a test.
func isolateTemporalProfile(t *testing.T) {
	t.Helper()
	t.Setenv("TEMPORAL_CONFIG_FILE", filepath.Join(t.TempDir(), "none.toml"))
	t.Setenv("TEMPORAL_PROFILE", "")
}

// TemporalClientVariables lists only what envconfig reads: each one, set
// alone, changes the profile FromEnv loads (the file's two select it).
func TestTemporalClientVariablesAreRead(t *testing.T) {
	isolateTemporalProfile(t)
	base, err := FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "temporal.toml")
	if err := os.WriteFile(file, []byte("[profile.default]\nnamespace = \"file-default\"\n[profile.other]\nnamespace = \"from-file\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	values := map[string]string{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_TLS": "true", "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION": "true"}
	for _, name := range append(slices.Clone(TemporalClientVariables), "TEMPORAL_GRPC_META_X_TEAM") {
		t.Run(name, func(t *testing.T) {
			isolateTemporalProfile(t)
			value := cmp.Or(values[name], "value-of-"+name)
			if name == "TEMPORAL_PROFILE" {
				t.Setenv("TEMPORAL_CONFIG_FILE", file)
				value = "other"
			}
			t.Setenv(name, value)
			got, err := FromEnv()
			if err != nil {
				t.Fatal(err)
			}
			if reflect.DeepEqual(got.TemporalClient, base.TemporalClient) && got.TemporalAddress == base.TemporalAddress &&
				got.TemporalNamespace == base.TemporalNamespace {
				t.Errorf("%s=%s changed nothing", name, value)
			}
			if !IsTemporalClientVariable(name) {
				t.Errorf("IsTemporalClientVariable(%s) = false", name)
			}
		})
	}
	if IsTemporalClientVariable("TEMPORAL_GRPC_META_") || IsTemporalClientVariable("TEMPORAL_UI_URL") {
		t.Error("accepts what envconfig does not read")
	}
}
