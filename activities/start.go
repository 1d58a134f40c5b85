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
	// Keywords and KeywordLists are search attributes set when the workflow
	// starts.
	Keywords     map[string]string   `json:"keywords,omitempty"`
	KeywordLists map[string][]string `json:"keyword_lists,omitempty"`
	// Summary and Memo are what the web UI shows about the execution when
	// this call starts it (never secrets).
	Summary string         `json:"summary,omitempty"`
	Memo    map[string]any `json:"memo,omitempty"`
	// Once: the workflow id gets one successful execution, ever. If that
	// execution already completed, no new run starts and its result is
	// returned instead (a failed or timed-out one may be started again).
	Once bool `json:"once,omitempty"`
}

// SignalWithStartResult tells what happened: the run signalled, or, for a
// Once workflow that had already completed, its result.
type SignalWithStartResult struct {
	RunID        string          `json:"run_id,omitempty"`
	ClosedResult json.RawMessage `json:"closed_result,omitempty"`
}

// SignalWithStart delivers a signal to a workflow, starting it first when it
// is not running. It is atomic on the server, so it can race a webhook that
// starts the same workflow and neither side loses anything.
func (a *Activities) SignalWithStart(ctx context.Context, in SignalWithStartInput) (SignalWithStartResult, error) {
	var sa []temporal.SearchAttributeUpdate
	for k, v := range in.Keywords {
		sa = append(sa, temporal.NewSearchAttributeKeyKeyword(k).ValueSet(v))
	}
	for k, v := range in.KeywordLists {
		sa = append(sa, temporal.NewSearchAttributeKeyKeywordList(k).ValueSet(v))
	}
	opts := client.StartWorkflowOptions{ID: in.WorkflowID, TaskQueue: in.TaskQueue, TypedSearchAttributes: temporal.NewSearchAttributes(sa...),
		StaticSummary: in.Summary, Memo: in.Memo}
	if in.Once {
		opts.WorkflowIDReusePolicy = enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY
	}
	run, err := a.Temporal.SignalWithStartWorkflow(ctx, in.WorkflowID, in.SignalName, in.Signal, opts, in.WorkflowType, in.Input)
	var completed *serviceerror.WorkflowExecutionAlreadyStarted
	if in.Once && errors.As(err, &completed) {
		// It completed already: maybe from an earlier attempt of this very
		// call whose answer was lost. The caller decides from the result of
		// that run (by its id: a newer run may have started since).
		var res json.RawMessage
		if gerr := a.Temporal.GetWorkflow(ctx, in.WorkflowID, completed.RunId).Get(ctx, &res); gerr != nil {
			return SignalWithStartResult{}, fmt.Errorf("read the completed %s: %w", in.WorkflowID, gerr)
		}
		return SignalWithStartResult{ClosedResult: res}, nil
	}
	if err != nil {
		return SignalWithStartResult{}, fmt.Errorf("signal-with-start %s: %w", in.WorkflowID, err)
	}
	return SignalWithStartResult{RunID: run.GetRunID()}, nil
}
