package workflows_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/workflows"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
)

func announce(key string) workflows.RequestNotice {
	return workflows.RequestNotice{Announce: &workflows.Announcement{Key: key, Request: txRequest}}
}

func resolved(key, requestID, outcome string) workflows.RequestNotice {
	return workflows.RequestNotice{Resolve: &workflows.Resolution{Key: key, RequestID: requestID, Outcome: outcome}}
}

func linkHook(id, requestID string) workflows.WebhookEvent {
	return workflows.WebhookEvent{WebhookID: id, Type: "TRANSACTIONS", ProcessType: "historical_update", Code: "historical_update",
		LinkID: linkID, RequestID: requestID}
}

// timed is a signal sent at a time.
type timed struct {
	at     time.Duration
	name   string
	signal any
}

// TestLinkRequests drives a link's registry through the orders a request
// and its webhook can take, and checks where every webhook went and when.
func TestLinkRequests(t *testing.T) {
	cases := []struct {
		name    string
		signals []timed
		// senderRuns answers ExecutionOpen for an old announcement.
		senderRuns bool
		// want: the forwards, in order, as "webhook→target(known)".
		want []string
		// by: the latest time (from the start) each named webhook may be
		// forwarded at.
		by map[string]time.Duration
		// cancelAt cancels the registry then; what it holds must still go.
		cancelAt time.Duration
	}{
		{name: "its webhook before the 202: held, then to its request", want: []string{"w1→async-request-Q1 known"},
			signals: []timed{{0, workflows.RequestNoticeSignal, announce("P1")}, {time.Minute, workflows.WebhookSignal, linkHook("w1", "Q1")},
				{2 * time.Minute, workflows.RequestNoticeSignal, resolved("P1", "Q1", workflows.OutcomeAccepted)}}},
		{name: "a webhook of no request of ours waits, then takes its route by code", want: []string{"w9→async-request-Q9 or historical-fetch"},
			signals: []timed{{0, workflows.RequestNoticeSignal, announce("P1")}, {time.Minute, workflows.WebhookSignal, linkHook("w9", "Q9")},
				{2 * time.Minute, workflows.RequestNoticeSignal, resolved("P1", "Q1", workflows.OutcomeAccepted)}}},
		{name: "a resolved request's webhook goes at once while another request is in flight",
			want: []string{"w1→async-request-Q1 known", "w2→async-request-Q2 known"},
			signals: []timed{{0, workflows.RequestNoticeSignal, announce("P1")}, {0, workflows.RequestNoticeSignal, announce("P2")},
				{time.Minute, workflows.RequestNoticeSignal, resolved("P1", "Q1", workflows.OutcomeAccepted)},
				{2 * time.Minute, workflows.WebhookSignal, linkHook("w1", "Q1")},
				{3 * time.Minute, workflows.WebhookSignal, linkHook("w2", "Q2")},
				{4 * time.Minute, workflows.RequestNoticeSignal, resolved("P2", "Q2", workflows.OutcomeAccepted)}}},
		{name: "a refused request holds nothing and the registry ends",
			signals: []timed{{0, workflows.RequestNoticeSignal, announce("P1")},
				{time.Minute, workflows.RequestNoticeSignal, resolved("P1", "", workflows.OutcomeRefused)}}},
		{name: "a sender that ended without resolving stops holding the link's webhooks", want: []string{"w9→async-request-Q9 or historical-fetch"},
			signals: []timed{{0, workflows.RequestNoticeSignal, announce("P1")}, {time.Minute, workflows.WebhookSignal, linkHook("w9", "Q9")}}},
		{name: "a webhook waits only for the requests announced before it",
			want: []string{"w9→async-request-Q9 or historical-fetch"}, by: map[string]time.Duration{"w9": 2 * time.Minute},
			signals: []timed{{0, workflows.RequestNoticeSignal, announce("P1")}, {time.Minute, workflows.WebhookSignal, linkHook("w9", "Q9")},
				{90 * time.Second, workflows.RequestNoticeSignal, announce("P2")},
				{2 * time.Minute, workflows.RequestNoticeSignal, resolved("P1", "Q1", workflows.OutcomeAccepted)},
				{time.Hour, workflows.RequestNoticeSignal, resolved("P2", "Q2", workflows.OutcomeAccepted)}}},
		{name: "a steady stream of webhooks does not postpone the sender check",
			want: []string{"w1→async-request-Q1 or historical-fetch", "w2→async-request-Q2 or historical-fetch"},
			by:   map[string]time.Duration{"w1": 11 * time.Minute, "w2": 11 * time.Minute},
			signals: []timed{{0, workflows.RequestNoticeSignal, announce("P1")},
				{4 * time.Minute, workflows.WebhookSignal, linkHook("w1", "Q1")}, {8 * time.Minute, workflows.WebhookSignal, linkHook("w2", "Q2")}}},
		{name: "cancelled with a webhook held: the webhook still goes", senderRuns: true, cancelAt: 3 * time.Minute,
			want: []string{"w9→async-request-Q9 or historical-fetch"}, by: map[string]time.Duration{"w9": 3 * time.Minute},
			signals: []timed{{0, workflows.RequestNoticeSignal, announce("P1")}, {time.Minute, workflows.WebhookSignal, linkHook("w9", "Q9")}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := newEnv(t)
			var a *activities.Activities
			env.RegisterActivity(a)
			var mu sync.Mutex
			var got []string
			at := map[string]time.Duration{}
			start := env.Now()
			env.OnActivity(a.ForwardWebhook, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in activities.ForwardInput) (activities.ForwardResult, error) {
					mu.Lock()
					defer mu.Unlock()
					var ev workflows.WebhookEvent
					_ = json.Unmarshal(in.Fallback.Signal, &ev)
					at[ev.WebhookID] = env.Now().Sub(start)
					if in.RequestKnown {
						got = append(got, ev.WebhookID+"→"+in.Request.WorkflowID+" known")
					} else {
						got = append(got, ev.WebhookID+"→"+in.Request.WorkflowID+" or historical-fetch")
					}
					if in.Fallback.WorkflowID != workflows.HistoricalFetchWorkflowID(linkID) {
						t.Errorf("route by code %s, want the link's historical fetch", in.Fallback.WorkflowID)
					}
					return activities.ForwardResult{ToRequest: in.RequestKnown}, nil
				}).Maybe()
			env.OnActivity(a.ExecutionOpen, mock.Anything, mock.Anything).Return(c.senderRuns, nil).Maybe()
			for _, s := range c.signals {
				env.RegisterDelayedCallback(func() { env.SignalWorkflow(s.name, s.signal) }, s.at)
			}
			if c.cancelAt > 0 {
				env.RegisterDelayedCallback(env.CancelWorkflow, c.cancelAt)
			}
			env.ExecuteWorkflow(workflows.LinkRequests, workflows.LinkRequestsInput{LinkID: linkID})
			var p workflows.LinkRequestsProgress
			_ = env.GetWorkflowResult(&p)
			if err := env.GetWorkflowError(); c.cancelAt == 0 && err != nil {
				t.Fatal(err)
			} else if c.cancelAt > 0 && !temporal.IsCanceledError(err) {
				t.Fatalf("ended with %v, want cancelled", err)
			}
			if p.Held != 0 || c.cancelAt == 0 && len(p.Pending) != 0 {
				t.Errorf("ended with %d pending and %d held", len(p.Pending), p.Held)
			}
			for id, by := range c.by {
				if got, ok := at[id]; !ok || got > by {
					t.Errorf("%s forwarded at %v (sent: %v), want by %v", id, got, ok, by)
				}
			}
			if len(got) != len(c.want) {
				t.Fatalf("forwards %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("forward %d: %s, want %s", i, got[i], c.want[i])
				}
			}
		})
	}
}

// ForwardFor builds one delivery per webhook: to the request's execution
// when it carries a request_id, with the link's route by code behind it.
func TestForwardFor(t *testing.T) {
	cases := []struct {
		ev           workflows.WebhookEvent
		wantRequest  string
		wantFallback string
	}{
		{linkHook("w", "Q"), "async-request-Q", workflows.HistoricalFetchWorkflowID(linkID)},
		{workflows.WebhookEvent{WebhookID: "w", Type: "TRANSACTIONS", Code: "new_transactions_available", LinkID: linkID, RequestID: "Q"},
			"async-request-Q", workflows.LinkUpdatesWorkflowID(linkID)},
		{workflows.WebhookEvent{WebhookID: "w", Type: "LINK", Code: "link_deleted", LinkID: linkID}, "", workflows.LinkUpdatesWorkflowID(linkID)},
		{workflows.WebhookEvent{WebhookID: "w", Type: "LINK", Code: "brand_new_code", LinkID: linkID}, "", workflows.UnroutedWebhooksWorkflowID(linkID)},
		{workflows.WebhookEvent{WebhookID: "w", Type: "X", Code: "brand_new_code", RequestID: "Q"}, "async-request-Q", "unrouted-webhooks-request-Q"},
	}
	for _, c := range cases {
		in, err := workflows.ForwardFor(c.ev, "q", workflows.RouteDefaults{}, false)
		if err != nil {
			t.Fatal(err)
		}
		gotReq := ""
		if in.Request != nil {
			gotReq = in.Request.WorkflowID
			if !in.Request.Once || in.Request.WorkflowType != workflows.AsyncRequestType {
				t.Errorf("%s: request target %+v", c.ev.Code, in.Request)
			}
		}
		if gotReq != c.wantRequest || in.Fallback.WorkflowID != c.wantFallback {
			t.Errorf("%s: request %q fallback %q, want %q %q", c.ev.Code, gotReq, in.Fallback.WorkflowID, c.wantRequest, c.wantFallback)
		}
	}
}

// A run from before waitForOwnVersion carried held webhooks bare; both
// shapes decode to the same webhook.
func TestHeldWebhookDecodesBothShapes(t *testing.T) {
	ev := linkHook("w1", "Q1")
	bare, _ := json.Marshal([]workflows.WebhookEvent{ev})
	wrapped, _ := json.Marshal([]workflows.HeldWebhook{{Webhook: ev, WaitFor: []string{"P1"}}})
	cases := []struct {
		name    string
		raw     []byte
		waitFor int
	}{{"bare, before the version", bare, 0}, {"wrapped", wrapped, 1}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []workflows.HeldWebhook
			if err := json.Unmarshal(c.raw, &got); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Webhook.WebhookID != "w1" || got[0].Webhook.RequestID != "Q1" || len(got[0].WaitFor) != c.waitFor {
				t.Errorf("decoded %+v from %s", got, c.raw)
			}
		})
	}
}

// A local forward that fails within its window goes on as an activity,
// whose retries never end and add no history events; the webhook is
// forwarded once, not held for another local attempt.
func TestLinkRequestsForwardFallsBackToActivity(t *testing.T) {
	env := newEnv(t)
	var a *activities.Activities
	env.RegisterActivity(a)
	var mu sync.Mutex
	calls, locals, remotes := 0, 0, 0
	env.SetOnLocalActivityStartedListener(func(*activity.Info, context.Context, []any) {
		mu.Lock()
		defer mu.Unlock()
		locals++
	})
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		mu.Lock()
		defer mu.Unlock()
		if info.ActivityType.Name == "ForwardWebhook" {
			remotes++
		}
	})
	env.OnActivity(a.ForwardWebhook, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.ForwardInput) (activities.ForwardResult, error) {
			mu.Lock()
			defer mu.Unlock()
			if calls++; calls == 1 {
				return activities.ForwardResult{}, temporal.NewNonRetryableApplicationError("frontend refused", "Test", nil)
			}
			return activities.ForwardResult{ToRequest: true}, nil
		})
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.RequestNoticeSignal, announce("P1")) }, 0)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.WebhookSignal, linkHook("w1", "Q1")) }, time.Minute)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.RequestNoticeSignal, resolved("P1", "Q1", workflows.OutcomeAccepted))
	}, 2*time.Minute)
	env.ExecuteWorkflow(workflows.LinkRequests, workflows.LinkRequestsInput{LinkID: linkID})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var p workflows.LinkRequestsProgress
	if err := env.GetWorkflowResult(&p); err != nil {
		t.Fatal(err)
	}
	if p.ToRequests != 1 || p.Held != 0 || calls != 2 || locals != 1 || remotes != 1 {
		t.Errorf("forwarded %d, held %d; %d calls: %d local, %d by activity; want 1, 0; 2: 1 local, 1 by activity",
			p.ToRequests, p.Held, calls, locals, remotes)
	}
}
