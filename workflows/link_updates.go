package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// DefaultEventsPerRun is how many webhooks one run of LinkUpdates handles
// before it continues as new, keeping each run's history small.
const DefaultEventsPerRun = 500

// keptDedupeKeys bounds the duplicate-detection memory carried across runs.
const keptDedupeKeys = 256

// LinkUpdatesInput starts (or continues) a link's recurrent-update handler.
// Everything but LinkID is state carried across continue-as-new.
type LinkUpdatesInput struct {
	LinkID       string `json:"link_id"`
	EventsPerRun int    `json:"events_per_run,omitempty"`
	// Pending are webhooks received but not yet handled when the previous
	// run continued as new: they are handled first, so none is lost.
	Pending []WebhookEvent `json:"pending,omitempty"`
	// Seen are the most recent dedupe keys.
	Seen []string `json:"seen,omitempty"`
	// Status is the link's last known status (valid, invalid_credentials,
	// token_required, deleted).
	Status string `json:"status,omitempty"`
	// Progress carried from the previous run (counters, last error, failed
	// webhooks).
	Carried LinkUpdatesProgress `json:"carried,omitempty"`
	// RetryNow: an operator's RetryFailedSignal reached the previous run as
	// it continued as new; this run retries the failed steps first.
	RetryNow bool `json:"retry_now,omitempty"`
}

// LinkUpdatesProgress is the progress query's answer.
type LinkUpdatesProgress struct {
	LinkID     string `json:"link_id"`
	Status     string `json:"status"`
	Handled    int    `json:"handled"`
	Duplicates int    `json:"duplicates"`
	Ignored    int    `json:"ignored"`
	Runs       int    `json:"runs"`
	LastEvent  string `json:"last_event,omitempty"`
	LastError  string `json:"last_error,omitempty"`
	// Failed are webhooks whose step failed after the engine's retries
	// (most recent last, at most keptFailures): visible for an operator
	// instead of lost.
	Failed []FailedWebhook `json:"failed,omitempty"`
}

// FailedWebhook is a webhook LinkUpdates could not apply, and why. It is
// retried later (retriesVersion): after FailedRetryBase, doubling up to
// FailedRetryMax, and at once on RetryFailedSignal.
type FailedWebhook struct {
	Webhook WebhookEvent `json:"webhook"`
	Error   string       `json:"error"`
	// Attempts counts the tries after the first (each with the engine's
	// own retries inside).
	Attempts int `json:"attempts,omitempty"`
	// NextRetry is when it is tried again.
	NextRetry time.Time `json:"next_retry,omitempty"`
}

// A failed step is tried again after FailedRetryBase, then twice as late
// each time, at most FailedRetryMax apart: a database or Belvo outage of
// hours heals by itself, and nothing stays failed only on record.
const (
	FailedRetryBase = time.Hour
	FailedRetryMax  = 24 * time.Hour
)

// retriesVersion gates, for LinkUpdates: retrying failed steps later and
// on RetryFailedSignal, re-reading updated transactions one by one
// (Belvo's list has no id filter), deleting a deleted link's data, and
// ending at once for a link already deleted. Runs started before it replay
// the old way; the next continue-as-new moves them to it.
const retriesVersion = "link-updates-retries"

// relistVersion gates handling an operator's full relist (RelistCode) in
// LinkUpdates. Before it, such a request was an unhandled code (ignored),
// and a history that ignored it must replay the same way.
const relistVersion = "link-updates-full-relist"

// keptFailures bounds the failed webhooks carried across runs.
const keptFailures = 50

// endChecksVersion gates checking, after a retry of failed steps too,
// whether the handler ends (a retried link_deleted) or continues as new,
// and carrying an operator's retry request across continue-as-new.
const endChecksVersion = "link-updates-end-after-retries"

// LinkUpdates is a link's durable handler of recurrent-link webhooks:
// new_*_available lists the resource's new rows into the store (from its
// cursor, see activities.FetchResourceInput.Incremental), an operator's
// RelistCode request lists it whole,
// transactions_updated re-reads the named transactions, transactions_deleted
// deletes them from the store, and LINK webhooks update the link's status
// (link_deleted ends the handler). It continues as new every EventsPerRun
// webhooks (or when the server suggests it), carrying unhandled webhooks over.
func LinkUpdates(ctx workflow.Context, in LinkUpdatesInput) (LinkUpdatesProgress, error) {
	return newLinkUpdates(in).run(ctx)
}

type linkUpdates struct {
	in       LinkUpdatesInput
	progress LinkUpdatesProgress
	seen     map[string]bool
	order    []string
	handled  int // in this run
	// retries: retriesVersion or later.
	retries bool
	// endChecks: endChecksVersion or later.
	endChecks bool
}

func newLinkUpdates(in LinkUpdatesInput) *linkUpdates {
	if in.EventsPerRun <= 0 {
		in.EventsPerRun = DefaultEventsPerRun
	}
	if in.Status == "" {
		in.Status = "valid"
	}
	p := in.Carried
	p.LinkID, p.Status, p.Runs = in.LinkID, in.Status, in.Carried.Runs+1
	u := &linkUpdates{in: in, seen: map[string]bool{}, progress: p}
	for _, k := range in.Seen {
		u.remember(k)
	}
	return u
}

func (u *linkUpdates) run(ctx workflow.Context) (LinkUpdatesProgress, error) {
	if u.in.LinkID == "" {
		return u.progress, temporal.NewNonRetryableApplicationError("link updates need a link id", "InvalidInput", nil)
	}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (LinkUpdatesProgress, error) { return u.progress, nil }); err != nil {
		return u.progress, err
	}
	u.retries = workflow.GetVersion(ctx, retriesVersion, workflow.DefaultVersion, 1) >= 1
	if u.retries {
		u.endChecks = workflow.GetVersion(ctx, endChecksVersion, workflow.DefaultVersion, 1) >= 1
	}
	webhooks := workflow.GetSignalChannel(ctx, WebhookSignal)
	retry := workflow.GetSignalChannel(ctx, RetryFailedSignal)
	queue := append([]WebhookEvent(nil), u.in.Pending...)
	if u.retries && u.in.Carried.Runs == 0 && u.linkDeleted(ctx) {
		// A late webhook for a link deleted earlier: nothing to keep up to
		// date, and no handler that waits for ever.
		u.setStatus(ctx, "deleted")
		u.progress.Ignored += len(queue) + webhooks.Len()
		return u.progress, nil
	}
	if u.endChecks && u.in.RetryNow {
		u.retryFailed(ctx, true)
	}
	for {
		if len(queue) == 0 {
			if err := u.waitForWork(ctx, webhooks, retry); err != nil {
				return u.progress, err
			}
			var ev WebhookEvent
			for webhooks.ReceiveAsync(&ev) {
				queue = append(queue, ev)
				ev = WebhookEvent{}
			}
			if len(queue) == 0 && !u.endChecks {
				continue // a retry of failed steps was all there was
			}
		}
		if len(queue) > 0 {
			ev := queue[0]
			queue = queue[1:]
			u.handle(ctx, ev)
		}
		if u.progress.Status == "deleted" || u.handled >= u.in.EventsPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return u.end(ctx, queue, webhooks, retry)
		}
	}
}

// end ends this run: the handler itself once the link is deleted, else by
// continuing as new with every webhook (and retry request) already
// delivered to this run.
func (u *linkUpdates) end(ctx workflow.Context, queue []WebhookEvent, webhooks, retry workflow.ReceiveChannel) (LinkUpdatesProgress, error) {
	for {
		var more WebhookEvent
		if !webhooks.ReceiveAsync(&more) {
			break
		}
		queue = append(queue, more)
	}
	if u.progress.Status == "deleted" {
		// Nothing can be fetched for a deleted link: what is still queued is
		// recorded as ignored and the handler ends.
		u.progress.Ignored += len(queue)
		workflow.GetLogger(ctx).Info("link deleted: link updates end", "link_id", u.in.LinkID, "ignored", len(queue))
		return u.progress, nil
	}
	retryNow := false
	for u.endChecks && retry.ReceiveAsync(nil) {
		retryNow = true
	}
	return u.progress, workflow.NewContinueAsNewError(ctx, LinkUpdates, LinkUpdatesInput{
		LinkID: u.in.LinkID, EventsPerRun: u.in.EventsPerRun, Pending: queue, Seen: u.order,
		Status: u.progress.Status, Carried: u.progress, RetryNow: retryNow,
	})
}

// waitForWork blocks until a webhook arrives, or failed steps are due for
// a retry (their time came, or RetryFailedSignal asked), which it runs.
func (u *linkUpdates) waitForWork(ctx workflow.Context, webhooks, retry workflow.ReceiveChannel) error {
	if !u.retries {
		return workflow.Await(ctx, func() bool { return webhooks.Len() > 0 })
	}
	ready := func() bool { return webhooks.Len() > 0 || retry.Len() > 0 }
	if len(u.progress.Failed) == 0 {
		if err := workflow.Await(ctx, ready); err != nil {
			return err
		}
	} else if _, err := workflow.AwaitWithTimeout(ctx, max(u.nextRetry().Sub(workflow.Now(ctx)), 0), ready); err != nil {
		return err
	}
	asked := false
	for retry.ReceiveAsync(nil) {
		asked = true
	}
	if asked || (len(u.progress.Failed) > 0 && !workflow.Now(ctx).Before(u.nextRetry())) {
		u.retryFailed(ctx, asked)
	}
	return nil
}

// nextRetry is when the earliest failed step is due.
func (u *linkUpdates) nextRetry() time.Time {
	var next time.Time
	for _, f := range u.progress.Failed {
		if next.IsZero() || f.NextRetry.Before(next) {
			next = f.NextRetry
		}
	}
	return next
}

// retryFailed applies again the failed steps that are due (all of them
// when an operator asked); those that fail again wait twice as long.
func (u *linkUpdates) retryFailed(ctx workflow.Context, all bool) {
	now := workflow.Now(ctx)
	var still []FailedWebhook
	for _, f := range u.progress.Failed {
		if !all && now.Before(f.NextRetry) {
			still = append(still, f)
			continue
		}
		if err := u.apply(ctx, f.Webhook); err != nil {
			f.Attempts++
			f.Error = err.Error()
			f.NextRetry = workflow.Now(ctx).Add(failedRetryDelay(f.Attempts))
			still = append(still, f)
			workflow.GetLogger(ctx).Warn("failed step failed again", "webhook_code", f.Webhook.Code, "attempts", f.Attempts, "error", err)
			continue
		}
		u.progress.Handled++
		workflow.GetLogger(ctx).Info("failed step applied on retry", "webhook_code", f.Webhook.Code, "attempts", f.Attempts+1)
	}
	u.progress.Failed = still
	if len(still) == 0 {
		u.progress.LastError = ""
	}
}

// failedRetryDelay is the wait before retry number attempts+1.
func failedRetryDelay(attempts int) time.Duration {
	d := FailedRetryBase
	for range attempts {
		if d >= FailedRetryMax/2 {
			return FailedRetryMax
		}
		d *= 2
	}
	return d
}

// linkDeleted asks the store whether the link was deleted.
func (u *linkUpdates) linkDeleted(ctx workflow.Context) bool {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: CallTimeout, RetryPolicy: fetchRetry,
		Summary: "was this link deleted already?"})
	var a *activities.Activities
	var deleted bool
	if err := workflow.ExecuteActivity(actx, a.LinkDeleted, u.in.LinkID).Get(ctx, &deleted); err != nil {
		workflow.GetLogger(ctx).Warn("could not tell whether the link was deleted; handling its webhooks", "error", err)
		return false
	}
	return deleted
}

func (u *linkUpdates) remember(k string) {
	u.seen[k] = true
	u.order = append(u.order, k)
	if len(u.order) > keptDedupeKeys {
		delete(u.seen, u.order[0])
		u.order = u.order[1:]
	}
}

// handle applies one webhook. A step that fails after the engine's retries
// is kept in Failed (with LastError) and the handler goes on: one bad
// webhook must not block the link's later ones. Failed steps are retried
// later (retriesVersion).
func (u *linkUpdates) handle(ctx workflow.Context, ev WebhookEvent) {
	if u.seen[ev.DedupeKey()] {
		u.progress.Duplicates++
		return
	}
	u.remember(ev.DedupeKey())
	u.progress.LastEvent = ev.Type + "/" + ev.Code
	u.handled++ // this run's share, for continue-as-new
	err := u.apply(ctx, ev)
	if err != nil {
		u.progress.LastError = ev.Code + ": " + err.Error()
		f := FailedWebhook{Webhook: ev, Error: err.Error()}
		if u.retries {
			f.NextRetry = workflow.Now(ctx).Add(failedRetryDelay(0))
		}
		u.progress.Failed = append(u.progress.Failed, f)
		if len(u.progress.Failed) > keptFailures {
			u.progress.Failed = u.progress.Failed[1:]
		}
		workflow.GetLogger(ctx).Error("recurrent webhook failed; kept to retry", "webhook_code", ev.Code, "error", err)
		return
	}
	// Counted once applied, so Handled tells a reader the store reflects it.
	u.progress.Handled++
}

// apply brings the store up to date with one webhook.
func (u *linkUpdates) apply(ctx workflow.Context, ev WebhookEvent) error {
	var a *activities.Activities
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: ListTimeout, HeartbeatTimeout: ListHeartbeat, RetryPolicy: fetchRetry,
		Summary: fmt.Sprintf("%s/%s: bring the store up to date", ev.Type, ev.Code),
	})
	var err error
	switch {
	case isNewAvailable(ev.Code) && belvo.Resource(ev.Type).Valid():
		// Only what is new: from the resource's cursor (a whole listing
		// when it has none). The same activity is scheduled as before,
		// only its input has one more field, so histories replay without
		// a version gate.
		var res activities.FetchResourceResult
		err = workflow.ExecuteActivity(actx, a.FetchResource, activities.FetchResourceInput{
			LinkID: u.in.LinkID, Resource: belvo.Resource(ev.Type), Incremental: true}).Get(ctx, &res)
		if err == nil {
			observeWebhookToData(ctx, FlowRecurrent, belvo.Resource(ev.Type), u.in.LinkID, ev.ReceivedAt, res.CommittedAt)
		}
	case ev.Code == RelistCode && belvo.Resource(ev.Type).Valid() &&
		workflow.GetVersion(ctx, relistVersion, workflow.DefaultVersion, 1) >= 1:
		// An operator's full relist: every row again, which also resets
		// the cursor from what Belvo holds now.
		err = workflow.ExecuteActivity(actx, a.FetchResource, activities.FetchResourceInput{
			LinkID: u.in.LinkID, Resource: belvo.Resource(ev.Type)}).Get(ctx, nil)
	case ev.Code == "transactions_updated" && u.retries:
		err = workflow.ExecuteActivity(actx, a.RereadRows, activities.DeleteRowsInput{LinkID: u.in.LinkID, Resource: belvo.Transactions, IDs: ev.IDs}).Get(ctx, nil)
	case ev.Code == "transactions_updated":
		// Before retriesVersion: an id__in listing, which Belvo's spec
		// does not document. Kept only so older runs replay.
		for _, chunk := range chunks(ev.IDs, 100) {
			err = workflow.ExecuteActivity(actx, a.FetchResource, activities.FetchResourceInput{
				LinkID: u.in.LinkID, Resource: belvo.Transactions, Filters: map[string]string{"id__in": strings.Join(chunk, ",")},
			}).Get(ctx, nil)
			if err != nil {
				break
			}
		}
	case ev.Code == "transactions_deleted":
		err = workflow.ExecuteActivity(actx, a.DeleteRows, activities.DeleteRowsInput{LinkID: u.in.LinkID, Resource: belvo.Transactions, IDs: ev.IDs}).Get(ctx, nil)
	case ev.Code == "invalid_credentials" || ev.Code == "token_required":
		u.setStatus(ctx, ev.Code)
	case ev.Code == "link_deleted":
		if u.retries {
			if err = workflow.ExecuteActivity(actx, a.DeleteLinkData, u.in.LinkID).Get(ctx, nil); err != nil {
				return err
			}
			// A historical fetch still waiting for the link's webhooks ends.
			if serr := workflow.SignalExternalWorkflow(ctx, HistoricalFetchWorkflowID(u.in.LinkID), "", WebhookSignal, ev).Get(ctx, nil); serr != nil {
				workflow.GetLogger(ctx).Info("no running historical fetch to tell about the deletion", "link_id", u.in.LinkID)
			}
		}
		u.setStatus(ctx, "deleted")
	default:
		u.progress.Ignored++
		workflow.GetLogger(ctx).Warn("recurrent webhook not handled", "webhook_type", ev.Type, "webhook_code", ev.Code)
	}
	var appErr *temporal.ApplicationError
	if u.retries && errors.As(err, &appErr) && appErr.Type() == activities.ErrTypeLinkDeleted {
		// The link was deleted meanwhile: its data is gone for good.
		u.setStatus(ctx, "deleted")
		return nil
	}
	return err
}

func (u *linkUpdates) setStatus(ctx workflow.Context, s string) {
	u.progress.Status = s
	if err := workflow.UpsertTypedSearchAttributes(ctx, StatusAttr.ValueSet(s)); err != nil {
		workflow.GetLogger(ctx).Warn("status search attribute not set", "error", err)
	}
}

func chunks(ids []string, n int) [][]string {
	var out [][]string
	for len(ids) > n {
		out = append(out, ids[:n])
		ids = ids[n:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}
