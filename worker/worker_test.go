package worker

import (
	"context"
	"strings"
	"testing"

	"github.com/belvo-temporal/backbone/config"
	"go.uber.org/zap"
)

// A worker pointed at a Belvo off this machine with the emulator's
// published keys refuses to start, before it opens anything, and says
// which variables to set.
func TestRunRefusesSandboxCredentialsForARemoteBelvo(t *testing.T) {
	cfg := config.Config{BelvoBaseURL: "https://api.belvo.com", BelvoSecretID: config.DefaultSecretID,
		BelvoSecretPassword: config.DefaultSecretPassword, StoreDSN: "sqlite:" + t.TempDir() + "/never-opened.db"}
	err := Run(context.Background(), cfg, zap.NewNop())
	if err == nil || !strings.Contains(err.Error(), "BELVO_SECRET_ID and BELVO_SECRET_PASSWORD") {
		t.Fatalf("Run = %v, want a refusal naming BELVO_SECRET_ID and BELVO_SECRET_PASSWORD", err)
	}
}

// TestOptionsPollEveryPartition checks that both kinds of task get the
// configured pollers: with the SDK's default of two, a task queue's four
// partitions cannot all have a poll waiting (config.DefaultWorkerTaskPollers).
func TestOptionsPollEveryPartition(t *testing.T) {
	for _, n := range []int{2, config.DefaultWorkerTaskPollers, 32} {
		o := Options(n)
		if o.MaxConcurrentWorkflowTaskPollers != n || o.MaxConcurrentActivityTaskPollers != n {
			t.Errorf("Options(%d): %d workflow-task and %d activity-task pollers, want %d each",
				n, o.MaxConcurrentWorkflowTaskPollers, o.MaxConcurrentActivityTaskPollers, n)
		}
	}
	if config.DefaultWorkerTaskPollers < 4 {
		t.Errorf("default %d pollers per kind of task: fewer than a task queue's 4 partitions", config.DefaultWorkerTaskPollers)
	}
}
