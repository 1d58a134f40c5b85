//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/proto"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/codec"
	"github.com/belvo-temporal/backbone/sandbox"
	wf "github.com/belvo-temporal/backbone/worker"
	"github.com/belvo-temporal/backbone/workflows"
)

// The API flow end to end: registration, webhooks through the bridge, every
// page of every resource into the store, exact counts.
func TestAPILinkFetchStoresExactCounts(t *testing.T) {
	s := newStack(t, sandbox.Config{Transactions: 2500}, 0)
	reg, p, err := s.registerLink("it-api-flow")
	if err != nil {
		t.Fatalf("fetch failed: %v", err)
	}
	want := s.assertStored(reg.LinkID)
	if want[belvo.Transactions] != 2500 || len(want) != 3 {
		t.Fatalf("sandbox expected counts %v", want)
	}
	for r, n := range want {
		rp := p.Resources[r]
		if rp == nil || rp.State != workflows.StateStored || rp.Stored != n || rp.Fetches != 1 {
			t.Errorf("%s progress %+v, want stored %d in one fetch", r, rp, n)
		}
	}
	if p.Resources[belvo.Transactions].Pages != 3 {
		t.Errorf("transactions listed in %d pages, want 3 pages of 1000", p.Resources[belvo.Transactions].Pages)
	}
	assertFindable(t, s, reg.LinkID, "completed")
	// Older recordings stay in workflows/testdata beside this one
	// (executions started by older releases may still run).
	assertReplays(t, s, reg.FetchWorkflowID, "historical_fetch_budget_history.json")
	assertReplays(t, s, s.onlyExecution(workflows.LinkRegistrationType, reg.LinkID), "link_registration_local_handover_history.json")

	// Belvo re-sending every webhook (same ids) after the fetch ended: the
	// copies are recognised from the store and nothing is fetched again.
	listsBefore := s.sandbox.ListRequests(reg.LinkID)
	before := s.sandbox.Delivered()
	resp, err := http.Post(s.sbURL+"/_sandbox/links/"+reg.LinkID+"/webhooks", "application/json", nil)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("resend webhooks: %v %v", err, resp)
	}
	waitFor(t, 30*time.Second, func() bool { return s.sandbox.Delivered() >= before+3 })
	waitFor(t, 30*time.Second, func() bool {
		return s.countRunning(reg.LinkID, workflows.HistoricalFetchType) == 0
	})
	if after := s.sandbox.ListRequests(reg.LinkID); after != listsBefore {
		t.Errorf("duplicates after completion listed %d more pages, want 0", after-listsBefore)
	}
	s.assertStored(reg.LinkID)
}

// Every webhook delivered twice: processed once, stored once.
func TestDuplicateWebhooksProcessedOnce(t *testing.T) {
	s := newStack(t, sandbox.Config{Transactions: 1200, DuplicateWebhooks: true}, 0)
	reg, p, err := s.registerLink("it-duplicates")
	if err != nil {
		t.Fatalf("fetch failed: %v", err)
	}
	s.assertStored(reg.LinkID)
	// Both copies of the last webhook may not have reached the execution
	// before it completed; the second copy then starts a new run, which the
	// store's upserts make harmless. Every copy that reached it is counted.
	t.Logf("progress: %s", describe(p))
	if p.DuplicateWebhooks < 1 || p.DuplicateWebhooks+3 != p.Webhooks {
		t.Errorf("webhooks %d, duplicates %d: every duplicate must be recognised", p.Webhooks, p.DuplicateWebhooks)
	}
	for r, rp := range p.Resources {
		if rp.Fetches != 1 {
			t.Errorf("%s listed %d times, want once: %s", r, rp.Fetches, describe(p))
		}
	}
}

// Belvo calls back before it answers the registration: the bridge starts the
// execution, the registration's SignalWithStart joins it.
func TestWebhooksBeforeRegistrationAnswer(t *testing.T) {
	s := newStack(t, sandbox.Config{Transactions: 1500, EarlyWebhooks: true}, 0)
	reg, p, err := s.registerLink("it-early")
	if err != nil {
		t.Fatalf("fetch failed: %v: %s", err, describe(p))
	}
	s.assertStored(reg.LinkID)
}

// Widget flow: the user connects, Belvo sends every historical_update before
// the app has started anything; the app starts the fetch later by link id.
func TestWidgetLinkWebhooksBeforeExecutionStarts(t *testing.T) {
	s := newStack(t, sandbox.Config{Transactions: 1100}, 0)
	ctx := s.ctx(time.Minute)
	three := []belvo.Resource{belvo.Accounts, belvo.Transactions, belvo.Owners}
	tok, err := s.belvo.CreateWidgetToken(ctx, belvo.WidgetTokenRequest{ExternalID: "it-widget", FetchHistorical: true, FetchResources: three})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"token": tok.Access, "institution": "erebor_mx_retail"})
	resp, err := http.Post(s.sbURL+"/_sandbox/widget/links", "application/json", bytes.NewReader(body))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("widget connect: %v %v", err, resp)
	}
	var link struct {
		LinkID string `json:"link_id"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&link)
	resp.Body.Close()

	// The webhooks alone start the execution (the bridge's SignalWithStart);
	// it learns the expected resources from the link and finishes before
	// the app has asked for anything.
	wfID := workflows.HistoricalFetchWorkflowID(link.LinkID)
	var first workflows.Progress
	waitFor(t, 30*time.Second, func() bool {
		return s.client.GetWorkflow(ctx, wfID, "").Get(ctx, &first) == nil
	})
	if first.Webhooks != 3 || first.ExternalID != "it-widget" || first.Status != workflows.StatusCompleted {
		t.Errorf("webhook-started execution: %s external id %q", describe(first), first.ExternalID)
	}
	// The path that reads the link (webhooks first) has its own recording.
	assertReplays(t, s, wfID, "historical_fetch_widget_budget_history.json")
	s.assertStored(link.LinkID)
	// The widget-started execution learned its resources from the link and
	// is findable by them.
	waitFor(t, 20*time.Second, func() bool {
		return s.workflowIDs(fmt.Sprintf("BelvoLinkID = '%s' AND BelvoResources = 'OWNERS'", link.LinkID))[wfID]
	})

	// The app asks late: a new execution sees the stored history and
	// completes without waiting for webhooks Belvo will not resend.
	id, err := s.starter.FetchLink(ctx, link.LinkID, workflows.FetchRequest{Resources: three, ExternalID: "it-widget", Institution: "erebor_mx_retail"})
	if err != nil {
		t.Fatal(err)
	}
	if id != wfID {
		t.Errorf("workflow id %s, want %s", id, wfID)
	}
	p, err := s.starter.WaitFetch(s.ctx(time.Minute), link.LinkID)
	if err != nil {
		t.Fatalf("late fetch failed: %v", err)
	}
	want, _ := s.sandbox.Expected(link.LinkID)
	for r, n := range want {
		if rp := p.Resources[r]; rp == nil || rp.State != workflows.StateStored || rp.Stored != n {
			t.Errorf("late execution %s: %+v, want stored %d", r, rp, n)
		}
	}
	s.assertStored(link.LinkID)
}

// A resource whose webhook never comes: the execution ends in a visible,
// explained timed-out state, with what did arrive stored.
func TestMissingWebhookTimesOutVisibly(t *testing.T) {
	s := newStack(t, sandbox.Config{Transactions: 300, SkipWebhooks: []belvo.Resource{belvo.Owners}}, 5*time.Second)
	reg, p, err := s.registerLink("it-timeout")
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != "HistoricalFetchTimedOut" {
		t.Fatalf("error %v, want HistoricalFetchTimedOut", err)
	}
	if !bytes.Contains([]byte(appErr.Error()), []byte("OWNERS")) {
		t.Errorf("timeout error does not name the missing resource: %v", appErr)
	}
	_ = p
	for _, r := range []belvo.Resource{belvo.Accounts, belvo.Transactions} {
		n, _ := s.store.Count(context.Background(), r, reg.LinkID)
		want, _ := s.sandbox.Expected(reg.LinkID)
		if n != want[r] {
			t.Errorf("%s stored %d, want %d", r, n, want[r])
		}
	}
	assertFindable(t, s, reg.LinkID, "timed_out")
}

// Belvo failing pages with 500s: the engine's retries still store every row
// exactly once.
func TestTransientBelvoErrorsRetried(t *testing.T) {
	s := newStack(t, sandbox.Config{Transactions: 2200, FailEveryNthList: 3}, 0)
	reg, p, err := s.registerLink("it-flaky")
	if err != nil {
		t.Fatalf("fetch failed: %v: %s", err, describe(p))
	}
	s.assertStored(reg.LinkID)
}

// assertFindable checks the execution is found by its link id search
// attribute, with the expected BelvoStatus, as a person would in the web UI.
func assertFindable(t *testing.T, s *testStack, linkID, status string) {
	t.Helper()
	q := fmt.Sprintf("BelvoLinkID = '%s' AND WorkflowType = '%s'", linkID, workflows.HistoricalFetchType)
	waitFor(t, 20*time.Second, func() bool {
		resp, err := s.client.ListWorkflow(context.Background(), &workflowListRequest{Query: q})
		if err != nil || len(resp.Executions) == 0 {
			return false
		}
		e := resp.Executions[0]
		got, _ := searchKeyword(e, "BelvoStatus")
		return got == status && e.Status != enums.WORKFLOW_EXECUTION_STATUS_RUNNING
	})
}

// onlyExecution is the id of a link's one execution of a workflow type, found
// through visibility (the id of a registration or an async sender derives
// from a key the helpers generate).
func (s *testStack) onlyExecution(workflowType, linkID string) string {
	s.t.Helper()
	q := fmt.Sprintf("WorkflowType = '%s' AND BelvoLinkID = '%s'", workflowType, linkID)
	var id string
	waitFor(s.t, 20*time.Second, func() bool {
		ids := s.workflowIDs(q)
		for k := range ids {
			id = k
		}
		return len(ids) == 1
	})
	return id
}

// assertReplays replays an execution's real history against the current
// workflow code (a change that breaks determinism fails here) and, with
// UPDATE_REPLAY_HISTORY=1, saves it as workflows/testdata/<file>.
func assertReplays(t *testing.T, s *testStack, workflowID, file string) {
	t.Helper()
	hist := fetchHistory(t, s.client, workflowID)
	r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
		DataConverter: codec.DataConverter(s.ring), FailureConverter: codec.FailureConverter(s.ring)})
	if err != nil {
		t.Fatal(err)
	}
	wf.RegisterWorkflows(r)
	// The replayer merges each upsert into the started event's search
	// attributes in place: it replays a copy, so that the recording keeps
	// what the execution really started with (workflows that read their
	// search attributes replay differently otherwise).
	if err := r.ReplayWorkflowHistory(nil, proto.Clone(hist).(*historypb.History)); err != nil {
		t.Fatalf("replay of %s: %v", workflowID, err)
	}
	saveReplayHistory(t, hist, file)
}

func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
