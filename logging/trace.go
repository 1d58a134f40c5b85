package logging

import (
	"context"

	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
)

// The fields that carry a line's trace, named as OpenTelemetry's log data
// model names them, so a log store can join lines to traces.
const (
	TraceIDKey = "trace_id"
	SpanIDKey  = "span_id"
)

// WithTrace returns l with the trace_id and span_id of the span ctx
// carries, or l itself when ctx carries none. zap does not read contexts,
// so code that logs within a traced request asks for these fields here.
func WithTrace(ctx context.Context, l *zap.Logger) *zap.Logger {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return l
	}
	return l.With(zap.String(TraceIDKey, sc.TraceID().String()), zap.String(SpanIDKey, sc.SpanID().String()))
}
