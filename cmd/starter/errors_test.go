package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/workflows"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// workflowError runs wf in the SDK's test environment (no server) with an
// activity "Call" that fails with actErr, and returns the error a client's
// Get would return: the real chain (WorkflowExecutionError, the workflow's
// failure, ActivityError, the activity's ApplicationError), round-tripped
// through the failure protos as it is over the wire.
func workflowError(t *testing.T, actErr error, wf func(ctx workflow.Context) error) error {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivityWithOptions(func(context.Context) error { return actErr }, activity.RegisterOptions{Name: "Call"})
	env.RegisterWorkflowWithOptions(wf, workflow.RegisterOptions{Name: "Flow"})
	env.ExecuteWorkflow("Flow")
	err := env.GetWorkflowError()
	if err == nil {
		t.Fatal("the workflow did not fail")
	}
	return err
}

// callActivity runs the activity once (no retries).
func callActivity(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}})
	return workflow.ExecuteActivity(ctx, "Call").Get(ctx, nil)
}

var belvoRejected = temporal.NewNonRetryableApplicationError("POST /api/transactions/: 400 invalid_date_range", "BelvoValidationError", nil)

// TestDescribeCause: a Temporal failure is one line, the chosen
// ApplicationError's message and type, never the SDK's chain.
func TestDescribeCause(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"activity error wrapped by the workflow with fmt.Errorf",
			workflowError(t, belvoRejected, func(ctx workflow.Context) error {
				return fmt.Errorf("send async transactions: %w", callActivity(ctx))
			}),
			"POST /api/transactions/: 400 invalid_date_range (BelvoValidationError)"},
		{"the workflow's own typed error wins over the activity's",
			workflowError(t, belvoRejected, func(ctx workflow.Context) error {
				err := callActivity(ctx)
				return temporal.NewNonRetryableApplicationError("async transactions request R: listing its data failed", "AsyncRequestFailed", err)
			}),
			"async transactions request R: listing its data failed (AsyncRequestFailed)"},
		{"wrapped again by package starter",
			fmt.Errorf("starter: async-post-K: %w", workflowError(t, belvoRejected, func(ctx workflow.Context) error {
				return fmt.Errorf("send: %w", callActivity(ctx))
			})),
			"POST /api/transactions/: 400 invalid_date_range (BelvoValidationError)"},
		{"an untyped activity error: the innermost message",
			workflowError(t, errors.New("database is locked"), func(ctx workflow.Context) error {
				return fmt.Errorf("store: %w", callActivity(ctx))
			}),
			"database is locked"},
		{"timeout with its last failure",
			temporal.NewTimeoutError(enums.TIMEOUT_TYPE_START_TO_CLOSE, belvoRejected),
			"timeout: StartToClose"},
		{"server error", fmt.Errorf("starter: query progress of link L: %w", serviceerror.NewNotFound("workflow not found for ID: historical-fetch-L")),
			"workflow not found for ID: historical-fetch-L"},
		{"interrupted", fmt.Errorf("wait: %w", context.Canceled), "interrupted"},
		{"plain chain", fmt.Errorf("starter: codec: read key file: %w", errors.New("no such file")), "codec: read key file: no such file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := describeCause(tc.err)
			t.Log(got)
			if !strings.Contains(got, tc.want) {
				t.Errorf("describeCause = %q, want it to hold %q", got, tc.want)
			}
			for _, noise := range []string{"workflow execution error", "activity error", "scheduledEventID", "\n"} {
				if strings.Contains(got, noise) {
					t.Errorf("describeCause = %q holds %q", got, noise)
				}
			}
		})
	}
}

// TestFailurePrintsOnce: a command whose execution failed prints one line,
// then the execution's id and web UI link, and exits 1.
func TestFailurePrintsOnce(t *testing.T) {
	failed := fmt.Errorf("starter: async-post-K: %w", workflowError(t, belvoRejected, func(ctx workflow.Context) error {
		return fmt.Errorf("send async transactions: %w", callActivity(ctx))
	}))
	r := runCLI(context.Background(), t, &fake{asyncErr: failed}, nil,
		"async", "--op", "transactions", "--link-id", "L", "--from", "2026-09-01", "--to", "2026-10-31", "--key", "K")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	want := []string{
		"starter: send async transactions for link L (key K): POST /api/transactions/: 400 invalid_date_range (BelvoValidationError)",
		"  workflow id: async-post-K",
		"  web UI:      http://ui/namespaces/ns/workflows/async-post-K/run-1/history",
	}
	if got := lines(r.stderr); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stderr:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestRefreshCooldown: Belvo's cooldown is said as when to try again, as
// the starter always printed it.
func TestRefreshCooldown(t *testing.T) {
	retryAt := time.Date(2026, 10, 1, 15, 4, 0, 0, time.UTC)
	cooldown := workflowError(t, belvoRejected, func(ctx workflow.Context) error {
		return temporal.NewNonRetryableApplicationError("link L was refreshed less than 10m0s ago", belvo.ClassRefreshCooldown, nil,
			workflows.RefreshCooldown{Wait: 7 * time.Minute, RetryAt: retryAt})
	})
	r := runCLI(context.Background(), t, &fake{refreshErr: fmt.Errorf("starter: async-post-K: %w", cooldown)}, nil,
		"refresh", "--link-id", "L", "--key", "K")
	want := fmt.Sprintf("starter: link L was refreshed less than %s ago (Belvo's cooldown): try again in 7m0s (at %s)\n",
		belvo.RefreshCooldown, retryAt.Local().Format(time.Kitchen))
	if r.code != 1 || !strings.HasPrefix(r.stderr, want) {
		t.Errorf("exit %d, stderr:\n%s\nwant first line:\n%s", r.code, r.stderr, want)
	}
	if !strings.Contains(r.stderr, "workflow id: async-post-K") {
		t.Errorf("stderr does not name the sender:\n%s", r.stderr)
	}
}

// TestUsageErrorExit2: a refused command line exits 2 with the one line and
// the command's usage hint, and never prints a failure's ids.
func TestUsageErrorExit2(t *testing.T) {
	r := runCLI(context.Background(), t, &fake{}, nil, "status", "--link-id")
	if r.code != 2 {
		t.Fatalf("exit %d, want 2", r.code)
	}
	want := []string{
		"starter status: flag needs an argument: --link-id",
		"usage: starter status (--link-id ID [--updates] | --request-id RID) [flags]",
		"run 'starter status -h' for its flags and an example",
	}
	if got := lines(r.stderr); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, strings.Join(want, "\n"))
	}
}
