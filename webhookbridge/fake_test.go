package webhookbridge

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/belvo-temporal/backbone/workflows"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// recorder stands in for Temporal in these handler tests (the integration
// tests use the real server). It knows the state of some executions, and
// records every signal it accepted.
type recorder struct {
	mu    sync.Mutex
	calls []call
	err   error
	// running executions take SignalWorkflow; completed ones answer their
	// result (JSON) to GetWorkflow; failed ones are closed otherwise.
	running   map[string]bool
	completed map[string]string
	failed    map[string]bool
}

type call struct {
	id, signal string
	ev         workflows.WebhookEvent
	wf         string // the workflow type started, "" for a plain signal
}

func (r *recorder) SignalWithStartWorkflow(_ context.Context, id, signal string, arg any, _ client.StartWorkflowOptions, wf any, _ ...any) (client.WorkflowRun, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return nil, r.err
	}
	var ev workflows.WebhookEvent
	if raw, ok := arg.(json.RawMessage); ok {
		_ = json.Unmarshal(raw, &ev)
	}
	name, _ := wf.(string)
	r.calls = append(r.calls, call{id, signal, ev, name})
	return run{}, nil
}

func (r *recorder) SignalWorkflow(_ context.Context, id, _, signal string, arg any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	if !r.running[id] {
		return serviceerror.NewNotFound("workflow execution not found")
	}
	ev, ok := arg.(workflows.WebhookEvent)
	if raw, isRaw := arg.(json.RawMessage); !ok && isRaw {
		_ = json.Unmarshal(raw, &ev)
	}
	r.calls = append(r.calls, call{id: id, signal: signal, ev: ev})
	return nil
}

func (r *recorder) DescribeWorkflow(_ context.Context, id, _ string) (*client.WorkflowExecutionDescription, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return nil, r.err
	}
	var status enums.WorkflowExecutionStatus
	switch _, done := r.completed[id]; {
	case r.running[id]:
		status = enums.WORKFLOW_EXECUTION_STATUS_RUNNING
	case done:
		status = enums.WORKFLOW_EXECUTION_STATUS_COMPLETED
	case r.failed[id]:
		status = enums.WORKFLOW_EXECUTION_STATUS_FAILED
	default:
		return nil, serviceerror.NewNotFound("workflow execution not found")
	}
	d := &client.WorkflowExecutionDescription{}
	d.Status = status
	return d, nil
}

func (r *recorder) GetWorkflow(_ context.Context, id, _ string) client.WorkflowRun {
	r.mu.Lock()
	defer r.mu.Unlock()
	return run{result: r.completed[id]}
}

// run is a workflow run; its result is the JSON given, or an empty object.
type run struct {
	client.WorkflowRun
	result string
}

func (run) GetRunID() string { return "run" }

func (r run) Get(_ context.Context, out any) error {
	if r.result == "" {
		r.result = `{}`
	}
	return json.Unmarshal([]byte(r.result), out)
}

// idle is a Temporal where nothing runs or exists: every webhook takes its
// route by code. Test doubles embed it and override what they exercise.
type idle struct{}

func (idle) SignalWithStartWorkflow(context.Context, string, string, any, client.StartWorkflowOptions, any, ...any) (client.WorkflowRun, error) {
	return run{}, nil
}

func (idle) SignalWorkflow(context.Context, string, string, string, any) error {
	return serviceerror.NewNotFound("workflow execution not found")
}

func (idle) DescribeWorkflow(context.Context, string, string) (*client.WorkflowExecutionDescription, error) {
	return nil, serviceerror.NewNotFound("workflow execution not found")
}

func (idle) GetWorkflow(context.Context, string, string) client.WorkflowRun { return run{} }
