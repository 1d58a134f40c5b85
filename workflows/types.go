// Package workflows holds the deterministic workflow code, one execution
// per unit of Belvo's work: a link's historical fetch (HistoricalFetch), an
// API link registration (LinkRegistration), an async request's sender
// (AsyncPost) and waiter (AsyncRequest, per Belvo request_id), a link's
// recurrent updates (LinkUpdates), a link's requests in flight
// (LinkRequests) and webhooks no route handles yet (UnroutedWebhooks). The
// routing of webhooks to them is routing.go. Workflows only decide; every
// side effect is an activity.
package workflows

import (
	"encoding/json"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
)

// DefaultHistoricalFetchTimeout ends a fetch still missing webhooks;
// DefaultWebhookGrace is when it starts asking Belvo for the data itself.
const (
	DefaultHistoricalFetchTimeout = 24 * time.Hour
	DefaultWebhookGrace           = 2 * time.Hour
)

// HistoricalFetchInput starts a link's historical fetch. Whoever starts the
// execution first (the bridge on an early webhook, or the starter) provides
// it; what the app asked for arrives by FetchRequestSignal.
type HistoricalFetchInput struct {
	LinkID  string        `json:"link_id"`
	Timeout time.Duration `json:"timeout,omitempty"`
	// WebhookGrace is how long a resource waits for its historical_update
	// before the execution asks Belvo whether the data is there anyway (a
	// webhook that never comes); WebhookGraceByResource overrides it per
	// resource. 0: DefaultWebhookGrace.
	WebhookGrace           time.Duration                    `json:"webhook_grace,omitempty"`
	WebhookGraceByResource map[belvo.Resource]time.Duration `json:"webhook_grace_by_resource,omitempty"`
}

// FetchRequest is what the app asked Belvo to fetch for the link.
type FetchRequest struct {
	Resources   []belvo.Resource `json:"resources"`
	ExternalID  string           `json:"external_id,omitempty"`
	Institution string           `json:"institution,omitempty"`
}

// WebhookEvent is the part of a Belvo webhook the workflows need. Of the
// webhook's data object only error fields and row ids are kept: totals and
// anything financial stay out of history.
type WebhookEvent struct {
	WebhookID   string `json:"webhook_id"`
	Type        string `json:"webhook_type"`
	ProcessType string `json:"process_type,omitempty"`
	Code        string `json:"webhook_code"`
	LinkID      string `json:"link_id,omitempty"`
	RequestID   string `json:"request_id,omitempty"`
	ExternalID  string `json:"external_id,omitempty"`
	// ErrorCode, ErrorMessage and ErrorStatus are set when Belvo reports a
	// failure (data.error_code, data.error_message, data.status).
	ErrorCode    string `json:"error_code,omitempty"`
	ErrorMessage string `json:"error_message,omitempty"`
	ErrorStatus  int    `json:"error_status,omitempty"`
	// IDs are the rows a transactions_updated or transactions_deleted
	// webhook names.
	IDs []string `json:"ids,omitempty"`
	// Data is the webhook's whole data object, kept only for a webhook no
	// route handles (RouteUnrouted), so a later version can replay it.
	Data json.RawMessage `json:"data,omitempty"`
	// ReceivedAt is when the bridge received the webhook (the bridge's
	// clock), for the webhook-to-data latency (latency.go); zero in
	// webhooks recorded before it was stamped.
	ReceivedAt time.Time `json:"received_at,omitzero"`
}

// DedupeKey identifies one webhook across Belvo's retries. Belvo does not
// promise webhook_id is stable across retries, so the key also carries what
// the webhook is about.
func (e WebhookEvent) DedupeKey() string {
	return e.WebhookID + "|" + e.Type + "|" + e.Code + "|" + e.LinkID + "|" + e.RequestID
}

// Resource states reported by the progress query.
const (
	StateWaiting  = "waiting for webhook"
	StateFetching = "fetching"
	StateStored   = "stored"
	StateFailed   = "failed"
	// StateMissing: the webhook did not come within the grace period and
	// Belvo had no data yet; the resource still waits until the timeout.
	StateMissing = "webhook missing"
)

// Execution statuses (also the BelvoStatus search attribute).
const (
	StatusWaiting   = "waiting"
	StatusCompleted = "completed"
	StatusTimedOut  = "timed_out"
	StatusFailed    = "failed"
	// StatusDeleted: the link was deleted; its data left the store.
	StatusDeleted = "deleted"
)

// ResourceProgress is one resource's state.
type ResourceProgress struct {
	State   string `json:"state"`
	Stored  int    `json:"stored"`
	Pages   int    `json:"pages"`
	Fetches int    `json:"fetches"`
	Error   string `json:"error,omitempty"`
	// BelvoCount is the count Belvo's list reported (async requests).
	BelvoCount int `json:"belvo_count,omitempty"`
	// WithoutWebhook: stored after polling Belvo, its webhook never came.
	WithoutWebhook bool `json:"without_webhook,omitempty"`
}

// Progress is the progress query's answer and the workflow's result.
type Progress struct {
	LinkID            string                               `json:"link_id"`
	ExternalID        string                               `json:"external_id,omitempty"`
	Institution       string                               `json:"institution,omitempty"`
	Status            string                               `json:"status"`
	Expected          []belvo.Resource                     `json:"expected"`
	Resources         map[belvo.Resource]*ResourceProgress `json:"resources"`
	Webhooks          int                                  `json:"webhooks"`
	DuplicateWebhooks int                                  `json:"duplicate_webhooks"`
	IgnoredWebhooks   int                                  `json:"ignored_webhooks"`
}
