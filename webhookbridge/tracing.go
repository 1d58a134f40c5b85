package webhookbridge

import (
	"context"
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// webhookPath is where Belvo posts webhooks.
const webhookPath = "/webhooks/belvo"

// traced gives every webhook a server span, the root of the trace that
// follows it into Temporal (the signal's span is its child) and on to the
// worker. Probes and /metrics are not traced: they would bury webhooks
// under a trace every few seconds.
//
// Nothing is read from the request's headers: a webhook comes from the
// internet, and trace context or baggage sent with it would otherwise be
// carried in Temporal headers into every workflow and activity. Spans
// carry the method, path, status and peer; never a header (Authorization)
// or the body.
func traced(h http.Handler) http.Handler {
	return otelhttp.NewHandler(h, "webhook",
		otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator()),
		otelhttp.WithFilter(func(r *http.Request) bool { return r.URL.Path == webhookPath }),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + webhookPath }),
	)
}

// annotate puts a valid webhook's identifiers on its span, so a trace is
// found by link or request id as an execution is in the web UI. They are
// Belvo's ids, already in workflow ids and search attributes; nothing of
// the webhook's data goes on the span.
func annotate(ctx context.Context, b webhookBody) {
	trace.SpanFromContext(ctx).SetAttributes(
		attribute.String("belvo.webhook_id", b.WebhookID), attribute.String("belvo.webhook_type", b.WebhookType),
		attribute.String("belvo.webhook_code", b.WebhookCode), attribute.String("belvo.link_id", b.LinkID),
		attribute.String("belvo.request_id", b.RequestID))
}
