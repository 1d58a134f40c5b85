package workflows

import (
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"go.temporal.io/sdk/workflow"
)

// readWindow bounds a local read with its retries. An activity read had no
// such bound, but its 10 attempts at fetchRetry's backoff end within about
// ten minutes too; a local activity defaults its window to one attempt's
// timeout, which would cut the retries short.
const readWindow = 15 * time.Minute

// read runs one of the fetch's short reads at its set-up and decodes its
// result into out. From historyBudgetVersion on it is a local activity: the
// worker runs it inside the workflow task, and history keeps one marker
// instead of three activity events and the workflow task its completion
// would cause. Both reads are idempotent (the store, a GET), so running one
// again after a crash, as a local activity may be, is harmless. Before that
// version it is an activity, as executions started then recorded it.
func (h *historicalFetch) read(ctx workflow.Context, timeout time.Duration, summary string, fn any, arg, out any) error {
	if h.budget {
		lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
			StartToCloseTimeout: timeout, ScheduleToCloseTimeout: readWindow, RetryPolicy: fetchRetry, Summary: summary,
		})
		return workflow.ExecuteLocalActivity(lctx, fn, arg).Get(ctx, out)
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: timeout, RetryPolicy: fetchRetry, Summary: summary,
	})
	return workflow.ExecuteActivity(actx, fn, arg).Get(ctx, out)
}

// loadStored marks the resources an earlier execution already stored for
// this link (Belvo sends a historical_update once, so an app that asks after
// the first execution finished must not wait for it again) and the webhooks
// already processed (so Belvo's late copies are not processed twice).
func (h *historicalFetch) loadStored(ctx workflow.Context) {
	var a *activities.Activities
	var st activities.LinkState
	summary := "read what earlier executions stored for this link"
	if err := h.read(ctx, 30*time.Second, summary, a.StoredState, h.in.LinkID, &st); err != nil {
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
	var a *activities.Activities
	var info activities.LinkInfo
	if err := h.read(ctx, CallTimeout, "GET the link: which resources will Belvo send", a.GetLink, h.in.LinkID, &info); err != nil {
		// Not fatal: a FetchRequest can still say what to expect, and the
		// timeout reports the execution if nothing does.
		workflow.GetLogger(ctx).Warn("could not read the link; waiting for a fetch request", "link_id", h.in.LinkID, "error", err)
		return
	}
	h.expect(ctx, info.FetchResources)
	h.describe(ctx, info.ExternalID, info.Institution)
}
