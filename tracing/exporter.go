package tracing

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The OTLP protocols the exporters speak. http/protobuf is the default the
// OpenTelemetry specification gives SDKs.
const (
	ProtocolGRPC         = "grpc"
	ProtocolHTTPProtobuf = "http/protobuf"
)

// env reads a variable as the exporters do: blank is unset.
func env(key string) string { return strings.TrimSpace(os.Getenv(key)) }

// endpointSet reports whether an OTLP endpoint for traces is configured:
// the only case in which anything is exported.
func endpointSet() bool {
	return env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" || env("OTEL_EXPORTER_OTLP_ENDPOINT") != ""
}

// protocol is the OTLP protocol the environment asks for, the traces'
// own variable first, as the specification orders them.
func protocol() string {
	if p := env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"); p != "" {
		return p
	}
	if p := env("OTEL_EXPORTER_OTLP_PROTOCOL"); p != "" {
		return p
	}
	return ProtocolHTTPProtobuf
}

// newExporter builds the OTLP exporter the environment names, or none
// (nil, "") when no endpoint is set. The exporters read the endpoint,
// headers, TLS, compression and timeout variables themselves; building one
// does not connect, so a collector that is down costs failed exports
// (reported to the error handler), not a failed start.
func newExporter(ctx context.Context) (sdktrace.SpanExporter, string, error) {
	if !endpointSet() {
		return nil, "", nil
	}
	var (
		exp sdktrace.SpanExporter
		err error
	)
	p := protocol()
	switch p {
	case ProtocolGRPC:
		exp, err = otlptracegrpc.New(ctx)
	case ProtocolHTTPProtobuf:
		exp, err = otlptracehttp.New(ctx)
	default:
		return nil, "", fmt.Errorf("tracing: OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL is %q; %q and %q are supported", p, ProtocolGRPC, ProtocolHTTPProtobuf)
	}
	if err != nil {
		return nil, "", fmt.Errorf("tracing: OTLP exporter (%s): %w", p, err)
	}
	return exp, p, nil
}
