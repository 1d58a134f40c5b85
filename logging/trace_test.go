package logging

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func TestWithTraceAddsTheSpansIDs(t *testing.T) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:  trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
	})
	for _, tc := range []struct {
		name        string
		ctx         context.Context
		trace, span any // nil: no such field
	}{
		{"traced", trace.ContextWithSpanContext(context.Background(), sc), "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"},
		{"not traced", context.Background(), nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			core, logs := observer.New(zap.InfoLevel)
			WithTrace(tc.ctx, zap.New(core)).Info("line")
			f := logs.All()[0].ContextMap()
			if f[TraceIDKey] != tc.trace || f[SpanIDKey] != tc.span {
				t.Errorf("fields %v, want trace_id %v span_id %v", f, tc.trace, tc.span)
			}
		})
	}
}
