//go:build integration

// Package integration runs the product's flows end to end against a real
// Temporal dev server (the pinned CLI, started by the tests), the Belvo
// sandbox emulator and the webhook bridge over real HTTP, and a real SQLite
// store.
package integration

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/codec"
	"github.com/belvo-temporal/backbone/internal/specval"
	"github.com/belvo-temporal/backbone/internal/stack"
	"github.com/belvo-temporal/backbone/internal/testenv"
	"github.com/belvo-temporal/backbone/logging"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/starter"
	"github.com/belvo-temporal/backbone/store"
	"github.com/belvo-temporal/backbone/webhookbridge"
	"github.com/belvo-temporal/backbone/workflows"
)

const webhookAuth = "Bearer integration-webhook-secret"

var (
	serverOnce sync.Once
	server     *stack.DevServer
	serverErr  error
)

// devServer starts one dev server for the package (it takes seconds) with
// the product's search attributes registered.
func devServer(t *testing.T) *stack.DevServer {
	t.Helper()
	cli := testenv.TemporalCLI(t)
	serverOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		server, serverErr = stack.StartDevServer(ctx, stack.DevServerOptions{CLI: cli})
	})
	if serverErr != nil {
		t.Fatalf("start Temporal dev server with %s: %v", cli, serverErr)
	}
	return server
}

func TestMain(m *testing.M) {
	code := m.Run()
	if server != nil {
		_ = server.Stop()
	}
	os.Exit(code)
}

// testStack is one test's private product, in this process
// (stack.StartInProcess): its own task queue, store, sandbox, bridge and
// worker, sharing the package's dev server.
type testStack struct {
	t       *testing.T
	logs    *observer.ObservedLogs // every log line of every component
	ring    *codec.KeyRing
	client  client.Client
	store   store.Store
	sandbox *sandbox.Server
	sbURL   string
	// bridgeURL is the bridge's base URL.
	bridgeURL string
	starter   starter.Starter
	belvo     *belvo.Client
	// bankUser and bankPassword are what the sandbox accepts for links.
	bankUser, bankPassword string
}

// bridgeTuning adjusts the bridge a stack runs.
type bridgeTuning struct {
	orphanTimeout time.Duration
	eventsPerRun  int
	// clientTimeout bounds each call to Belvo (default: the client's 60 s).
	clientTimeout time.Duration
	// noWorker leaves the task queue to a worker the test runs itself.
	noWorker bool
	// server replaces the package's shared dev server (e.g. one with a UI).
	server *stack.DevServer
}

func newStack(t *testing.T, sb sandbox.Config, fetchTimeout time.Duration) *testStack {
	return newStackWith(t, sb, fetchTimeout, bridgeTuning{})
}

func newStackWith(t *testing.T, sb sandbox.Config, fetchTimeout time.Duration, bt bridgeTuning) *testStack {
	t.Helper()
	srv := bt.server
	if srv == nil {
		srv = devServer(t)
	}
	// Warnings and errors go to the test log; every line, at every level, is
	// also kept so the security test can search them for secrets.
	observed, logs := observer.New(zap.DebugLevel)
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel), zaptest.WrapOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return zapcore.NewTee(c, observed)
	})))
	taskQueue := "it-" + strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())

	ring := testRing(t)
	c, err := client.Dial(client.Options{HostPort: srv.Address(), Logger: logging.NewTemporal(log),
		DataConverter: codec.DataConverter(ring), FailureConverter: codec.FailureConverter(ring)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)

	var hc *http.Client
	if bt.clientTimeout > 0 {
		hc = &http.Client{Timeout: bt.clientTimeout}
	}
	// Every request the product sends to "Belvo" is checked against
	// Belvo's published specs, not only answered by our emulator.
	specs := specval.New(t, testenv.SpecDir(t))
	p, err := stack.StartInProcess(context.Background(), stack.InProcessOptions{
		Client: c, TaskQueue: taskQueue, Logger: log,
		Bridge: &webhookbridge.Options{Authorization: webhookAuth, FetchTimeout: fetchTimeout, OrphanTimeout: bt.orphanTimeout,
			LinkUpdatesEventsPerRun: bt.eventsPerRun},
		Sandbox: &sb, WrapSandbox: specs.Wrap,
		Worker: !bt.noWorker, BelvoHTTP: hc, Dir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(); specs.AssertNoViolations(t) })
	st := p.Store
	if st == nil { // no worker: the test reads a store of its own
		if st, err = store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "store.db")); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
	}
	return &testStack{t: t, logs: logs, ring: ring, client: c, store: st, sandbox: p.Sandbox, sbURL: p.SandboxURL, bridgeURL: p.BridgeURL,
		belvo: p.Belvo, starter: starter.Starter{Client: c, TaskQueue: taskQueue, FetchTimeout: fetchTimeout},
		bankUser: p.SandboxConfig.BankUsername, bankPassword: p.SandboxConfig.BankPassword}
}

// ctx bounds a test step.
func (s *testStack) ctx(d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	s.t.Cleanup(cancel)
	return ctx
}

// assertStored checks that the store holds exactly what the sandbox has for
// each of the link's fetched resources, and returns the counts.
func (s *testStack) assertStored(linkID string) sandbox.ExpectedCounts {
	s.t.Helper()
	want, ok := s.sandbox.Expected(linkID)
	if !ok {
		s.t.Fatalf("sandbox does not know link %s", linkID)
	}
	for r, n := range want {
		got, err := s.store.Count(context.Background(), r, linkID)
		if err != nil {
			s.t.Fatal(err)
		}
		if got != n {
			s.t.Errorf("%s: store has %d rows, sandbox has %d", r, got, n)
		}
	}
	return want
}

// registerLink runs the API flow and waits for the fetch to end.
func (s *testStack) registerLink(external string) (workflows.LinkRegistrationResult, workflows.Progress, error) {
	s.t.Helper()
	reg := s.registerOnly(external, "single", belvo.Accounts, belvo.Transactions, belvo.Owners)
	p, err := s.starter.WaitFetch(s.ctx(2*time.Minute), reg.LinkID)
	return reg, p, err
}

// registerOnly registers a link by the API, asking Belvo for the history of
// resources (none: no historical fetch at all).
func (s *testStack) registerOnly(external, mode string, resources ...belvo.Resource) workflows.LinkRegistrationResult {
	s.t.Helper()
	// Request ids are unique per stack: the dev server is shared by tests.
	reg, err := s.starter.RegisterLink(s.ctx(time.Minute), "req-"+external+"-"+uuid.NewString()[:8], activities.RegisterLinkInput{
		Institution: "erebor_mx_retail", Username: s.bankUser, Password: s.bankPassword,
		ExternalID: external, AccessMode: mode, FetchResources: resources,
	})
	if err != nil {
		s.t.Fatalf("register link: %v", err)
	}
	return reg
}

func describe(p workflows.Progress) string {
	var b strings.Builder
	fmt.Fprintf(&b, "status=%s webhooks=%d duplicates=%d", p.Status, p.Webhooks, p.DuplicateWebhooks)
	for r, rp := range p.Resources {
		fmt.Fprintf(&b, " %s=%+v", r, *rp)
	}
	return b.String()
}

// testRing is the test-only key ring committed with the replay histories:
// histories the tests record must replay in the workflows package.
func testRing(t *testing.T) *codec.KeyRing {
	t.Helper()
	ring, err := codec.Load("", filepath.Join(testenv.RepoRoot(), "workflows", "testdata", "replay-keys"))
	if err != nil {
		t.Fatal(err)
	}
	return ring
}
