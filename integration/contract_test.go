//go:build integration

package integration

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/workflows"
)

// These tests hold the product to Belvo's published contract rather than
// to one emulator's habits: the emulator sends each webhook shape Belvo's
// documents allow, and every request the product sends is checked against
// Belvo's specs (the stack's specval middleware).

// Async transactions, async invoices and a link refresh complete with
// exact filtered counts under every completion shape (historical_update
// as v1.223.0 shows, new_*_available as v1.35.0 shows, our old
// async_request assumption, no process_type), with the webhook before and
// after Belvo's 202 reaches the product. No request's webhook relists the
// link's history: no HistoricalFetch or LinkUpdates runs for the link.
func TestRequestsCompleteUnderEveryWebhookShape(t *testing.T) {
	for _, shape := range sandbox.CompletionShapes() {
		for _, before := range []bool{false, true} {
			name := fmt.Sprintf("%s/webhook %s the 202", shape, map[bool]string{false: "after", true: "before"}[before])
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				s := newStack(t, sandbox.Config{CompletionShape: shape, AsyncWebhookBefore202: before, Transactions: 2500, Invoices: 90}, 0)
				link := s.registerOnly("it-shape", "single").LinkID // no historical fetch: the store holds only what requests bring

				tx := belvo.AsyncRequest{Op: belvo.OpTransactions, LinkID: link, DateFrom: "2026-06-01", DateTo: "2026-10-15"}
				_, p, err := s.runAsync(tx)
				if err != nil {
					t.Fatalf("async transactions: %v", err)
				}
				s.assertAsyncStored(tx, p)

				inv := belvo.AsyncRequest{Op: belvo.OpInvoices, LinkID: link, DateFrom: "2026-08-01", DateTo: "2026-10-31", Type: "OUTFLOW"}
				if _, p, err = s.runAsync(inv); err != nil {
					t.Fatalf("async invoices: %v", err)
				}
				s.assertAsyncStored(inv, p)

				refresh := []belvo.Resource{belvo.Accounts, belvo.Transactions, belvo.Owners}
				res, err := s.starter.Refresh(s.ctx(time.Minute), uuid.NewString(), link, refresh)
				if err != nil {
					t.Fatalf("refresh: %v", err)
				}
				rp, err := s.starter.WaitAsync(s.ctx(time.Minute), res.RequestID)
				if err != nil {
					t.Fatalf("refresh %s: %v", res.RequestID, err)
				}
				for _, r := range refresh {
					want := s.sandbox.Count(link, r, nil)
					if got := s.count(r, link); got != want || want == 0 || rp.Resources[r] == nil || rp.Resources[r].State != workflows.StateStored {
						t.Errorf("refresh %s: store %d rows, Belvo %d, execution %+v", r, got, want, rp.Resources[r])
					}
				}

				for _, typ := range []string{workflows.HistoricalFetchType, workflows.LinkUpdatesType, workflows.UnroutedWebhooksType} {
					if n := s.countExecutions("BelvoLinkID", link, typ); n != 0 {
						t.Errorf("a request's webhook started %d %s executions for the link", n, typ)
					}
				}
				if before {
					// The webhooks came while their requests were in flight:
					// the link's registry held them until the request_ids
					// were known, then handed them to their requests.
					var reg workflows.LinkRequestsProgress
					if err := s.client.GetWorkflow(s.ctx(10*time.Second), workflows.LinkRequestsWorkflowID(link), "").Get(s.ctx(10*time.Second), &reg); err != nil {
						t.Fatalf("the link's registry: %v", err)
					}
					if reg.ToRequests < 1 || reg.ByCode != 0 {
						t.Errorf("registry forwarded %d webhooks to requests and %d by code, want ≥ 1 and 0", reg.ToRequests, reg.ByCode)
					}
					// The registry forwards by local activities: no activity
					// task, no workflow task per forward (local-forward).
					for _, ev := range fetchHistory(t, s.client, workflows.LinkRequestsWorkflowID(link)).Events {
						if ev.GetEventType() == enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED {
							t.Errorf("the registry forwarded by activity (event %d: %s)", ev.GetEventId(),
								ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName())
						}
					}
					if shape == sandbox.CompletionHistorical {
						// A registry that held and forwarded webhooks.
						assertReplays(t, s, workflows.LinkRequestsWorkflowID(link), "link_requests_local_forward_history.json")
					}
				}
			})
		}
	}
}

// Belvo answering 429 (with Retry-After) to the first POSTs: nothing
// happened at Belvo, so the registration and the async request are sent
// again and complete; each is taken exactly once.
func TestRateLimitedPostsStillComplete(t *testing.T) {
	s := newStack(t, sandbox.Config{RateLimitPosts: 2, Transactions: 1500}, 0)
	reg := s.registerOnly("it-429", "single") // POST 1: 429, POST 2: created
	req := belvo.AsyncRequest{Op: belvo.OpTransactions, LinkID: reg.LinkID, DateFrom: "2026-09-01", DateTo: "2026-10-31"}
	_, p, err := s.runAsync(req) // POST 3: 429, POST 4: accepted
	if err != nil {
		t.Fatalf("async after a 429: %v", err)
	}
	s.assertAsyncStored(req, p)
	if n := s.sandbox.AsyncRequests(); n != 1 {
		t.Errorf("Belvo took %d async requests, want exactly 1", n)
	}
	links, err := s.belvo.ListLinks(context.Background(), belvo.LinkFilter{ExternalID: "it-429"})
	if err != nil || len(links) != 1 {
		t.Errorf("Belvo has %d links for the registration, want 1 (%v)", len(links), err)
	}
}

// A page slower than the 20 s heartbeat timeout but inside the 60 s HTTP
// timeout: the listing heartbeats while it waits, so the attempt is not
// killed and the fetch completes, exactly, in one attempt.
func TestSlowPageLongerThanTheHeartbeatTimeout(t *testing.T) {
	faults, err := sandbox.ParseFaults("ok,slow:25s")
	if err != nil {
		t.Fatal(err)
	}
	s := newStack(t, sandbox.Config{Transactions: 2345, ListFaults: faults}, 0)
	reg := s.registerOnly("it-slow-page", "single", belvo.Transactions)
	p, err := s.starter.WaitFetch(s.ctx(3*time.Minute), reg.LinkID)
	if err != nil {
		t.Fatalf("fetch with a 25 s page: %v (%s)", err, describe(p))
	}
	if got := s.count(belvo.Transactions, reg.LinkID); got != 2345 {
		t.Errorf("store has %d transactions, want 2345", got)
	}
	if s.sandbox.FaultsLeft() != 0 {
		t.Fatal("the slow page was never served")
	}
	for _, ev := range fetchHistory(t, s.client, reg.FetchWorkflowID).GetEvents() {
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil && a.GetAttempt() > 1 {
			t.Errorf("an activity needed attempt %d: the slow page killed an attempt", a.GetAttempt())
		}
		if ev.GetEventType() == enums.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT {
			t.Error("an activity timed out")
		}
	}
}

// Deleting a link, by Belvo's link_deleted webhook or by this product's
// async deletion, removes its rows from every table; a webhook that comes
// for the link afterwards starts nothing that waits for ever.
func TestDeletedLinkLeavesNoRows(t *testing.T) {
	cases := []struct {
		name   string
		delete func(s *testStack, link string)
	}{
		{"async deletion", func(s *testStack, link string) {
			if _, _, err := s.runAsync(belvo.AsyncRequest{Op: belvo.OpLinkDeletion, LinkID: link}); err != nil {
				s.t.Fatalf("async deletion: %v", err)
			}
		}},
		{"link_deleted webhook", func(s *testStack, link string) {
			s.event(link, "link_deleted", 1)
			waitFor(s.t, 30*time.Second, func() bool {
				deleted, err := s.store.LinkDeleted(context.Background(), link)
				return err == nil && deleted
			})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStack(t, sandbox.Config{Transactions: 1500}, 0)
			reg, _, err := s.registerLink("it-delete")
			if err != nil {
				t.Fatal(err)
			}
			link := reg.LinkID
			req := belvo.AsyncRequest{Op: belvo.OpInvoices, LinkID: link, DateFrom: "2026-08-01", DateTo: "2026-10-31", Type: "INFLOW"}
			if _, _, err := s.runAsync(req); err != nil {
				t.Fatalf("async invoices: %v", err)
			}
			if s.count(belvo.Transactions, link) == 0 || s.count(belvo.Invoices, link) == 0 {
				t.Fatal("nothing stored before the deletion")
			}
			c.delete(s, link)
			for _, r := range belvo.AllResources() {
				if n := s.count(r, link); n != 0 {
					t.Errorf("%s: %d rows of the deleted link left", r, n)
				}
			}
			// A late webhook for the deleted link: executions start and end.
			late := uuid.NewString()[:8]
			s.sandbox.Send(sandbox.Webhook{WebhookID: "late-h-" + late, WebhookType: "TRANSACTIONS", ProcessType: "historical_update",
				WebhookCode: "historical_update", LinkID: link, RequestID: "late" + late, Data: map[string]any{}})
			s.sandbox.Send(sandbox.Webhook{WebhookID: "late-r-" + late, WebhookType: "TRANSACTIONS", ProcessType: "recurrent_update",
				WebhookCode: "new_transactions_available", LinkID: link, RequestID: "later" + late, Data: map[string]any{}})
			waitFor(t, 30*time.Second, func() bool {
				return s.countExecutions("BelvoLinkID", link, workflows.HistoricalFetchType) >= 1 &&
					s.countRunning(link, workflows.HistoricalFetchType) == 0 && s.countRunning(link, workflows.LinkUpdatesType) == 0
			})
			for _, r := range belvo.AllResources() {
				if n := s.count(r, link); n != 0 {
					t.Errorf("%s: %d rows came back after a late webhook", r, n)
				}
			}
		})
	}
}

// Belvo's 10-minute refresh cooldown is a typed, visible outcome that says
// when to retry; the emulator enforces it.
func TestRefreshCooldownSaysWhenToRetry(t *testing.T) {
	s := newStack(t, sandbox.Config{RefreshCooldown: time.Hour}, 0)
	link := s.registerOnly("it-cooldown", "recurrent", belvo.Accounts).LinkID
	if _, err := s.starter.WaitFetch(s.ctx(time.Minute), link); err != nil {
		t.Fatal(err)
	}
	first, err := s.starter.Refresh(s.ctx(time.Minute), uuid.NewString(), link, nil) // the link's own resources
	if err != nil {
		t.Fatalf("first refresh: %v", err)
	}
	p, err := s.starter.WaitAsync(s.ctx(time.Minute), first.RequestID)
	if err != nil || p.Resources[belvo.Accounts] == nil || p.Resources[belvo.Accounts].State != workflows.StateStored {
		t.Fatalf("first refresh: %+v, %v", p, err)
	}
	_, err = s.starter.Refresh(s.ctx(time.Minute), uuid.NewString(), link, nil)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != belvo.ClassRefreshCooldown {
		t.Fatalf("second refresh: %v, want %s", err, belvo.ClassRefreshCooldown)
	}
	var c workflows.RefreshCooldown
	if err := appErr.Details(&c); err != nil || c.Wait < 50*time.Minute || c.Wait > time.Hour || time.Until(c.RetryAt) < 50*time.Minute {
		t.Errorf("cooldown details %+v (%v), want about an hour", c, err)
	}
	if n := s.sandbox.Refreshes(link); n != 1 {
		t.Errorf("Belvo took %d refreshes, want 1", n)
	}
}

// A webhook whose code no route handles (one Belvo adds tomorrow) is kept
// whole and durably, not only logged; a valid JSON body without a
// Content-Type header is accepted.
func TestUnroutedWebhookIsKept(t *testing.T) {
	s := newStack(t, sandbox.Config{}, 0)
	link := uuid.NewString()
	body := `{"webhook_id":"w-new","webhook_type":"LINK","webhook_code":"consent_renewed","link_id":"` + link +
		`","request_id":"r-new","external_id":null,"data":{"renewed_until":"2027-11-29"}}`
	req, _ := http.NewRequest(http.MethodPost, s.bridgeURL+"/webhooks/belvo", strings.NewReader(body))
	req.Header.Set("Authorization", webhookAuth) // and no Content-Type
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("bridge answered %v, %v", resp, err)
	}
	var p workflows.UnroutedWebhooksProgress
	waitFor(t, 20*time.Second, func() bool {
		v, err := s.client.QueryWorkflow(context.Background(), workflows.UnroutedWebhooksWorkflowID(link), "", workflows.ProgressQuery)
		return err == nil && v.Get(&p) == nil && len(p.Webhooks) == 1
	})
	if w := p.Webhooks[0]; w.Code != "consent_renewed" || !strings.Contains(string(w.Data), "2027-11-29") {
		t.Errorf("kept %+v", w)
	}
}
