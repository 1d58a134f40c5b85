package tracing

import (
	"context"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.uber.org/zap"
)

// otelVars are the variables that choose the exporter; every test starts
// with all of them unset, whatever the machine's environment says. Setup
// gets a no-op logger: the error handler it installs outlives the test.
var otelVars = []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
	"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_SERVICE_NAME", "OTEL_TRACES_SAMPLER"}

func setEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, k := range otelVars {
		t.Setenv(k, "")
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}

// emitSpan ends one span through the global provider, as instrumented code
// does, and reports whether it was recorded.
func emitSpan(t *testing.T, name string) (recorded, validIDs bool) {
	t.Helper()
	_, span := otel.Tracer("tracing-test").Start(context.Background(), name)
	defer span.End()
	return span.IsRecording(), span.SpanContext().IsValid()
}

// Without an endpoint nothing is exported, whatever else is set: no
// exporter is built and no span is even recorded. Ids are still made, for
// the logs and the Temporal headers.
func TestNothingExportedWithoutEndpoint(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"nothing set":           {},
		"blank endpoints":       {"OTEL_EXPORTER_OTLP_ENDPOINT": " ", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": ""},
		"protocol without host": {"OTEL_EXPORTER_OTLP_PROTOCOL": ProtocolGRPC, "OTEL_TRACES_SAMPLER": "always_on"},
	} {
		t.Run(name, func(t *testing.T) {
			setEnv(t, env)
			p, err := Setup(context.Background(), "belvo-test", zap.NewNop())
			if err != nil {
				t.Fatal(err)
			}
			if p.Exporting() || p.Protocol() != "" {
				t.Errorf("exporting over %q without an endpoint", p.Protocol())
			}
			recorded, valid := emitSpan(t, "unexported")
			if recorded {
				t.Error("a span was recorded without an endpoint")
			}
			if !valid {
				t.Error("spans have no ids without an endpoint: logs could not carry a trace_id")
			}
			if err := p.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// With an endpoint, spans reach it over the protocol the environment
// names, with the process's service name, once the provider is flushed.
func TestSpansReachTheOTLPEndpoint(t *testing.T) {
	httpRecv, httpURL := httpReceiver(t)
	grpcRecv, grpcURL := grpcReceiver(t)
	for _, tc := range []struct {
		name     string
		env      map[string]string
		recv     *receiver
		protocol string
		path     string // the HTTP path spans must come to
	}{
		{"default protocol is http/protobuf", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": httpURL},
			httpRecv, ProtocolHTTPProtobuf, "/v1/traces"},
		{"traces endpoint used as it is", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": httpURL + "/collect/traces",
			"OTEL_EXPORTER_OTLP_PROTOCOL": ProtocolHTTPProtobuf}, httpRecv, ProtocolHTTPProtobuf, "/collect/traces"},
		{"grpc", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": grpcURL, "OTEL_EXPORTER_OTLP_PROTOCOL": ProtocolGRPC},
			grpcRecv, ProtocolGRPC, ""},
		{"traces protocol wins", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": grpcURL, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
			"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": ProtocolGRPC}, grpcRecv, ProtocolGRPC, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setEnv(t, tc.env)
			p, err := Setup(context.Background(), "belvo-test", zap.NewNop())
			if err != nil {
				t.Fatal(err)
			}
			if p.Protocol() != tc.protocol {
				t.Errorf("protocol %q, want %q", p.Protocol(), tc.protocol)
			}
			name := "probe " + tc.name
			if recorded, _ := emitSpan(t, name); !recorded {
				t.Error("span not recorded with an endpoint set")
			}
			if err := p.Shutdown(context.Background()); err != nil { // flushes the batch
				t.Fatal(err)
			}
			spans, paths := tc.recv.received()
			if !slices.Contains(spans, receivedSpan{service: "belvo-test", name: name}) {
				t.Errorf("receiver got %v, want span %q of service belvo-test", spans, name)
			}
			if tc.path != "" && !slices.Contains(paths, tc.path) {
				t.Errorf("requests came to %v, want %s", paths, tc.path)
			}
		})
	}
}

func TestUnsupportedProtocolIsAnError(t *testing.T) {
	setEnv(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"})
	_, err := Setup(context.Background(), "belvo-test", zap.NewNop())
	if err == nil || !strings.Contains(err.Error(), "http/json") {
		t.Fatalf("Setup: %v, want an error naming http/json", err)
	}
}
