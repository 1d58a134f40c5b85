package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/starter"
	"github.com/belvo-temporal/backbone/workflows"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"
)

var (
	stored = workflows.Progress{LinkID: "L", Status: workflows.StatusCompleted,
		Resources: map[belvo.Resource]*workflows.ResourceProgress{belvo.Accounts: {State: workflows.StateStored, Stored: 3, Pages: 1, Fetches: 1}}}
	running = starter.Execution{WorkflowID: "historical-fetch-L", RunID: "run-1", Type: "HistoricalFetch", Status: "Running", Running: true,
		Start: time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC), HistoryLength: 12,
		SearchAttributes: map[string]string{"BelvoLinkID": "L", "BelvoStatus": "waiting"}}
	closed = starter.Execution{WorkflowID: "historical-fetch-L", RunID: "run-1", Type: "HistoricalFetch", Status: "Completed",
		Start: time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC), Close: time.Date(2026, 10, 1, 12, 5, 0, 0, time.UTC)}
	// progressTable is FormatProgress's header: printed only with a
	// progress that holds something.
	progressTable = "RESOURCE  STATE"
)

// TestStatusSources: status prints what is known, from the best source that
// answers, says which when it is not the query, and never prints a table of
// empty fields.
func TestStatusSources(t *testing.T) {
	noAnswer := serviceerror.NewDeadlineExceeded("context deadline exceeded")
	cases := []struct {
		name    string
		f       *fake
		want    []string
		notWant []string
	}{
		{name: "the query answers",
			f:       &fake{progress: stored},
			want:    []string{progressTable, "ACCOUNTS", "workflow id: historical-fetch-L", "web UI:      http://ui/namespaces/ns/workflows/historical-fetch-L/run-1/history"},
			notWant: []string{"(the progress query"}},
		{name: "no worker: the server's description",
			f:       &fake{queryErr: noAnswer, exec: running},
			want:    []string{"(the progress query failed: no answer within 5s (is a worker running?); showing what the server records of the execution)", "Running", "BelvoStatus", "waiting"},
			notWant: []string{progressTable}},
		{name: "empty answer of a closed execution: its result",
			f:    &fake{exec: closed, waitFetch: func() (workflows.Progress, error) { return stored, nil }},
			want: []string{"(the progress query returned nothing yet; showing the result of the execution, completed at", progressTable, "ACCOUNTS"}},
		{name: "closed and failed without progress: the description and the failure",
			f: &fake{queryErr: errors.New("query failed"), exec: closed, waitFetch: func() (workflows.Progress, error) {
				return workflows.Progress{}, temporal.NewNonRetryableApplicationError("historical fetch needs a link id", "InvalidInput", nil)
			}},
			want:    []string{"showing what the server records of the execution", "Completed", "failure: historical fetch needs a link id (InvalidInput)"},
			notWant: []string{progressTable}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(context.Background(), t, tc.f, nil, "status", "--link-id", "L")
			if r.code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(r.stdout, w) {
					t.Errorf("stdout holds %q:\n%s", w, r.stdout)
				}
			}
		})
	}
}

// TestStatusUnknownExecution: when nothing is known the command fails in one
// line, without a web UI link to a page that would be empty.
func TestStatusUnknownExecution(t *testing.T) {
	nf := serviceerror.NewNotFound("workflow not found for ID: link-updates-L")
	r := runCLI(context.Background(), t, &fake{queryErr: nf, execErr: nf}, nil, "status", "--updates", "--link-id", "L")
	want := "starter: status of the recurrent updates of link L: workflow not found for ID: link-updates-L\n  workflow id: link-updates-L\n"
	if r.code != 1 || r.stderr != want {
		t.Errorf("exit %d, stderr:\n%s\nwant:\n%s", r.code, r.stderr, want)
	}
}

// TestInterruptedWait: Ctrl-C during fetch --wait prints the latest known
// progress once, asked with a context that is not the cancelled one, and
// says the execution keeps running.
func TestInterruptedWait(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Ctrl-C comes during the wait; the fake fails every later call made
	// with the cancelled context, as the SDK would.
	f := &fake{progress: stored, waitFetch: func() (workflows.Progress, error) {
		cancel()
		return workflows.Progress{}, context.Canceled
	}}
	r := runCLI(ctx, t, f, nil, "fetch", "--link-id", "L", "--wait")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	if n := strings.Count(r.stdout, progressTable); n != 1 {
		t.Errorf("progress printed %d times:\n%s", n, r.stdout)
	}
	if !strings.Contains(r.stdout, "stopped waiting; the latest known progress:") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if !strings.HasPrefix(r.stderr, "starter: wait for the historical fetch of link L: interrupted (Ctrl-C); the execution keeps running\n") ||
		!strings.Contains(r.stderr, "web UI:") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

// TestFailedWait: a request that failed without progress in its failure
// prints the query's progress once, then the failure, and does not read the
// failure a second time.
func TestFailedWait(t *testing.T) {
	failedReq := workflows.AsyncProgress{RequestID: "rid-1", Status: workflows.StatusFailed, Error: "ACCOUNTS: boom",
		Request: belvo.AsyncRequest{Op: belvo.OpLinkRefresh, LinkID: "L"}}
	f := &fake{asyncProg: failedReq, waitAsync: func() (workflows.AsyncProgress, error) {
		return workflows.AsyncProgress{}, temporal.NewNonRetryableApplicationError("async link_refresh request rid-1: ACCOUNTS: boom", "AsyncRequestFailed", nil)
	}}
	r := runCLI(context.Background(), t, f, nil, "refresh", "--link-id", "L", "--key", "K", "--wait")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	if n := strings.Count(r.stdout, "ACCOUNTS: boom"); n != 1 {
		t.Errorf("progress printed %d times:\n%s", n, r.stdout)
	}
	waits := 0
	for _, c := range r.calls {
		if strings.HasPrefix(c, "WaitAsync") {
			waits++
		}
	}
	if waits != 1 {
		t.Errorf("WaitAsync called %d times: %q", waits, r.calls)
	}
	want := "starter: the async request failed: async link_refresh request rid-1: ACCOUNTS: boom (AsyncRequestFailed)\n  workflow id: async-request-rid-1\n"
	if !strings.HasPrefix(r.stderr, want) {
		t.Errorf("stderr:\n%s\nwant prefix:\n%s", r.stderr, want)
	}
}
