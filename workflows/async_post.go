package workflows

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// AsyncPostInput asks for one async Belvo request.
type AsyncPostInput struct {
	ClientRequestID string             `json:"client_request_id"`
	Request         belvo.AsyncRequest `json:"request"`
	// Timeout is given to the waiter: how long to wait for the webhook.
	Timeout time.Duration `json:"timeout,omitempty"`
}

// AsyncPostResult names Belvo's request_id and the execution that waits for
// its webhook.
type AsyncPostResult struct {
	RequestID         string `json:"request_id"`
	RequestWorkflowID string `json:"request_workflow_id"`
}

// AsyncPost sends an async request (202 {request_id}) and hands it to the
// AsyncRequest execution of that request_id with SignalWithStart, which
// either starts it or joins the one the webhook already started.
func AsyncPost(ctx workflow.Context, in AsyncPostInput) (AsyncPostResult, error) {
	return (&asyncPost{in: in}).run(ctx)
}

type asyncPost struct {
	in AsyncPostInput
}

func (p *asyncPost) run(ctx workflow.Context) (AsyncPostResult, error) {
	if err := p.in.Request.Validate(); err != nil {
		return AsyncPostResult{}, temporal.NewNonRetryableApplicationError(err.Error(), "InvalidInput", nil)
	}
	var a *activities.Activities
	// The call is not idempotent at Belvo: the activity lets only failures
	// that prove nothing happened be retried (activities.classifyOnce).
	postCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 3 * time.Minute, // well above the client's 60 s HTTP timeout
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 3 * time.Second, BackoffCoefficient: 2, MaximumAttempts: 5},
		Summary:             p.op() + " (X-Belvo-Request-Mode: async) → request_id",
	})
	var rid string
	if err := workflow.ExecuteActivity(postCtx, a.StartAsync, p.in.Request).Get(ctx, &rid); err != nil {
		return AsyncPostResult{}, fmt.Errorf("send async %s: %w", p.in.Request.Op, err)
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, RequestIDAttr.ValueSet(rid)); err != nil {
		workflow.GetLogger(ctx).Warn("search attributes not set", "error", err)
	}
	waiter := AsyncRequestWorkflowID(rid)
	signal, err := json.Marshal(AsyncDetails{Request: p.in.Request, ClientRequestID: p.in.ClientRequestID})
	if err != nil {
		return AsyncPostResult{}, err
	}
	input, err := json.Marshal(AsyncRequestInput{RequestID: rid, Timeout: p.in.Timeout})
	if err != nil {
		return AsyncPostResult{}, err
	}
	startCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
		Summary:             "hand request " + rid + " to " + waiter + ", which waits for its webhook",
	})
	var sws activities.SignalWithStartResult
	err = workflow.ExecuteActivity(startCtx, a.SignalWithStart, activities.SignalWithStartInput{
		WorkflowID: waiter, WorkflowType: AsyncRequestType, TaskQueue: workflow.GetInfo(ctx).TaskQueueName,
		SignalName: AsyncDetailsSignal, Signal: signal, Input: input,
		Keywords:     map[string]string{RequestIDAttr.GetName(): rid, LinkIDAttr.GetName(): p.in.Request.LinkID, StatusAttr.GetName(): StatusWaiting},
		KeywordLists: p.resources(),
		Summary:      AsyncRequestSummary(rid),
		Memo:         AsyncMemo(p.in.Request),
		Once:         true,
	}).Get(ctx, &sws)
	if err != nil {
		return AsyncPostResult{}, fmt.Errorf("hand request %s to %s: %w", rid, waiter, err)
	}
	if sws.ClosedResult != nil {
		// The waiter had completed already: fine if it completed for us (an
		// earlier attempt's answer was lost), not if it closed unclaimed.
		var done AsyncProgress
		if err := json.Unmarshal(sws.ClosedResult, &done); err != nil || done.ClientRequestID != p.in.ClientRequestID {
			return AsyncPostResult{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("request %s: its execution %s already completed without this request (status %q)", rid, waiter, done.Status),
				"AlreadyClosed", nil)
		}
	}
	return AsyncPostResult{RequestID: rid, RequestWorkflowID: waiter}, nil
}

// op names the request's endpoint for people ("POST /api/invoices/").
func (p *asyncPost) op() string {
	if op, err := belvo.LookupAsyncOp(p.in.Request.Op); err == nil {
		return op.Method + " " + op.Path
	}
	return string(p.in.Request.Op)
}

// resources is the BelvoResources attribute of the request's waiter: the
// resource the request produces (none for a link deletion).
func (p *asyncPost) resources() map[string][]string {
	op, err := belvo.LookupAsyncOp(p.in.Request.Op)
	if err != nil || op.Resource == "" {
		return nil
	}
	return map[string][]string{ResourcesAttr.GetName(): {string(op.Resource)}}
}
