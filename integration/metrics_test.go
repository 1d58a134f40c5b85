//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/internal/testenv"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/worker"
)

// After a link fetch, the worker's /metrics (served by worker.Run, as in
// production) shows the SDK's workflow and activity series and the
// product's rows per resource, and the bridge's shows the webhooks it
// signalled: what a Prometheus scrape (deploy/prometheus) reads.
func TestMetricsEndpointsAfterARun(t *testing.T) {
	s := newStackWith(t, sandbox.Config{Transactions: 1200}, 0, bridgeTuning{noWorker: true})
	addr := freeAddr(t)
	cfg := config.Config{
		TemporalAddress: devServer(t).Address(), TemporalNamespace: "default", TaskQueue: s.starter.TaskQueue,
		BelvoBaseURL: s.sbURL, BelvoSecretID: sandbox.Config{}.WithDefaults().SecretID,
		BelvoSecretPassword: sandbox.Config{}.WithDefaults().SecretPassword, BelvoHTTPTimeout: 30 * time.Second,
		StoreDSN:          "sqlite:" + filepath.Join(t.TempDir(), "worker.db"),
		PayloadKeysFile:   filepath.Join(testenv.RepoRoot(), "workflows", "testdata", "replay-keys"),
		MetricsListenAddr: addr,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- worker.Run(ctx, cfg, zap.NewNop()) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker.Run: %v", err)
		}
	})
	waitFor(t, 30*time.Second, func() bool { return get(t, "http://"+addr+"/metrics") == http.StatusOK })

	if _, p, err := s.registerLink("metrics"); err != nil || p.Status != "completed" {
		t.Fatalf("fetch: %v, %s", err, describe(p))
	}
	// The SDK's tally scope reports every second.
	var worker string
	wantWorker := []string{
		`temporal_workflow_completed`,
		`temporal_activity_execution_latency`,
		`temporal_workflow_task_execution_latency`,
		`activity_type="FetchResource"`,
		`belvo_rows_upserted`,
		`resource="TRANSACTIONS"`,
		// The webhook-to-data latency of each stored resource, with the
		// buckets past the SDK's 10 s.
		`belvo_webhook_to_data_seconds_bucket`,
		`flow="historical"`,
		`le="600"`,
	}
	waitFor(t, 15*time.Second, func() bool {
		worker = body(t, "http://"+addr+"/metrics")
		return containsAll(worker, wantWorker)
	})
	if path := testenv.ArtifactPath(t, "worker-metrics.txt"); path != "" {
		_ = os.WriteFile(path, []byte(worker), 0o644)
	}
	bridge := body(t, s.bridgeURL+"/metrics")
	assertDashboardSeries(t, worker+bridge)
	for _, want := range []string{`belvo_bridge_signals_total{route="HistoricalFetch",webhook_code="historical_update",webhook_type="TRANSACTIONS"}`,
		`belvo_bridge_requests_total{status="202"}`, `belvo_bridge_delivery_seconds_bucket`} {
		if !strings.Contains(bridge, want) {
			t.Errorf("bridge /metrics lacks %s", want)
		}
	}
}

func body(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// onlyOnFailure are series the dashboard graphs that exist only once
// something failed, so a clean run cannot show them.
var onlyOnFailure = map[string]bool{"temporal_activity_execution_failed_total": true}

// assertDashboardSeries checks that every series the Grafana dashboard
// (deploy/grafana) queries is one the processes really export, so the
// dashboard cannot silently go blank after a rename.
func assertDashboardSeries(t *testing.T, scraped string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "deploy", "grafana", "belvo-backbone.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	series := regexp.MustCompile(`\b(?:temporal|belvo)_[a-z_]+`)
	checked := 0
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			for _, name := range series.FindAllString(target.Expr, -1) {
				checked++
				if !onlyOnFailure[name] && !strings.Contains(scraped, "\n"+name) {
					t.Errorf("dashboard panel %q queries %s, which no process exports", p.Title, name)
				}
			}
		}
	}
	if checked < 10 {
		t.Errorf("only %d series found in the dashboard's queries", checked)
	}
}
