package workflows

import (
	"encoding/json"
	"errors"
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
	// Routing is given to the link's LinkRequests, for the webhooks it
	// forwards by code.
	Routing RouteDefaults `json:"routing,omitempty"`
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
	// cancelSafe: the resolution is sent also when the sender is cancelled.
	cancelSafe bool
	// local: hand-overs are local activities (localHandOverVersion).
	local bool
}

// announceVersion gates the announcement of a request to its link's
// LinkRequests before it is sent (and its resolution after): executions
// started before it replay without them.
const announceVersion = "announce-requests"

// cancelSafeVersion gates resolving the announcement on a disconnected
// context, so that a cancelled sender still releases its link's webhooks.
const cancelSafeVersion = "resolve-when-cancelled"

func (p *asyncPost) run(ctx workflow.Context) (AsyncPostResult, error) {
	if err := p.in.Request.Validate(); err != nil {
		return AsyncPostResult{}, temporal.NewNonRetryableApplicationError(err.Error(), "InvalidInput", nil)
	}
	announce := workflow.GetVersion(ctx, announceVersion, workflow.DefaultVersion, 1) >= 1
	p.local = workflow.GetVersion(ctx, localHandOverVersion, workflow.DefaultVersion, 1) >= 1
	if announce {
		p.cancelSafe = workflow.GetVersion(ctx, cancelSafeVersion, workflow.DefaultVersion, 1) >= 1
		if err := p.nameRefreshResources(ctx); err != nil {
			return AsyncPostResult{}, err
		}
		if err := p.notify(ctx, RequestNotice{Announce: &Announcement{
			Key: workflow.GetInfo(ctx).WorkflowExecution.ID, Request: p.in.Request, At: workflow.Now(ctx)}}); err != nil {
			return AsyncPostResult{}, err
		}
	}
	rid, err := p.send(ctx)
	if err != nil {
		if announce {
			p.resolve(ctx, "", outcomeOf(err))
		}
		if cooldown, ok := refreshCooldown(ctx, err); ok {
			return AsyncPostResult{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("link %s was refreshed less than %s ago: Belvo takes the next refresh in %s, at %s",
					p.in.Request.LinkID, belvo.RefreshCooldown, cooldown.Wait, cooldown.RetryAt.Format(time.RFC3339)),
				belvo.ClassRefreshCooldown, err, cooldown)
		}
		return AsyncPostResult{}, fmt.Errorf("send async %s: %w", p.in.Request.Op, err)
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, RequestIDAttr.ValueSet(rid)); err != nil {
		workflow.GetLogger(ctx).Warn("search attributes not set", "error", err)
	}
	res, err := p.handOver(ctx, rid)
	if announce {
		// After the hand-over: from now on the request's AsyncRequest
		// exists, so its webhooks find it without the announcement.
		p.resolve(ctx, rid, OutcomeAccepted)
	}
	return res, err
}

// send posts the request (202 {request_id}). The call is not idempotent at
// Belvo: the activity lets only failures that prove nothing happened be
// retried (activities.classifyOnce and its send guard).
func (p *asyncPost) send(ctx workflow.Context) (string, error) {
	var a *activities.Activities
	postCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: SendTimeout,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 3 * time.Second, BackoffCoefficient: 2, MaximumAttempts: 5},
		Summary:             p.op() + " (X-Belvo-Request-Mode: async) → request_id",
	})
	var rid string
	err := workflow.ExecuteActivity(postCtx, a.StartAsync, p.in.Request).Get(ctx, &rid)
	return rid, err
}

// handOver gives the request to the AsyncRequest of its request_id with
// SignalWithStart, which either starts it or joins the one a webhook
// already started.
func (p *asyncPost) handOver(ctx workflow.Context, rid string) (AsyncPostResult, error) {
	waiter := AsyncRequestWorkflowID(rid)
	signal, err := json.Marshal(AsyncDetails{Request: p.in.Request, ClientRequestID: p.in.ClientRequestID})
	if err != nil {
		return AsyncPostResult{}, err
	}
	input, err := json.Marshal(AsyncRequestInput{RequestID: rid, Timeout: p.in.Timeout})
	if err != nil {
		return AsyncPostResult{}, err
	}
	sws, err := signalWithStart(ctx, p.local, "hand request "+rid+" to "+waiter+", which waits for its webhook", activities.SignalWithStartInput{
		WorkflowID: waiter, WorkflowType: AsyncRequestType, TaskQueue: workflow.GetInfo(ctx).TaskQueueName,
		SignalName: AsyncDetailsSignal, Signal: signal, Input: input,
		Keywords:     map[string]string{RequestIDAttr.GetName(): rid, LinkIDAttr.GetName(): p.in.Request.LinkID, StatusAttr.GetName(): StatusWaiting},
		KeywordLists: p.resources(),
		Summary:      AsyncRequestSummary(rid),
		Memo:         AsyncMemo(p.in.Request),
		Once:         true,
	})
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

// nameRefreshResources names what a refresh fetches when the caller did
// not: the link's own fetch_resources. Belvo would otherwise refresh every
// resource the institution supports, and this product could not know which
// webhooks to wait for.
func (p *asyncPost) nameRefreshResources(ctx workflow.Context) error {
	if p.in.Request.Op != belvo.OpLinkRefresh || len(p.in.Request.Resources) > 0 {
		return nil
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: CallTimeout, RetryPolicy: fetchRetry,
		Summary: "GET the link: which resources to refresh",
	})
	var a *activities.Activities
	var info activities.LinkInfo
	if err := workflow.ExecuteActivity(actx, a.GetLink, p.in.Request.LinkID).Get(ctx, &info); err != nil {
		return fmt.Errorf("read link %s to name the resources to refresh: %w", p.in.Request.LinkID, err)
	}
	if len(info.FetchResources) == 0 {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("link %s has no fetch_resources: name the resources to refresh", p.in.Request.LinkID), "InvalidInput", nil)
	}
	p.in.Request.Resources = info.FetchResources
	return nil
}

// notify SignalWithStarts the link's LinkRequests with a notice; it returns
// once Temporal has recorded it, so an announcement is durable before the
// request leaves.
func (p *asyncPost) notify(ctx workflow.Context, n RequestNotice) error {
	link := p.in.Request.LinkID
	sig, err := json.Marshal(n)
	if err != nil {
		return err
	}
	input, err := json.Marshal(LinkRequestsInput{LinkID: link, Routing: p.in.Routing})
	if err != nil {
		return err
	}
	what := "announce the request to"
	if n.Resolve != nil {
		what = "resolve the request at"
	}
	_, err = signalWithStart(ctx, p.local, what+" "+LinkRequestsWorkflowID(link), activities.SignalWithStartInput{
		WorkflowID: LinkRequestsWorkflowID(link), WorkflowType: LinkRequestsType, TaskQueue: workflow.GetInfo(ctx).TaskQueueName,
		SignalName: RequestNoticeSignal, Signal: sig, Input: input,
		Keywords: map[string]string{LinkIDAttr.GetName(): link},
		Summary:  LinkRequestsSummary(link), Memo: map[string]any{"flow": "requests in flight", "link": link},
	})
	return err
}

// resolve ends the request's announcement, also when the sender is being
// cancelled (on a disconnected context): a pending announcement holds the
// link's webhooks. It is retried until Temporal takes it.
func (p *asyncPost) resolve(ctx workflow.Context, rid, outcome string) {
	nctx := ctx
	if p.cancelSafe {
		nctx, _ = workflow.NewDisconnectedContext(ctx)
	}
	n := RequestNotice{Resolve: &Resolution{Key: workflow.GetInfo(ctx).WorkflowExecution.ID, RequestID: rid, Outcome: outcome}}
	if err := p.notify(nctx, n); err != nil {
		workflow.GetLogger(ctx).Error("request not resolved at its link's registry", "request_id", rid, "error", err)
	}
}

// RefreshCooldown is the failure detail of a refresh Belvo refused within
// its cooldown: when to send it again.
type RefreshCooldown struct {
	Wait    time.Duration `json:"wait"`
	RetryAt time.Time     `json:"retry_at"`
}

// refreshCooldown reads Belvo's 409 link_refreshed out of a failed send.
func refreshCooldown(ctx workflow.Context, err error) (RefreshCooldown, bool) {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != belvo.ClassRefreshCooldown {
		return RefreshCooldown{}, false
	}
	wait := appErr.NextRetryDelay()
	if wait <= 0 {
		wait = belvo.RefreshCooldown
	}
	return RefreshCooldown{Wait: wait, RetryAt: workflow.Now(ctx).Add(wait).UTC()}, true
}

// outcomeOf tells from a failed send whether the request may have left:
// the guard said so, the last attempt timed out mid-call, or the sender was
// cancelled while sending.
func outcomeOf(err error) string {
	var appErr *temporal.ApplicationError
	var timeout *temporal.TimeoutError
	var canceled *temporal.CanceledError
	if errors.As(err, &appErr) && appErr.Type() == "BelvoUncertain" || errors.As(err, &timeout) || errors.As(err, &canceled) {
		return OutcomeUncertain
	}
	return OutcomeRefused
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
