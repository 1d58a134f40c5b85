package workflows

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Correlation of a request's webhook, race-free by construction:
//
//  1. Before a request leaves (AsyncPost), its sender announces it to the
//     link's LinkRequests (SignalWithStart, durable before the POST).
//  2. Belvo answers 202 {request_id}; the sender hands the request to the
//     AsyncRequest of that request_id, then resolves its announcement with
//     the request_id (or, when nothing was sent, without one).
//  3. The bridge signals a webhook carrying a link_id and a request_id to
//     the link's LinkRequests when it runs; otherwise to the request's
//     AsyncRequest when it exists; otherwise by its code (routing.go).
//
// A webhook a request causes is sent after its announcement, so it finds
// either the announcement still pending (LinkRequests holds the webhook
// until it resolves, then forwards it by request_id) or, once resolved,
// the AsyncRequest, which exists before the resolution. LinkRequests ends
// only when nothing is pending or held, so no webhook falls between the
// two. Webhooks of no request of ours keep their route by code; they wait
// only while some request of the same link is in flight.

// Announcement is a request about to be sent for a link.
type Announcement struct {
	// Key is the sender's workflow id.
	Key     string             `json:"key"`
	Request belvo.AsyncRequest `json:"request"`
	// At is when the registry received the announcement (the sender's
	// value is replaced): the sender check counts from there.
	At time.Time `json:"at"`
}

// Request outcomes, as a resolution reports them.
const (
	OutcomeAccepted  = "accepted"  // Belvo answered 202 with RequestID
	OutcomeRefused   = "refused"   // nothing was sent, or Belvo refused it: no webhook will come
	OutcomeUncertain = "uncertain" // it may have left; its request_id is unknown
)

// HeldWebhook is a webhook LinkRequests holds, and the announcements that
// were pending when it arrived: only those can have caused it (a request
// announced later was sent later), so it waits for them alone.
type HeldWebhook struct {
	Webhook WebhookEvent `json:"webhook"`
	WaitFor []string     `json:"wait_for,omitempty"`
}

// UnmarshalJSON also reads a bare WebhookEvent, the shape runs before
// waitForOwnVersion carried across continue-as-new.
func (h *HeldWebhook) UnmarshalJSON(b []byte) error {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return fmt.Errorf("held webhook: %w", err)
	}
	if _, ok := probe["webhook"]; !ok {
		*h = HeldWebhook{}
		return json.Unmarshal(b, &h.Webhook)
	}
	type plain HeldWebhook // without this method
	return json.Unmarshal(b, (*plain)(h))
}

// Resolution ends an announcement.
type Resolution struct {
	Key       string `json:"key"`
	RequestID string `json:"request_id,omitempty"`
	Outcome   string `json:"outcome"`
}

// RequestNotice is RequestNoticeSignal's payload: one of the two.
type RequestNotice struct {
	Announce *Announcement `json:"announce,omitempty"`
	Resolve  *Resolution   `json:"resolve,omitempty"`
}

// LinkRequestsInput starts (or continues) a link's registry; all but
// LinkID and Routing is state carried across continue-as-new.
type LinkRequestsInput struct {
	LinkID  string        `json:"link_id"`
	Routing RouteDefaults `json:"routing,omitempty"`
	// Pending are announced requests not resolved yet.
	Pending []Announcement `json:"pending,omitempty"`
	// Held are webhooks received and not forwarded yet.
	Held []HeldWebhook `json:"held,omitempty"`
	// Resolved are the request_ids of the most recent resolutions.
	Resolved []string             `json:"resolved,omitempty"`
	Carried  LinkRequestsProgress `json:"carried,omitempty"`
}

// LinkRequestsProgress is the progress query's answer and the result.
type LinkRequestsProgress struct {
	LinkID  string         `json:"link_id"`
	Pending []Announcement `json:"pending"`
	Held    int            `json:"held"`
	// ToRequests were forwarded to their request's AsyncRequest; ByCode
	// took their route by webhook_code.
	ToRequests int `json:"to_requests"`
	ByCode     int `json:"by_code"`
	Resolved   int `json:"resolved"`
	Runs       int `json:"runs"`
}

// senderCheck is how long an announcement may stay pending before its
// sender is asked whether it still runs (a sender that ended without
// resolving, terminated by an operator say, must not hold webhooks).
const senderCheck = 10 * time.Minute

// keptResolutions bounds the request_ids remembered across runs.
const keptResolutions = 256

// linkRequestsPerRun is how many notices and webhooks one run handles
// before it continues as new.
const linkRequestsPerRun = 1000

// LinkRequests is a link's registry of requests in flight. It holds a
// webhook carrying a request_id while some announced request of the link
// has not learned its own request_id yet, then forwards it to its request's
// AsyncRequest or, when it belongs to none, by its code. It ends when no
// request is pending and no webhook is held.
func LinkRequests(ctx workflow.Context, in LinkRequestsInput) (LinkRequestsProgress, error) {
	return newLinkRequests(in).run(ctx)
}

// waitForOwnVersion gates three fixes: a held webhook waits only for the
// announcements pending when it arrived, the sender check is due at a
// fixed time after the registry received the announcement, and a cancelled
// registry forwards what it holds. Executions started before replay
// without them.
const waitForOwnVersion = "held-waits-for-its-announcements"

// localForwardVersion makes forwarding a held webhook a local activity,
// like the senders' hand-overs (localHandOverVersion, which says why that
// is safe: the forward is a signal its receiver deduplicates). As an
// activity, each forward cost a workflow task to schedule it, an activity
// task through matching and a workflow task for its result: a webhook
// that came before its request's 202 reached its request three round trips
// later, and a refresh's three webhooks one after the other. The version is
// asked at the first forward, so a registry that forwards nothing records
// no marker. Executions started before it replay their activities.
const localForwardVersion = "local-forward"

// localForwardWindow bounds a local forward with its retries: within it
// the SDK retries inside the workflow task (backoffs under the task
// timeout). A forward still failing after it (Temporal unreachable, a
// request's result that cannot be decoded) goes on as the activity it was
// before localForwardVersion, whose retries never end and cost no history
// events; a local activity's long retries would each add a timer and a
// workflow task to the registry's history.
const localForwardWindow = 30 * time.Second

type linkRequests struct {
	// waitForOwn: see waitForOwnVersion.
	waitForOwn bool
	in         LinkRequestsInput
	progress   LinkRequestsProgress
	pending    []Announcement
	held       []HeldWebhook
	resolved   map[string]bool
	order      []string
	handled    int
}

func newLinkRequests(in LinkRequestsInput) *linkRequests {
	r := &linkRequests{in: in, progress: in.Carried, pending: in.Pending, held: in.Held, resolved: map[string]bool{}}
	r.progress.LinkID = in.LinkID
	r.progress.Runs++
	for _, id := range in.Resolved {
		r.remember(id)
	}
	return r
}

func (r *linkRequests) run(ctx workflow.Context) (LinkRequestsProgress, error) {
	if r.in.LinkID == "" {
		return r.progress, temporal.NewNonRetryableApplicationError("link requests need a link id", "InvalidInput", nil)
	}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (LinkRequestsProgress, error) { return r.snapshot(), nil }); err != nil {
		return r.progress, err
	}
	r.waitForOwn = workflow.GetVersion(ctx, waitForOwnVersion, workflow.DefaultVersion, 1) >= 1
	notices := workflow.GetSignalChannel(ctx, RequestNoticeSignal)
	webhooks := workflow.GetSignalChannel(ctx, WebhookSignal)
	signalled := func() bool { return notices.Len() > 0 || webhooks.Len() > 0 }
	for {
		if ctx.Err() != nil && !r.waitForOwn {
			return r.snapshot(), ctx.Err() // held webhooks stay in the result
		}
		if ctx.Err() != nil {
			// Cancelled: what is held must not be lost with the execution.
			r.absorb(ctx, notices, webhooks)
			r.flush(ctx)
			return r.snapshot(), ctx.Err()
		}
		switch {
		case len(r.pending) > 0:
			// The oldest announcement's check is due at a fixed time: new
			// signals do not push it back, so a sender that ended without
			// resolving cannot hold a busy link's webhooks for ever.
			ok, err := workflow.AwaitWithTimeout(ctx, r.untilSenderCheck(ctx), signalled)
			if err != nil {
				continue // cancelled: handled at the top
			}
			if !ok {
				r.checkSenders(ctx)
			}
		case len(r.held) == 0:
			if err := workflow.Await(ctx, signalled); err != nil {
				continue
			}
		}
		r.absorb(ctx, notices, webhooks)
		r.release(ctx)
		if len(r.pending) == 0 && len(r.held) == 0 && !signalled() {
			return r.snapshot(), nil
		}
		if r.handled >= linkRequestsPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			r.absorb(ctx, notices, webhooks) // nothing delivered to this run is left behind
			return r.snapshot(), workflow.NewContinueAsNewError(ctx, LinkRequestsType, LinkRequestsInput{
				LinkID: r.in.LinkID, Routing: r.in.Routing, Pending: r.pending, Held: r.held, Resolved: r.order, Carried: r.snapshot(),
			})
		}
	}
}

// absorb takes every buffered notice, then every buffered webhook: a
// notice and a webhook that arrived together are applied in that order,
// so a webhook never misses an announcement that reached the execution
// with it (its own announcement always came earlier still).
func (r *linkRequests) absorb(ctx workflow.Context, notices, webhooks workflow.ReceiveChannel) {
	var n RequestNotice
	for notices.ReceiveAsync(&n) {
		r.handled++
		switch {
		case n.Announce != nil:
			if !slices.ContainsFunc(r.pending, func(a Announcement) bool { return a.Key == n.Announce.Key }) {
				a := *n.Announce
				if r.waitForOwn {
					a.At = workflow.Now(ctx)
				}
				r.pending = append(r.pending, a)
			}
		case n.Resolve != nil:
			r.pending = slices.DeleteFunc(r.pending, func(a Announcement) bool { return a.Key == n.Resolve.Key })
			if n.Resolve.RequestID != "" {
				r.remember(n.Resolve.RequestID)
			}
			r.progress.Resolved++
			workflow.GetLogger(ctx).Info("request resolved", "key", n.Resolve.Key, "request_id", n.Resolve.RequestID, "outcome", n.Resolve.Outcome)
		}
		n = RequestNotice{}
	}
	var ev WebhookEvent
	for webhooks.ReceiveAsync(&ev) {
		r.handled++
		h := HeldWebhook{Webhook: ev}
		for _, p := range r.pending {
			h.WaitFor = append(h.WaitFor, p.Key)
		}
		r.held = append(r.held, h)
		ev = WebhookEvent{}
	}
}

// release forwards each held webhook whose fate is known: to its request
// when its request_id was resolved; by its code once none of the
// announcements pending when it arrived can claim it any more. The others
// stay held.
func (r *linkRequests) release(ctx workflow.Context) {
	var keep []HeldWebhook
	for _, h := range r.held {
		h.WaitFor = slices.DeleteFunc(h.WaitFor, func(key string) bool {
			return !slices.ContainsFunc(r.pending, func(a Announcement) bool { return a.Key == key })
		})
		known := r.resolved[h.Webhook.RequestID]
		waits := len(h.WaitFor) > 0
		if !r.waitForOwn {
			waits = len(r.pending) > 0
		}
		if (!known && waits) || !r.forward(ctx, h.Webhook, known) {
			keep = append(keep, h)
		}
	}
	r.held = keep
}

// untilSenderCheck is how long to wait before asking the senders of old
// announcements whether they still run.
func (r *linkRequests) untilSenderCheck(ctx workflow.Context) time.Duration {
	if !r.waitForOwn {
		return senderCheck
	}
	due := r.pending[0].At
	for _, p := range r.pending[1:] {
		if p.At.Before(due) {
			due = p.At
		}
	}
	// At least a second: a zero timeout would skip the timer altogether.
	return max(due.Add(senderCheck).Sub(workflow.Now(ctx)), time.Second)
}

// flush forwards everything held on a context that outlives this one's
// cancellation: to its request when known, else as the bridge would route
// it without the registry.
func (r *linkRequests) flush(ctx workflow.Context) {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	for _, h := range r.held {
		r.forward(dctx, h.Webhook, r.resolved[h.Webhook.RequestID])
	}
	r.held = nil
}

// forward delivers one webhook (activities.Forward): known means its
// request is ours; otherwise it goes to its request only if that request's
// execution exists, else by its code. It reports false when the webhook
// must stay held (the execution is being cancelled).
func (r *linkRequests) forward(ctx workflow.Context, ev WebhookEvent, known bool) bool {
	in, err := ForwardFor(ev, workflow.GetInfo(ctx).TaskQueueName, r.in.Routing, known)
	if err != nil {
		// Only a webhook that cannot be encoded as JSON: the bridge built
		// it from JSON, so this does not happen; say so loudly if it does.
		workflow.GetLogger(ctx).Error("webhook cannot be encoded; not forwarded", "webhook_id", ev.WebhookID, "error", err)
		return true
	}
	summary := fmt.Sprintf("forward %s/%s of request %s", ev.Type, ev.Code, ev.RequestID)
	var a *activities.Activities
	var res activities.ForwardResult
	// Asked here, at the first forward, not at the start: later calls
	// return the recorded version without another marker.
	if workflow.GetVersion(ctx, localForwardVersion, workflow.DefaultVersion, 1) >= 1 {
		err := workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
			StartToCloseTimeout: 10 * time.Second, ScheduleToCloseTimeout: localForwardWindow, RetryPolicy: handOverRetry, Summary: summary,
		}), a.ForwardWebhook, in).Get(ctx, &res)
		if err == nil {
			return r.forwarded(res)
		}
		if ctx.Err() != nil {
			return false // cancelled: it stays held
		}
		workflow.GetLogger(ctx).Warn("local forward failed; forwarding by activity",
			"webhook_id", ev.WebhookID, "request_id", ev.RequestID, "error", err)
	}
	err = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second, RetryPolicy: handOverRetry, Summary: summary,
	}), a.ForwardWebhook, in).Get(ctx, &res)
	if err != nil {
		return false // only cancellation ends the retries
	}
	return r.forwarded(res)
}

// forwarded counts a delivered webhook by where it went.
func (r *linkRequests) forwarded(res activities.ForwardResult) bool {
	if res.ToRequest {
		r.progress.ToRequests++
	} else {
		r.progress.ByCode++
	}
	return true
}

// checkSenders drops the announcements whose sender no longer runs: it
// ended without resolving, so nothing it sent can be told apart any more.
func (r *linkRequests) checkSenders(ctx workflow.Context) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         handOverRetry,
		Summary:             "are the senders of old announcements still running?",
	})
	var a *activities.Activities
	now := workflow.Now(ctx)
	var keep []Announcement
	for _, p := range r.pending {
		open := true
		if now.Sub(p.At) >= senderCheck {
			if err := workflow.ExecuteActivity(actx, a.ExecutionOpen, p.Key).Get(ctx, &open); err != nil {
				open = true // cannot tell: keep holding
			}
		}
		if open {
			keep = append(keep, p)
			continue
		}
		workflow.GetLogger(ctx).Warn("sender ended without resolving its announcement; its webhooks take their route by code", "key", p.Key)
	}
	r.pending = keep
}

func (r *linkRequests) remember(requestID string) {
	if r.resolved[requestID] {
		return
	}
	r.resolved[requestID] = true
	r.order = append(r.order, requestID)
	if len(r.order) > keptResolutions {
		delete(r.resolved, r.order[0])
		r.order = r.order[1:]
	}
}

func (r *linkRequests) snapshot() LinkRequestsProgress {
	p := r.progress
	p.Pending = append([]Announcement(nil), r.pending...)
	p.Held = len(r.held)
	return p
}
