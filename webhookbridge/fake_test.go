package webhookbridge

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/belvo-temporal/backbone/workflows"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// recorder stands in for Temporal in these handler tests (the integration
// tests use the real server). It knows which executions run or exist, and
// records every signal it accepted.
type recorder struct {
	mu    sync.Mutex
	calls []call
	err   error
	// running executions take SignalWorkflow; existing ones are found by
	// DescribeWorkflow; completed ones refuse SignalWithStart
	// under the Once policy.
	running, existing, completed map[string]bool
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
	if r.completed[id] {
		return nil, &serviceerror.WorkflowExecutionAlreadyStarted{RunId: "closed-run"}
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
	ev, _ := arg.(workflows.WebhookEvent)
	r.calls = append(r.calls, call{id: id, signal: signal, ev: ev})
	return nil
}

func (r *recorder) DescribeWorkflow(_ context.Context, id, _ string) (*client.WorkflowExecutionDescription, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return nil, r.err
	}
	if r.existing[id] || r.completed[id] {
		return &client.WorkflowExecutionDescription{}, nil
	}
	return nil, serviceerror.NewNotFound("workflow execution not found")
}

func (r *recorder) GetWorkflow(context.Context, string, string) client.WorkflowRun { return run{} }

// run is a workflow run whose result is an empty JSON object.
type run struct{ client.WorkflowRun }

func (run) GetRunID() string { return "run" }

func (run) Get(_ context.Context, out any) error {
	if raw, ok := out.(*json.RawMessage); ok {
		*raw = json.RawMessage(`{}`)
	}
	return nil
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
