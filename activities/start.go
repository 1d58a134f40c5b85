package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
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
	// Once: the workflow id may have had one execution only; if it is
	// already closed the call fails for good instead of starting another.
	Once bool `json:"once,omitempty"`
}

// SignalWithStart delivers a signal to a workflow, starting it first when it
// is not running. It is atomic on the server, so it can race a webhook that
// starts the same workflow and neither side loses anything.
func (a *Activities) SignalWithStart(ctx context.Context, in SignalWithStartInput) (string, error) {
	var sa []temporal.SearchAttributeUpdate
	for k, v := range in.Keywords {
		sa = append(sa, temporal.NewSearchAttributeKeyKeyword(k).ValueSet(v))
	}
	opts := client.StartWorkflowOptions{ID: in.WorkflowID, TaskQueue: in.TaskQueue, TypedSearchAttributes: temporal.NewSearchAttributes(sa...)}
	if in.Once {
		opts.WorkflowIDReusePolicy = enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
	}
	run, err := a.Temporal.SignalWithStartWorkflow(ctx, in.WorkflowID, in.SignalName, in.Signal, opts, in.WorkflowType, in.Input)
	var closed *serviceerror.WorkflowExecutionAlreadyStarted
	if in.Once && errors.As(err, &closed) {
		return "", temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s already ran and closed (e.g. ended as an orphan before this request claimed it)", in.WorkflowID), "AlreadyClosed", err)
	}
	if err != nil {
		return "", fmt.Errorf("signal-with-start %s: %w", in.WorkflowID, err)
	}
	return run.GetRunID(), nil
}
