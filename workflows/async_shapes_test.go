package workflows_test

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/workflows"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
)

// hook is a webhook of the request rid, in any of the shapes Belvo's
// documents allow: the request_id makes it the request's.
func reqHook(id, typ, processType, code string) workflows.WebhookEvent {
	return workflows.WebhookEvent{WebhookID: id, Type: typ, ProcessType: processType, Code: code, LinkID: linkID, RequestID: rid}
}

// asyncRun runs an AsyncRequest whose details arrive at once and whose
// webhooks arrive a minute apart, with FetchResource answering 10 rows per
// resource (failing for failRes), and returns the result, the error and
// the listings made.
func asyncRun(t *testing.T, req belvo.AsyncRequest, hooks []workflows.WebhookEvent, failRes belvo.Resource) (workflows.AsyncProgress, []activities.FetchResourceInput, int, error) {
	t.Helper()
	env := newEnv(t)
	var a *activities.Activities
	env.RegisterActivity(a)
	var mu sync.Mutex
	var listed []activities.FetchResourceInput
	deletions := 0
	env.OnActivity(a.FetchResource, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.FetchResourceInput) (activities.FetchResourceResult, error) {
			mu.Lock()
			defer mu.Unlock()
			listed = append(listed, in)
			if in.Resource == failRes {
				return activities.FetchResourceResult{}, temporal.NewNonRetryableApplicationError("403 from Belvo", belvo.ClassForbidden, nil)
			}
			return activities.FetchResourceResult{Resource: in.Resource, BelvoCount: 10, Stored: 10, Pages: 1}, nil
		}).Maybe()
	env.OnActivity(a.DeleteLinkData, mock.Anything, linkID).Return(
		func(context.Context, string) (int, error) { deletions++; return 7, nil }).Maybe()
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", workflows.WebhookSignal, mock.Anything).Return(errors.New("not running")).Maybe()
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.AsyncDetailsSignal, workflows.AsyncDetails{Request: req, ClientRequestID: "c1"})
	}, 0)
	for i, h := range hooks {
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.WebhookSignal, h) }, time.Duration(i+1)*time.Minute)
	}
	env.ExecuteWorkflow(workflows.AsyncRequest, workflows.AsyncRequestInput{RequestID: rid, Timeout: time.Hour})
	var p workflows.AsyncProgress
	err := env.GetWorkflowError()
	if err == nil {
		_ = env.GetWorkflowResult(&p)
	}
	return p, listed, deletions, err
}

// An async request completes on its webhook whatever the webhook's code
// and process_type: Belvo documents the request_id as the association and
// shows both historical_update and new_transactions_available.
func TestAsyncRequestCompletesUnderEveryWebhookShape(t *testing.T) {
	for _, h := range []workflows.WebhookEvent{
		reqHook("w1", "TRANSACTIONS", "historical_update", "historical_update"),
		reqHook("w1", "TRANSACTIONS", "recurrent_update", "new_transactions_available"),
		reqHook("w1", "TRANSACTIONS", "async_request", "historical_update"),
		reqHook("w1", "TRANSACTIONS", "", "historical_update"),
	} {
		t.Run(h.ProcessType+"/"+h.Code, func(t *testing.T) {
			p, listed, _, err := asyncRun(t, txRequest, []workflows.WebhookEvent{h}, "")
			if err != nil {
				t.Fatal(err)
			}
			if p.Status != workflows.StatusCompleted || p.BelvoCount != 10 || len(listed) != 1 {
				t.Fatalf("progress %+v after %d listings", p, len(listed))
			}
			if listed[0].Filters["value_date__range"] != "2026-10-01,2026-10-31" || listed[0].WebhookKey != h.DedupeKey() {
				t.Errorf("listing %+v", listed[0])
			}
			if len(p.Processed) != 1 || p.Processed[0] != h.DedupeKey() {
				t.Errorf("processed keys %v", p.Processed)
			}
		})
	}
}

// A refresh gets one webhook per resource, all carrying its request_id:
// each resource is listed again, unfiltered, and the request ends with
// every count.
func TestRefreshListsEveryResourceItNames(t *testing.T) {
	refresh := belvo.AsyncRequest{Op: belvo.OpLinkRefresh, LinkID: linkID, Resources: []belvo.Resource{belvo.Accounts, belvo.Transactions, belvo.Owners}}
	cases := []struct {
		name        string
		hooks       []workflows.WebhookEvent
		failRes     belvo.Resource
		wantErrType string
		wantListed  string
	}{
		{name: "every resource's webhook", wantListed: "ACCOUNTS OWNERS TRANSACTIONS", hooks: []workflows.WebhookEvent{
			reqHook("a", "ACCOUNTS", "historical_update", "historical_update"),
			reqHook("t", "TRANSACTIONS", "historical_update", "historical_update"),
			reqHook("t", "TRANSACTIONS", "historical_update", "historical_update"), // Belvo's retry
			reqHook("o", "OWNERS", "", "historical_update")}},
		{name: "a webhook of a resource it did not ask for is not listed", wantListed: "ACCOUNTS OWNERS TRANSACTIONS", hooks: []workflows.WebhookEvent{
			reqHook("a", "ACCOUNTS", "historical_update", "historical_update"),
			reqHook("b", "BILLS", "historical_update", "historical_update"),
			reqHook("t", "TRANSACTIONS", "recurrent_update", "new_transactions_available"),
			reqHook("o", "OWNERS", "historical_update", "historical_update")}},
		{name: "a resource's webhook never comes", wantErrType: "AsyncRequestTimedOut", wantListed: "ACCOUNTS TRANSACTIONS", hooks: []workflows.WebhookEvent{
			reqHook("a", "ACCOUNTS", "historical_update", "historical_update"),
			reqHook("t", "TRANSACTIONS", "historical_update", "historical_update")}},
		{name: "one resource's listing fails for good", failRes: belvo.Owners, wantErrType: "AsyncRequestFailed", wantListed: "ACCOUNTS OWNERS TRANSACTIONS",
			hooks: []workflows.WebhookEvent{
				reqHook("a", "ACCOUNTS", "historical_update", "historical_update"),
				reqHook("o", "OWNERS", "historical_update", "historical_update"),
				reqHook("t", "TRANSACTIONS", "historical_update", "historical_update")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, listed, _, err := asyncRun(t, refresh, c.hooks, c.failRes)
			var names []string
			for _, in := range listed {
				if len(in.Filters) != 0 {
					t.Errorf("refresh listed %s with filters %v: a refresh relists the whole resource", in.Resource, in.Filters)
				}
				names = append(names, string(in.Resource))
			}
			sort.Strings(names)
			if got := strings.Join(names, " "); got != c.wantListed {
				t.Errorf("listed %s, want %s", got, c.wantListed)
			}
			if c.wantErrType != "" {
				var appErr *temporal.ApplicationError
				if !errors.As(err, &appErr) || appErr.Type() != c.wantErrType {
					t.Fatalf("error %v, want %s", err, c.wantErrType)
				}
				if c.wantErrType == "AsyncRequestTimedOut" && !strings.Contains(err.Error(), "OWNERS") {
					t.Errorf("the timeout does not name the missing resource: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Status != workflows.StatusCompleted || len(p.Resources) != 3 || p.Stored != 30 {
				t.Errorf("progress %+v", p)
			}
			for r, rp := range p.Resources {
				if rp.State != workflows.StateStored || rp.BelvoCount != 10 {
					t.Errorf("%s: %+v", r, *rp)
				}
			}
		})
	}
}

// An async deletion's webhook removes the link's data from the store and
// tells the link's other executions.
func TestAsyncDeletionRemovesTheLinksData(t *testing.T) {
	del := belvo.AsyncRequest{Op: belvo.OpLinkDeletion, LinkID: linkID}
	for _, h := range []workflows.WebhookEvent{
		reqHook("d", "LINK", "historical_update", "link_deleted"),
		reqHook("d", "LINK", "", "historical_update"),
	} {
		p, listed, deletions, err := asyncRun(t, del, []workflows.WebhookEvent{h}, "")
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != workflows.StatusCompleted || deletions != 1 || len(listed) != 0 {
			t.Errorf("%s: progress %+v, %d deletions, %d listings", h.Code, p, deletions, len(listed))
		}
	}
}
