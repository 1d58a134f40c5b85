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
