package workflows

import (
	"fmt"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
)

// Workflow type names, as registered and as shown in the web UI.
const (
	HistoricalFetchType  = "HistoricalFetch"
	LinkRegistrationType = "LinkRegistration"
	AsyncPostType        = "AsyncPost"
	AsyncRequestType     = "AsyncRequest"
	LinkUpdatesType      = "LinkUpdates"
	LinkRequestsType     = "LinkRequests"
	UnroutedWebhooksType = "UnroutedWebhooks"
)

// Signal and query names.
const (
	// WebhookSignal carries a Belvo webhook (WebhookEvent) from the bridge.
	WebhookSignal = "belvo-webhook"
	// FetchRequestSignal carries what the app asked for (FetchRequest).
	FetchRequestSignal = "fetch-request"
	// AsyncDetailsSignal carries what an async request asked (AsyncDetails).
	AsyncDetailsSignal = "async-request"
	// ProgressQuery answers the execution's progress.
	ProgressQuery = "progress"
	// RequestNoticeSignal carries a request's announcement or resolution
	// (RequestNotice) to its link's LinkRequests.
	RequestNoticeSignal = "request-notice"
	// RetryFailedSignal asks a LinkUpdates to retry its failed steps now.
	RetryFailedSignal = "retry-failed"
)

// HistoricalFetchWorkflowID is the one execution id of a link's historical
// fetch. It is derived from the link id that every historical_update carries,
// so the bridge and the starter reach the same execution without a lookup:
// that is what makes the webhook-first race harmless (docs/architecture.md).
func HistoricalFetchWorkflowID(linkID string) string { return "historical-fetch-" + linkID }

// LinkRegistrationWorkflowID is the execution id of an API link registration;
// requestID is the caller's idempotency key, so retrying a start is harmless.
func LinkRegistrationWorkflowID(requestID string) string { return "link-registration-" + requestID }

// AsyncPostWorkflowID is the execution that sends an async request;
// clientRequestID is the caller's idempotency key.
func AsyncPostWorkflowID(clientRequestID string) string { return "async-post-" + clientRequestID }

// AsyncRequestWorkflowID is the one execution that waits for the webhook of
// Belvo's request_id and stores its data. The bridge and the sender both
// SignalWithStart it, so the webhook may come before or after the 202.
func AsyncRequestWorkflowID(belvoRequestID string) string { return "async-request-" + belvoRequestID }

// LinkUpdatesWorkflowID is a link's long-lived handler of recurrent-link
// webhooks.
func LinkUpdatesWorkflowID(linkID string) string { return "link-updates-" + linkID }

// LinkRequestsWorkflowID is a link's registry of requests in flight: it
// runs while a request sent for the link may still cause a webhook whose
// request_id this product does not know yet.
func LinkRequestsWorkflowID(linkID string) string { return "link-requests-" + linkID }

// UnroutedWebhooksWorkflowID keeps the webhooks no route handles, per link
// (UnroutedKey).
func UnroutedWebhooksWorkflowID(key string) string { return "unrouted-webhooks-" + key }

// Search attributes, registered on the server (the local stack and the test
// servers do it; docs/operations.md for production). They make a link's executions
// findable in the web UI.
var (
	LinkIDAttr      = temporal.NewSearchAttributeKeyKeyword("BelvoLinkID")
	ExternalIDAttr  = temporal.NewSearchAttributeKeyKeyword("BelvoExternalID")
	InstitutionAttr = temporal.NewSearchAttributeKeyKeyword("BelvoInstitution")
	StatusAttr      = temporal.NewSearchAttributeKeyKeyword("BelvoStatus")
	RequestIDAttr   = temporal.NewSearchAttributeKeyKeyword("BelvoRequestID")
	// ResourcesAttr lists the Belvo resources an execution fetches
	// (BelvoResources = 'OWNERS' matches any execution whose list holds it).
	ResourcesAttr = temporal.NewSearchAttributeKeyKeywordList("BelvoResources")
)

// SearchAttributes lists every custom search attribute, for registration.
func SearchAttributes() []temporal.SearchAttributeKey {
	return []temporal.SearchAttributeKey{LinkIDAttr, ExternalIDAttr, InstitutionAttr, StatusAttr, RequestIDAttr, ResourcesAttr}
}

// SearchAttributeType is the type name registration tools take for a key
// ("Keyword", "KeywordList"): `temporal operator search-attribute create
// --type` and the dev server's --search-attribute Name=Type.
func SearchAttributeType(k temporal.SearchAttributeKey) string {
	switch k.GetValueType() {
	case enums.INDEXED_VALUE_TYPE_KEYWORD_LIST:
		return "KeywordList"
	case enums.INDEXED_VALUE_TYPE_KEYWORD:
		return "Keyword"
	default:
		panic(fmt.Sprintf("workflows: search attribute %s has a type no registration here handles", k.GetName()))
	}
}

// DevServerSearchAttributeFlags are the dev server's flags registering every
// custom search attribute.
func DevServerSearchAttributeFlags() []string {
	var out []string
	for _, k := range SearchAttributes() {
		out = append(out, "--search-attribute", k.GetName()+"="+SearchAttributeType(k))
	}
	return out
}
