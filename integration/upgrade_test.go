//go:build integration

package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/internal/specval"
	"github.com/belvo-temporal/backbone/internal/stack"
	"github.com/belvo-temporal/backbone/internal/testenv"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/starter"
	"github.com/belvo-temporal/backbone/store"
	"github.com/belvo-temporal/backbone/workflows"
)

// upgradeFrom is the release the upgrade test starts from: the last commit
// before HistoricalFetch's history-budget change. It is on main, so a fresh
// clone has it whichever way that change is merged. Move it forward with the
// next change that needs an upgrade test; the recordings in
// workflows/testdata keep covering the older releases.
const upgradeFrom = "846b9c7e683181e78bad537f7d68f95e23302c28"

// upgrade is the upgrade test's product: separate worker and bridge
// processes (internal/stack) on the package's dev server, the sandbox in
// this process behind a webhookGate, and the store the worker writes.
type upgrade struct {
	t       *testing.T
	st      *stack.Stack
	gate    *webhookGate
	sb      *sandbox.Server
	ctl     sandbox.Control
	belvo   *belvo.Client
	client  client.Client
	starter starter.Starter
	store   store.Store
	// bin is the stack's binaries; next the current tree's worker, put in
	// place of the old one at the upgrade.
	bin, next string
	// links and requests started before the upgrade, by role, and the link
	// registered after it.
	waiting, partial, widget []string
	recurrent, fresh         string
	async                    []belvo.AsyncRequest
	asyncIDs                 []string
}

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

	u.afterUpgrade()
	u.expectOldFetches(0)
	u.checkEveryRun()
}

// startUpgrade builds the previous release's worker and the current tree's
// worker and bridge, and starts the stack with the old worker.
func startUpgrade(t *testing.T) *upgrade {
	t.Helper()
	srv := devServer(t)
	root, dir := testenv.RepoRoot(), t.TempDir()
	bin, next := filepath.Join(dir, "bin"), filepath.Join(dir, "next")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var out bytes.Buffer
	start := time.Now()
	// The stack runs bin: the old worker, and the current bridge (the
	// bridge is not what this test upgrades).
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := stack.BuildCommit(ctx, root, upgradeFrom, bin, &out, "worker"); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if err := stack.Build(ctx, root, next, &out, "worker", "bridge"); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if err := os.Rename(filepath.Join(next, "bridge"), filepath.Join(bin, "bridge")); err != nil {
		t.Fatal(err)
	}
	t.Logf("built the worker at %.12s, and the current tree's worker and bridge, in %s", upgradeFrom, time.Since(start).Round(time.Second))

	u := &upgrade{t: t, bin: bin, next: filepath.Join(next, "worker")}
	u.gate = newWebhookGate(t, u.holdBeforeUpgrade)
	specs := specval.New(t, testenv.SpecDir(t))
	sbCfg := sandbox.Config{Transactions: 1200, Invoices: 90, WebhookURL: u.gate.URL(), WebhookAuthorization: webhookAuth}
	sb, sbURL, closeSandbox := stack.ServeSandbox(sbCfg, specs.Wrap)
	t.Cleanup(func() { closeSandbox(); specs.AssertNoViolations(t) })
	u.sb, u.ctl = sb, sandbox.Control{BaseURL: sbURL}
	d := sbCfg.WithDefaults()

	taskQueue := "upgrade-" + uuid.NewString()[:8]
	st, err := stack.Start(ctx, stack.Options{Root: root, Bin: bin, Dir: dir, TemporalAddress: srv.Address(),
		SandboxAddr: strings.TrimPrefix(sbURL, "http://"), Workers: 1, Bridges: 1,
		Config: func(c *config.Config) {
			c.TaskQueue, c.WebhookAuthorization = taskQueue, webhookAuth
			c.BelvoSecretID, c.BelvoSecretPassword = d.SecretID, d.SecretPassword
			// The test-only key ring, so a recorded history replays in the
			// workflows package.
			c.PayloadKeys = testRingKeys(t)
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Stop)
	u.st = st
	u.gate.forwardTo(st.WebhookURL())
	if u.client, err = st.Dial(zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(u.client.Close)
	u.starter = st.Starter(u.client)
	if u.store, err = store.Open(ctx, st.Config.StoreDSN); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.store.Close() })
	if u.belvo, err = belvo.New(belvo.Options{BaseURL: sbURL, SecretID: d.SecretID, SecretPassword: d.SecretPassword}); err != nil {
		t.Fatal(err)
	}
	return u
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

// waitClosed waits until an execution's latest run has closed, failing at
// once, with the cause, when one of its workflow tasks fails: an execution
// that hit a non-determinism error retries that task for ever.
func (u *upgrade) waitClosed(id string) {
	u.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		d, err := u.client.DescribeWorkflow(context.Background(), id, "")
		if err != nil {
			u.t.Fatalf("describe %s: %v", id, err)
		}
		info := d.RawResponse.GetWorkflowExecutionInfo()
		if info.GetStatus() != enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
			return
		}
		if f := readRun(u.t, u.client, testRing(u.t), info); len(f.taskFailures) > 0 {
			u.t.Fatalf("%s: workflow tasks failed after the upgrade: %s", id, strings.Join(f.taskFailures, "; "))
		}
		if time.Now().After(deadline) {
			u.t.Fatalf("%s still running 2 minutes after the upgrade (see %s)", id, u.st.LogPath("worker"))
		}
		time.Sleep(500 * time.Millisecond)
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
		"(TemporalChangeVersion IS NULL OR TemporalChangeVersion != '%s')", workflows.HistoricalFetchType, u.st.Config.TaskQueue, budgetChangeVersion)
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
				t.Errorf("%s %s: workflow tasks completed by workers %v, budget version %v; want the old and the new worker, and the old commands",
					f.workflowType, f.id, f.workers, f.budget)
			}
		}
		if f.id == workflows.HistoricalFetchWorkflowID(u.fresh) && (!f.budget || len(f.workers) != 1) {
			t.Errorf("the fetch started after the upgrade: budget version %v, workers %v; want the new commands on the new worker", f.budget, f.workers)
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
	t.Logf("%d runs on the task queue, %d of them across the upgrade: none failed a workflow task, all replay on the current code", len(runs), seen)
}

// register registers a link by the API with an external id that names its
// role, and returns its id.
func (u *upgrade) register(external, mode string, resources ...belvo.Resource) string {
	u.t.Helper()
	d := sandbox.Config{}.WithDefaults()
	reg, err := u.starter.RegisterLink(u.ctx(time.Minute), "req-"+external+"-"+uuid.NewString()[:8], activities.RegisterLinkInput{
		Institution: "erebor_mx_retail", Username: d.BankUsername, Password: d.BankPassword,
		ExternalID: external, AccessMode: mode, FetchResources: resources,
	})
	if err != nil {
		u.t.Fatalf("register %s: %v", external, err)
	}
	return reg.LinkID
}

// connectWidget connects a link through the Connect Widget: its webhooks,
// not the app, start its fetch.
func (u *upgrade) connectWidget(external string, resources []belvo.Resource) string {
	u.t.Helper()
	ctx := u.ctx(time.Minute)
	tok, err := u.belvo.CreateWidgetToken(ctx, belvo.WidgetTokenRequest{ExternalID: external, FetchHistorical: true, FetchResources: resources})
	if err != nil {
		u.t.Fatal(err)
	}
	link, err := u.ctl.WidgetLink(ctx, tok.Access, "erebor_mx_retail")
	if err != nil {
		u.t.Fatal(err)
	}
	return link
}

// event plays a recurrent-link event on the recurrent link.
func (u *upgrade) event(code string, n int) {
	u.t.Helper()
	if _, err := u.sb.RecurrentEvent(u.recurrent, code, n); err != nil {
		u.t.Fatalf("sandbox event %s: %v", code, err)
	}
}

// waitHandled waits until the recurrent link's LinkUpdates handled n
// webhooks.
func (u *upgrade) waitHandled(n int) workflows.LinkUpdatesProgress {
	u.t.Helper()
	var p workflows.LinkUpdatesProgress
	waitFor(u.t, time.Minute, func() bool {
		var err error
		p, err = u.starter.LinkUpdatesProgress(context.Background(), u.recurrent)
		return err == nil && p.Handled >= n
	})
	return p
}

// waitFetches waits until each link's fetch answers its progress query
// with a progress ok accepts.
func (u *upgrade) waitFetches(links []string, ok func(workflows.Progress) bool) {
	u.t.Helper()
	for _, l := range links {
		waitFor(u.t, time.Minute, func() bool {
			p, err := u.starter.Progress(context.Background(), l)
			return err == nil && ok(p)
		})
	}
}

func (u *upgrade) count(r belvo.Resource, link string) int {
	u.t.Helper()
	n, err := u.store.Count(context.Background(), r, link)
	if err != nil {
		u.t.Fatal(err)
	}
	return n
}

// ctx bounds a step.
func (u *upgrade) ctx(d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	u.t.Cleanup(cancel)
	return ctx
}

// stored counts a fetch's resources in the store.
func stored(p workflows.Progress) int {
	n := 0
	for _, rp := range p.Resources {
		if rp.State == workflows.StateStored {
			n++
		}
	}
	return n
}

// testRingKeys is the test-only key ring as PAYLOAD_ENCRYPTION_KEYS.
func testRingKeys(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "workflows", "testdata", "replay-keys"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			keys = append(keys, line)
		}
	}
	return strings.Join(keys, ",")
}
