//go:build integration

package integration

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/internal/testenv"
	"github.com/belvo-temporal/backbone/logging"
	"github.com/belvo-temporal/backbone/worker"
)

// A worker refuses to start on a namespace that lacks the product's search
// attributes (an upgrade rolled out before registering a new one), naming
// the commands that fix it, instead of failing every workflow task later.
func TestWorkerRefusesANamespaceWithoutSearchAttributes(t *testing.T) {
	srv := devServer(t)
	ns := "no-attrs-" + uuid.NewString()[:8]
	nc, err := client.NewNamespaceClient(client.Options{HostPort: srv.Address(), Logger: logging.NewTemporal(zap.NewNop())})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := nc.Register(context.Background(), &workflowservice.RegisterNamespaceRequest{Namespace: ns,
		WorkflowExecutionRetentionPeriod: durationpb.New(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	cfg := config.Config{TemporalAddress: srv.Address(), TemporalNamespace: ns, TaskQueue: "no-attrs",
		BelvoBaseURL: "http://127.0.0.1:1", BelvoSecretID: "id", BelvoSecretPassword: "pw", BelvoHTTPTimeout: time.Second, MetricsListenAddr: "off",
		StoreDSN:        "sqlite:" + filepath.Join(t.TempDir(), "s.db"),
		PayloadKeysFile: filepath.Join(testenv.RepoRoot(), "workflows", "testdata", "replay-keys")}
	var runErr error
	// The new namespace reaches the frontend's cache within seconds.
	waitFor(t, 30*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		runErr = worker.Run(ctx, cfg, zap.NewNop())
		return runErr != nil && strings.Contains(runErr.Error(), "lacks search attributes")
	})
	for _, want := range []string{"BelvoLinkID --type Keyword", "BelvoResources --type KeywordList", "--namespace " + ns} {
		if !strings.Contains(runErr.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, runErr)
		}
	}
}
