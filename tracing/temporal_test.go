package tracing

import (
	"context"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/logging"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func logActivity(ctx context.Context) error {
	activity.GetLogger(ctx).Info("activity line")
	return nil
}

func logWorkflow(ctx workflow.Context) error {
	workflow.GetLogger(ctx).Info("workflow line")
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	return workflow.ExecuteActivity(ctx, logActivity).Get(ctx, nil)
}

// runLogged runs logWorkflow with the interceptor on the SDK's test
// environment and returns its lines' fields by message.
func runLogged(t *testing.T) map[string]map[string]any {
	t.Helper()
	core, logs := observer.New(zap.InfoLevel)
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(logging.NewTemporal(zap.New(core)))
	env := suite.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{TemporalInterceptor()}})
	env.RegisterWorkflow(logWorkflow)
	env.RegisterActivity(logActivity)
	env.ExecuteWorkflow(logWorkflow)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, l := range logs.All() {
		out[l.Message] = l.ContextMap()
	}
	return out
}

// The loggers the SDK gives workflows and activities carry the trace_id
// and span_id of their span (RunWorkflow, RunActivity), under the names
// the bridge's lines use, and one workflow's lines share its trace.
func TestTemporalLoggersCarryTraceIDs(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	lines := runLogged(t)

	spans := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		spans[s.Name()] = s
	}
	for _, tc := range []struct{ line, span string }{
		{"workflow line", "RunWorkflow:logWorkflow"},
		{"activity line", "RunActivity:logActivity"},
	} {
		span, ok := spans[tc.span]
		if !ok {
			t.Fatalf("no %s span among %v", tc.span, rec.Ended())
		}
		f := lines[tc.line]
		if f[logging.TraceIDKey] != span.SpanContext().TraceID().String() || f[logging.SpanIDKey] != span.SpanContext().SpanID().String() {
			t.Errorf("%q has trace_id %v span_id %v, want those of %s (%s, %s)", tc.line, f[logging.TraceIDKey], f[logging.SpanIDKey],
				tc.span, span.SpanContext().TraceID(), span.SpanContext().SpanID())
		}
		if _, ok := f["TraceID"]; ok {
			t.Errorf("%q also has the SDK's TraceID field: %v", tc.line, f)
		}
	}
	if spans["RunActivity:logActivity"].SpanContext().TraceID() != spans["RunWorkflow:logWorkflow"].SpanContext().TraceID() {
		t.Error("the activity's span is not in its workflow's trace")
	}
}

// Without an endpoint nothing is recorded, yet the ids still travel from
// the workflow to its activity, so their lines share a trace_id.
func TestTemporalLoggersCarryTraceIDsWithoutExport(t *testing.T) {
	setEnv(t, nil)
	p, err := Setup(context.Background(), "belvo-test", zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(zap.NewNop())
	lines := runLogged(t)
	wf, act := lines["workflow line"][logging.TraceIDKey], lines["activity line"][logging.TraceIDKey]
	if wf == nil || wf != act {
		t.Errorf("workflow line trace_id %v, activity line %v: want one trace", wf, act)
	}
}
