//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/enums/v1"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/workflows"
)

// upgradeFrom is the release the upgrade test starts from: the last commit
// before HistoricalFetch's history-budget change. It is on main, so a fresh
// clone has it whichever way that change is merged. Move it forward with the
// next change that needs an upgrade test; the recordings in
// workflows/testdata keep covering the older releases.
const upgradeFrom = "846b9c7e683181e78bad537f7d68f95e23302c28"

// Executions started by the previous release finish on the current one:
// historical fetches waiting for all their webhooks, some stored and some
// not, started by webhooks (the link read by an activity then), async
// requests waiting for their webhook, and a recurrent link's LinkUpdates
// that handles webhooks before and after. The old worker is stopped as a
// rolling deploy does (SIGTERM) while they wait; none may fail a workflow
// task (non-determinism), every row ends in the store once, and the
// visibility query of docs/operations.md finds the old fetches, then none.
func TestUpgradeFromPreviousRelease(t *testing.T) {
	u := startUpgrade(t)
	u.beforeUpgrade()
	u.expectOldFetches(len(u.waiting) + len(u.partial) + len(u.widget))

	t.Log("upgrade: SIGTERM to the old worker, the current tree's worker in its place")
	old := u.st.Workers[0]
	if !old.Stop(30*time.Second) || old.Err() != nil {
		t.Fatalf("the old worker did not stop cleanly within 30 s of SIGTERM: %v (see %s)", old.Err(), u.st.LogPath("worker"))
	}
	// The deploy: the new binary in the old one's place, started with the
	// same settings (Restart's kill finds the process already gone).
	if err := os.Rename(u.next, filepath.Join(u.bin, "worker")); err != nil {
		t.Fatal(err)
	}
	if _, err := u.st.Restart(u.ctx(time.Minute), old); err != nil {
		t.Fatal(err)
	}
	u.openStore()

	u.afterUpgrade()
	u.expectOldFetches(0)
	u.checkEveryRun()
}

// holdBeforeUpgrade keeps, until the upgrade, the webhooks that make
// executions wait across it; external ids name each link's role.
func (u *upgrade) holdBeforeUpgrade(wh sandbox.Webhook) bool {
	ext := ""
	if wh.ExternalID != nil {
		ext = *wh.ExternalID
	}
	switch {
	case wh.WebhookType == string(belvo.Invoices): // the async requests' completions
		return true
	case wh.WebhookCode == "new_accounts_available": // a LinkUpdates webhook sent during the upgrade
		return true
	case strings.HasPrefix(ext, "upg-wait-"):
		return true
	case strings.HasPrefix(ext, "upg-part-"):
		return wh.WebhookType == string(belvo.Owners)
	case strings.HasPrefix(ext, "upg-widget-"):
		return wh.WebhookType != string(belvo.Accounts)
	}
	return false
}

// beforeUpgrade starts every execution on the old worker and waits until
// each waits where the test wants it.
func (u *upgrade) beforeUpgrade() {
	t := u.t
	three := []belvo.Resource{belvo.Accounts, belvo.Transactions, belvo.Owners}
	// A recurrent link: its history, then updates handled by the old worker.
	u.recurrent = u.register("upg-recurrent", "recurrent", belvo.Accounts, belvo.Transactions)
	if _, err := u.starter.WaitFetch(u.ctx(time.Minute), u.recurrent); err != nil {
		t.Fatalf("recurrent link's fetch: %v", err)
	}
	u.event("transactions_deleted", 3)
	u.event("new_transactions_available", 20)
	u.waitHandled(2)
	for i := range 3 {
		u.waiting = append(u.waiting, u.register(fmt.Sprintf("upg-wait-%d", i), "single", three...))
		u.partial = append(u.partial, u.register(fmt.Sprintf("upg-part-%d", i), "single", three...))
	}
	for i := range 2 {
		u.widget = append(u.widget, u.connectWidget(fmt.Sprintf("upg-widget-%d", i), three))
	}
	for i, month := range []string{"2026-08", "2026-09", "2026-10"} {
		req := belvo.AsyncRequest{Op: belvo.OpInvoices, LinkID: u.recurrent, DateFrom: month + "-01", DateTo: month + "-28", Type: "INFLOW"}
		res, err := u.starter.StartAsync(u.ctx(time.Minute), fmt.Sprintf("upg-async-%d-%s", i, uuid.NewString()[:8]), req)
		if err != nil {
			t.Fatalf("async request: %v", err)
		}
		u.async, u.asyncIDs = append(u.async, req), append(u.asyncIDs, res.RequestID)
	}
	u.event("new_accounts_available", 2) // held by the gate until after the upgrade

	// Every execution has run on the old worker up to where it waits.
	u.waitFetches(u.waiting, func(p workflows.Progress) bool { return len(p.Expected) == 3 && stored(p) == 0 })
	u.waitFetches(u.partial, func(p workflows.Progress) bool { return len(p.Expected) == 3 && stored(p) == 2 })
	u.waitFetches(u.widget, func(p workflows.Progress) bool { return len(p.Expected) == 3 && stored(p) == 1 })
	for _, id := range u.asyncIDs {
		waitFor(t, time.Minute, func() bool { _, err := u.starter.AsyncProgress(context.Background(), id); return err == nil })
	}
	// Belvo has sent everything held: 3 per waiting link, Owners of the
	// partial ones, 2 per widget link, the 3 completions, the accounts event.
	want := 3*len(u.waiting) + len(u.partial) + 2*len(u.widget) + len(u.async) + 1
	waitFor(t, time.Minute, func() bool { return u.gate.kept() == want })
	t.Logf("before the upgrade: %d webhooks held (%s)", want, u.gate)
}

// afterUpgrade starts a fetch on the new code, lets every held webhook
// through, sends the recurrent link more updates, and waits for everything
// to end with the data stored once.
func (u *upgrade) afterUpgrade() {
	t := u.t
	u.fresh = u.register("upg-new-0", "single", belvo.Accounts, belvo.Transactions, belvo.Owners)
	u.gate.release()
	u.event("transactions_updated", 2)
	u.event("new_transactions_available", 5)
	for _, link := range append(append(append([]string{u.fresh}, u.waiting...), u.partial...), u.widget...) {
		u.waitClosed(workflows.HistoricalFetchWorkflowID(link))
		p, err := u.starter.WaitFetch(u.ctx(2*time.Minute), link)
		if err != nil {
			t.Fatalf("fetch of %s after the upgrade: %v (%s)", link, err, describe(p))
		}
		u.assertFetchedOnce(link, p)
	}
	for i, id := range u.asyncIDs {
		u.waitClosed(workflows.AsyncRequestWorkflowID(id))
		p, err := u.starter.WaitAsync(u.ctx(2*time.Minute), id)
		if err != nil || p.Status != workflows.StatusCompleted {
			t.Fatalf("async request %s after the upgrade: %v (%s)", id, err, p.Status)
		}
		op, _ := belvo.LookupAsyncOp(u.async[i].Op)
		if want := u.sb.Count(u.recurrent, op.Resource, u.async[i].ListFilters()); want == 0 || p.BelvoCount != want {
			t.Errorf("async request %s: Belvo has %d rows, the execution stored %d", id, want, p.BelvoCount)
		}
	}
	p := u.waitHandled(5)
	if len(p.Failed) != 0 || p.LastError != "" || p.Duplicates != 0 || p.Runs != 1 {
		t.Errorf("link updates across the upgrade: %+v", p)
	}
	// The recurrent link: its history, the updates before and after the
	// upgrade, and the three months of invoices, exactly.
	want, _ := u.sb.Expected(u.recurrent)
	for _, r := range []belvo.Resource{belvo.Accounts, belvo.Transactions} {
		if got := u.count(r, u.recurrent); got != want[r] {
			t.Errorf("recurrent link %s: store %d rows, sandbox %d", r, got, want[r])
		}
	}
	invoices := 0
	for _, req := range u.async {
		invoices += u.sb.Count(u.recurrent, belvo.Invoices, req.ListFilters())
	}
	if got := u.count(belvo.Invoices, u.recurrent); got != invoices {
		t.Errorf("invoices of the three requests: store %d, sandbox %d", got, invoices)
	}
}

// assertFetchedOnce checks a link's rows in the store against the sandbox,
// and that each resource was listed once (one listing of its pages).
func (u *upgrade) assertFetchedOnce(link string, p workflows.Progress) {
	want, _ := u.sb.Expected(link)
	pages := 0
	for r, n := range want {
		if got := u.count(r, link); got != n {
			u.t.Errorf("link %s %s: store %d rows, sandbox %d", link, r, got, n)
		}
		rp := p.Resources[r]
		if rp == nil || rp.State != workflows.StateStored || rp.Fetches != 1 {
			u.t.Errorf("link %s %s: %+v, want stored in one listing", link, r, rp)
			continue
		}
		pages += rp.Pages
	}
	if lists := u.sb.ListRequests(link); lists != pages {
		u.t.Errorf("link %s: Belvo served %d list pages, the fetch stored %d", link, lists, pages)
	}
}

// expectOldFetches waits until visibility finds n running fetches on the
// task queue that started before the history-budget change, with the query
// docs/operations.md gives operators before they remove a version branch.
func (u *upgrade) expectOldFetches(n int) {
	q := fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running' AND TaskQueue = '%s' AND "+
		"(TemporalChangeVersion IS NULL OR TemporalChangeVersion != '%s')",
		workflows.HistoricalFetchType, u.st.Config.TaskQueue, budgetChangeVersion)
	var got int64
	waitFor(u.t, 20*time.Second, func() bool {
		resp, err := u.client.CountWorkflow(context.Background(), &workflowCountRequest{Query: q})
		got = resp.GetCount()
		return err == nil && got == int64(n)
	})
}

// checkEveryRun reads every run on the task queue: no workflow task failed
// (a non-determinism error fails one), nothing failed, the executions the
// old worker started ran on both workers and replay on the current code, and
// the fetch started after the upgrade took the new commands.
func (u *upgrade) checkEveryRun() {
	t := u.t
	ring := testRing(t)
	crossed := map[string]bool{workflows.LinkUpdatesWorkflowID(u.recurrent): true}
	for _, l := range append(append(append([]string{}, u.waiting...), u.partial...), u.widget...) {
		crossed[workflows.HistoricalFetchWorkflowID(l)] = true
	}
	for _, id := range u.asyncIDs {
		crossed[workflows.AsyncRequestWorkflowID(id)] = true
	}
	runs := runsOn(t, u.client, u.st.Config.TaskQueue)
	seen := 0
	for _, e := range runs {
		f := readRun(t, u.client, ring, e)
		if len(f.taskFailures) > 0 {
			t.Errorf("%s %s: workflow tasks failed: %s", f.workflowType, f.id, strings.Join(f.taskFailures, "; "))
		}
		switch f.status {
		case enums.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		case enums.WORKFLOW_EXECUTION_STATUS_RUNNING:
			if f.workflowType != workflows.LinkUpdatesType {
				t.Errorf("%s %s still running", f.workflowType, f.id)
			}
		default:
			t.Errorf("%s %s ended %s", f.workflowType, f.id, f.status)
		}
		if err := replays(ring, f.hist); err != nil {
			t.Errorf("%s %s does not replay on the current code: %v", f.workflowType, f.id, err)
		}
		if crossed[f.id] {
			seen++
			if len(f.workers) != 2 || f.budget {
				t.Errorf("%s %s: workflow tasks completed by workers %v, budget version %v; "+
					"want the old and the new worker, and the old commands", f.workflowType, f.id, f.workers, f.budget)
			}
		}
		if f.id == workflows.HistoricalFetchWorkflowID(u.fresh) && (!f.budget || len(f.workers) != 1) {
			t.Errorf("the fetch started after the upgrade: budget version %v, workers %v; "+
				"want the new commands on the new worker", f.budget, f.workers)
		}
		if f.id == workflows.HistoricalFetchWorkflowID(u.widget[0]) {
			// The path that read the link with an activity, finished by the
			// current code: kept for the replay suite.
			saveReplayHistory(t, f.hist, "historical_fetch_widget_across_upgrade_history.json")
		}
	}
	if seen != len(crossed) {
		t.Errorf("found %d of the %d executions that crossed the upgrade among %d runs", seen, len(crossed), len(runs))
	}
	t.Logf("%d runs on the task queue, %d of them across the upgrade: none failed a workflow task, "+
		"all replay on the current code", len(runs), seen)
}
