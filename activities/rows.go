package activities

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/store"
	"go.temporal.io/sdk/activity"
)

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
		return 0, storeError(fmt.Errorf("delete %d %s rows of link %s: %w", len(in.IDs), in.Resource, in.LinkID, err))
	}
	return n, nil
}

// RereadRowsResult counts what a re-read did.
type RereadRowsResult struct {
	// Stored rows were read again and upserted; Gone rows were not found
	// at Belvo any more and were deleted from the store.
	Stored int `json:"stored"`
	Gone   int `json:"gone"`
}

// rereadParallel bounds the detail GETs in flight for one re-read: enough
// to hide Belvo's latency, few enough not to trip its rate limit.
const rereadParallel = 8

// RereadRows reads named rows again, one documented detail request each
// (GET /api/<resource>/{id}/: Belvo's transactions list has no id filter),
// and upserts them in one page; a row Belvo answers 404 for is gone and is
// deleted from the store. Idempotent: a retry reads and writes the same.
func (a *Activities) RereadRows(ctx context.Context, in DeleteRowsInput) (RereadRowsResult, error) {
	alive := keepAlive(ctx, "reading")
	defer alive.stop(nil) // "reading" holds no progress to carry
	type got struct {
		row  store.Row
		gone bool
		err  error
	}
	results := make([]got, len(in.IDs))
	sem := make(chan struct{}, rereadParallel)
	var wg sync.WaitGroup
	for i, id := range in.IDs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			raw, err := a.Belvo.GetRow(ctx, in.Resource, id)
			var api *belvo.APIError
			switch {
			case errors.As(err, &api) && api.StatusCode == 404:
				results[i] = got{gone: true}
			case err != nil:
				results[i] = got{err: fmt.Errorf("re-read %s %s of link %s: %w", in.Resource, id, in.LinkID, err)}
			default:
				results[i] = got{row: store.Row{ID: id, Data: raw}}
			}
		}()
	}
	wg.Wait()
	var rows []store.Row
	var gone []string
	for i, r := range results {
		switch {
		case r.err != nil:
			return RereadRowsResult{}, classify(ctx, r.err)
		case r.gone:
			gone = append(gone, in.IDs[i])
		default:
			rows = append(rows, r.row)
		}
	}
	if err := a.Store.UpsertRows(ctx, in.Resource, in.LinkID, rows); err != nil {
		return RereadRowsResult{}, storeError(err)
	}
	if len(gone) > 0 {
		if _, err := a.Store.DeleteRows(ctx, in.Resource, in.LinkID, gone); err != nil {
			return RereadRowsResult{}, storeError(fmt.Errorf("delete %d %s rows Belvo no longer has: %w", len(gone), in.Resource, err))
		}
		activity.GetLogger(ctx).Info("rows Belvo no longer has were deleted", "link_id", in.LinkID, "resource", in.Resource, "gone", len(gone))
	}
	return RereadRowsResult{Stored: len(rows), Gone: len(gone)}, nil
}

// DeleteLinkData removes everything the store holds for a link Belvo
// deleted, and remembers the deletion so nothing brings the rows back
// (store.DeleteLink). It returns how many rows went.
func (a *Activities) DeleteLinkData(ctx context.Context, linkID string) (int, error) {
	n, err := a.Store.DeleteLink(ctx, linkID)
	if err != nil {
		return 0, storeError(err)
	}
	activity.GetLogger(ctx).Info("deleted link's data removed from the store", "link_id", linkID, "rows", n)
	return n, nil
}

// LinkDeleted reports whether the link was deleted, so an execution a late
// webhook starts for it can end at once.
func (a *Activities) LinkDeleted(ctx context.Context, linkID string) (bool, error) {
	return a.Store.LinkDeleted(ctx, linkID)
}
