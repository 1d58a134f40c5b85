// Package tracing sets up OpenTelemetry once for every process of the
// product: the tracer provider and propagators (Setup), and the Temporal
// SDK's tracing interceptor (TemporalInterceptor), so that one trace follows
// a webhook from the bridge through Temporal to the worker's calls to Belvo
// and its writes to the store.
//
// Spans leave the process only when an OTLP endpoint is configured
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).
// Without one no exporter exists and no span is recorded; trace and span
// ids are still made and propagated, so log lines of one webhook share a
// trace_id across processes. docs/tracing.md says what is traced.
package tracing

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.uber.org/zap"
)

// Provider is the process's tracer provider, installed as OpenTelemetry's
// global one by Setup.
type Provider struct {
	tp       *sdktrace.TracerProvider
	protocol string // the OTLP protocol spans are exported with; "" when none
}

// Setup installs the tracer provider and the W3C trace-context and baggage
// propagators as OpenTelemetry's globals, which the instrumented HTTP
// server and client, the PostgreSQL tracer and the Temporal interceptor
// use. Call it before building any of those. service is the default
// service.name (OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override it).
// Close flushes what is left at exit.
func Setup(ctx context.Context, service string, log *zap.Logger) (*Provider, error) {
	res, err := resource.New(ctx, resource.WithAttributes(semconv.ServiceName(service)),
		resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		return nil, fmt.Errorf("tracing: resource from OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	exp, protocol, err := newExporter(ctx)
	if err != nil {
		return nil, err
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if exp != nil {
		// The sampler comes from OTEL_TRACES_SAMPLER (default: parent-based,
		// always on); the batch's size and delay from OTEL_BSP_*.
		opts = append(opts, sdktrace.WithBatcher(exp))
	} else {
		// Never sampled: spans are not recorded, so nothing could be
		// exported and instrumentation costs next to nothing, but their ids
		// still reach the logs and the Temporal headers.
		opts = append(opts, sdktrace.WithSampler(sdktrace.NeverSample()))
	}
	p := &Provider{tp: sdktrace.NewTracerProvider(opts...), protocol: protocol}
	otel.SetTracerProvider(p.tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	// The SDK reports failed exports here; they become zap lines like the
	// rest, instead of the standard logger's.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("OpenTelemetry: spans not exported", zap.Error(err))
	}))
	if p.Exporting() {
		log.Info("traces exported over OTLP", zap.String("protocol", protocol))
	} else {
		log.Debug("traces not exported: OTEL_EXPORTER_OTLP_ENDPOINT is not set")
	}
	return p, nil
}

// Exporting reports whether spans are sent to an OTLP endpoint.
func (p *Provider) Exporting() bool { return p.protocol != "" }

// Protocol is the OTLP protocol spans are exported with ("grpc" or
// "http/protobuf"), or "" when nothing is exported.
func (p *Provider) Protocol() string { return p.protocol }

// Shutdown exports the spans still buffered and stops the provider.
func (p *Provider) Shutdown(ctx context.Context) error {
	if err := p.tp.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: flush spans at exit: %w", err)
	}
	return nil
}

// closeTimeout bounds the flush at exit: an unreachable collector must not
// hold a stopping process.
const closeTimeout = 5 * time.Second

// Close is Shutdown for a process's deferred exit path: bounded in time,
// a failure logged rather than returned.
func (p *Provider) Close(log *zap.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		log.Warn("spans lost at exit", zap.Error(err))
	}
}
