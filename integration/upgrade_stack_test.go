//go:build integration

package integration

import (
	"bytes"
	"context"
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
	t.Logf("built the worker at %.12s, and the current tree's worker and bridge, in %s",
		upgradeFrom, time.Since(start).Round(time.Second))

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
	if u.belvo, err = belvo.New(belvo.Options{BaseURL: sbURL, SecretID: d.SecretID, SecretPassword: d.SecretPassword}); err != nil {
		t.Fatal(err)
	}
	return u
}

// openStore opens the store the worker writes, once the current tree's
// worker runs: opening it converts a store of the previous release
// (docs/operations.md, "The store's key"), which that release's worker
// could no longer write, so it is done after the swap, as in a deploy.
// The rows the old worker stored then come through the new worker's
// conversion of its real file.
func (u *upgrade) openStore() {
	var err error
	if u.store, err = store.Open(u.ctx(time.Minute), u.st.Config.StoreDSN); err != nil {
		u.t.Fatal(err)
	}
	u.t.Cleanup(func() { u.store.Close() })
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
	tok, err := u.belvo.CreateWidgetToken(ctx, belvo.WidgetTokenRequest{
		ExternalID: external, FetchHistorical: true, FetchResources: resources})
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
