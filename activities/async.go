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
	if err := sendOnce(ctx, fmt.Sprintf("async %s for link %s", r.Op, r.LinkID)); err != nil {
		return "", err
	}
	id, err := a.Belvo.StartAsync(ctx, r)
	if err != nil {
		return "", classifyOnce(ctx, fmt.Errorf("async %s for link %s: %w", r.Op, r.LinkID, err))
	}
	activity.GetLogger(ctx).Info("async request accepted", "op", r.Op, "link_id", r.LinkID, "belvo_request_id", id)
	return id, nil
}

// DeleteRowsInput names rows of one resource to delete (Belvo's
// transactions_deleted webhook lists them).
type DeleteRowsInput struct {
	LinkID   string         `json:"link_id"`
	Resource belvo.Resource `json:"resource"`
	IDs      []string       `json:"ids"`
}

// DeleteRows removes rows from the store; deleting what is already gone is
// not an error, so a retry is harmless. It returns how many rows went.
func (a *Activities) DeleteRows(ctx context.Context, in DeleteRowsInput) (int, error) {
	n, err := a.Store.DeleteRows(ctx, in.Resource, in.LinkID, in.IDs)
	if err != nil {
		return 0, fmt.Errorf("delete %d %s rows of link %s: %w", len(in.IDs), in.Resource, in.LinkID, err)
	}
	return n, nil
}
