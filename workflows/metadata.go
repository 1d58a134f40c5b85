package workflows

import (
	"fmt"
	"strings"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
)

// Summaries and memos are what the web UI shows about an execution before
// anyone opens its history: a one-line summary in the list and on the
// execution page, and a memo with the request's shape. They never carry
// credentials or financial data (they are encrypted like every payload
// anyway), only ids, names and ranges.

// HistoricalFetchSummary is the summary of a link's historical fetch.
func HistoricalFetchSummary(linkID string) string {
	return "Historical fetch of Belvo link " + linkID
}

// FetchMemo is the memo of a historical fetch: who started it and, when
// known, what it waits for.
func FetchMemo(startedBy string, req FetchRequest) map[string]any {
	m := map[string]any{"flow": "historical fetch", "started_by": startedBy}
	if len(req.Resources) > 0 {
		m["resources"] = belvo.Names(req.Resources)
	}
	if req.Institution != "" {
		m["institution"] = req.Institution
	}
	if req.ExternalID != "" {
		m["external_id"] = req.ExternalID
	}
	return m
}

// LinkRegistrationSummary is the summary of an API link registration.
func LinkRegistrationSummary(in activities.RegisterLinkInput) string {
	if len(in.FetchResources) == 0 {
		return fmt.Sprintf("Register a link at %s (no historical fetch)", in.Institution)
	}
	return fmt.Sprintf("Register a link at %s, then fetch %s", in.Institution, strings.Join(belvo.Names(in.FetchResources), ", "))
}

// LinkRegistrationMemo is the registration's shape: never the username or
// the password.
func LinkRegistrationMemo(in activities.RegisterLinkInput) map[string]any {
	m := map[string]any{"flow": "link registration", "institution": in.Institution, "fetch_resources": belvo.Names(in.FetchResources)}
	for k, v := range map[string]string{"access_mode": in.AccessMode, "external_id": in.ExternalID, "credentials_storage": in.CredentialsStorage} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

// AsyncPostSummary is the summary of an async request's sender.
func AsyncPostSummary(req belvo.AsyncRequest) string {
	return "Send async " + describeAsync(req)
}

// AsyncRequestSummary is the summary of the execution that waits for a
// Belvo request_id's webhook.
func AsyncRequestSummary(requestID string) string {
	return "Belvo request " + requestID + ": wait for its webhook, then store its data"
}

// AsyncMemo is an async request's shape.
func AsyncMemo(req belvo.AsyncRequest) map[string]any {
	m := map[string]any{"flow": "async request", "op": string(req.Op), "link": req.LinkID}
	for k, v := range map[string]string{"account": req.Account, "date_from": req.DateFrom, "date_to": req.DateTo, "type": req.Type} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

// LinkRequestsSummary is the summary of a link's registry of requests in
// flight.
func LinkRequestsSummary(linkID string) string {
	return "Requests in flight for Belvo link " + linkID + ": route their webhooks by request_id"
}

// UnroutedWebhooksSummary is the summary of a keeper of unrouted webhooks.
func UnroutedWebhooksSummary(key string) string {
	return "Webhooks no route handles yet, kept for replay (" + key + ")"
}

// LinkUpdatesSummary is the summary of a recurrent link's update handler.
func LinkUpdatesSummary(linkID string) string {
	return "Recurrent updates of Belvo link " + linkID
}

func describeAsync(req belvo.AsyncRequest) string {
	s := fmt.Sprintf("%s for link %s", req.Op, req.LinkID)
	if req.DateFrom != "" || req.DateTo != "" {
		s += fmt.Sprintf(", %s..%s", req.DateFrom, req.DateTo)
	}
	if req.Type != "" {
		s += " " + req.Type
	}
	return s
}
