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
	// watching: the missing-webhook watcher runs (before
	// historyBudgetVersion; from it on, the waiting loop watches).
	watching bool
	// deleted: the link was deleted (before this execution, or while it
	// listed): there is nothing to fetch, and the execution ends.
	deleted bool

	// budget: historyBudgetVersion or later (see historical_fetch_wait.go).
	budget bool
	// expectedAt is when each expected resource became expected: its grace
	// counts from then (budget only; before it, from the watcher's start).
	expectedAt map[belvo.Resource]time.Time
	// checked marks resources whose late webhook Belvo was asked about
	// (budget only).
	checked map[belvo.Resource]bool
	// expectations counts changes to the expected resources, so the waiting
	// loop recomputes its one timer (budget only).
	expectations int
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
		expectedAt: map[belvo.Resource]time.Time{}, checked: map[belvo.Resource]bool{},
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
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (Progress, error) { return h.progress, nil }); err != nil {
		return h.progress, err
	}
	// First, before any command: an execution whose first task ran on older
	// code replays this as DefaultVersion and keeps its old commands.
	h.budget = workflow.GetVersion(ctx, historyBudgetVersion, workflow.DefaultVersion, 1) >= 1
	webhooks := workflow.GetSignalChannel(ctx, WebhookSignal)
	requests := workflow.GetSignalChannel(ctx, FetchRequestSignal)
	if done := h.setUp(ctx, requests); done {
		return h.progress, nil
	}
	h.listen(ctx, webhooks, requests)

	// Settled when every expected resource is stored or has failed, nothing
	// is in flight and no signal is left unread: a failed resource does not
	// end the execution while others still wait, and nothing that reached it
	// is dropped when it ends.
	idle := func() bool { return webhooks.Len() == 0 && requests.Len() == 0 && len(h.inFlight) == 0 }
	wait := h.waitWithTwoTimers
	if h.budget {
		wait = h.waitWithOneTimer
	}
	timedOut, err := wait(ctx, webhooks, requests, idle)
	if err != nil {
		return h.progress, err
	}
	if timedOut {
		return h.endTimedOut(ctx, webhooks, requests, idle)
	}
	return h.end(ctx)
}

// setUp takes what the first task brings, reads what earlier executions
// stored and, when nobody said what to expect, the link itself. done: the
// link was deleted before, and the execution has ended.
func (h *historicalFetch) setUp(ctx workflow.Context, requests workflow.ReceiveChannel) (done bool) {
	log := workflow.GetLogger(ctx)
	if _, ok := workflow.GetTypedSearchAttributes(ctx).GetKeyword(LinkIDAttr); !ok {
		// Starters set it at start; an execution started another way still
		// gets it, so every fetch can be found by link id.
		if err := workflow.UpsertTypedSearchAttributes(ctx, LinkIDAttr.ValueSet(h.in.LinkID)); err != nil {
			log.Warn("link id search attribute not set", "error", err)
		}
	}
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
		return true
	}
	if !h.expectedKnown {
		h.learnFromLink(ctx)
	}
	h.showDetails(ctx)
	return false
}

// listen handles every later request and webhook in its own coroutine.
func (h *historicalFetch) listen(ctx workflow.Context, webhooks, requests workflow.ReceiveChannel) {
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
}

// endTimedOut stops waiting for webhooks that did not come, but finishes
// what was accepted: listings in flight and webhooks already delivered.
func (h *historicalFetch) endTimedOut(ctx workflow.Context, webhooks, requests workflow.ReceiveChannel,
	idle func() bool) (Progress, error) {
	for h.drain(ctx, webhooks, requests) > 0 || !idle() {
		if err := workflow.Await(ctx, func() bool { return idle() || webhooks.Len() > 0 || requests.Len() > 0 }); err != nil {
			return h.progress, err
		}
	}
	h.setStatus(ctx, StatusTimedOut)
	msg := fmt.Sprintf("historical fetch of link %s timed out after %s; %s", h.in.LinkID, h.in.Timeout, h.missing())
	workflow.GetLogger(ctx).Warn(msg)
	return h.progress, temporal.NewNonRetryableApplicationError(msg, "HistoricalFetchTimedOut", nil, h.progress)
}

// end reports a settled fetch: deleted, failed or completed.
func (h *historicalFetch) end(ctx workflow.Context) (Progress, error) {
	log := workflow.GetLogger(ctx)
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
		h.expectedAt[r] = workflow.Now(ctx)
	}
	if h.budget {
		// The waiting loop owns the one timer: it recomputes it.
		h.expectations++
		return
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
	if len(upd) == 0 {
		return
	}
	if h.budget {
		// The starter set at start what its request knew: upserting the
		// same values again would only add an event to history.
		upd = h.changedAttributes(ctx)
	} else if len(h.progress.Expected) > 0 {
		// The resources ride along on an upsert that happens anyway: no new
		// command, so histories recorded before this attribute still replay
		// (the SDK matches upserts by type, not content).
		upd = append(upd, ResourcesAttr.ValueSet(belvo.Names(h.progress.Expected)))
	}
	if len(upd) == 0 {
		return
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, upd...); err != nil {
		workflow.GetLogger(ctx).Warn("search attributes not set", "error", err)
	}
}

// changedAttributes are the updates that make the execution's search
// attributes say what the fetch knows (external id, institution, expected
// resources), leaving out those that already do.
func (h *historicalFetch) changedAttributes(ctx workflow.Context) []temporal.SearchAttributeUpdate {
	sa := workflow.GetTypedSearchAttributes(ctx)
	var upd []temporal.SearchAttributeUpdate
	for _, kv := range []struct {
		key   temporal.SearchAttributeKeyKeyword
		value string
	}{{ExternalIDAttr, h.progress.ExternalID}, {InstitutionAttr, h.progress.Institution}} {
		if got, ok := sa.GetKeyword(kv.key); kv.value != "" && (!ok || got != kv.value) {
			upd = append(upd, kv.key.ValueSet(kv.value))
		}
	}
	if names := belvo.Names(h.progress.Expected); len(names) > 0 {
		if got, _ := sa.GetKeywordList(ResourcesAttr); !slices.Equal(got, names) {
			upd = append(upd, ResourcesAttr.ValueSet(names))
		}
	}
	return upd
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
	workflow.Go(ctx, func(ctx workflow.Context) { h.fetch(ctx, r, key, ev.ReceivedAt) })
}

// fetch lists a resource, then again while webhooks for it came meanwhile;
// key is the webhook's dedupe key, recorded with the stored data, and
// receivedAt when the bridge received it (for the first round's latency).
func (h *historicalFetch) fetch(ctx workflow.Context, r belvo.Resource, key string, receivedAt time.Time) {
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
		if round == 1 {
			observeWebhookToData(ctx, FlowHistorical, r, h.in.LinkID, receivedAt, res.CommittedAt)
		}
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
