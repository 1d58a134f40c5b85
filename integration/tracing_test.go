//go:build integration

package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/internal/specval"
	"github.com/belvo-temporal/backbone/internal/stack"
	"github.com/belvo-temporal/backbone/internal/testenv"
	"github.com/belvo-temporal/backbone/logging"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/store"
	"github.com/belvo-temporal/backbone/webhookbridge"
	"github.com/belvo-temporal/backbone/workflows"
)

// One webhook, one trace, end to end on the real dev server, HTTP and
// PostgreSQL: the widget's link sends its one historical_update, whose
// SignalWithStart starts the link's fetch. Each span's parent is checked
// by id: bridge server span → SignalWithStart → RunWorkflow and
// HandleSignal → StartActivity → RunActivity → Belvo's GET and the
// store's statements; every span of the trace hangs from the webhook's;
// the log lines of the bridge, the activity and the workflow carry the
// trace's ids; no span holds a secret or a value.
func TestOneWebhookIsOneTrace(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	t.Cleanup(func() {
		otel.SetTracerProvider(noop.NewTracerProvider())
		otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator())
	})
	ts := newTracedStack(t)
	linkID := ts.widgetLink(t, belvo.Owners)

	var progress workflows.Progress
	wfID := workflows.HistoricalFetchWorkflowID(linkID)
	waitFor(t, time.Minute, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return ts.client.GetWorkflow(ctx, wfID, "").Get(ctx, &progress) == nil
	})
	if progress.Status != workflows.StatusCompleted || progress.Webhooks != 1 {
		t.Fatalf("fetch: %s, want completed with one webhook", describe(progress))
	}
	// The bridge ends its span once the answer is written, which the
	// sandbox may read (and the fetch complete) first.
	var root sdktrace.ReadOnlySpan
	waitFor(t, 30*time.Second, func() bool {
		root = webhookSpan(rec.Ended(), linkID)
		return root != nil
	})
	tr := traceOf(rec.Ended(), root.SpanContext().TraceID())
	if root.Parent().IsValid() {
		t.Errorf("the webhook's span has a parent %v: it must start the trace", root.Parent())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the webhook's trace:\n%s", tr.tree(root))
		}
	})
	tr.assertOneTree(t, root)
	for _, link := range []struct{ child, parent string }{
		{"SignalWithStartWorkflow:" + workflows.HistoricalFetchType, "POST /webhooks/belvo"},
		{"RunWorkflow:" + workflows.HistoricalFetchType, "SignalWithStartWorkflow:" + workflows.HistoricalFetchType},
		{"HandleSignal:" + workflows.WebhookSignal, "SignalWithStartWorkflow:" + workflows.HistoricalFetchType},
		{"StartActivity:GetLink", "RunWorkflow:" + workflows.HistoricalFetchType},
		{"RunActivity:GetLink", "StartActivity:GetLink"},
		{"GET /api/links/{id}/", "RunActivity:GetLink"},
		{"StartActivity:FetchResource", "RunWorkflow:" + workflows.HistoricalFetchType},
		{"RunActivity:FetchResource", "StartActivity:FetchResource"},
		{"GET /api/owners/", "RunActivity:FetchResource"},
	} {
		tr.assertParent(t, link.child, link.parent)
	}
	// The store's write: the page's rows are new, so one COPY straight into
	// owners, under the activity that listed them.
	copies := tr.where(func(s sdktrace.ReadOnlySpan) bool { return s.Name() == `copy_from "owners"` })
	if len(copies) != 1 {
		t.Errorf("%d COPY into owners spans, want the one page's", len(copies))
	} else if !slices.Contains(tr.ids("RunActivity:FetchResource"), copies[0].Parent().SpanID()) {
		t.Errorf("the rows' COPY is not under RunActivity:FetchResource (its parent: %v)", tr.byID(copies[0].Parent().SpanID()))
	}
	tr.assertNoSecrets(t, ts.secrets...)
	ts.assertLogsCarry(t, tr, linkID)
}

// tracedStack is the product in this process, traced as the commands are:
// the client is the commands' own (config.DialTemporal, which adds
// tracing.TemporalInterceptor), the store is PostgreSQL.
type tracedStack struct {
	client  client.Client
	sandbox string // its base URL
	belvo   *belvo.Client
	logs    *observer.ObservedLogs
	secrets []string
}

func newTracedStack(t *testing.T) *tracedStack {
	t.Helper()
	srv := devServer(t)
	observed, logs := observer.New(zap.InfoLevel)
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel), zaptest.WrapOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return zapcore.NewTee(c, observed)
	})))
	cfg := config.Config{TemporalAddress: srv.Address(), TemporalNamespace: config.DefaultNamespace,
		PayloadKeysFile: filepath.Join(testenv.RepoRoot(), "workflows", "testdata", "replay-keys")}
	c, err := cfg.DialTemporal(log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pg, err := store.OpenPostgres(ctx, testenv.PostgresSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	specs := specval.New(t, testenv.SpecDir(t))
	p, err := stack.StartInProcess(ctx, stack.InProcessOptions{
		Client: c, TaskQueue: "it-" + t.Name(), Logger: log,
		Bridge:  &webhookbridge.Options{Authorization: webhookAuth},
		Sandbox: &sandbox.Config{}, WrapSandbox: specs.Wrap,
		Worker: true, Store: pg, Dir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(); specs.AssertNoViolations(t) })
	return &tracedStack{client: c, sandbox: p.SandboxURL, belvo: p.Belvo, logs: logs,
		secrets: []string{webhookAuth, p.SandboxConfig.SecretPassword, p.SandboxConfig.BankPassword}}
}

// widgetLink plays the user finishing the Connect Widget for a link that
// fetches one resource: the sandbox then sends that resource's one
// historical_update, before the app has started anything.
func (ts *tracedStack) widgetLink(t *testing.T, r belvo.Resource) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := ts.belvo.CreateWidgetToken(ctx, belvo.WidgetTokenRequest{ExternalID: "it-traced", FetchHistorical: true,
		FetchResources: []belvo.Resource{r}})
	if err != nil {
		t.Fatal(err)
	}
	id, err := sandbox.Control{BaseURL: ts.sandbox}.WidgetLink(ctx, tok.Access, "erebor_mx_retail")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// webhookSpan is the bridge's span of the webhook for a link, or nil.
func webhookSpan(spans []sdktrace.ReadOnlySpan, linkID string) sdktrace.ReadOnlySpan {
	for _, s := range spans {
		if s.Name() == "POST /webhooks/belvo" && attr(s, "belvo.link_id") == linkID {
			return s
		}
	}
	return nil
}

func attr(s sdktrace.ReadOnlySpan, key string) string {
	for _, a := range s.Attributes() {
		if string(a.Key) == key {
			return a.Value.String()
		}
	}
	return ""
}

// spanTrace is the ended spans of one trace.
type spanTrace []sdktrace.ReadOnlySpan

func traceOf(spans []sdktrace.ReadOnlySpan, id trace.TraceID) spanTrace {
	var out spanTrace
	for _, s := range spans {
		if s.SpanContext().TraceID() == id {
			out = append(out, s)
		}
	}
	return out
}

func (tr spanTrace) where(keep func(sdktrace.ReadOnlySpan) bool) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range tr {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}

// ids are the span ids of the spans with a name.
func (tr spanTrace) ids(name string) []trace.SpanID {
	var out []trace.SpanID
	for _, s := range tr.where(func(s sdktrace.ReadOnlySpan) bool { return s.Name() == name }) {
		out = append(out, s.SpanContext().SpanID())
	}
	return out
}

// assertParent checks that the trace has spans named child and that each
// one's parent is a span named parent. Several of a name are allowed: an
// activity retried, or a workflow replayed after its cache entry went,
// makes its Run span again, under the same parent.
func (tr spanTrace) assertParent(t *testing.T, child, parent string) {
	t.Helper()
	children, parents := tr.where(func(s sdktrace.ReadOnlySpan) bool { return s.Name() == child }), tr.ids(parent)
	if len(children) == 0 {
		t.Errorf("no span %q in the trace; it has %v", child, tr.names())
	}
	for _, c := range children {
		if !slices.Contains(parents, c.Parent().SpanID()) {
			t.Errorf("span %q has parent %v, want one of the %q spans %v", child, c.Parent().SpanID(), parent, parents)
		}
	}
}

// byID is the span of the trace with an id, or nil.
func (tr spanTrace) byID(id trace.SpanID) sdktrace.ReadOnlySpan {
	for _, s := range tr {
		if s.SpanContext().SpanID() == id {
			return s
		}
	}
	return nil
}

// tree draws the spans under root, one a line, indented by depth.
func (tr spanTrace) tree(root sdktrace.ReadOnlySpan) string {
	var b strings.Builder
	var walk func(s sdktrace.ReadOnlySpan, depth int)
	walk = func(s sdktrace.ReadOnlySpan, depth int) {
		fmt.Fprintf(&b, "%s%s (%s)\n", strings.Repeat("  ", depth), s.Name(), s.SpanContext().SpanID())
		for _, c := range tr.where(func(c sdktrace.ReadOnlySpan) bool { return c.Parent().SpanID() == s.SpanContext().SpanID() }) {
			walk(c, depth+1)
		}
	}
	walk(root, 0)
	return b.String()
}

// assertOneTree checks that every span of the trace descends from root
// through spans of the trace: nothing hangs from a span that was lost.
func (tr spanTrace) assertOneTree(t *testing.T, root sdktrace.ReadOnlySpan) {
	t.Helper()
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range tr {
		byID[s.SpanContext().SpanID()] = s
	}
	for _, s := range tr {
		cur := s
		for cur.SpanContext().SpanID() != root.SpanContext().SpanID() {
			next, ok := byID[cur.Parent().SpanID()]
			if !ok {
				t.Errorf("span %q hangs from %v, not in the trace", cur.Name(), cur.Parent().SpanID())
				break
			}
			cur = next
		}
	}
}

func (tr spanTrace) names() []string {
	var out []string
	for _, s := range tr {
		out = append(out, s.Name())
	}
	return out
}

// assertNoSecrets checks that no attribute holds a secret, and that the
// store's spans hold no query arguments (values).
func (tr spanTrace) assertNoSecrets(t *testing.T, secrets ...string) {
	t.Helper()
	for _, s := range tr {
		for _, a := range s.Attributes() {
			if a.Key == "pgx.query.parameters" {
				t.Errorf("span %q records query arguments", s.Name())
			}
			for _, secret := range secrets {
				if strings.Contains(a.Value.String(), secret) {
					t.Errorf("span %q attribute %s holds a secret", s.Name(), a.Key)
				}
			}
		}
	}
}

// assertLogsCarry checks that the bridge's, the activity's and the
// workflow's lines about the link carry the trace and the span they were
// written in.
func (ts *tracedStack) assertLogsCarry(t *testing.T, tr spanTrace, linkID string) {
	t.Helper()
	for _, tc := range []struct{ msg, span string }{
		{"webhook delivered", "POST /webhooks/belvo"},
		{"resource stored", "RunActivity:FetchResource"},
		{"historical fetch completed", "RunWorkflow:" + workflows.HistoricalFetchType},
	} {
		var lines []observer.LoggedEntry
		for _, l := range ts.logs.FilterMessage(tc.msg).All() {
			if l.ContextMap()["link_id"] == linkID {
				lines = append(lines, l)
			}
		}
		if len(lines) == 0 {
			t.Errorf("no %q line for link %s", tc.msg, linkID)
		}
		for _, l := range lines {
			f := l.ContextMap()
			hex, _ := f[logging.SpanIDKey].(string)
			spanID, _ := trace.SpanIDFromHex(hex)
			if f[logging.TraceIDKey] != tr[0].SpanContext().TraceID().String() || !slices.Contains(tr.ids(tc.span), spanID) {
				t.Errorf("%q: trace_id %v span_id %v, want the trace's and a %q span's", tc.msg, f[logging.TraceIDKey], f[logging.SpanIDKey], tc.span)
			}
		}
	}
}
