package activities

import (
	"context"
	"encoding/json"
	"fmt"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// SignalWithStartInput describes a SignalWithStart made on a workflow's
// behalf. Signal and Input are already-encoded JSON so this package needs no
// knowledge of the workflow's types (workflows import activities, not the
// other way round).
type SignalWithStartInput struct {
	WorkflowID   string          `json:"workflow_id"`
	WorkflowType string          `json:"workflow_type"`
	TaskQueue    string          `json:"task_queue"`
	SignalName   string          `json:"signal_name"`
	Signal       json.RawMessage `json:"signal"`
	Input        json.RawMessage `json:"input"`
	// Keywords are keyword search attributes set when the workflow starts.
	Keywords map[string]string `json:"keywords,omitempty"`
}

// SignalWithStart delivers a signal to a workflow, starting it first when it
// is not running. It is atomic on the server, so it can race a webhook that
// starts the same workflow and neither side loses anything.
func (a *Activities) SignalWithStart(ctx context.Context, in SignalWithStartInput) (string, error) {
	var sa []temporal.SearchAttributeUpdate
	for k, v := range in.Keywords {
		sa = append(sa, temporal.NewSearchAttributeKeyKeyword(k).ValueSet(v))
	}
	run, err := a.Temporal.SignalWithStartWorkflow(ctx, in.WorkflowID, in.SignalName, in.Signal,
		client.StartWorkflowOptions{ID: in.WorkflowID, TaskQueue: in.TaskQueue, TypedSearchAttributes: temporal.NewSearchAttributes(sa...)},
		in.WorkflowType, in.Input)
	if err != nil {
		return "", fmt.Errorf("signal-with-start %s: %w", in.WorkflowID, err)
	}
	return run.GetRunID(), nil
}
