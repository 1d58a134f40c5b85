package workflows

import (
	"fmt"
	"strings"
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Defaults of an async request's waits.
const (
	DefaultAsyncTimeout  = 24 * time.Hour
	DefaultOrphanTimeout = time.Hour
	DefaultOrphanKeep    = 7 * 24 * time.Hour
)

// AsyncRequestInput starts the waiter of one Belvo request_id. The bridge
// (webhook first) or the sender (202 first) provides it.
type AsyncRequestInput struct {
	RequestID string `json:"request_id"`
	// Timeout bounds the wait for the webhook once the request is known.
	Timeout time.Duration `json:"timeout,omitempty"`
	// OrphanTimeout is how long a webhook for a request_id nobody (yet)
	// claimed waits before the execution is flagged "orphan" (BelvoStatus).
	OrphanTimeout time.Duration `json:"orphan_timeout,omitempty"`
	// OrphanKeep is how long a flagged orphan still waits for a late claim
	// (a sender whose worker was down, say) before it closes as "orphan".
	OrphanKeep time.Duration `json:"orphan_keep,omitempty"`
}

// AsyncDetails is what the sender tells the waiter about the request.
type AsyncDetails struct {
	Request         belvo.AsyncRequest `json:"request"`
	ClientRequestID string             `json:"client_request_id,omitempty"`
}

// Async request statuses (also BelvoStatus).
const (
	StatusOrphan = "orphan"
)

// AsyncProgress is the progress query's answer and the waiter's result.
type AsyncProgress struct {
	RequestID string             `json:"request_id"`
	Status    string             `json:"status"`
	Request   belvo.AsyncRequest `json:"request"`
	// ClientRequestID is the sender's idempotency key, once it claimed the
	// request.
	ClientRequestID string `json:"client_request_id,omitempty"`
	// Webhook is the completion webhook, once received (kept for orphans).
	Webhook           *WebhookEvent  `json:"webhook,omitempty"`
	Webhooks          int            `json:"webhooks"`
	DuplicateWebhooks int            `json:"duplicate_webhooks"`
	Resource          belvo.Resource `json:"resource,omitempty"`
	// BelvoCount is how many rows the request produced; Stored how many of
	// the link's rows of the resource the store holds afterwards (summed
	// over Resources for a refresh).
	BelvoCount int    `json:"belvo_count"`
	Stored     int    `json:"stored"`
	Pages      int    `json:"pages"`
	Error      string `json:"error,omitempty"`
	// Resources is each expected resource's state (a refresh has several).
	Resources map[belvo.Resource]*ResourceProgress `json:"resources,omitempty"`
	// Processed are the dedupe keys of the webhooks the request acted on:
	// a copy that comes after it completed is recognised by them
	// (activities.Forward reads them; always present, even when empty, so
	// it can tell this result from one of a release before the field).
	Processed []string `json:"processed"`
	// IgnoredWebhooks carried this request_id but named no resource the
	// request expects.
	IgnoredWebhooks int `json:"ignored_webhooks,omitempty"`
}

// AsyncRequestFailure is the failure detail of a request Belvo reported as
// failed: the web UI shows it with the error.
type AsyncRequestFailure struct {
	RequestID string `json:"request_id"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	Status    int    `json:"status"`
}

// AsyncRequest waits for the webhook carrying its Belvo request_id, then lists
// the data the request produced (filtered to its link, range and type) into
// the store. A webhook reporting an error ends it with a typed,
// non-retryable AsyncRequestFailed; a webhook for a request nobody claims
// ends it as "orphan", kept and visible.
func AsyncRequest(ctx workflow.Context, in AsyncRequestInput) (AsyncProgress, error) {
	return newAsyncRequest(in).run(ctx)
}

type asyncRequest struct {
	in       AsyncRequestInput
	progress AsyncProgress
	details  *AsyncDetails
	seen     map[string]bool
	// anyShape (version anyShapeVersion): every webhook of the request is
	// queued and handled by the resource it names; before it, the first
	// webhook completed the request and later ones were duplicates.
	anyShape bool
	queue    []WebhookEvent
}

// anyShapeVersion gates the handling of several webhooks per request (a
// refresh sends one per resource), of the link's data on a deletion, and
// of the Processed keys: executions started before it replay the old way.
const anyShapeVersion = "request-webhooks-by-resource"

// lateWebhooksVersion gates handling the webhooks that reach a settled
// request before it completes: executions started before it counted them
// and completed.
const lateWebhooksVersion = "handle-late-webhooks"

func newAsyncRequest(in AsyncRequestInput) *asyncRequest {
	if in.Timeout <= 0 {
		in.Timeout = DefaultAsyncTimeout
	}
	if in.OrphanTimeout <= 0 {
		in.OrphanTimeout = DefaultOrphanTimeout
	}
	if in.OrphanKeep <= 0 {
		in.OrphanKeep = DefaultOrphanKeep
	}
	return &asyncRequest{in: in, progress: AsyncProgress{RequestID: in.RequestID, Status: StatusWaiting}, seen: map[string]bool{}}
}

func (a *asyncRequest) run(ctx workflow.Context) (AsyncProgress, error) {
	if a.in.RequestID == "" {
		return a.progress, temporal.NewNonRetryableApplicationError("async request needs a request id", "InvalidInput", nil)
	}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (AsyncProgress, error) { return a.progress, nil }); err != nil {
		return a.progress, err
	}
	a.anyShape = workflow.GetVersion(ctx, anyShapeVersion, workflow.DefaultVersion, 1) >= 1
	webhooks := workflow.GetSignalChannel(ctx, WebhookSignal)
	detailsCh := workflow.GetSignalChannel(ctx, AsyncDetailsSignal)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var d AsyncDetails
			detailsCh.Receive(ctx, &d)
			a.onDetails(ctx, d)
		}
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var ev WebhookEvent
			webhooks.Receive(ctx, &ev)
			a.onWebhook(ev)
		}
	})

	// The two halves come in either order: the details from the sender
	// (after Belvo's 202) and the webhook from the bridge.
	hasDetails := func() bool { return a.details != nil }
	ok, err := a.await(ctx, a.in.OrphanTimeout, hasDetails, webhooks, detailsCh)
	if err != nil {
		return a.progress, err
	}
	if !ok {
		// Nobody claimed this request_id yet: flag it, keep its webhook, and
		// keep waiting for a late claim; never an error, so nothing retries.
		a.setStatus(ctx, StatusOrphan)
		workflow.GetLogger(ctx).Warn("orphan webhook: no request claimed this request_id", "request_id", a.in.RequestID)
		if ok, err = a.await(ctx, a.in.OrphanKeep, hasDetails, webhooks, detailsCh); err != nil {
			return a.progress, err
		}
		if !ok {
			return a.progress, nil
		}
		a.setStatus(ctx, StatusWaiting) // claimed late
	}
	if a.anyShape {
		return a.complete(ctx, webhooks, detailsCh)
	}
	return a.completeFirstWebhook(ctx, webhooks, detailsCh)
}

// complete handles the request's webhooks in arrival order until every
// resource it expects is listed (or, for a deletion, the link's data is
// gone), or the timeout passes. A webhook is the request's because of its
// request_id: its webhook_code and process_type do not matter.
func (a *asyncRequest) complete(ctx workflow.Context, webhooks, detailsCh workflow.ReceiveChannel) (AsyncProgress, error) {
	expected := a.details.Request.ExpectedResources()
	a.progress.Resources = map[belvo.Resource]*ResourceProgress{}
	for _, r := range expected {
		a.progress.Resources[r] = &ResourceProgress{State: StateWaiting}
	}
	deleted := false
	settled := func() bool {
		if a.details.Request.Op == belvo.OpLinkDeletion {
			return deleted
		}
		for _, r := range expected {
			if s := a.progress.Resources[r].State; s != StateStored && s != StateFailed {
				return false
			}
		}
		return true
	}
	deadline := workflow.Now(ctx).Add(a.in.Timeout)
	for {
		ok, err := a.await(ctx, max(deadline.Sub(workflow.Now(ctx)), 0), func() bool { return len(a.queue) > 0 || settled() }, webhooks, detailsCh)
		if err != nil {
			return a.progress, err
		}
		if len(a.queue) == 0 {
			if !ok {
				a.setStatus(ctx, StatusTimedOut)
				return a.progress, temporal.NewNonRetryableApplicationError(
					fmt.Sprintf("async %s request %s: %s after %s", a.details.Request.Op, a.in.RequestID, a.missing(expected), a.in.Timeout),
					"AsyncRequestTimedOut", nil, a.progress)
			}
			// Settled. Webhooks that reached the execution meanwhile are
			// handled too, not dropped with it.
			a.drain(ctx, webhooks, detailsCh)
			if len(a.queue) > 0 && workflow.GetVersion(ctx, lateWebhooksVersion, workflow.DefaultVersion, 1) >= 1 {
				continue
			}
			break
		}
		ev := a.queue[0]
		a.queue = a.queue[1:]
		if ev.ErrorCode != "" {
			if r, ok := a.resourceOf(ev, expected); ok && len(expected) > 1 {
				p := a.progress.Resources[r]
				p.State, p.Error = StateFailed, fmt.Sprintf("%s: %s", ev.ErrorCode, ev.ErrorMessage)
				continue
			}
			return a.progress, a.failed(ctx, ev)
		}
		if a.details.Request.Op == belvo.OpLinkDeletion {
			if err := a.deleteLinkData(ctx); err != nil {
				return a.progress, a.listingFailed(ctx, err)
			}
			tellDeleted(ctx, a.details.Request.LinkID, ev)
			deleted = true
			a.progress.Processed = append(a.progress.Processed, ev.DedupeKey())
			continue
		}
		r, ok := a.resourceOf(ev, expected)
		if !ok {
			a.progress.IgnoredWebhooks++
			workflow.GetLogger(ctx).Warn("webhook of this request names no resource it expects", "webhook_type", ev.Type, "webhook_code", ev.Code)
			continue
		}
		if err := a.fetchResource(ctx, r, ev); err != nil {
			p := a.progress.Resources[r]
			p.State, p.Error = StateFailed, err.Error()
			if len(expected) == 1 {
				return a.progress, a.listingFailed(ctx, err)
			}
		}
		a.progress.Processed = append(a.progress.Processed, ev.DedupeKey())
	}
	var failed []string
	for _, r := range expected {
		if p := a.progress.Resources[r]; p.State == StateFailed {
			failed = append(failed, fmt.Sprintf("%s: %s", r, p.Error))
		}
	}
	if len(failed) > 0 {
		a.progress.Error = strings.Join(failed, "; ")
		a.setStatus(ctx, StatusFailed)
		return a.progress, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("async %s request %s: %s", a.details.Request.Op, a.in.RequestID, a.progress.Error), "AsyncRequestFailed", nil,
			AsyncRequestFailure{RequestID: a.in.RequestID, Code: "resources_failed", Message: a.progress.Error})
	}
	a.setStatus(ctx, StatusCompleted)
	return a.progress, nil
}

// resourceOf is the expected resource a webhook is about: the only one
// when the request expects one (an async POST's completion, whatever its
// webhook_type), else the resource its webhook_type names (a refresh sends
// one webhook per resource).
func (a *asyncRequest) resourceOf(ev WebhookEvent, expected []belvo.Resource) (belvo.Resource, bool) {
	if len(expected) == 1 {
		return expected[0], true
	}
	r := belvo.Resource(ev.Type)
	return r, a.progress.Resources[r] != nil
}

// missing says what a timed-out request still waits for.
func (a *asyncRequest) missing(expected []belvo.Resource) string {
	if len(expected) == 0 {
		return "no webhook"
	}
	var waiting []string
	for _, r := range expected {
		if p := a.progress.Resources[r]; p.State == StateWaiting {
			waiting = append(waiting, string(r))
		}
	}
	return "no webhook for " + strings.Join(waiting, ", ")
}

// failed ends the request as Belvo reported it: a typed, non-retryable
// AsyncRequestFailed carrying Belvo's code.
func (a *asyncRequest) failed(ctx workflow.Context, wh WebhookEvent) error {
	a.progress.Error = fmt.Sprintf("%s: %s", wh.ErrorCode, wh.ErrorMessage)
	a.setStatus(ctx, StatusFailed)
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("Belvo reported async %s request %s failed: %s (%s)", a.details.Request.Op, a.in.RequestID, wh.ErrorCode, wh.ErrorMessage),
		"AsyncRequestFailed", nil, AsyncRequestFailure{RequestID: a.in.RequestID, Code: wh.ErrorCode, Message: wh.ErrorMessage, Status: wh.ErrorStatus})
}

// listingFailed ends the request whose data could not be stored.
func (a *asyncRequest) listingFailed(ctx workflow.Context, err error) error {
	a.progress.Error = err.Error()
	a.setStatus(ctx, StatusFailed)
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("async %s request %s: listing its data failed: %v", a.details.Request.Op, a.in.RequestID, err), "AsyncRequestFailed", err)
}

// completeFirstWebhook is the request's end before anyShapeVersion: the
// first webhook completes it. Remove once no execution started before that
// version runs (after ASYNC_REQUEST_TIMEOUT plus ASYNC_ORPHAN_TIMEOUT).
func (a *asyncRequest) completeFirstWebhook(ctx workflow.Context, webhooks, detailsCh workflow.ReceiveChannel) (AsyncProgress, error) {
	ok, err := a.await(ctx, a.in.Timeout, func() bool { return a.progress.Webhook != nil }, webhooks, detailsCh)
	if err != nil {
		return a.progress, err
	}
	if !ok {
		a.setStatus(ctx, StatusTimedOut)
		return a.progress, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("async %s request %s: no webhook after %s", a.details.Request.Op, a.in.RequestID, a.in.Timeout),
			"AsyncRequestTimedOut", nil, a.progress)
	}
	wh := a.progress.Webhook
	if wh.ErrorCode != "" {
		return a.progress, a.failed(ctx, *wh)
	}
	if err := a.fetch(ctx); err != nil {
		return a.progress, a.listingFailed(ctx, err)
	}
	if a.details.Request.Op == belvo.OpLinkDeletion {
		a.tellLinkUpdates(ctx, *wh)
	}
	a.progress.Processed = append(a.progress.Processed, wh.DedupeKey())
	a.drain(ctx, webhooks, detailsCh) // duplicates already delivered are counted, not dropped
	a.setStatus(ctx, StatusCompleted)
	return a.progress, nil
}

// await waits until cond holds or the timeout passes. A signal that arrives
// in the same task as the timer is handled before deciding, so a claim or a
// webhook that reached the execution is never discarded by its deadline.
func (a *asyncRequest) await(ctx workflow.Context, timeout time.Duration, cond func() bool, webhooks, detailsCh workflow.ReceiveChannel) (bool, error) {
	ok, err := workflow.AwaitWithTimeout(ctx, timeout, cond)
	if err != nil || ok {
		return ok, err
	}
	a.drain(ctx, webhooks, detailsCh)
	return cond(), nil
}

// drain handles signals still buffered, from the main coroutine.
func (a *asyncRequest) drain(ctx workflow.Context, webhooks, detailsCh workflow.ReceiveChannel) {
	var d AsyncDetails
	for detailsCh.ReceiveAsync(&d) {
		a.onDetails(ctx, d)
	}
	var ev WebhookEvent
	for webhooks.ReceiveAsync(&ev) {
		a.onWebhook(ev)
	}
}

// tellLinkUpdates passes link_deleted on to the link's recurrent handler, so
// it ends too; a link without one is fine.
func (a *asyncRequest) tellLinkUpdates(ctx workflow.Context, ev WebhookEvent) {
	err := workflow.SignalExternalWorkflow(ctx, LinkUpdatesWorkflowID(a.details.Request.LinkID), "", WebhookSignal, ev).Get(ctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Info("no link updates execution to tell about the deletion", "link_id", a.details.Request.LinkID)
	}
}

// tellDeleted tells the link's other executions (LinkUpdates,
// HistoricalFetch) that the link was deleted, so they end instead of
// waiting; a link without them is fine.
func tellDeleted(ctx workflow.Context, linkID string, cause WebhookEvent) {
	ev := WebhookEvent{WebhookID: cause.WebhookID, Type: "LINK", Code: "link_deleted", LinkID: linkID, RequestID: cause.RequestID}
	for _, id := range []string{LinkUpdatesWorkflowID(linkID), HistoricalFetchWorkflowID(linkID)} {
		if err := workflow.SignalExternalWorkflow(ctx, id, "", WebhookSignal, ev).Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Info("no running execution to tell about the deletion", "workflow_id", id)
		}
	}
}

func (a *asyncRequest) onDetails(ctx workflow.Context, d AsyncDetails) {
	if a.details != nil {
		return // the sender's retry: the first details win
	}
	a.details = &d
	a.progress.Request = d.Request
	a.progress.ClientRequestID = d.ClientRequestID
	op, err := belvo.LookupAsyncOp(d.Request.Op)
	if err == nil {
		a.progress.Resource = op.Resource
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, LinkIDAttr.ValueSet(d.Request.LinkID)); err != nil {
		workflow.GetLogger(ctx).Warn("search attributes not set", "error", err)
	}
}

func (a *asyncRequest) onWebhook(ev WebhookEvent) {
	a.progress.Webhooks++
	if a.seen[ev.DedupeKey()] || (!a.anyShape && a.progress.Webhook != nil) {
		a.progress.DuplicateWebhooks++
		return
	}
	a.seen[ev.DedupeKey()] = true
	if a.progress.Webhook == nil {
		a.progress.Webhook = &ev
	}
	a.queue = append(a.queue, ev)
}

// fetchResource lists one expected resource's data (the request's filters)
// into the store for the webhook ev (its dedupe key is recorded with the
// data, its receipt time gives the latency).
func (a *asyncRequest) fetchResource(ctx workflow.Context, r belvo.Resource, ev WebhookEvent) error {
	p := a.progress.Resources[r]
	p.State = StateFetching
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: ListTimeout, HeartbeatTimeout: ListHeartbeat, RetryPolicy: fetchRetry,
		Summary: fmt.Sprintf("list the %s request %s produced into the store", r, a.progress.RequestID),
	})
	var act *activities.Activities
	var res activities.FetchResourceResult
	err := workflow.ExecuteActivity(actx, act.FetchResource, activities.FetchResourceInput{
		LinkID: a.details.Request.LinkID, Resource: r, Filters: a.details.Request.ListFilters(), WebhookKey: ev.DedupeKey(),
	}).Get(ctx, &res)
	p.Fetches++
	if err != nil {
		return err
	}
	p.State, p.Stored, p.Pages, p.BelvoCount, p.Error = StateStored, res.Stored, p.Pages+res.Pages, res.BelvoCount, ""
	observeWebhookToData(ctx, FlowAsync, r, a.in.RequestID, ev.ReceivedAt, res.CommittedAt)
	a.progress.BelvoCount, a.progress.Stored, a.progress.Pages = 0, 0, 0
	for _, q := range a.progress.Resources {
		a.progress.BelvoCount += q.BelvoCount
		a.progress.Stored += q.Stored
		a.progress.Pages += q.Pages
	}
	return nil
}

// deleteLinkData removes the deleted link's data from the store.
func (a *asyncRequest) deleteLinkData(ctx workflow.Context) error {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: CallTimeout, RetryPolicy: fetchRetry,
		Summary: "remove the deleted link's data from the store",
	})
	var act *activities.Activities
	return workflow.ExecuteActivity(actx, act.DeleteLinkData, a.details.Request.LinkID).Get(ctx, nil)
}

// fetch lists the request's data into the store (nothing for a deletion),
// before anyShapeVersion.
func (a *asyncRequest) fetch(ctx workflow.Context) error {
	if a.progress.Resource == "" {
		return nil
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: ListTimeout, HeartbeatTimeout: ListHeartbeat, RetryPolicy: fetchRetry,
		Summary: fmt.Sprintf("list the %s request %s produced into the store", a.progress.Resource, a.progress.RequestID),
	})
	var act *activities.Activities
	var res activities.FetchResourceResult
	err := workflow.ExecuteActivity(actx, act.FetchResource, activities.FetchResourceInput{
		LinkID: a.details.Request.LinkID, Resource: a.progress.Resource, Filters: a.details.Request.ListFilters(),
	}).Get(ctx, &res)
	if err != nil {
		return err
	}
	a.progress.BelvoCount, a.progress.Stored, a.progress.Pages = res.BelvoCount, res.Stored, res.Pages
	return nil
}

func (a *asyncRequest) setStatus(ctx workflow.Context, s string) {
	a.progress.Status = s
	if err := workflow.UpsertTypedSearchAttributes(ctx, StatusAttr.ValueSet(s)); err != nil {
		workflow.GetLogger(ctx).Warn("status search attribute not set", "error", err)
	}
}
