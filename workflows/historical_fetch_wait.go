package workflows

import (
	"fmt"
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"go.temporal.io/sdk/workflow"
)

// historyBudgetVersion gates the fetch's shorter history (issue #14): the
// stored state and the link are read by local activities (historical_fetch_reads.go),
// one timer serves both the deadline and the missing-webhook watch
// (waitWithOneTimer), and search attributes the starter already set are not
// upserted again. Executions started before it replay the old commands:
// two activities, two timers, a timer again on each wake of the waiting loop.
const historyBudgetVersion = "historical-fetch-history-budget"

// waitWithOneTimer waits until the fetch settles (true: its deadline passed
// first). One timer at a time covers both the deadline and the next resource
// whose webhook is late; it is replaced only when an earlier wake-up is
// needed, so a fetch whose webhooks come in time records a single timer. A
// late resource is asked about (peek) in its own coroutine while the loop
// keeps waiting.
func (h *historicalFetch) waitWithOneTimer(ctx workflow.Context, webhooks, requests workflow.ReceiveChannel,
	idle func() bool) (bool, error) {
	deadline := workflow.Now(ctx).Add(h.in.Timeout)
	var timer workflow.Future
	var timerAt time.Time
	cancelTimer := func() {}
	for {
		now := workflow.Now(ctx)
		if !now.Before(deadline) {
			return true, nil
		}
		wake := deadline
		for _, r := range h.lateResources(now, &wake) {
			workflow.Go(ctx, func(ctx workflow.Context) { h.peek(ctx, r) })
		}
		if timer == nil || wake.Before(timerAt) {
			// Cancelled rather than left to fire: a stale timer would cost a
			// workflow task later.
			cancelTimer()
			var tctx workflow.Context
			tctx, cancelTimer = workflow.WithCancel(ctx)
			timer, timerAt = workflow.NewTimer(tctx, wake.Sub(now)), wake
		}
		expectations := h.expectations
		if err := workflow.Await(ctx, func() bool {
			return timer.IsReady() || h.expectations != expectations || (idle() && h.settled())
		}); err != nil {
			return false, err
		}
		if timer.IsReady() {
			timer = nil
			continue
		}
		// Signals that arrived in the same task as the last state change
		// are handled here before the execution may end.
		if idle() && h.settled() && h.drain(ctx, webhooks, requests) == 0 {
			return false, nil
		}
	}
}

// lateResources marks and returns the expected resources still waiting for
// their webhook past their grace, and lowers wake to the end of the next
// grace still running.
func (h *historicalFetch) lateResources(now time.Time, wake *time.Time) []belvo.Resource {
	var late []belvo.Resource
	for _, r := range h.progress.Expected {
		if h.checked[r] || h.progress.Resources[r].State != StateWaiting {
			continue
		}
		at := h.expectedAt[r].Add(h.grace(r))
		if !at.After(now) {
			h.checked[r] = true
			late = append(late, r)
		} else if at.Before(*wake) {
			*wake = at
		}
	}
	return late
}

// waitWithTwoTimers is the waiting loop of executions started before
// historyBudgetVersion, kept command for command so that they replay: a
// deadline timer per AwaitWithTimeout (a new one when signals are drained),
// and the missing-webhook watcher's own timer (watchForMissingWebhooks,
// started by expect).
func (h *historicalFetch) waitWithTwoTimers(ctx workflow.Context, webhooks, requests workflow.ReceiveChannel,
	idle func() bool) (bool, error) {
	deadline := workflow.Now(ctx).Add(h.in.Timeout)
	for {
		ok, err := workflow.AwaitWithTimeout(ctx, max(deadline.Sub(workflow.Now(ctx)), 0), func() bool { return idle() && h.settled() })
		if err != nil {
			return false, err
		}
		if !ok {
			return true, nil
		}
		// Signals that arrived in the same task as the last state change
		// are handled here before the execution may end.
		if h.drain(ctx, webhooks, requests) == 0 {
			return false, nil
		}
	}
}

// watchForMissingWebhooks sleeps until the next resource's grace period
// ends (one timer at a time, to keep history short); for each resource whose
// webhook has not come by then, it asks Belvo (one row of the list) whether
// the data is there: if so it is fetched as if the webhook had come, if not
// the resource is marked "webhook missing" and the timeout reports it.
// Executions started before historyBudgetVersion only.
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

// peek asks Belvo whether a resource whose webhook is late has data: if so
// it is fetched as if the webhook had come, if not the resource is marked
// "webhook missing" and the timeout reports it.
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
	h.fetch(ctx, r, "", time.Time{}) // no webhook: no latency to measure
}
