package webhookbridge

import (
	"encoding/json"
	"strings"

	"github.com/belvo-temporal/backbone/workflows"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// route says which execution a webhook belongs to.
type route int

const (
	routeNone            route = iota // accepted, logged and counted, not signalled
	routeHistoricalFetch              // the link's HistoricalFetch, by link_id
	routeAsyncRequest                 // the AsyncRequest of Belvo's request_id
	routeLinkUpdates                  // the link's LinkUpdates, by link_id
)

// processTypeAsync marks the completion webhook of an async request. Belvo
// documents process_type ("why the webhook was triggered") with the values
// historical_update and recurrent_update; the async value is this product's
// assumption, shared with the sandbox, and lives only here.
const processTypeAsync = "async_request"

// recurrentCodes are the webhook codes of a recurrent link's refreshes and of
// link status changes, all handled by the link's LinkUpdates execution.
var recurrentCodes = map[string]bool{
	"transactions_updated": true, "transactions_deleted": true,
	"invalid_credentials": true, "token_required": true, "link_deleted": true,
}

// routeOf is the routing table, in one place:
//
//	process_type async_request (any code)        → AsyncRequest(request_id)
//	webhook_code historical_update                → HistoricalFetch(link_id)
//	new_*_available, transactions_updated/deleted,
//	invalid_credentials, token_required,
//	link_deleted                                  → LinkUpdates(link_id)
//	anything else                                 → accepted, logged, counted
func routeOf(b webhookBody) route {
	switch {
	case b.ProcessType == processTypeAsync:
		return routeAsyncRequest
	case b.WebhookCode == "historical_update":
		return routeHistoricalFetch
	case recurrentCodes[b.WebhookCode],
		strings.HasPrefix(b.WebhookCode, "new_") && strings.HasSuffix(b.WebhookCode, "_available"):
		return routeLinkUpdates
	}
	return routeNone
}

// missingField names the first required field the webhook lacks for its
// route, or "".
func missingField(b webhookBody) string {
	switch {
	case !validID(b.WebhookID):
		return "webhook_id"
	case !validName(b.WebhookType):
		return "webhook_type"
	case !validName(b.WebhookCode):
		return "webhook_code"
	case b.ProcessType != "" && !validName(b.ProcessType):
		return "process_type"
	}
	switch {
	case b.LinkID != "" && !validID(b.LinkID):
		return "link_id"
	case b.RequestID != "" && !validID(b.RequestID):
		return "request_id"
	}
	switch routeOf(b) {
	case routeAsyncRequest:
		if b.RequestID == "" {
			return "request_id"
		}
	case routeHistoricalFetch, routeLinkUpdates:
		if b.LinkID == "" {
			return "link_id"
		}
	default:
		if b.LinkID == "" && b.RequestID == "" {
			return "link_id or request_id"
		}
	}
	return ""
}

// webhookData is what the bridge keeps of a webhook's data object: error
// details and row ids, never totals or financial values.
type webhookData struct {
	ErrorCode    string   `json:"error_code"`
	ErrorMessage string   `json:"error_message"`
	Status       int      `json:"status"`
	Deleted      []string `json:"deleted_transactions"`
	Updated      []string `json:"updated_transactions"`
}

// event builds the signal payload; data that does not parse is ignored
// (its shape varies by webhook and nothing routes on it).
func event(b webhookBody) workflows.WebhookEvent {
	ev := workflows.WebhookEvent{WebhookID: b.WebhookID, Type: b.WebhookType, ProcessType: b.ProcessType, Code: b.WebhookCode,
		LinkID: b.LinkID, RequestID: b.RequestID}
	if b.ExternalID != nil {
		ev.ExternalID = *b.ExternalID
	}
	var d webhookData
	if len(b.Data) > 0 && json.Unmarshal(b.Data, &d) == nil {
		ev.ErrorCode, ev.ErrorMessage, ev.ErrorStatus = d.ErrorCode, d.ErrorMessage, d.Status
		ev.IDs = append(d.Deleted, d.Updated...)
	}
	return ev
}

// target is the execution a routed webhook is signalled to, started with
// its input when it does not exist.
type target struct {
	id       string
	workflow string
	input    any
	attrs    temporal.SearchAttributes
	// once: one successful execution per id (a Belvo request_id); a webhook
	// for a completed one is a late duplicate, acknowledged without a run.
	once bool
	// summary and memo are what the web UI shows when this webhook starts
	// the execution.
	summary string
	memo    map[string]any
}

func (b *Bridge) targetOf(r route, body webhookBody) target {
	switch r {
	case routeAsyncRequest:
		return target{workflows.AsyncRequestWorkflowID(body.RequestID), workflows.AsyncRequestType,
			workflows.AsyncRequestInput{RequestID: body.RequestID, OrphanTimeout: b.o.OrphanTimeout},
			temporal.NewSearchAttributes(workflows.RequestIDAttr.ValueSet(body.RequestID), workflows.StatusAttr.ValueSet(workflows.StatusWaiting)), true,
			workflows.AsyncRequestSummary(body.RequestID), map[string]any{"flow": "async request", "started_by": "webhook " + body.WebhookType + "/" + body.WebhookCode}}
	case routeLinkUpdates:
		return target{workflows.LinkUpdatesWorkflowID(body.LinkID), workflows.LinkUpdatesType,
			workflows.LinkUpdatesInput{LinkID: body.LinkID, EventsPerRun: b.o.LinkUpdatesEventsPerRun},
			temporal.NewSearchAttributes(workflows.LinkIDAttr.ValueSet(body.LinkID)), false,
			workflows.LinkUpdatesSummary(body.LinkID), map[string]any{"flow": "recurrent link updates", "started_by": "webhook " + body.WebhookType + "/" + body.WebhookCode}}
	default:
		return target{workflows.HistoricalFetchWorkflowID(body.LinkID), workflows.HistoricalFetchType,
			workflows.HistoricalFetchInput{LinkID: body.LinkID, Timeout: b.o.FetchTimeout, WebhookGrace: b.o.FetchGrace},
			temporal.NewSearchAttributes(workflows.LinkIDAttr.ValueSet(body.LinkID), workflows.StatusAttr.ValueSet(workflows.StatusWaiting)), false,
			workflows.HistoricalFetchSummary(body.LinkID), workflows.FetchMemo("webhook "+body.WebhookType+"/"+body.WebhookCode, workflows.FetchRequest{})}
	}
}

func (t target) options(taskQueue string) client.StartWorkflowOptions {
	o := client.StartWorkflowOptions{ID: t.id, TaskQueue: taskQueue, TypedSearchAttributes: t.attrs, StaticSummary: t.summary, Memo: t.memo}
	if t.once {
		// Only a run that completed blocks a new one: a copy of its webhook
		// is a duplicate. After a failed or timed-out run, a webhook starts
		// a new run so it is kept, not dropped.
		o.WorkflowIDReusePolicy = enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY
	}
	return o
}

// validID accepts Belvo's ids (UUIDs, 32-hex request ids) and anything of the
// same harmless shape; it refuses what would make a workflow id Temporal
// rejects, which would otherwise turn into an endless 503 and retry loop.
func validID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validName accepts Belvo's type and code names (letters, digits, '_'), at
// most 64 characters: anything else is not Belvo's and would only grow logs,
// histories and metrics.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
