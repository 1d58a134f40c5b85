package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

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

// Temporal is the part of the Temporal client that delivers signals; the
// bridge and the activities share it (client.Client fits).
type Temporal interface {
	SignalWithStartWorkflow(ctx context.Context, workflowID, signalName string, signalArg any,
		options client.StartWorkflowOptions, workflow any, workflowArgs ...any) (client.WorkflowRun, error)
	DescribeWorkflow(ctx context.Context, workflowID, runID string) (*client.WorkflowExecutionDescription, error)
	GetWorkflow(ctx context.Context, workflowID, runID string) client.WorkflowRun
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
}

// SignalWithStart delivers a signal to a workflow, starting it first when it
// is not running. It is atomic on the server, so it can race a webhook that
// starts the same workflow and neither side loses anything.
func (a *Activities) SignalWithStart(ctx context.Context, in SignalWithStartInput) (SignalWithStartResult, error) {
	return SignalWithStart(ctx, a.Temporal, in)
}

// SignalWithStart is the activity's work, for callers outside a worker (the
// bridge).
func SignalWithStart(ctx context.Context, c Temporal, in SignalWithStartInput) (SignalWithStartResult, error) {
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
	run, err := c.SignalWithStartWorkflow(ctx, in.WorkflowID, in.SignalName, in.Signal, opts, in.WorkflowType, in.Input)
	var completed *serviceerror.WorkflowExecutionAlreadyStarted
	if in.Once && errors.As(err, &completed) {
		// It completed already: maybe from an earlier attempt of this very
		// call whose answer was lost. The caller decides from the result of
		// that run (by its id: a newer run may have started since).
		var res json.RawMessage
		if gerr := c.GetWorkflow(ctx, in.WorkflowID, completed.RunId).Get(ctx, &res); gerr != nil {
			return SignalWithStartResult{}, fmt.Errorf("read the completed %s: %w", in.WorkflowID, gerr)
		}
		return SignalWithStartResult{ClosedResult: res}, nil
	}
	if err != nil {
		return SignalWithStartResult{}, fmt.Errorf("signal-with-start %s: %w", in.WorkflowID, err)
	}
	return SignalWithStartResult{RunID: run.GetRunID()}, nil
}

// ForwardInput delivers one webhook: to the execution of the request its
// request_id names when that request is this product's, otherwise to the
// route its code decides (Fallback).
type ForwardInput struct {
	// Request is the execution of the webhook's request_id (nil when the
	// webhook has none). Forward only signals it, never starts it: its
	// sender started it before learning the request_id.
	Request *SignalWithStartInput `json:"request,omitempty"`
	// RequestKnown: the request is known to be ours (its sender announced
	// it and learned its request_id). Kept for the record: Forward asks
	// Temporal in either case, since only a running execution takes it.
	RequestKnown bool `json:"request_known,omitempty"`
	// DedupeKey identifies the webhook: a copy for a request that completed
	// is a duplicate only when the request processed this key.
	DedupeKey string `json:"dedupe_key,omitempty"`
	// Fallback is the webhook's route when no running request takes it.
	Fallback SignalWithStartInput `json:"fallback"`
}

// ForwardResult says where the webhook went.
type ForwardResult struct {
	WorkflowID   string `json:"workflow_id"`
	WorkflowType string `json:"workflow_type"`
	// ToRequest: it went to its request's execution.
	ToRequest bool `json:"to_request,omitempty"`
	// Duplicate: the request's execution had completed after processing
	// this very webhook; nothing was signalled.
	Duplicate bool `json:"duplicate,omitempty"`
}

// ForwardWebhook is Forward as an activity (a link's request registry
// releases the webhooks it held with it).
func (a *Activities) ForwardWebhook(ctx context.Context, in ForwardInput) (ForwardResult, error) {
	return Forward(ctx, a.Temporal, in)
}

// forwardAttempts bounds how often Forward looks again at a request whose
// execution closed between the look and the signal.
const forwardAttempts = 3

// Forward delivers a webhook by request first. The request's execution
// decides by its state:
//
//   - running: it is signalled;
//   - completed: the webhook is a duplicate if the request processed its
//     dedupe key (its result's "processed"), else it takes its Fallback
//     route, so a late webhook the request never handled is not lost;
//   - failed, timed out, terminated or cancelled, or none at all: the
//     Fallback route (the request can no longer handle it; no new run
//     starts without its sender's details).
//
// The caller makes sure no announced request can still claim it (see
// workflows.LinkRequests).
func Forward(ctx context.Context, c Temporal, in ForwardInput) (ForwardResult, error) {
	if in.Request != nil {
		res, delivered, err := toRequest(ctx, c, in)
		if err != nil || delivered {
			return res, err
		}
	}
	if _, err := SignalWithStart(ctx, c, in.Fallback); err != nil {
		return ForwardResult{}, err
	}
	return ForwardResult{WorkflowID: in.Fallback.WorkflowID, WorkflowType: in.Fallback.WorkflowType}, nil
}

// toRequest is Forward's first half: delivered is false when the webhook
// must take its Fallback route.
func toRequest(ctx context.Context, c Temporal, in ForwardInput) (res ForwardResult, delivered bool, err error) {
	id := in.Request.WorkflowID
	res = ForwardResult{WorkflowID: id, WorkflowType: in.Request.WorkflowType, ToRequest: true}
	var notFound *serviceerror.NotFound
	for range forwardAttempts {
		d, err := c.DescribeWorkflow(ctx, id, "")
		if errors.As(err, &notFound) {
			return ForwardResult{}, false, nil
		}
		if err != nil {
			return ForwardResult{}, false, fmt.Errorf("look up %s: %w", id, err)
		}
		switch d.Status {
		case enums.WORKFLOW_EXECUTION_STATUS_RUNNING:
			err := c.SignalWorkflow(ctx, id, d.WorkflowExecution.RunID, in.Request.SignalName, in.Request.Signal)
			if errors.As(err, &notFound) {
				continue // it closed since the look: look again
			}
			if err != nil {
				return ForwardResult{}, false, fmt.Errorf("signal %s: %w", id, err)
			}
			return res, true, nil
		case enums.WORKFLOW_EXECUTION_STATUS_COMPLETED:
			dup, err := processed(ctx, c, id, d.WorkflowExecution.RunID, in.DedupeKey)
			if err != nil || !dup {
				return ForwardResult{}, false, err
			}
			res.Duplicate = true
			return res, true, nil
		case enums.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
			continue // the new run shows on the next look
		default:
			return ForwardResult{}, false, nil
		}
	}
	return ForwardResult{}, false, fmt.Errorf("%s kept changing state while a webhook was delivered to it; delivery retries", id)
}

// processed reports whether a completed request's result lists the
// webhook's dedupe key. A result without "processed" (a request from
// before it was recorded) took only its first webhook, so any later copy
// is a duplicate.
func processed(ctx context.Context, c Temporal, id, runID, key string) (bool, error) {
	var res map[string]json.RawMessage
	if err := c.GetWorkflow(ctx, id, runID).Get(ctx, &res); err != nil {
		return false, fmt.Errorf("read the result of %s: %w", id, err)
	}
	raw, ok := res["processed"]
	if !ok {
		return true, nil
	}
	var keys []string
	if err := json.Unmarshal(raw, &keys); err != nil {
		return false, fmt.Errorf("read the processed webhooks of %s: %w", id, err)
	}
	return slices.Contains(keys, key), nil
}

// ExecutionOpen reports whether a workflow's latest run is still running
// (a link's request registry asks it of a sender whose announcement is
// old, before it stops holding webhooks for it).
func (a *Activities) ExecutionOpen(ctx context.Context, workflowID string) (bool, error) {
	d, err := a.Temporal.DescribeWorkflow(ctx, workflowID, "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("describe %s: %w", workflowID, err)
	}
	return d.Status == enums.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
}
