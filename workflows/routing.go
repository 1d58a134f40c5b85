package workflows

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/belvo-temporal/backbone/activities"
)

// Webhook routing, in one place (the bridge and LinkRequests use it).
//
// A webhook whose request_id belongs to a request this product sent (an
// async POST, a link refresh, an async link deletion) goes to that
// request's AsyncRequest, whatever its webhook_code and process_type:
// Belvo's documents make the request_id the association ("a request_id
// that you can later use to associate a given historical_update webhook to
// this request", POST /api/links/{id}/refresh/), and they show the
// completion as historical_update (v1.223.0) or new_transactions_available
// (v1.35.0), with or without a process_type. Which request_ids are ours is
// decided race-free by LinkRequests (announce before sending) and
// activities.Forward (an execution per request_id exists exactly for ours).
//
// Every other webhook is routed by its webhook_code:
//
//	historical_update                                   → HistoricalFetch(link_id)
//	new_*_available, transactions_updated/_deleted,
//	invalid_credentials, token_required, link_deleted   → LinkUpdates(link_id)
//	any other code                                      → UnroutedWebhooks (kept for replay)

// Route is where a webhook that belongs to no request of this product goes.
type Route int

// The routes.
const (
	// RouteUnrouted keeps a webhook no route handles (a code Belvo adds
	// tomorrow) in an UnroutedWebhooks execution, whole, for a later
	// version to replay.
	RouteUnrouted Route = iota
	// RouteHistoricalFetch is the link's HistoricalFetch.
	RouteHistoricalFetch
	// RouteLinkUpdates is the link's LinkUpdates.
	RouteLinkUpdates
)

// recurrentCodes are the webhook codes of a recurrent link's refreshes and
// of link status changes, handled by the link's LinkUpdates.
var recurrentCodes = map[string]bool{
	"transactions_updated": true, "transactions_deleted": true,
	"invalid_credentials": true, "token_required": true, "link_deleted": true,
}

// RouteOf is the route of a webhook that belongs to no request of ours.
func RouteOf(ev WebhookEvent) Route {
	switch {
	case ev.Code == "historical_update":
		return RouteHistoricalFetch
	case recurrentCodes[ev.Code], isNewAvailable(ev.Code):
		return RouteLinkUpdates
	}
	return RouteUnrouted
}

// NeedsLinkID reports whether a webhook's route needs its link_id: every
// route but the unrouted one is per link.
func NeedsLinkID(ev WebhookEvent) bool { return RouteOf(ev) != RouteUnrouted }

func isNewAvailable(code string) bool {
	return strings.HasPrefix(code, "new_") && strings.HasSuffix(code, "_available")
}

// RouteDefaults are given to the executions a webhook starts (0: the
// workflows' defaults).
type RouteDefaults struct {
	FetchTimeout time.Duration `json:"fetch_timeout,omitempty"`
	FetchGrace   time.Duration `json:"fetch_grace,omitempty"`
	// OrphanTimeout is given to an AsyncRequest a webhook starts (a retried
	// hand-over after its run failed).
	OrphanTimeout           time.Duration `json:"orphan_timeout,omitempty"`
	LinkUpdatesEventsPerRun int           `json:"link_updates_events_per_run,omitempty"`
}

// ForwardFor is how to deliver a webhook: to its request's execution when
// it has a request_id (known: the request is known to be ours), else by
// RouteOf.
func ForwardFor(ev WebhookEvent, taskQueue string, d RouteDefaults, known bool) (activities.ForwardInput, error) {
	fallback, err := routeTarget(ev, taskQueue, d)
	if err != nil {
		return activities.ForwardInput{}, err
	}
	in := activities.ForwardInput{Fallback: fallback, RequestKnown: known, DedupeKey: ev.DedupeKey()}
	if ev.RequestID != "" {
		req, err := requestTarget(ev, taskQueue, d)
		if err != nil {
			return activities.ForwardInput{}, err
		}
		in.Request = &req
	}
	return in, nil
}

// requestTarget is the AsyncRequest of the webhook's request_id.
func requestTarget(ev WebhookEvent, taskQueue string, d RouteDefaults) (activities.SignalWithStartInput, error) {
	return target(AsyncRequestWorkflowID(ev.RequestID), AsyncRequestType, taskQueue, ev,
		AsyncRequestInput{RequestID: ev.RequestID, OrphanTimeout: d.OrphanTimeout},
		map[string]string{RequestIDAttr.GetName(): ev.RequestID, StatusAttr.GetName(): StatusWaiting}, true,
		AsyncRequestSummary(ev.RequestID), map[string]any{"flow": "async request", "started_by": startedBy(ev)})
}

// routeTarget is the execution RouteOf names.
func routeTarget(ev WebhookEvent, taskQueue string, d RouteDefaults) (activities.SignalWithStartInput, error) {
	switch RouteOf(ev) {
	case RouteHistoricalFetch:
		return FetchStart(ev.LinkID, taskQueue, FetchRequest{ExternalID: ev.ExternalID}, d, startedBy(ev), ev)
	case RouteLinkUpdates:
		return linkUpdatesTarget(ev, taskQueue, d, startedBy(ev))
	default:
		key := UnroutedKey(ev)
		attrs := map[string]string{}
		if ev.LinkID != "" {
			attrs[LinkIDAttr.GetName()] = ev.LinkID
		}
		return target(UnroutedWebhooksWorkflowID(key), UnroutedWebhooksType, taskQueue, ev,
			UnroutedWebhooksInput{Key: key}, attrs, false,
			UnroutedWebhooksSummary(key), map[string]any{"flow": "unrouted webhooks", "started_by": startedBy(ev)})
	}
}

// linkUpdatesTarget is one SignalWithStart of a link's LinkUpdates: a
// webhook, or an operator's request that is queued like one.
func linkUpdatesTarget(ev WebhookEvent, taskQueue string, d RouteDefaults, by string) (activities.SignalWithStartInput, error) {
	return target(LinkUpdatesWorkflowID(ev.LinkID), LinkUpdatesType, taskQueue, ev,
		LinkUpdatesInput{LinkID: ev.LinkID, EventsPerRun: d.LinkUpdatesEventsPerRun},
		map[string]string{LinkIDAttr.GetName(): ev.LinkID}, false,
		LinkUpdatesSummary(ev.LinkID), map[string]any{"flow": "recurrent link updates", "started_by": by})
}

func startedBy(ev WebhookEvent) string { return "webhook " + ev.Type + "/" + ev.Code }

// target encodes one SignalWithStart of the webhook signal.
func target(id, workflowType, taskQueue string, ev WebhookEvent, input any, keywords map[string]string, once bool,
	summary string, memo map[string]any) (activities.SignalWithStartInput, error) {
	sig, err := json.Marshal(ev)
	if err != nil {
		return activities.SignalWithStartInput{}, fmt.Errorf("encode webhook %s: %w", ev.WebhookID, err)
	}
	in, err := json.Marshal(input)
	if err != nil {
		return activities.SignalWithStartInput{}, fmt.Errorf("encode the input of %s: %w", id, err)
	}
	return activities.SignalWithStartInput{WorkflowID: id, WorkflowType: workflowType, TaskQueue: taskQueue,
		SignalName: WebhookSignal, Signal: sig, Input: in, Keywords: keywords, Once: once, Summary: summary, Memo: memo}, nil
}
