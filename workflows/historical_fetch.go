package workflows

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// HistoricalFetch waits for each requested resource's historical_update
// webhook and, on each, lists the resource into the store. It completes when
// every expected resource is stored, and fails visibly (BelvoStatus
// "timed_out", error naming the missing resources) after its timeout.
func HistoricalFetch(ctx workflow.Context, in HistoricalFetchInput) (Progress, error) {
	return newHistoricalFetch(in).run(ctx)
}

// historicalFetch is the execution's state.
type historicalFetch struct {
	in       HistoricalFetchInput
	progress Progress
	// expectedKnown is false until a FetchRequest or the link itself told
	// which resources Belvo will send.
	expectedKnown bool
	seen          map[string]bool
	inFlight      map[belvo.Resource]bool
	// again marks a resource whose webhook came while it was being listed:
	// it is listed once more afterwards.
	again map[belvo.Resource]bool
	// watching: the missing-webhook watcher runs.
	watching bool
	// deleted: the link was deleted (before this execution, or while it
	// listed): there is nothing to fetch, and the execution ends.
	deleted bool
}

func newHistoricalFetch(in HistoricalFetchInput) *historicalFetch {
	if in.Timeout <= 0 {
		in.Timeout = DefaultHistoricalFetchTimeout
	}
	if in.WebhookGrace <= 0 {
		in.WebhookGrace = DefaultWebhookGrace
	}
	return &historicalFetch{
		in:       in,
		progress: Progress{LinkID: in.LinkID, Status: StatusWaiting, Resources: map[belvo.Resource]*ResourceProgress{}},
		seen:     map[string]bool{}, inFlight: map[belvo.Resource]bool{}, again: map[belvo.Resource]bool{},
	}
}

var fetchRetry = &temporal.RetryPolicy{
	InitialInterval:    3 * time.Second, // Belvo's advice: 3 s base, factor 2
	BackoffCoefficient: 2,
	MaximumInterval:    2 * time.Minute,
	MaximumAttempts:    10,
}

func (h *historicalFetch) run(ctx workflow.Context) (Progress, error) {
	if h.in.LinkID == "" {
		return h.progress, temporal.NewNonRetryableApplicationError("historical fetch needs a link id", "InvalidInput", nil)
	}
	log := workflow.GetLogger(ctx)
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (Progress, error) { return h.progress, nil }); err != nil {
		return h.progress, err
	}
	if _, ok := workflow.GetTypedSearchAttributes(ctx).GetKeyword(LinkIDAttr); !ok {
		// Starters set it at start; an execution started another way still
		// gets it, so every fetch can be found by link id.
		if err := workflow.UpsertTypedSearchAttributes(ctx, LinkIDAttr.ValueSet(h.in.LinkID)); err != nil {
			log.Warn("link id search attribute not set", "error", err)
		}
	}
	webhooks := workflow.GetSignalChannel(ctx, WebhookSignal)
	requests := workflow.GetSignalChannel(ctx, FetchRequestSignal)

	// A starter's SignalWithStart puts its request in the first task; take it
	// before deciding whether Belvo must be asked what the link will send.
	var req FetchRequest
	for requests.ReceiveAsync(&req) {
		h.onRequest(ctx, req)
	}
	h.loadStored(ctx)
	if h.deleted {
		// A late webhook for a link deleted earlier: end at once rather than
		// wait for webhooks a deleted link will never get.
		h.setStatus(ctx, StatusDeleted)
		log.Info("link deleted: nothing to fetch", "link_id", h.in.LinkID)
		return h.progress, nil
	}
	if !h.expectedKnown {
		h.learnFromLink(ctx)
	}
	h.showDetails(ctx)

	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var req FetchRequest
			requests.Receive(ctx, &req)
			h.onRequest(ctx, req)
		}
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var ev WebhookEvent
			webhooks.Receive(ctx, &ev)
			h.onWebhook(ctx, ev)
		}
	})

	// Settled when every expected resource is stored or has failed, nothing
	// is in flight and no signal is left unread: a failed resource does not
	// end the execution while others still wait, and nothing that reached it
	// is dropped when it ends.
	idle := func() bool { return webhooks.Len() == 0 && requests.Len() == 0 && len(h.inFlight) == 0 }
	deadline := workflow.Now(ctx).Add(h.in.Timeout)
	timedOut := false
	for {
		ok, err := workflow.AwaitWithTimeout(ctx, max(deadline.Sub(workflow.Now(ctx)), 0), func() bool { return idle() && h.settled() })
		if err != nil {
			return h.progress, err
		}
		if !ok {
			timedOut = true
			break
		}
		// Signals that arrived in the same task as the last state change
		// are handled here before the execution may end.
		if h.drain(ctx, webhooks, requests) == 0 {
			break
		}
	}
	if timedOut {
		// Stop waiting for webhooks that did not come, but finish what was
		// accepted: listings in flight and webhooks already delivered.
		for h.drain(ctx, webhooks, requests) > 0 || !idle() {
			if err := workflow.Await(ctx, func() bool { return idle() || webhooks.Len() > 0 || requests.Len() > 0 }); err != nil {
				return h.progress, err
			}
		}
		h.setStatus(ctx, StatusTimedOut)
		msg := fmt.Sprintf("historical fetch of link %s timed out after %s; %s", h.in.LinkID, h.in.Timeout, h.missing())
		log.Warn(msg)
		return h.progress, temporal.NewNonRetryableApplicationError(msg, "HistoricalFetchTimedOut", nil, h.progress)
	}
	if h.deleted {
		h.setStatus(ctx, StatusDeleted)
		log.Info("link deleted while its history was fetched: its data is gone", "link_id", h.in.LinkID)
		return h.progress, nil
	}
	if h.failed() {
		h.setStatus(ctx, StatusFailed)
		return h.progress, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("historical fetch of link %s failed: %s", h.in.LinkID, h.failures()), "HistoricalFetchFailed", nil, h.progress)
	}
	h.setStatus(ctx, StatusCompleted)
	log.Info("historical fetch completed", "link_id", h.in.LinkID)
	return h.progress, nil
}

// drain handles signals still buffered, from the main coroutine; it returns
// how many there were.
func (h *historicalFetch) drain(ctx workflow.Context, webhooks, requests workflow.ReceiveChannel) int {
	n := 0
	var req FetchRequest
	for requests.ReceiveAsync(&req) {
		h.onRequest(ctx, req)
		n++
	}
	var ev WebhookEvent
	for webhooks.ReceiveAsync(&ev) {
		h.onWebhook(ctx, ev)
		n++
	}
	return n
}

// onRequest merges what the app asked for.
func (h *historicalFetch) onRequest(ctx workflow.Context, r FetchRequest) {
	h.expect(ctx, r.Resources)
	h.describe(ctx, r.ExternalID, r.Institution)
}

// loadStored marks the resources an earlier execution already stored for
// this link (Belvo sends a historical_update once, so an app that asks after
// the first execution finished must not wait for it again) and the webhooks
// already processed (so Belvo's late copies are not processed twice).
func (h *historicalFetch) loadStored(ctx workflow.Context) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second, RetryPolicy: fetchRetry,
		Summary: "read what earlier executions stored for this link",
	})
	var a *activities.Activities
	var st activities.LinkState
	if err := workflow.ExecuteActivity(actx, a.StoredState, h.in.LinkID).Get(ctx, &st); err != nil {
		workflow.GetLogger(ctx).Warn("could not read what is already stored; waiting for webhooks", "link_id", h.in.LinkID, "error", err)
		return
	}
	h.deleted = st.Deleted
	for r, n := range st.Stored {
		h.progress.Resources[r] = &ResourceProgress{State: StateStored, Stored: n}
	}
	for _, k := range st.Webhooks {
		h.seen[k] = true
	}
}

// learnFromLink asks Belvo which resources the link fetches, for executions
// the bridge started before the app asked for anything (widget flow).
func (h *historicalFetch) learnFromLink(ctx workflow.Context) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: CallTimeout, RetryPolicy: fetchRetry,
		Summary: "GET the link: which resources will Belvo send",
	})
	var a *activities.Activities
	var info activities.LinkInfo
	if err := workflow.ExecuteActivity(actx, a.GetLink, h.in.LinkID).Get(ctx, &info); err != nil {
		// Not fatal: a FetchRequest can still say what to expect, and the
		// timeout reports the execution if nothing does.
		workflow.GetLogger(ctx).Warn("could not read the link; waiting for a fetch request", "link_id", h.in.LinkID, "error", err)
		return
	}
	h.expect(ctx, info.FetchResources)
	h.describe(ctx, info.ExternalID, info.Institution)
}

func (h *historicalFetch) expect(ctx workflow.Context, rs []belvo.Resource) {
	if len(rs) == 0 {
		return
	}
	h.expectedKnown = true
	for _, r := range rs {
		if slices.Contains(h.progress.Expected, r) {
			continue
		}
		h.progress.Expected = append(h.progress.Expected, r)
		if h.progress.Resources[r] == nil {
			h.progress.Resources[r] = &ResourceProgress{State: StateWaiting}
		}
	}
	if !h.watching {
		h.watching = true
		workflow.Go(ctx, h.watchForMissingWebhooks)
	}
}

// grace is how long resource r waits for its webhook.
func (h *historicalFetch) grace(r belvo.Resource) time.Duration {
	if g, ok := h.in.WebhookGraceByResource[r]; ok && g > 0 {
		return g
	}
	return h.in.WebhookGrace
}

// watchForMissingWebhooks sleeps until the next resource's grace period
// ends (one timer at a time, to keep history short); for each resource whose
// webhook has not come by then, it asks Belvo (one row of the list) whether
// the data is there: if so it is fetched as if the webhook had come, if not
// the resource is marked "webhook missing" and the timeout reports it.
func (h *historicalFetch) watchForMissingWebhooks(ctx workflow.Context) {
	defer func() { h.watching = false }()
	start := workflow.Now(ctx)
	checked := map[belvo.Resource]bool{}
	for {
		var due []belvo.Resource
		next := time.Duration(-1)
		for _, r := range h.progress.Expected {
			if checked[r] || h.progress.Resources[r].State != StateWaiting {
				continue
			}
			wait := h.grace(r) - workflow.Now(ctx).Sub(start)
			switch {
			case wait <= 0:
				due = append(due, r)
			case next < 0 || wait < next:
				next = wait
			}
		}
		for _, r := range due {
			checked[r] = true
			h.peek(ctx, r)
		}
		if len(due) > 0 {
			continue
		}
		if next < 0 {
			return
		}
		if err := workflow.Sleep(ctx, next); err != nil {
			return
		}
	}
}

// peek asks Belvo whether a resource whose webhook is late has data.
func (h *historicalFetch) peek(ctx workflow.Context, r belvo.Resource) {
	if h.inFlight[r] {
		return
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: CallTimeout, RetryPolicy: fetchRetry,
		Summary: fmt.Sprintf("webhook for %s late: ask Belvo whether it has rows", r)})
	var a *activities.Activities
	var count int
	err := workflow.ExecuteActivity(actx, a.PeekResource, activities.FetchResourceInput{LinkID: h.in.LinkID, Resource: r}).Get(ctx, &count)
	p := h.progress.Resources[r]
	if p.State != StateWaiting || h.inFlight[r] {
		return // the webhook came meanwhile
	}
	if err != nil || count == 0 {
		p.State = StateMissing
		workflow.GetLogger(ctx).Warn("webhook missing and Belvo has no data yet", "resource", r)
		return
	}
	workflow.GetLogger(ctx).Warn("webhook missing but Belvo has the data: fetching without it", "resource", r, "belvo_count", count)
	p.WithoutWebhook = true
	h.inFlight[r] = true
	h.fetch(ctx, r, "")
}

// describe records the external id and institution, once, as search
// attributes so the execution can be found by them in the web UI.
func (h *historicalFetch) describe(ctx workflow.Context, externalID, institution string) {
	var upd []temporal.SearchAttributeUpdate
	if externalID != "" && h.progress.ExternalID == "" {
		h.progress.ExternalID = externalID
		upd = append(upd, ExternalIDAttr.ValueSet(externalID))
	}
	if institution != "" && h.progress.Institution == "" {
		h.progress.Institution = institution
		upd = append(upd, InstitutionAttr.ValueSet(institution))
	}
	if len(upd) > 0 {
		// The resources ride along on an upsert that happens anyway: no new
		// command, so histories recorded before this attribute still replay
		// (the SDK matches upserts by type, not content).
		if len(h.progress.Expected) > 0 {
			upd = append(upd, ResourcesAttr.ValueSet(belvo.Names(h.progress.Expected)))
		}
		if err := workflow.UpsertTypedSearchAttributes(ctx, upd...); err != nil {
			workflow.GetLogger(ctx).Warn("search attributes not set", "error", err)
		}
	}
}

func (h *historicalFetch) setStatus(ctx workflow.Context, s string) {
	h.progress.Status = s
	h.showDetails(ctx)
	if err := workflow.UpsertTypedSearchAttributes(ctx, StatusAttr.ValueSet(s)); err != nil {
		workflow.GetLogger(ctx).Warn("status search attribute not set", "error", err)
	}
}

// onWebhook handles one delivery: duplicates are counted and dropped, a
// historical_update lists its resource.
func (h *historicalFetch) onWebhook(ctx workflow.Context, ev WebhookEvent) {
	log := workflow.GetLogger(ctx)
	h.progress.Webhooks++
	if h.seen[ev.DedupeKey()] {
		h.progress.DuplicateWebhooks++
		log.Info("duplicate webhook ignored", "webhook_id", ev.WebhookID, "webhook_type", ev.Type)
		return
	}
	h.seen[ev.DedupeKey()] = true
	if ev.Code == "link_deleted" {
		// Told by the link's LinkUpdates or a deletion request: nothing
		// will come for this link any more.
		h.deleted = true
		return
	}
	r := belvo.Resource(ev.Type)
	if ev.Code != "historical_update" || !r.Valid() {
		h.progress.IgnoredWebhooks++
		log.Warn("webhook not handled by a historical fetch", "webhook_type", ev.Type, "webhook_code", ev.Code)
		return
	}
	h.describe(ctx, ev.ExternalID, "")
	if h.progress.Resources[r] == nil {
		// Not announced, but Belvo has data: store it rather than lose it.
		h.progress.Resources[r] = &ResourceProgress{State: StateWaiting}
	}
	if h.inFlight[r] {
		h.again[r] = true
		return
	}
	h.inFlight[r] = true
	key := ev.DedupeKey()
	workflow.Go(ctx, func(ctx workflow.Context) { h.fetch(ctx, r, key) })
}

// fetch lists a resource, then again while webhooks for it came meanwhile;
// key is the webhook's dedupe key, recorded with the stored data.
func (h *historicalFetch) fetch(ctx workflow.Context, r belvo.Resource, key string) {
	defer delete(h.inFlight, r)
	defer h.showDetails(ctx)
	var a *activities.Activities
	for round := 1; ; round++ {
		// The summary is what the web UI shows for the activity; its
		// heartbeat details carry the page it is on.
		summary := fmt.Sprintf("list %s into the store (all pages of 1000)", r)
		if round > 1 {
			summary = fmt.Sprintf("list %s again: a newer webhook came while listing", r)
		}
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: ListTimeout,
			HeartbeatTimeout:    ListHeartbeat,
			RetryPolicy:         fetchRetry,
			Summary:             summary,
		})
		p := h.progress.Resources[r]
		p.State = StateFetching
		h.showDetails(ctx)
		var res activities.FetchResourceResult
		err := workflow.ExecuteActivity(actx, a.FetchResource, activities.FetchResourceInput{LinkID: h.in.LinkID, Resource: r, WebhookKey: key}).Get(ctx, &res)
		p.Fetches++
		if err != nil {
			p.State, p.Error = StateFailed, err.Error()
			var appErr *temporal.ApplicationError
			if errors.As(err, &appErr) && appErr.Type() == activities.ErrTypeLinkDeleted {
				h.deleted = true
			}
			return
		}
		p.State, p.Stored, p.Pages, p.Error = StateStored, res.Stored, p.Pages+res.Pages, ""
		if !h.again[r] {
			return
		}
		delete(h.again, r)
	}
}

// settled reports whether every expected resource is stored or failed.
func (h *historicalFetch) settled() bool {
	if h.deleted {
		return true
	}
	if !h.expectedKnown {
		return false
	}
	for _, r := range h.progress.Expected {
		if s := h.progress.Resources[r].State; s != StateStored && s != StateFailed {
			return false
		}
	}
	return true
}

func (h *historicalFetch) failed() bool {
	for _, p := range h.progress.Resources {
		if p.State == StateFailed {
			return true
		}
	}
	return false
}

// missing explains what a timed-out execution was still waiting for.
func (h *historicalFetch) missing() string {
	if !h.expectedKnown {
		return "no fetch request arrived and the link could not be read, so the expected resources are unknown"
	}
	var waiting []string
	for _, r := range h.progress.Expected {
		if p := h.progress.Resources[r]; p.State != StateStored {
			waiting = append(waiting, fmt.Sprintf("%s (%s)", r, p.State))
		}
	}
	return "still waiting for: " + strings.Join(waiting, ", ")
}

func (h *historicalFetch) failures() string {
	var out []string
	for _, r := range slices.Sorted(maps.Keys(h.progress.Resources)) {
		if p := h.progress.Resources[r]; p.State == StateFailed {
			out = append(out, fmt.Sprintf("%s: %s", r, p.Error))
		}
	}
	return strings.Join(out, "; ")
}
