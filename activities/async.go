package activities

import (
	"context"
	"fmt"

	"github.com/belvo-temporal/backbone/belvo"
	"go.temporal.io/sdk/activity"
)

// StartAsync sends an async Belvo request (X-Belvo-Request-Mode: async) and
// returns the request_id of Belvo's 202.
func (a *Activities) StartAsync(ctx context.Context, r belvo.AsyncRequest) (string, error) {
	if err := r.Validate(); err != nil {
		return "", classify(ctx, fmt.Errorf("async %s: %w", r.Op, invalidInput(err)))
	}
	g := a.guardSend(ctx, fmt.Sprintf("async %s for link %s", r.Op, r.LinkID))
	var id string
	if g.answered(&id) {
		return id, nil
	}
	if g.uncertain() {
		return "", g.uncertainError()
	}
	if err := g.sending(); err != nil {
		return "", err
	}
	id, err := a.Belvo.StartAsync(ctx, r)
	g.result(id, err)
	if err != nil {
		return "", classifyOnce(ctx, fmt.Errorf("async %s for link %s: %w", r.Op, r.LinkID, err))
	}
	activity.GetLogger(ctx).Info("async request accepted", "op", r.Op, "link_id", r.LinkID, "belvo_request_id", id)
	return id, nil
}
