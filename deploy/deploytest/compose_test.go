package deploytest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/internal/stack"
	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// composeDir holds compose.yaml and its secrets.env.example.
const composeDir = "deploy/compose"

// composeServices must all exist.
var composeServices = []string{"postgresql", "temporal", "temporal-search-attributes", "temporal-ui", "worker", "bridge", "codec-server"}

// composeSecrets are secrets of the stack beyond the product's own: the
// database passwords, and the private keys as data in the variables of the
// Temporal server image and of the UI (keys come as files, never inline).
var composeSecrets = []string{"POSTGRES_PASSWORD", "POSTGRES_PWD", "BELVO_DB_PASSWORD",
	"TEMPORAL_TLS_SERVER_KEY_DATA", "TEMPORAL_TLS_FRONTEND_KEY_DATA", "TEMPORAL_TLS_KEY_DATA"}

// composeDefaultStopGrace is what compose waits after SIGTERM by default.
const composeDefaultStopGrace = 10 * time.Second

// loadCompose loads content as dir/compose.yaml the way `docker compose`
// does: JSON-schema validation on, every profile enabled, and variables
// interpolated from env only (never the test's own environment), unless
// interpolate is false.
func loadCompose(ctx context.Context, dir string, content []byte, env map[string]string, interpolate bool) (*types.Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	p, err := loader.LoadWithContext(ctx, types.ConfigDetails{
		WorkingDir:  abs,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(abs, "compose.yaml"), Content: content}},
		Environment: env,
	}, func(o *loader.Options) {
		o.SetProjectName("belvo-backbone", true)
		o.Profiles = []string{"*"}
		o.ResolvePaths = true
		o.SkipInterpolation = !interpolate
	})
	if err != nil {
		return nil, fmt.Errorf("compose: load: %w", err)
	}
	return p, nil
}

// exampleEnv reads secrets.env.example, the values the checks interpolate.
func exampleEnv() (map[string]string, error) {
	env, err := dotenv.Read(filepath.Join(repoRoot, composeDir, "secrets.env.example"))
	if err != nil {
		return nil, fmt.Errorf("compose: read secrets.env.example: %w", err)
	}
	return env, nil
}

// validateCompose loads and checks a compose file.
func validateCompose(ctx context.Context, content []byte, env map[string]string, c contract, binaries map[string]bool) error {
	dir := filepath.Join(repoRoot, composeDir)
	p, err := loadCompose(ctx, dir, content, env, true)
	if err != nil {
		return err
	}
	raw, err := loadCompose(ctx, dir, content, env, false)
	if err != nil {
		return err
	}
	bounds, err := shutdownBounds()
	if err != nil {
		return err
	}
	dialers, err := temporalDialers()
	if err != nil {
		return err
	}
	roles, err := certFiles()
	if err != nil {
		return err
	}
	errs := checkComposeServices(p, c, binaries, bounds)
	errs = append(errs, checkComposeSecretsInterpolated(raw, c)...)
	errs = append(errs, checkComposeTemporal(p)...)
	errs = append(errs, checkComposeSearchAttributes(p)...)
	errs = append(errs, checkComposeTLS(p, content, dialers, roles)...)
	return errors.Join(errs...)
}

// composeFixtures loads what every compose test needs.
func composeFixtures(t *testing.T) ([]byte, map[string]string, contract, map[string]bool) {
	t.Helper()
	content, err := os.ReadFile(filepath.Join(repoRoot, composeDir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	envs, err := exampleEnv()
	if err != nil {
		t.Fatal(err)
	}
	c, bins := fixtures(t)
	return content, envs, c, bins
}

func TestCompose(t *testing.T) {
	content, envs, c, bins := composeFixtures(t)
	if err := validateCompose(t.Context(), content, envs, c, bins); err != nil {
		t.Fatal(err)
	}
}

func TestComposeSecretsExample(t *testing.T) {
	envs, err := exampleEnv()
	if err != nil {
		t.Fatal(err)
	}
	if len(envs) == 0 {
		t.Fatal("secrets.env.example defines nothing")
	}
	for _, k := range sortedKeys(envs) {
		if !strings.Contains(envs[k], "CHANGE_ME") {
			t.Errorf("secrets.env.example: %s=%q is not a CHANGE_ME placeholder", k, envs[k])
		}
	}
	gi, err := os.ReadFile(filepath.Join(repoRoot, ".gitignore"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^/?deploy/compose/secrets\.env$`).Match(gi) {
		t.Error(".gitignore does not ignore deploy/compose/secrets.env")
	}
	if !regexp.MustCompile(`(?m)^/?` + regexp.QuoteMeta(composeTLSDir) + `/?$`).Match(gi) {
		t.Errorf(".gitignore does not ignore %s/, where deploy/certs writes the certificates and keys", composeTLSDir)
	}
	// Every required variable is in the example: without one, loading fails.
	content, _, _, _ := composeFixtures(t)
	for _, k := range sortedKeys(envs) {
		without := map[string]string{}
		for kk, v := range envs {
			if kk != k {
				without[kk] = v
			}
		}
		if _, err := loadCompose(t.Context(), filepath.Join(repoRoot, composeDir), content, without, true); err == nil {
			t.Errorf("compose.yaml loads without %s: the example lists a variable nothing requires", k)
		}
	}
}

func TestComposeRejectsBrokenFiles(t *testing.T) {
	content, envs, c, bins := composeFixtures(t)
	good := string(content)
	tests := []struct {
		name, old, new, want string
	}{
		{"schema violation", "    stop_grace_period: 15s\n", "    stop_grace_period: 15s\n    restarts: always\n", "restarts"},
		{"missing service", "  temporal-ui:\n", "  temporal-web:\n", "temporal-ui is missing"},
		{"unknown dependency", "      temporal-search-attributes:\n        condition: service_completed_successfully\n    environment:\n      <<: *temporal-env\n      BELVO_BASE_URL", "      temporal-attrs:\n        condition: service_completed_successfully\n    environment:\n      <<: *temporal-env\n      BELVO_BASE_URL", "temporal-attrs"},
		{"healthy without healthcheck", "        condition: service_started\n", "        condition: service_healthy\n", "no healthcheck"},
		{"env outside the contract", "WEBHOOK_LISTEN_ADDR: 0.0.0.0:8080", "WEBHOOK_ADDR: 0.0.0.0:8080", "WEBHOOK_ADDR"},
		{"latest image", "temporalio/ui:2.34.0", "temporalio/ui:latest", "latest"},
		{"untagged image", "image: postgres:16", "image: postgres", "no tag"},
		{"literal secret", "BELVO_SECRET_ID: ${BELVO_SECRET_ID:?set BELVO_SECRET_ID in secrets.env}", "BELVO_SECRET_ID: hunter2", "literally"},
		{"search attribute missing", " BelvoResources=KeywordList\n", "\n", "BelvoResources"},
		{"search attribute with the wrong type", "BelvoResources=KeywordList", "BelvoResources=Keyword", "BelvoResources=KeywordList"},
		{"one worker", "      replicas: 2\n", "      replicas: 1\n", "replicas"},
		{"bridge on loopback", "WEBHOOK_LISTEN_ADDR: 0.0.0.0:8080", "WEBHOOK_LISTEN_ADDR: 127.0.0.1:8080", "all interfaces"},
		{"unknown binary", "/usr/local/bin/worker", "/usr/local/bin/wrker", "wrker"},
		{"short worker grace", "stop_grace_period: 60s", "stop_grace_period: 20s", "stop_grace_period"},
		{"visibility off PostgreSQL", "      DB: postgres12\n", "      DB: postgres12\n      ENABLE_ES: \"true\"\n", "visibility"},
		{"codec endpoint", "TEMPORAL_CODEC_ENDPOINT: http://127.0.0.1:8081", "TEMPORAL_CODEC_ENDPOINT: http://127.0.0.1:9999", "TEMPORAL_CODEC_ENDPOINT"},
		{"DSN to another database", "@postgresql:5432/belvo?", "@postgresql:5432/temporal?", "STORE_DSN"},
		// mTLS: the server requires client certificates, every client
		// presents one from the set deploy/certs writes.
		{"server without client auth", `TEMPORAL_TLS_REQUIRE_CLIENT_AUTH: "true"`, `TEMPORAL_TLS_REQUIRE_CLIENT_AUTH: "false"`, "TEMPORAL_TLS_REQUIRE_CLIENT_AUTH"},
		{"product without the client TLS", "x-temporal-env: &temporal-env\n  <<: *temporal-client-tls\n", "x-temporal-env: &temporal-env\n", "service worker: TEMPORAL_TLS_CLIENT_CERT_PATH is not set"},
		{"worker without the client secrets", "      METRICS_LISTEN_ADDR: 0.0.0.0:9091\n    secrets: *temporal-client-secrets\n", "      METRICS_LISTEN_ADDR: 0.0.0.0:9091\n", "service worker: TEMPORAL_TLS_CLIENT_CERT_PATH: /run/secrets/temporal-client-cert is not a secret the service mounts"},
		{"client key and certificate swapped", "TEMPORAL_TLS_CLIENT_KEY_PATH: /run/secrets/temporal-client-key", "TEMPORAL_TLS_CLIENT_KEY_PATH: /run/secrets/temporal-client-cert", "TEMPORAL_TLS_CLIENT_KEY_PATH names /run/secrets/temporal-client-cert"},
		{"server presents the client certificate", "TEMPORAL_TLS_FRONTEND_CERT: /run/secrets/temporal-server-cert", "TEMPORAL_TLS_FRONTEND_CERT: /run/secrets/temporal-client-cert", "TEMPORAL_TLS_FRONTEND_CERT names"},
		{"UI without TLS", "      TEMPORAL_TLS_CA: /run/secrets/temporal-ca\n", "", "temporal-ui: TEMPORAL_TLS_CA is not set"},
		{"UI without host verification", `TEMPORAL_TLS_ENABLE_HOST_VERIFICATION: "true"`, `TEMPORAL_TLS_ENABLE_HOST_VERIFICATION: "false"`, "TEMPORAL_TLS_ENABLE_HOST_VERIFICATION"},
		{"one-shot CLI without the client certificate", "        done\n    secrets: *temporal-client-secrets\n", "        done\n", "temporal-search-attributes: TEMPORAL_TLS_CLIENT_CERT_PATH"},
		{"empty TLS variable", "  TEMPORAL_TLS_SERVER_NAME: temporal\n", "  TEMPORAL_TLS_SERVER_NAME: \"\"\n", "TEMPORAL_TLS_SERVER_NAME is empty"},
		{"TLS turned off", "  TEMPORAL_TLS_SERVER_NAME: temporal\n", "  TEMPORAL_TLS_SERVER_NAME: temporal\n  TEMPORAL_TLS: \"false\"\n", "TEMPORAL_TLS must be true"},
		{"internode name not the certificate's", "TEMPORAL_TLS_INTERNODE_SERVER_NAME: temporal", "TEMPORAL_TLS_INTERNODE_SERVER_NAME: temporal.local", "TEMPORAL_TLS_INTERNODE_SERVER_NAME"},
		{"certificate for another name", "-server-name temporal", "-server-name temporal.local", `want "temporal.local"`},
		{"certificates from elsewhere", "-out deploy/compose/tls", "-out .local/tls", "-out .local/tls"},
		{"secret outside the certificate directory", "file: ./tls/ca.pem", "file: ./ca.pem", "secret temporal-ca"},
		{"client key where it is not used", "    stop_grace_period: 10s\n", "    stop_grace_period: 10s\n    secrets: *temporal-client-secrets\n", "does not connect to Temporal"},
		{"literal client key", "  TEMPORAL_TLS_SERVER_NAME: temporal\n", "  TEMPORAL_TLS_SERVER_NAME: temporal\n  TEMPORAL_TLS_CLIENT_KEY_DATA: not-a-key\n", "writes the secret TEMPORAL_TLS_CLIENT_KEY_DATA literally"},
		{"literal server key", "      TEMPORAL_TLS_REQUIRE_CLIENT_AUTH: \"true\"\n", "      TEMPORAL_TLS_REQUIRE_CLIENT_AUTH: \"true\"\n      TEMPORAL_TLS_SERVER_KEY_DATA: not-a-key\n", "writes the secret TEMPORAL_TLS_SERVER_KEY_DATA literally"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(good, tt.old) {
				t.Fatalf("compose.yaml no longer contains %q: update this case", tt.old)
			}
			err := validateCompose(t.Context(), []byte(strings.Replace(good, tt.old, tt.new, 1)), envs, c, bins)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			t.Logf("rejected as expected: %v", err)
		})
	}
}

// TestComposeTemporalMatchesProdstack keeps the two PostgreSQL stacks on one
// Temporal server version: deploy/prodstack builds it from source
// (stack.TemporalServerVersion), compose pulls its images (server and admin
// tools must match the schema).
func TestComposeTemporalMatchesProdstack(t *testing.T) {
	content, envs, _, _ := composeFixtures(t)
	p, err := loadCompose(t.Context(), filepath.Join(repoRoot, composeDir), content, envs, true)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.TrimPrefix(stack.TemporalServerVersion, "v")
	for _, name := range []string{"temporal", "temporal-search-attributes"} {
		_, tag, _ := strings.Cut(p.AllServices()[name].Image, ":")
		if tag != want && !strings.HasPrefix(tag, want+"-") {
			t.Errorf("compose service %s runs %s, deploy/prodstack Temporal %s (internal/stack)", name, p.AllServices()[name].Image, want)
		}
	}
}
