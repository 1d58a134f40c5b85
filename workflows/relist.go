package workflows

import (
	"errors"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
)

// RelistCode is the webhook_code of an operator's request to list one
// resource of a link whole again (the starter's relist command). It travels
// as a WebhookEvent on WebhookSignal, so the link's LinkUpdates handles it
// in order with Belvo's webhooks, carries it across continue-as-new and
// retries it like any failed step. Belvo sends no such code: the bridge
// routes one it receives to UnroutedWebhooks, never here.
const RelistCode = "full_relist_requested"

// RelistStart is the SignalWithStart that asks a link's LinkUpdates to list
// a resource whole: it starts the handler when it is not running. requestID
// makes the request idempotent (the same id twice is one relist, by the
// handler's duplicate detection).
func RelistStart(linkID string, r belvo.Resource, requestID, taskQueue string, d RouteDefaults) (activities.SignalWithStartInput, error) {
	switch {
	case linkID == "":
		return activities.SignalWithStartInput{}, errors.New("a full relist needs a link id")
	case !r.Valid():
		return activities.SignalWithStartInput{}, errors.New("a full relist needs a known resource, not " + string(r))
	case requestID == "":
		return activities.SignalWithStartInput{}, errors.New("a full relist needs a request id (idempotency key)")
	}
	ev := WebhookEvent{WebhookID: "relist-" + requestID, Type: string(r), Code: RelistCode, LinkID: linkID}
	return linkUpdatesTarget(ev, taskQueue, d, "operator relist of "+string(r))
}
