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

// FailedWebhook is a webhook LinkUpdates could not apply, and why.
type FailedWebhook struct {
	Webhook WebhookEvent `json:"webhook"`
	Error   string       `json:"error"`
}

// keptFailures bounds the failed webhooks carried across runs.
const keptFailures = 50

// LinkUpdates is a link's durable handler of recurrent-link webhooks:
// new_*_available lists the resource again into the store,
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
	webhooks := workflow.GetSignalChannel(ctx, WebhookSignal)
	queue := append([]WebhookEvent(nil), u.in.Pending...)
	for {
		if len(queue) == 0 {
			var ev WebhookEvent
			webhooks.Receive(ctx, &ev)
			queue = append(queue, ev)
		}
		ev := queue[0]
		queue = queue[1:]
		u.handle(ctx, ev)
		if u.progress.Status == "deleted" || u.handled >= u.in.EventsPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			// Take every webhook already delivered to this run with us.
			for {
				var more WebhookEvent
				if !webhooks.ReceiveAsync(&more) {
					break
				}
				queue = append(queue, more)
			}
			if u.progress.Status == "deleted" {
				// Nothing can be fetched for a deleted link: what is still
				// queued is recorded as ignored and the handler ends.
				u.progress.Ignored += len(queue)
				workflow.GetLogger(ctx).Info("link deleted: link updates end", "link_id", u.in.LinkID, "ignored", len(queue))
				return u.progress, nil
			}
			return u.progress, workflow.NewContinueAsNewError(ctx, LinkUpdates, LinkUpdatesInput{
				LinkID: u.in.LinkID, EventsPerRun: u.in.EventsPerRun, Pending: queue, Seen: u.order,
				Status: u.progress.Status, Carried: u.progress,
			})
		}
	}
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
// webhook must not block the link's later ones.
func (u *linkUpdates) handle(ctx workflow.Context, ev WebhookEvent) {
	log := workflow.GetLogger(ctx)
	if u.seen[ev.DedupeKey()] {
		u.progress.Duplicates++
		return
	}
	u.remember(ev.DedupeKey())
	u.progress.LastEvent = ev.Type + "/" + ev.Code
	u.handled++ // this run's share, for continue-as-new
	var a *activities.Activities
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Hour, HeartbeatTimeout: fetchHeartbeat, RetryPolicy: fetchRetry,
		Summary: fmt.Sprintf("%s/%s: bring the store up to date", ev.Type, ev.Code),
	})
	var err error
	switch {
	case strings.HasPrefix(ev.Code, "new_") && strings.HasSuffix(ev.Code, "_available") && belvo.Resource(ev.Type).Valid():
		err = workflow.ExecuteActivity(actx, a.FetchResource, activities.FetchResourceInput{LinkID: u.in.LinkID, Resource: belvo.Resource(ev.Type)}).Get(ctx, nil)
	case ev.Code == "transactions_updated":
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
		u.setStatus(ctx, "deleted")
	default:
		u.progress.Ignored++
		log.Warn("recurrent webhook not handled", "webhook_type", ev.Type, "webhook_code", ev.Code)
	}
	if err != nil {
		u.progress.LastError = ev.Code + ": " + err.Error()
		u.progress.Failed = append(u.progress.Failed, FailedWebhook{Webhook: ev, Error: err.Error()})
		if len(u.progress.Failed) > keptFailures {
			u.progress.Failed = u.progress.Failed[1:]
		}
		log.Error("recurrent webhook failed", "webhook_code", ev.Code, "error", err)
		return
	}
	// Counted once applied, so Handled tells a reader the store reflects it.
	u.progress.Handled++
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
