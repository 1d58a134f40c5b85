package starter

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/workflows"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// clientError runs wf in the SDK's test environment and returns the error a
// client's Get would: the failure round-tripped as over the wire.
func clientError(t *testing.T, wf func(workflow.Context) error) error {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivityWithOptions(func(context.Context) error {
		// An activity's details are not a progress, whatever they decode to.
		return temporal.NewNonRetryableApplicationError("400", "BelvoValidationError", nil, map[string]any{"request_id": "belvo-x", "status": "400"})
	}, activity.RegisterOptions{Name: "Call"})
	env.RegisterWorkflowWithOptions(wf, workflow.RegisterOptions{Name: "Flow"})
	env.ExecuteWorkflow("Flow")
	return env.GetWorkflowError()
}

// TestFailureDetails: a failed execution's progress is read from its own
// failure's details, never from an activity's deeper in the chain.
func TestFailureDetails(t *testing.T) {
	want := workflows.Progress{LinkID: "L", Status: workflows.StatusTimedOut,
		Resources: map[belvo.Resource]*workflows.ResourceProgress{belvo.Owners: {State: workflows.StateStored, Stored: 2}}}
	timedOut := clientError(t, func(workflow.Context) error {
		return temporal.NewNonRetryableApplicationError("timed out", "HistoricalFetchTimedOut", nil, want)
	})
	got, ok := failureDetails[workflows.Progress](fmt.Errorf("wrapped: %w", timedOut), func(p workflows.Progress) bool { return p.Status != "" })
	if !ok || got.LinkID != "L" || got.Resources[belvo.Owners].Stored != 2 {
		t.Errorf("progress from the failure = %+v, %v", got, ok)
	}

	activityFailed := clientError(t, func(ctx workflow.Context) error {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
		return workflow.ExecuteActivity(ctx, "Call").Get(ctx, nil) // the activity's error, returned as is
	})
	if p, ok := failureDetails[workflows.AsyncProgress](activityFailed, func(p workflows.AsyncProgress) bool { return p.Status != "" }); ok {
		t.Errorf("an activity's details read as progress: %+v", p)
	}
	untyped := clientError(t, func(workflow.Context) error {
		return temporal.NewNonRetryableApplicationError("failed", "AsyncRequestFailed", nil,
			workflows.AsyncRequestFailure{RequestID: "R", Code: "x", Status: 400})
	})
	if p, ok := failureDetails[workflows.AsyncProgress](untyped, func(p workflows.AsyncProgress) bool { return p.Status != "" }); ok {
		t.Errorf("a failure detail that is not a progress read as one: %+v", p)
	}
}

func TestFormatLinkUpdates(t *testing.T) {
	var b bytes.Buffer
	FormatLinkUpdates(&b, workflows.LinkUpdatesProgress{LinkID: "L", Status: "waiting", Handled: 7, Duplicates: 1, Runs: 2,
		LastError: "store down",
		Failed: []workflows.FailedWebhook{{Webhook: workflows.WebhookEvent{WebhookID: "wh-1", Type: "TRANSACTIONS", Code: "new_transactions_available"},
			Error: "store down", Attempts: 2, NextRetry: time.Date(2026, 10, 1, 13, 0, 0, 0, time.UTC)}}})
	for _, w := range []string{"link L  status waiting  webhooks handled 7 (duplicates 1, ignored 0)  runs 2", "last error: store down",
		"failed steps: 1", "TRANSACTIONS new_transactions_available", "wh-1", "store down"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, b.String())
		}
	}
	b.Reset()
	FormatLinkUpdates(&b, workflows.LinkUpdatesProgress{LinkID: "L", Status: "waiting"})
	if !strings.Contains(b.String(), "failed steps: none") || strings.Contains(b.String(), "WEBHOOK") {
		t.Errorf("no failed steps:\n%s", b.String())
	}
}

func TestFormatExecution(t *testing.T) {
	var b bytes.Buffer
	start := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	FormatExecution(&b, Execution{WorkflowID: "historical-fetch-L", RunID: "run-1", Type: "HistoricalFetch", Status: "Completed",
		Start: start, Close: start.Add(90 * time.Second), HistoryLength: 40,
		SearchAttributes: map[string]string{"BelvoStatus": "completed", "BelvoLinkID": "L"},
		Pending:          []PendingActivity{{Type: "ListResource", Attempt: 3, LastFailure: "503"}}})
	out := b.String()
	for _, w := range []string{"historical-fetch-L (HistoricalFetch)", "Completed", "after 1m30s", "40 events", "BelvoLinkID", "BelvoStatus",
		"ListResource, attempt 3, last failure: 503"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if strings.Index(out, "BelvoLinkID") > strings.Index(out, "BelvoStatus") {
		t.Errorf("search attributes not sorted:\n%s", out)
	}
}

// TestProductAttributes: the product's search attributes decode as the
// server returns them; others are left out.
func TestProductAttributes(t *testing.T) {
	enc := func(v any) *commonpb.Payload {
		p, err := converter.GetDefaultDataConverter().ToPayload(v)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	got := productAttributes(map[string]*commonpb.Payload{
		"BelvoLinkID": enc("L"), "BelvoResources": enc([]string{"ACCOUNTS", "OWNERS"}), "BuildIds": enc([]string{"x"}),
	})
	if len(got) != 2 || got["BelvoLinkID"] != "L" || got["BelvoResources"] != "ACCOUNTS,OWNERS" {
		t.Errorf("attributes = %v", got)
	}
}
