//go:build integration

package integration

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/workflows"
)

// runAsync sends one async request through the starter and waits for its
// execution to end.
func (s *testStack) runAsync(req belvo.AsyncRequest) (workflows.AsyncPostResult, workflows.AsyncProgress, error) {
	s.t.Helper()
	res, err := s.starter.StartAsync(s.ctx(time.Minute), uuid.NewString(), req)
	if err != nil {
		s.t.Fatalf("start async %s: %v", req.Op, err)
	}
	p, err := s.starter.WaitAsync(s.ctx(time.Minute), res.RequestID)
	return res, p, err
}

// assertAsyncStored checks that the store holds exactly the rows the request
// produced at the sandbox (the link had none of that resource before).
func (s *testStack) assertAsyncStored(req belvo.AsyncRequest, p workflows.AsyncProgress) {
	s.t.Helper()
	op, _ := belvo.LookupAsyncOp(req.Op)
	want := s.sandbox.Count(req.LinkID, op.Resource, req.ListFilters())
	got, err := s.store.Count(context.Background(), op.Resource, req.LinkID)
	if err != nil {
		s.t.Fatal(err)
	}
	if want == 0 || got != want || p.BelvoCount != want || p.Status != workflows.StatusCompleted {
		s.t.Errorf("%s: store %d rows, sandbox %d, execution says %d (%s)", req.Op, got, want, p.BelvoCount, p.Status)
	}
}

// One integration test per async endpoint of the table: the request's data
// ends in the store, exactly.
func TestAsyncEndpoints(t *testing.T) {
	s := newStack(t, sandbox.Config{Transactions: 3000, Invoices: 90}, 0)
	link := s.registerOnly("it-async-endpoints", "recurrent").LinkID
	cases := []belvo.AsyncRequest{
		{Op: belvo.OpTransactions, LinkID: link, DateFrom: "2026-09-01", DateTo: "2026-10-15"},
		{Op: belvo.OpEmploymentRecords, LinkID: link},
		{Op: belvo.OpBRemployments, LinkID: link},
		{Op: belvo.OpFinancialStatements, LinkID: link},
		{Op: belvo.OpCLInvoices, LinkID: link, DateFrom: "2026-09-01", DateTo: "2026-10-31"},
		{Op: belvo.OpCLDebtReports, LinkID: link},
	}
	for i, req := range cases {
		t.Run(string(req.Op), func(t *testing.T) {
			res, p, err := s.runAsync(req)
			if err != nil {
				t.Fatalf("async %s: %v", req.Op, err)
			}
			s.assertAsyncStored(req, p)
			if i == 0 {
				// The histories of older releases stay in workflows/testdata
				// beside these (executions they started may still run).
				assertReplays(t, s, res.RequestWorkflowID, "async_request_by_resource_history.json")
				assertReplays(t, s, s.onlyExecution(workflows.AsyncPostType, link), "async_post_local_handover_history.json")
				assertReplays(t, s, workflows.LinkRequestsWorkflowID(link), "link_requests_wait_for_own_history.json")
			}
		})
	}
}

// Async invoices of both types: each request stores exactly its own rows.
func TestAsyncInvoicesBothTypes(t *testing.T) {
	s := newStack(t, sandbox.Config{Invoices: 120}, 0)
	link := s.registerOnly("it-async-invoices", "single").LinkID
	total := 0
	for _, typ := range []string{"INFLOW", "OUTFLOW"} {
		req := belvo.AsyncRequest{Op: belvo.OpInvoices, LinkID: link, DateFrom: "2026-08-01", DateTo: "2026-10-31", Type: typ}
		_, p, err := s.runAsync(req)
		if err != nil {
			t.Fatalf("async invoices %s: %v", typ, err)
		}
		want := s.sandbox.Count(link, belvo.Invoices, req.ListFilters())
		if p.BelvoCount != want || want == 0 {
			t.Errorf("%s: execution listed %d, sandbox has %d", typ, p.BelvoCount, want)
		}
		total += want
	}
	if got, _ := s.store.Count(context.Background(), belvo.Invoices, link); got != total {
		t.Errorf("store has %d invoices, want %d (INFLOW + OUTFLOW)", got, total)
	}
}

// Async deletion of a link ends on link_deleted.
func TestAsyncLinkDeletion(t *testing.T) {
	s := newStack(t, sandbox.Config{}, 0)
	link := s.registerOnly("it-async-delete", "single").LinkID
	_, p, err := s.runAsync(belvo.AsyncRequest{Op: belvo.OpLinkDeletion, LinkID: link})
	if err != nil {
		t.Fatalf("async deletion: %v", err)
	}
	if p.Status != workflows.StatusCompleted || p.Webhook == nil || p.Webhook.Code != "link_deleted" {
		t.Errorf("deletion progress %+v", p)
	}
	if _, err := s.belvo.GetLink(context.Background(), link); !isStatus(err, 404) {
		t.Errorf("link still readable after deletion: %v", err)
	}
}

// The race, every order: the webhook before the 202 is recorded, and twice.
func TestAsyncWebhookOrders(t *testing.T) {
	cases := []struct {
		name string
		cfg  sandbox.Config
	}{
		{"webhook after the 202", sandbox.Config{AsyncDelay: 300 * time.Millisecond}},
		{"webhook before the 202", sandbox.Config{AsyncWebhookBefore202: true}},
		{"webhook twice", sandbox.Config{DuplicateWebhooks: true}},
		{"webhook twice, before the 202", sandbox.Config{DuplicateWebhooks: true, AsyncWebhookBefore202: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.Transactions = 2500
			s := newStack(t, c.cfg, 0)
			link := s.registerOnly("it-order", "single").LinkID
			req := belvo.AsyncRequest{Op: belvo.OpTransactions, LinkID: link, DateFrom: "2026-06-01", DateTo: "2026-10-31"}
			res, p, err := s.runAsync(req)
			if err != nil {
				t.Fatalf("async transactions: %v", err)
			}
			s.assertAsyncStored(req, p)
			// Either way the sender's details reach the request first: a
			// webhook that comes before the 202 is held by the link's
			// registry until the request_id is known.
			if first := firstSignal(t, s, res.RequestWorkflowID); first != workflows.AsyncDetailsSignal {
				t.Errorf("first signal %q: want the sender's details first", first)
			}
			if c.cfg.AsyncWebhookBefore202 {
				held := false
				for _, ev := range fetchHistory(t, s.client, workflows.LinkRequestsWorkflowID(link)).GetEvents() {
					if a := ev.GetWorkflowExecutionSignaledEventAttributes(); a != nil && a.GetSignalName() == workflows.WebhookSignal {
						held = true
					}
				}
				if !held {
					t.Error("the webhook that came before the 202 did not go through the link's registry")
				}
			}
			if c.cfg.DuplicateWebhooks {
				// The second copy was either counted by the execution or
				// acknowledged by the bridge as a duplicate of a completed
				// request: seen exactly once, never processed twice.
				waitFor(t, 10*time.Second, func() bool { return s.sandbox.Delivered() >= 2 })
				copies := p.DuplicateWebhooks
				if strings.Contains(metrics(t, s.bridgeURL), "belvo_bridge_duplicates_total 1") {
					copies++
				}
				if copies != 1 {
					t.Errorf("second copy seen %d times (execution counted %d), want exactly once", copies, p.DuplicateWebhooks)
				}
			}
		})
	}
}

// A webhook whose request_id belongs to no request of this product keeps
// its route by code, even when it claims process_type async_request: here
// a second historical_update for the link's transactions, listed again by
// the link's fetch. No request execution is started for it.
func TestWebhookOfAnotherRequestKeepsItsRoute(t *testing.T) {
	s := newStack(t, sandbox.Config{Transactions: 1200}, 0)
	reg := s.registerOnly("it-foreign", "single", belvo.Transactions)
	if _, err := s.starter.WaitFetch(s.ctx(time.Minute), reg.LinkID); err != nil {
		t.Fatal(err)
	}
	foreign := "f0reign" + uuid.NewString()[:8]
	lists := s.sandbox.ListRequests(reg.LinkID)
	s.sandbox.Send(sandbox.Webhook{WebhookID: "w-foreign", WebhookType: "TRANSACTIONS", ProcessType: sandbox.ProcessTypeAsync,
		WebhookCode: "historical_update", LinkID: reg.LinkID, RequestID: foreign, Data: map[string]any{}})
	waitFor(t, 30*time.Second, func() bool {
		return s.sandbox.ListRequests(reg.LinkID) > lists && s.countRunning(reg.LinkID, workflows.HistoricalFetchType) == 0
	})
	if n := s.countExecutions("BelvoRequestID", foreign, workflows.AsyncRequestType); n != 0 {
		t.Errorf("%d AsyncRequest executions for a request nobody here sent", n)
	}
	if got := s.count(belvo.Transactions, reg.LinkID); got != 1200 {
		t.Errorf("store has %d transactions, want 1200", got)
	}
}

// Belvo reporting the request failed ends it with a typed failure carrying
// Belvo's code and the request id: no retry loop.
func TestFailedAsyncRequest(t *testing.T) {
	s := newStack(t, sandbox.Config{FailAsync: "institution_down"}, 0)
	link := s.registerOnly("it-async-failed", "single").LinkID
	res, _, err := s.runAsync(belvo.AsyncRequest{Op: belvo.OpTransactions, LinkID: link, DateFrom: "2026-10-01", DateTo: "2026-10-31"})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != "AsyncRequestFailed" {
		t.Fatalf("error %v, want AsyncRequestFailed", err)
	}
	var f workflows.AsyncRequestFailure
	if err := appErr.Details(&f); err != nil || f.Code != "institution_down" || f.RequestID != res.RequestID {
		t.Errorf("failure details %+v, %v", f, err)
	}
	assertStatus(t, s, "BelvoRequestID", res.RequestID, workflows.AsyncRequestType, workflows.StatusFailed)
}

// A GET that cannot succeed (403) ends the request with a typed failure too.
func TestAsyncRequestWhoseListingFails(t *testing.T) {
	s := newStack(t, sandbox.Config{FailListsWith: 403}, 0)
	link := s.registerOnly("it-async-get-fails", "single").LinkID
	_, _, err := s.runAsync(belvo.AsyncRequest{Op: belvo.OpTransactions, LinkID: link, DateFrom: "2026-10-01", DateTo: "2026-10-31"})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != "AsyncRequestFailed" {
		t.Fatalf("error %v, want AsyncRequestFailed", err)
	}
}

// The same client request id twice sends one request.
func TestAsyncStartIsIdempotent(t *testing.T) {
	s := newStack(t, sandbox.Config{}, 0)
	link := s.registerOnly("it-async-idem", "single").LinkID
	req := belvo.AsyncRequest{Op: belvo.OpTransactions, LinkID: link, DateFrom: "2026-10-01", DateTo: "2026-10-31"}
	a, err := s.starter.StartAsync(s.ctx(time.Minute), "same-key", req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.starter.StartAsync(s.ctx(time.Minute), "same-key", req)
	if err != nil || a.RequestID != b.RequestID {
		t.Fatalf("second start: %+v, %v; first %+v", b, err, a)
	}
	if n := s.sandbox.AsyncRequests(); n != 1 {
		t.Errorf("Belvo received %d async requests, want 1", n)
	}
}

// firstSignal is the name of the first signal in an execution's history.
func firstSignal(t *testing.T, s *testStack, workflowID string) string {
	t.Helper()
	for _, ev := range fetchHistory(t, s.client, workflowID).GetEvents() {
		if a := ev.GetWorkflowExecutionSignaledEventAttributes(); a != nil {
			return a.GetSignalName()
		}
	}
	return ""
}

func isStatus(err error, status int) bool {
	var api *belvo.APIError
	return errors.As(err, &api) && api.StatusCode == status
}

// workflowIDs are the ids of the executions a visibility query finds.
func (s *testStack) workflowIDs(query string) map[string]bool {
	resp, err := s.client.ListWorkflow(context.Background(), &workflowListRequest{Query: query})
	if err != nil {
		s.t.Fatalf("list %q: %v", query, err)
	}
	ids := map[string]bool{}
	for _, e := range resp.Executions {
		ids[e.GetExecution().GetWorkflowId()] = true
	}
	return ids
}

// countExecutions counts executions of a type by a keyword search attribute.
func (s *testStack) countExecutions(attr, value, workflowType string) int {
	resp, err := s.client.ListWorkflow(context.Background(), &workflowListRequest{
		Query: fmt.Sprintf("%s = '%s' AND WorkflowType = '%s'", attr, value, workflowType)})
	if err != nil {
		s.t.Fatal(err)
	}
	return len(resp.Executions)
}

// assertStatus waits until the execution found by a search attribute shows
// the BelvoStatus a person would see in the web UI.
func assertStatus(t *testing.T, s *testStack, attr, value, workflowType, status string) {
	t.Helper()
	q := fmt.Sprintf("%s = '%s' AND WorkflowType = '%s'", attr, value, workflowType)
	waitFor(t, 20*time.Second, func() bool {
		resp, err := s.client.ListWorkflow(context.Background(), &workflowListRequest{Query: q})
		if err != nil || len(resp.Executions) != 1 {
			return false
		}
		got, _ := searchKeyword(resp.Executions[0], "BelvoStatus")
		return got == status
	})
}

// countRunning counts a link's running executions of a type.
func (s *testStack) countRunning(linkID, workflowType string) int {
	resp, err := s.client.ListWorkflow(context.Background(), &workflowListRequest{
		Query: fmt.Sprintf("BelvoLinkID = '%s' AND WorkflowType = '%s' AND ExecutionStatus = 'Running'", linkID, workflowType)})
	if err != nil {
		s.t.Fatal(err)
	}
	return len(resp.Executions)
}
