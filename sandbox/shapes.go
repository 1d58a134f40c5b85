package sandbox

import (
	"fmt"
	"strings"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/google/uuid"
)

// CompletionShape is the webhook_code and process_type of the webhook that
// completes an async request (an async POST, a link refresh, an async link
// deletion). Belvo documents that the request_id of the 202 is what ties the
// webhook to the request, but not the exact code and process_type of an
// async POST's webhook: spec v1.223.0 says a refresh sends historical_update,
// spec v1.35.0 says an async transactions request sends
// new_transactions_available. The emulator can send each shape so the
// product is proved not to depend on one.
type CompletionShape string

// The completion shapes. CompletionHistorical is the default.
const (
	// CompletionHistorical is Belvo's documented shape (refresh, v1.223.0):
	// webhook_code and process_type historical_update.
	CompletionHistorical CompletionShape = "historical"
	// CompletionRecurrent is the shape of spec v1.35.0's async transactions:
	// webhook_code new_<resource>_available, process_type recurrent_update.
	CompletionRecurrent CompletionShape = "recurrent"
	// CompletionAsyncRequest is this project's old, undocumented assumption:
	// webhook_code historical_update, process_type async_request
	// (ProcessTypeAsync).
	CompletionAsyncRequest CompletionShape = "async_request"
	// CompletionNone is webhook_code historical_update with no process_type
	// field at all, as in the example webhook of Belvo's async workflows page.
	CompletionNone CompletionShape = "none"
)

// CompletionShapes lists every completion shape, the default first, for
// tests that iterate over them and for error messages.
func CompletionShapes() []CompletionShape {
	return []CompletionShape{CompletionHistorical, CompletionRecurrent, CompletionAsyncRequest, CompletionNone}
}

// ParseCompletionShape reads a shape name; "" is the default. An unknown
// name is an error naming the allowed ones.
func ParseCompletionShape(s string) (CompletionShape, error) {
	if s == "" {
		return CompletionHistorical, nil
	}
	c := CompletionShape(s)
	if !c.Valid() {
		names := make([]string, 0, 4)
		for _, k := range CompletionShapes() {
			names = append(names, string(k))
		}
		return "", fmt.Errorf("unknown completion shape %q (allowed: %s)", s, strings.Join(names, ", "))
	}
	return c, nil
}

// Valid reports whether c is one of CompletionShapes.
func (c CompletionShape) Valid() bool {
	for _, k := range CompletionShapes() {
		if c == k {
			return true
		}
	}
	return false
}

// processType is the shape's process_type; "" omits the field (Webhook's
// omitempty), which is what CompletionNone means.
func (c CompletionShape) processType() string {
	switch c {
	case CompletionRecurrent:
		return "recurrent_update"
	case CompletionAsyncRequest:
		return ProcessTypeAsync
	case CompletionNone:
		return ""
	}
	return "historical_update"
}

// dataCode is the webhook_code of a completion that made a resource's data
// ready.
func (c CompletionShape) dataCode(res belvo.Resource) string {
	if c == CompletionRecurrent {
		return "new_" + strings.ToLower(string(res)) + "_available"
	}
	return "historical_update"
}

// completionWebhook is the shaped webhook completing request rid for a link.
// webhookType is the resource name, or LINK for a deletion; code "" means the
// shape's code for the resource's data.
func (s *Server) completionWebhook(l *link, rid, webhookType, code string) Webhook {
	if code == "" {
		code = s.cfg.CompletionShape.dataCode(belvo.Resource(webhookType))
	}
	wh := Webhook{WebhookID: hexID(uuid.New()), WebhookType: webhookType, ProcessType: s.cfg.CompletionShape.processType(),
		WebhookCode: code, LinkID: l.ID, RequestID: rid, Data: map[string]any{}}
	if l.ExternalID != "" {
		ext := l.ExternalID
		wh.ExternalID = &ext
	}
	return wh
}

// failData is the data of a completion that failed on purpose (FailAsync):
// Belvo's error fields instead of the data's totals.
func (s *Server) failData() map[string]any {
	return map[string]any{"error_code": s.cfg.FailAsync,
		"error_message": "The sandbox fails this request on purpose (FailAsync).", "status": 400}
}
