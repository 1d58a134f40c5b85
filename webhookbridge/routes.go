package webhookbridge

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/workflows"
	"go.temporal.io/api/serviceerror"
)

// missingField names the first required field the webhook lacks, or one of
// a shape Belvo never sends, or "".
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
	ev := workflows.WebhookEvent{Code: b.WebhookCode}
	switch {
	case workflows.NeedsLinkID(ev) && b.LinkID == "":
		return "link_id"
	case b.LinkID == "" && b.RequestID == "":
		return "link_id or request_id"
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
// (its shape varies by webhook and nothing routes on it). A webhook no
// route handles keeps its whole data object, for a later replay.
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
	if workflows.RouteOf(ev) == workflows.RouteUnrouted && len(b.Data) > 0 {
		ev.Data = append(json.RawMessage(nil), b.Data...)
	}
	return ev
}

// route delivers a webhook to the execution it belongs to (workflows/
// routing.go has the table and link_requests.go the reasoning):
//
//  1. a webhook carrying a link_id and a request_id goes to the link's
//     LinkRequests while it runs: a request of that link is in flight and
//     the webhook may be its answer;
//  2. otherwise to the AsyncRequest of its request_id when one exists
//     (this product sent that request);
//  3. otherwise by its webhook_code.
//
// The order matters: LinkRequests ends only after its requests' AsyncRequest
// executions exist, so a webhook that misses the first finds the second.
func (b *Bridge) route(ctx context.Context, ev workflows.WebhookEvent) (activities.ForwardResult, error) {
	return Route(ctx, b.o.Signaler, b.o.TaskQueue, b.routing, ev)
}

// Route is the bridge's delivery of one webhook, without HTTP: the same
// Temporal calls in the same order (the benchmark measures the bridge's own
// cost against it).
func Route(ctx context.Context, c Signaler, taskQueue string, d workflows.RouteDefaults, ev workflows.WebhookEvent) (activities.ForwardResult, error) {
	if ev.LinkID != "" && ev.RequestID != "" {
		id := workflows.LinkRequestsWorkflowID(ev.LinkID)
		err := c.SignalWorkflow(ctx, id, "", workflows.WebhookSignal, ev)
		var notFound *serviceerror.NotFound
		switch {
		case err == nil:
			return activities.ForwardResult{WorkflowID: id, WorkflowType: workflows.LinkRequestsType}, nil
		case !errors.As(err, &notFound):
			return activities.ForwardResult{}, err
		}
	}
	in, err := workflows.ForwardFor(ev, taskQueue, d, false)
	if err != nil {
		return activities.ForwardResult{}, err
	}
	return activities.Forward(ctx, c, in)
}

// validID accepts Belvo's ids (UUIDs, 32-hex request ids) and anything of the
// same harmless shape; it refuses what would make a workflow id Temporal
// rejects, which would otherwise turn into an endless 503 and retry loop.
func validID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '_' {
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
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}
