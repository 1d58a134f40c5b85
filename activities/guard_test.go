package activities_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/sandbox"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// post runs the StartAsync activity with the engine's retries, as AsyncPost
// does, in the SDK's test environment.
func post(ctx workflow.Context, r belvo.AsyncRequest) (string, error) {
	var a *activities.Activities
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Millisecond, MaximumAttempts: 5},
	})
	var id string
	err := workflow.ExecuteActivity(actx, a.StartAsync, r).Get(ctx, &id)
	return id, err
}

// The guard lets the engine retry a POST only when Belvo proves it did
// nothing (429, too_many_sessions), and stops a retry after any answer
// that does not prove it.
func TestSendGuardRetriesOnlyWhatBelvoRefused(t *testing.T) {
	cases := []struct {
		name      string
		first     func(w http.ResponseWriter)
		wantPosts int64
		wantErr   string
	}{
		{"429 with Retry-After: sent again", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`[{"code":"too_many_requests","message":"slow down","request_id":"r"}]`))
		}, 2, ""},
		{"too_many_sessions: sent again", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`[{"code":"too_many_sessions","message":"busy","request_id":"r"}]`))
		}, 2, ""},
		{"500: Belvo may have acted, not sent again", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`[{"code":"unexpected_error","message":"boom","request_id":"r"}]`))
		}, 1, "BelvoUncertain"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bc, emu, link, posts := guardedBelvo(t, c.first)
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			env.RegisterActivity(&activities.Activities{Belvo: bc})
			env.RegisterWorkflow(post)
			env.ExecuteWorkflow(post, belvo.AsyncRequest{Op: belvo.OpTransactions, LinkID: link, DateFrom: "2026-10-01", DateTo: "2026-10-31"})
			err := env.GetWorkflowError()
			if got := posts.Load(); got != c.wantPosts {
				t.Errorf("Belvo received %d POSTs, want %d", got, c.wantPosts)
			}
			if c.wantErr == "" {
				var id string
				if err != nil || env.GetWorkflowResult(&id) != nil || id == "" || emu.AsyncRequests() != 1 {
					t.Fatalf("want one accepted request: id %q, %v (sandbox took %d)", id, err, emu.AsyncRequests())
				}
				return
			}
			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) || appErr.Type() != c.wantErr || !strings.Contains(err.Error(), "sending again") {
				t.Fatalf("error %v, want %s", err, c.wantErr)
			}
		})
	}
}

// A retried attempt reads what the earlier one recorded: "sending" (it may
// have left) stops with BelvoUncertain without a POST; "answered" returns
// the earlier answer without a POST; "refused" sends again.
func TestSendGuardReadsTheEarlierAttempt(t *testing.T) {
	cases := []struct {
		name      string
		prior     any
		wantPosts int64
		wantID    string
		wantErr   string
	}{
		{"it may have left", map[string]any{"state": "sending"}, 0, "", "BelvoUncertain"},
		{"the bare marker of earlier releases", "sending", 0, "", "BelvoUncertain"},
		{"it was answered", map[string]any{"state": "answered", "answer": "3f58b8a6f025402f8de4a4cc55d38705"}, 0, "3f58b8a6f025402f8de4a4cc55d38705", ""},
		{"Belvo refused it", map[string]any{"state": "refused"}, 1, "*", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bc, _, link, posts := guardedBelvo(t, nil)
			var s testsuite.WorkflowTestSuite
			env := s.NewTestActivityEnvironment()
			a := &activities.Activities{Belvo: bc}
			env.RegisterActivity(a)
			env.SetHeartbeatDetails(c.prior)
			val, err := env.ExecuteActivity(a.StartAsync, belvo.AsyncRequest{Op: belvo.OpTransactions, LinkID: link, DateFrom: "2026-10-01", DateTo: "2026-10-31"})
			if got := posts.Load(); got != c.wantPosts {
				t.Errorf("Belvo received %d POSTs, want %d", got, c.wantPosts)
			}
			if c.wantErr != "" {
				var appErr *temporal.ApplicationError
				if !errors.As(err, &appErr) || appErr.Type() != c.wantErr {
					t.Fatalf("error %v, want %s", err, c.wantErr)
				}
				return
			}
			var id string
			if err != nil || val.Get(&id) != nil || id == "" || (c.wantID != "*" && id != c.wantID) {
				t.Errorf("id %q, %v; want %s", id, err, c.wantID)
			}
		})
	}
}

// guardedBelvo is the emulator behind a handler that counts async POSTs and
// may answer the first one itself (first), with a client and a link.
func guardedBelvo(t *testing.T, first func(w http.ResponseWriter)) (*belvo.Client, *sandbox.Server, string, *atomic.Int64) {
	t.Helper()
	emu := sandbox.New(sandbox.Config{})
	t.Cleanup(emu.Close)
	posts := &atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/api/transactions/" && posts.Add(1) == 1 && first != nil {
			first(w)
			return
		}
		emu.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	d := sandbox.Config{}.WithDefaults()
	bc, err := belvo.New(belvo.Options{BaseURL: srv.URL, SecretID: d.SecretID, SecretPassword: d.SecretPassword})
	if err != nil {
		t.Fatal(err)
	}
	l, err := bc.RegisterLink(context.Background(), belvo.RegisterLinkRequest{Institution: "erebor_mx_retail", Username: d.BankUsername, Password: d.BankPassword})
	if err != nil {
		t.Fatal(err)
	}
	return bc, emu, l.ID, posts
}

// recordingTemporal stands in for the worker's client where the guard
// records "sending": it answers err, as a server without its database
// does, and keeps what it was asked to record. Every other method of the
// client is left nil: the guarded activity calls none.
type recordingTemporal struct {
	client.Client
	err      error
	recorded []any
}

func (r *recordingTemporal) RecordActivityHeartbeat(_ context.Context, _ []byte, details ...any) error {
	r.recorded = append(r.recorded, details...)
	return r.err
}

// The request leaves only once Temporal has taken the "sending" record: a
// refused record stops the attempt before the POST with a retryable error
// (the retry sends it; nothing left), a taken one lets it go.
func TestSendGuardSendsOnlyWhatTemporalRecorded(t *testing.T) {
	cases := []struct {
		name      string
		recordErr error
		wantPosts int64
		wantErr   string
	}{
		{"Temporal took the record", nil, 1, ""},
		{"Temporal refused it", serviceerror.NewNamespaceNotFound("default"), 0, "SendNotRecorded"},
		{"Temporal did not answer in time", context.DeadlineExceeded, 0, "SendNotRecorded"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bc, _, link, posts := guardedBelvo(t, nil)
			var s testsuite.WorkflowTestSuite
			env := s.NewTestActivityEnvironment()
			tc := &recordingTemporal{err: c.recordErr}
			a := &activities.Activities{Belvo: bc, Temporal: tc}
			env.RegisterActivity(a)
			val, err := env.ExecuteActivity(a.StartAsync, belvo.AsyncRequest{Op: belvo.OpTransactions, LinkID: link, DateFrom: "2026-10-01", DateTo: "2026-10-31"})
			if got := posts.Load(); got != c.wantPosts {
				t.Errorf("Belvo received %d POSTs, want %d", got, c.wantPosts)
			}
			if len(tc.recorded) != 1 || !strings.Contains(fmt.Sprint(tc.recorded[0]), "sending") {
				t.Errorf("recorded through the client: %v, want one sending record", tc.recorded)
			}
			if c.wantErr == "" {
				var id string
				if err != nil || val.Get(&id) != nil || id == "" {
					t.Fatalf("id %q, %v; want an accepted request", id, err)
				}
				return
			}
			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) || appErr.Type() != c.wantErr || appErr.NonRetryable() || !strings.Contains(err.Error(), "not sent") {
				t.Fatalf("error %v, want a retryable %s saying it was not sent", err, c.wantErr)
			}
		})
	}
}
