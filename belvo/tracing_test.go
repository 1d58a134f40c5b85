package belvo_test

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

	"github.com/belvo-temporal/backbone/belvo"
)

// Every call to Belvo gets a client span, a child of the caller's span,
// named without ids; no trace context is sent to Belvo and the span holds
// neither the credentials nor the answer.
func TestCallsAreTracedWithoutSendingTraceContext(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	prev := otel.GetTracerProvider()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	otel.SetTracerProvider(tp)
	// As tracing.Setup installs them: the client must not use them.
	prevProp := otel.GetTextMapPropagator()
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	t.Cleanup(func() { otel.SetTracerProvider(prev); otel.SetTextMapPropagator(prevProp) })

	var mu sync.Mutex
	var headers []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		headers = append(headers, r.Header.Clone())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"0d3ffb69-f83b-456e-ad8e-208d0998d71d","institution":"erebor_mx_retail","status":"valid","balance":1234.5}`))
	}))
	t.Cleanup(srv.Close)
	c, err := belvo.New(belvo.Options{BaseURL: srv.URL, SecretID: "id-x", SecretPassword: "pw-s3cr3t"})
	if err != nil {
		t.Fatal(err)
	}

	ctx, parent := tp.Tracer("test").Start(context.Background(), "activity")
	if _, err := c.GetLink(ctx, "0d3ffb69-f83b-456e-ad8e-208d0998d71d"); err != nil {
		t.Fatal(err)
	}
	parent.End()

	var call sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.SpanKind() == trace.SpanKindClient {
			call = s
		}
	}
	if call == nil {
		t.Fatalf("no client span among %v", rec.Ended())
	}
	if call.Name() != "GET /api/links/{id}/" || call.Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("span %q parent %v, want GET /api/links/{id}/ under the caller's span %v", call.Name(), call.Parent().SpanID(), parent.SpanContext().SpanID())
	}
	for _, a := range call.Attributes() {
		if v := a.Value.String(); strings.Contains(v, "s3cr3t") || strings.Contains(v, "1234.5") {
			t.Errorf("attribute %s = %q holds a secret or data", a.Key, v)
		}
	}
	for _, h := range headers {
		for _, k := range []string{"Traceparent", "Tracestate", "Baggage"} {
			if v := h.Get(k); v != "" {
				t.Errorf("sent %s: %s to Belvo", k, v)
			}
		}
	}
}
