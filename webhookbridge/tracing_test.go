package webhookbridge

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/belvo-temporal/backbone/logging"
)

// spanSeer is a Temporal that remembers the span context each
// signal-with-start was made in: the Temporal interceptor makes the
// signal's span a child of that one (the integration test checks that part).
type spanSeer struct {
	idle
	mu  sync.Mutex
	got []trace.SpanContext
}

func (s *spanSeer) SignalWithStartWorkflow(ctx context.Context, _, _ string, _ any, _ client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, trace.SpanContextFromContext(ctx))
	return run{}, nil
}

// recordSpans makes the global provider record every span for the test,
// with the propagators tracing.Setup installs (which the bridge must not
// apply to what a webhook sends).
func recordSpans(t *testing.T) *tracetest.SpanRecorder {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	prev, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	t.Cleanup(func() { otel.SetTracerProvider(prev); otel.SetTextMapPropagator(prevProp) })
	return rec
}

// A webhook gets one server span, the root of its trace even when the
// caller sends trace context; the signal is made within it; its log lines
// carry its ids; the span holds Belvo's ids and nothing of the headers or
// the data. Probes get no span.
func TestWebhookSpanAndLogLines(t *testing.T) {
	rec := recordSpans(t)
	core, logs := observer.New(zap.InfoLevel)
	temporal := &spanSeer{}
	b, err := New(Options{Signaler: temporal, TaskQueue: "q", Authorization: auth, Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	h := b.Handler()
	req := httptest.NewRequest(http.MethodPost, webhookPath, strings.NewReader(valid))
	req.Header.Set("Authorization", auth)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	req.Header.Set("baggage", "injected=yes")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusAccepted {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/healthz", nil))

	spans := rec.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want the webhook's only: %v", len(spans), spans)
	}
	s := spans[0]
	sc := s.SpanContext()
	if s.Name() != "POST /webhooks/belvo" || s.SpanKind() != trace.SpanKindServer || s.Parent().IsValid() {
		t.Errorf("span %q kind %v parent %v, want a server root span POST /webhooks/belvo", s.Name(), s.SpanKind(), s.Parent())
	}
	if len(temporal.got) != 1 || temporal.got[0].SpanID() != sc.SpanID() {
		t.Errorf("signal-with-start made in span contexts %v, want the webhook's %v", temporal.got, sc)
	}
	attrs := map[string]string{}
	for _, a := range s.Attributes() {
		attrs[string(a.Key)] = a.Value.String()
		if v := a.Value.String(); strings.Contains(v, "s3cr3t") || strings.Contains(v, "total_transactions") || strings.Contains(v, "injected") {
			t.Errorf("attribute %s = %q leaks a header or the data", a.Key, v)
		}
	}
	if attrs["belvo.link_id"] != "L1" || attrs["belvo.webhook_code"] != "historical_update" || attrs["belvo.request_id"] != "r1" {
		t.Errorf("attributes %v lack Belvo's ids", attrs)
	}

	for _, tc := range []struct {
		msg, path string
		traceID   any // nil: no trace_id field
	}{
		{"webhook delivered", "", sc.TraceID().String()},
		{"http", webhookPath, sc.TraceID().String()},
		{"http", "/healthz", nil},
	} {
		lines := logs.FilterMessage(tc.msg).All()
		found := false
		for _, l := range lines {
			f := l.ContextMap()
			if tc.path != "" && f["path"] != tc.path {
				continue
			}
			found = true
			if f[logging.TraceIDKey] != tc.traceID {
				t.Errorf("%q %s: trace_id %v, want %v", tc.msg, tc.path, f[logging.TraceIDKey], tc.traceID)
			}
		}
		if !found {
			t.Errorf("no %q line for %q", tc.msg, tc.path)
		}
	}
}
