package belvo

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
)

// traced returns a copy of hc (the caller's client is left as it was)
// whose every request gets an OpenTelemetry client span, a child of the
// span in the request's context: the activity's, in the worker. Spans come
// from the global provider (tracing.Setup) and carry the method, URL
// (Basic auth travels in a header, never recorded) and status; never a
// body.
//
// No trace context is sent to Belvo: it is a third party that does not
// read it, and requests stay exactly those Belvo documents.
func traced(hc *http.Client) *http.Client {
	c := *hc
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = otelhttp.NewTransport(base,
		otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + route(r.URL.Path) }))
	return &c
}

// route is a path with its ids replaced by {id}, so span names stay few
// (GET /api/links/{id}/) while the span's URL keeps the ids. Belvo's ids
// are UUIDs; none of its path words holds a digit.
func route(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if strings.ContainsAny(p, "0123456789") {
			parts[i] = "{id}"
		}
	}
	return strings.Join(parts, "/")
}
