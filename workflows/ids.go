package workflows

import "go.temporal.io/sdk/temporal"

// Workflow type names, as registered and as shown in the web UI.
const (
	HistoricalFetchType  = "HistoricalFetch"
	LinkRegistrationType = "LinkRegistration"
)

// Signal and query names.
const (
	// WebhookSignal carries a Belvo webhook (WebhookEvent) from the bridge.
	WebhookSignal = "belvo-webhook"
	// FetchRequestSignal carries what the app asked for (FetchRequest).
	FetchRequestSignal = "fetch-request"
	// ProgressQuery answers a Progress.
	ProgressQuery = "progress"
)

// HistoricalFetchWorkflowID is the one execution id of a link's historical
// fetch. It is derived from the link id that every historical_update carries,
// so the bridge and the starter reach the same execution without a lookup:
// that is what makes the webhook-first race harmless (see README).
func HistoricalFetchWorkflowID(linkID string) string { return "historical-fetch-" + linkID }

// LinkRegistrationWorkflowID is the execution id of an API link registration;
// requestID is the caller's idempotency key, so retrying a start is harmless.
func LinkRegistrationWorkflowID(requestID string) string { return "link-registration-" + requestID }

// Search attributes, registered on the server (the local stack and the test
// servers do it; see README for production). They make a link's executions
// findable in the web UI.
var (
	LinkIDAttr      = temporal.NewSearchAttributeKeyKeyword("BelvoLinkID")
	ExternalIDAttr  = temporal.NewSearchAttributeKeyKeyword("BelvoExternalID")
	InstitutionAttr = temporal.NewSearchAttributeKeyKeyword("BelvoInstitution")
	StatusAttr      = temporal.NewSearchAttributeKeyKeyword("BelvoStatus")
)

// SearchAttributes lists every custom search attribute, for registration.
func SearchAttributes() []temporal.SearchAttributeKey {
	return []temporal.SearchAttributeKey{LinkIDAttr, ExternalIDAttr, InstitutionAttr, StatusAttr}
}
