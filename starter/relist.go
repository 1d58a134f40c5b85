package starter

import (
	"context"
	"errors"
	"fmt"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/workflows"
)

// Relist asks a link's recurrent updates (LinkUpdates) to list each named
// resource whole into the store again, as the historical fetch did, and to
// take the resource's cursor from that listing. Webhooks read only what is
// new (from the cursor); this is the explicit way back to a complete read,
// e.g. after rows were removed from the store outside the product (a
// restored backup needs none: its cursors are restored with its rows). The
// request is queued in
// order with the link's webhooks, and starts the handler when it is not
// running. key is the idempotency key: the same key twice relists once. It
// returns the handler's workflow id; the relists run after it returns
// (starter status --updates follows them).
func (s Starter) Relist(ctx context.Context, key, linkID string, resources []belvo.Resource) (string, error) {
	if key == "" {
		return "", errors.New("starter: an idempotency key is required")
	}
	if len(resources) == 0 {
		return "", errors.New("starter: at least one resource to relist is required")
	}
	for _, r := range resources {
		in, err := workflows.RelistStart(linkID, r, key+"/"+string(r), s.TaskQueue, workflows.RouteDefaults{})
		if err != nil {
			return "", fmt.Errorf("starter: %w", err)
		}
		if _, err := activities.SignalWithStart(ctx, s.Client, in); err != nil {
			return "", fmt.Errorf("starter: ask for a full relist of %s of link %s: %w", r, linkID, err)
		}
	}
	return workflows.LinkUpdatesWorkflowID(linkID), nil
}
