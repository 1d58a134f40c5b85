package workflows_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

const rid = "3f58b8a6f025402f8de4a4cc55d38705"

var txRequest = belvo.AsyncRequest{Op: belvo.OpTransactions, LinkID: linkID, DateFrom: "2026-10-01", DateTo: "2026-10-31"}

func completion(id string) workflows.WebhookEvent {
	return workflows.WebhookEvent{WebhookID: id, Type: "TRANSACTIONS", ProcessType: "async_request", Code: "historical_update", LinkID: linkID, RequestID: rid}
}

func TestAsyncRequest(t *testing.T) {
	details := workflows.AsyncDetails{Request: txRequest, ClientRequestID: "c1"}
	failed := completion("wf")
	failed.ErrorCode, failed.ErrorMessage, failed.ErrorStatus = "institution_down", "The institution is down", 400
	cases := []struct {
		name        string
		details     []time.Duration // when the sender's details arrive
		webhooks    []time.Duration
		hook        workflows.WebhookEvent
		wantStatus  string
		wantErrType string
		wantFetches int
		wantDupes   int
	}{
		{name: "202 recorded before the webhook", details: []time.Duration{0}, webhooks: []time.Duration{time.Minute},
			hook: completion("w1"), wantStatus: workflows.StatusCompleted, wantFetches: 1},
		{name: "webhook before the 202 is recorded", details: []time.Duration{5 * time.Minute}, webhooks: []time.Duration{0},
			hook: completion("w1"), wantStatus: workflows.StatusCompleted, wantFetches: 1},
		{name: "webhook twice", details: []time.Duration{0}, webhooks: []time.Duration{time.Minute, time.Minute},
			hook: completion("w1"), wantStatus: workflows.StatusCompleted, wantFetches: 1, wantDupes: 1},
		{name: "sender retried: details twice", details: []time.Duration{0, time.Second}, webhooks: []time.Duration{time.Minute},
			hook: completion("w1"), wantStatus: workflows.StatusCompleted, wantFetches: 1},
		{name: "claim exactly at the orphan deadline is not lost", details: []time.Duration{30 * time.Minute}, webhooks: []time.Duration{0},
			hook: completion("w1"), wantStatus: workflows.StatusCompleted, wantFetches: 1},
		{name: "a late claim (sender's worker was down) still completes", details: []time.Duration{5 * time.Hour}, webhooks: []time.Duration{0},
			hook: completion("w1"), wantStatus: workflows.StatusCompleted, wantFetches: 1},
		{name: "orphan: nobody claims the request id", webhooks: []time.Duration{0},
			hook: completion("w1"), wantStatus: workflows.StatusOrphan, wantFetches: 0},
		{name: "Belvo reports the request failed", details: []time.Duration{0}, webhooks: []time.Duration{time.Minute},
			hook: failed, wantErrType: "AsyncRequestFailed", wantFetches: 0},
		{name: "the webhook never comes", details: []time.Duration{0},
			wantErrType: "AsyncRequestTimedOut", wantFetches: 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := newEnv(t)
			var a *activities.Activities
			env.RegisterActivity(a)
			var mu sync.Mutex
			fetches := 0
			env.OnActivity(a.FetchResource, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in activities.FetchResourceInput) (activities.FetchResourceResult, error) {
					mu.Lock()
					defer mu.Unlock()
					fetches++
					if in.Resource != belvo.Transactions || in.Filters["value_date__range"] != "2026-10-01,2026-10-31" || in.LinkID != linkID {
						return activities.FetchResourceResult{}, temporal.NewNonRetryableApplicationError("wrong listing", "Test", nil)
					}
					return activities.FetchResourceResult{Resource: in.Resource, BelvoCount: 310, Stored: 310, Pages: 1}, nil
				})
			for _, at := range c.details {
				env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.AsyncDetailsSignal, details) }, at)
			}
			for _, at := range c.webhooks {
				env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.WebhookSignal, c.hook) }, at)
			}
			env.ExecuteWorkflow(workflows.AsyncRequest, workflows.AsyncRequestInput{RequestID: rid, Timeout: time.Hour, OrphanTimeout: 30 * time.Minute})
			err := env.GetWorkflowError()
			if c.wantErrType != "" {
				var appErr *temporal.ApplicationError
				if !errors.As(err, &appErr) || appErr.Type() != c.wantErrType {
					t.Fatalf("error %v, want %s", err, c.wantErrType)
				}
				if c.wantErrType == "AsyncRequestFailed" {
					var f workflows.AsyncRequestFailure
					if err := appErr.Details(&f); err != nil || f.Code != "institution_down" || f.RequestID != rid {
						t.Errorf("failure details %+v, %v", f, err)
					}
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				var p workflows.AsyncProgress
				if err := env.GetWorkflowResult(&p); err != nil {
					t.Fatal(err)
				}
				if p.Status != c.wantStatus || p.DuplicateWebhooks != c.wantDupes || p.Webhook == nil {
					t.Fatalf("progress %+v", p)
				}
				if c.wantStatus == workflows.StatusCompleted && (p.BelvoCount != 310 || p.Resource != belvo.Transactions) {
					t.Errorf("counts %+v", p)
				}
			}
			if fetches != c.wantFetches {
				t.Errorf("%d listings, want %d", fetches, c.wantFetches)
			}
		})
	}
}

// A second webhook of the request that reaches it in the task its last
// listing completes in is handled, not dropped with the execution.
func TestAsyncRequestHandlesAWebhookThatArrivesAsItSettles(t *testing.T) {
	env := newEnv(t)
	var a *activities.Activities
	env.RegisterActivity(a)
	var mu sync.Mutex
	var keys []string
	env.OnActivity(a.FetchResource, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.FetchResourceInput) (activities.FetchResourceResult, error) {
			mu.Lock()
			defer mu.Unlock()
			keys = append(keys, in.WebhookKey)
			if len(keys) == 1 {
				// Delivered without a workflow task of its own: it reaches
				// the request together with this listing's result.
				env.SignalWorkflowSkippingWorkflowTask(workflows.WebhookSignal, completion("w2"))
			}
			return activities.FetchResourceResult{Resource: in.Resource, BelvoCount: 310, Stored: 310, Pages: 1}, nil
		})
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.AsyncDetailsSignal, workflows.AsyncDetails{Request: txRequest})
		env.SignalWorkflow(workflows.WebhookSignal, completion("w1"))
	}, time.Minute)
	env.ExecuteWorkflow(workflows.AsyncRequest, workflows.AsyncRequestInput{RequestID: rid, Timeout: time.Hour})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var p workflows.AsyncProgress
	if err := env.GetWorkflowResult(&p); err != nil {
		t.Fatal(err)
	}
	want := []string{completion("w1").DedupeKey(), completion("w2").DedupeKey()}
	if len(keys) != 2 || len(p.Processed) != 2 || p.Processed[1] != want[1] || keys[1] != want[1] {
		t.Errorf("listed for %v, processed %v; want both of %v", keys, p.Processed, want)
	}
}

// The sender announces the request to its link's registry before it
// leaves, hands it to its waiter after Belvo's 202, then resolves the
// announcement with the request_id: in that order, so a webhook always
// finds one or the other.
func TestAsyncPostAnnouncesHandsOverAndResolves(t *testing.T) {
	env := newEnv(t)
	var a *activities.Activities
	env.RegisterActivity(a)
	var order []string
	env.OnActivity(a.StartAsync, mock.Anything, txRequest).Return(
		func(context.Context, belvo.AsyncRequest) (string, error) {
			order = append(order, "POST")
			return rid, nil
		}).Once()
	var sws []activities.SignalWithStartInput
	env.OnActivity(a.SignalWithStart, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SignalWithStartInput) (activities.SignalWithStartResult, error) {
			sws = append(sws, in)
			order = append(order, in.WorkflowID+"/"+in.SignalName)
			return activities.SignalWithStartResult{RunID: "run"}, nil
		})
	env.ExecuteWorkflow(workflows.AsyncPost, workflows.AsyncPostInput{ClientRequestID: "c1", Request: txRequest})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res workflows.AsyncPostResult
	_ = env.GetWorkflowResult(&res)
	if res.RequestID != rid || res.RequestWorkflowID != workflows.AsyncRequestWorkflowID(rid) {
		t.Errorf("result %+v", res)
	}
	registry := workflows.LinkRequestsWorkflowID(linkID)
	want := []string{registry + "/" + workflows.RequestNoticeSignal, "POST",
		workflows.AsyncRequestWorkflowID(rid) + "/" + workflows.AsyncDetailsSignal, registry + "/" + workflows.RequestNoticeSignal}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Fatalf("order %v, want %v", order, want)
	}
	var announce, resolve workflows.RequestNotice
	_ = json.Unmarshal(sws[0].Signal, &announce)
	_ = json.Unmarshal(sws[2].Signal, &resolve)
	if announce.Announce == nil || announce.Announce.Request.Op != belvo.OpTransactions || announce.Announce.Key == "" {
		t.Errorf("announcement %+v", announce)
	}
	if resolve.Resolve == nil || resolve.Resolve.Key != announce.Announce.Key || resolve.Resolve.RequestID != rid ||
		resolve.Resolve.Outcome != workflows.OutcomeAccepted {
		t.Errorf("resolution %+v", resolve.Resolve)
	}
	if got := sws[1]; got.WorkflowType != workflows.AsyncRequestType || got.Keywords["BelvoRequestID"] != rid || !got.Once {
		t.Errorf("hand-over %+v", got)
	}
}

// A send that fails still resolves its announcement, saying whether the
// request may have left, so the registry stops holding the link's webhooks.
func TestAsyncPostResolvesAFailedSend(t *testing.T) {
	cases := []struct {
		name    string
		err     error
		outcome string
	}{
		{"Belvo refused it", temporal.NewNonRetryableApplicationError("400", belvo.ClassValidation, nil), workflows.OutcomeRefused},
		{"it may have left", temporal.NewNonRetryableApplicationError("timeout after sending", "BelvoUncertain", nil), workflows.OutcomeUncertain},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := newEnv(t)
			var a *activities.Activities
			env.RegisterActivity(a)
			env.OnActivity(a.StartAsync, mock.Anything, txRequest).Return("", c.err)
			var notices []workflows.RequestNotice
			env.OnActivity(a.SignalWithStart, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in activities.SignalWithStartInput) (activities.SignalWithStartResult, error) {
					var n workflows.RequestNotice
					_ = json.Unmarshal(in.Signal, &n)
					notices = append(notices, n)
					return activities.SignalWithStartResult{RunID: "run"}, nil
				})
			env.ExecuteWorkflow(workflows.AsyncPost, workflows.AsyncPostInput{ClientRequestID: "c1", Request: txRequest})
			if env.GetWorkflowError() == nil {
				t.Fatal("a failed send must fail the sender")
			}
			if len(notices) != 2 || notices[1].Resolve == nil || notices[1].Resolve.Outcome != c.outcome || notices[1].Resolve.RequestID != "" {
				t.Errorf("notices %+v, want an announcement then a %s resolution", notices, c.outcome)
			}
		})
	}
}

// A refresh that names no resources refreshes the link's own: Belvo would
// otherwise refresh everything the institution supports, and nobody could
// tell which webhooks to wait for.
func TestAsyncPostNamesTheResourcesOfARefresh(t *testing.T) {
	env := newEnv(t)
	var a *activities.Activities
	env.RegisterActivity(a)
	env.OnActivity(a.GetLink, mock.Anything, linkID).Return(activities.LinkInfo{LinkID: linkID,
		FetchResources: []belvo.Resource{belvo.Accounts, belvo.Owners}}, nil)
	var sent belvo.AsyncRequest
	env.OnActivity(a.StartAsync, mock.Anything, mock.Anything).Return(
		func(_ context.Context, r belvo.AsyncRequest) (string, error) { sent = r; return rid, nil })
	env.OnActivity(a.SignalWithStart, mock.Anything, mock.Anything).Return(activities.SignalWithStartResult{RunID: "run"}, nil)
	env.ExecuteWorkflow(workflows.AsyncPost, workflows.AsyncPostInput{ClientRequestID: "c1",
		Request: belvo.AsyncRequest{Op: belvo.OpLinkRefresh, LinkID: linkID}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sent.Resources) != "[ACCOUNTS OWNERS]" {
		t.Errorf("refresh sent for %v, want the link's ACCOUNTS and OWNERS", sent.Resources)
	}
}

func TestAsyncPostRefusesBadInputWithoutCallingBelvo(t *testing.T) {
	cases := []belvo.AsyncRequest{
		{Op: belvo.OpInvoices, LinkID: linkID, DateFrom: "2026-10-01", DateTo: "2026-10-31"},     // no type
		{Op: belvo.OpTransactions, LinkID: linkID, DateFrom: "2026-10-31", DateTo: "2026-10-01"}, // reversed
		{Op: belvo.OpTransactions, LinkID: "", DateFrom: "2026-10-01", DateTo: "2026-10-31"},     // no link
		{Op: "bananas", LinkID: linkID}, // unknown op
		{Op: belvo.OpInvoices, LinkID: linkID, DateFrom: "2026-10-01", DateTo: "2026-10-31", Type: "BOTH"}, // bad type
	}
	for _, req := range cases {
		env := newEnv(t)
		var a *activities.Activities
		env.RegisterActivity(a)
		env.ExecuteWorkflow(workflows.AsyncPost, workflows.AsyncPostInput{ClientRequestID: "c1", Request: req})
		var appErr *temporal.ApplicationError
		if err := env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != "InvalidInput" {
			t.Errorf("%+v: error %v, want InvalidInput", req, err)
		}
	}
}

// The waiter had completed for this very request (an earlier attempt's
// answer was lost): the sender succeeds; completed for another: it fails.
func TestAsyncPostWhenTheWaiterAlreadyCompleted(t *testing.T) {
	cases := []struct {
		owner   string
		wantErr bool
	}{{"c1", false}, {"someone-else", true}}
	for _, c := range cases {
		env := newEnv(t)
		var a *activities.Activities
		env.RegisterActivity(a)
		env.OnActivity(a.StartAsync, mock.Anything, txRequest).Return(rid, nil)
		done, _ := json.Marshal(workflows.AsyncProgress{RequestID: rid, Status: workflows.StatusCompleted, ClientRequestID: c.owner})
		env.OnActivity(a.SignalWithStart, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in activities.SignalWithStartInput) (activities.SignalWithStartResult, error) {
				if in.WorkflowType == workflows.AsyncRequestType {
					return activities.SignalWithStartResult{ClosedResult: done}, nil
				}
				return activities.SignalWithStartResult{RunID: "registry"}, nil
			})
		env.ExecuteWorkflow(workflows.AsyncPost, workflows.AsyncPostInput{ClientRequestID: "c1", Request: txRequest})
		if err := env.GetWorkflowError(); (err != nil) != c.wantErr {
			t.Errorf("completed for %q: error %v, want error %v", c.owner, err, c.wantErr)
		}
	}
}
