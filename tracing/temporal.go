package tracing

import (
	"fmt"

	"github.com/belvo-temporal/backbone/logging"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
	otelinterceptor "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
)

// TemporalInterceptor is the SDK's OpenTelemetry interceptor, for
// client.Options.Interceptors; workers built from that client use it too.
// Client calls (start, signal, signal-with-start, query, update) get a span
// whose context travels in the request's Temporal header; the worker makes
// RunWorkflow, HandleSignal, StartActivity and RunActivity spans from those
// headers, so an activity's span is a child of its workflow's and the
// workflow's a child of the call that started it. Spans come from the
// global provider (Setup).
//
// The loggers the SDK hands to workflows (workflow.GetLogger) and
// activities (activity.GetLogger) get trace_id and span_id fields, the
// names the bridge's zap lines use.
func TemporalInterceptor() interceptor.Interceptor {
	t, err := otelinterceptor.NewTracer(otelinterceptor.TracerOptions{})
	if err != nil {
		// NewTracer cannot fail with these options today. Should a later
		// version fail, the process runs untraced rather than not at all,
		// and says so.
		otel.Handle(fmt.Errorf("tracing: Temporal calls are not traced: %w", err))
		return &interceptor.InterceptorBase{}
	}
	return interceptor.NewTracingInterceptor(logFields{t})
}

// logFields is the SDK's OpenTelemetry tracer with the log fields named as
// every other line of the product names them (it would add TraceID and
// SpanID).
type logFields struct {
	interceptor.Tracer
}

// GetLogger implements interceptor.Tracer. The spans this tracer makes are
// OpenTelemetry spans, which report their context; a reference that is not
// one (a parent read from a header) leaves the logger as it is, as the
// SDK's own tracer does.
func (l logFields) GetLogger(logger log.Logger, ref interceptor.TracerSpanRef) log.Logger {
	span, ok := ref.(interface{ SpanContext() trace.SpanContext })
	if !ok || !span.SpanContext().IsValid() {
		return logger
	}
	sc := span.SpanContext()
	return log.With(logger, logging.TraceIDKey, sc.TraceID().String(), logging.SpanIDKey, sc.SpanID().String())
}
