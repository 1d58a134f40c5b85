package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"go.temporal.io/sdk/activity"
)

// listing is what one FetchResource reads: the filters it sends and
// whether the newest row timestamp it sees may become the resource's
// cursor (a whole listing, or an incremental one from the cursor; never a
// listing narrowed by other filters, which proves nothing about the rows
// it did not select).
type listing struct {
	filters map[string]string
	// since is the incremental filter's value ("" for any other listing).
	since string
	// keepsCursor: the listing's rows advance (or drop) the cursor.
	keepsCursor bool
}

// planListing decides what FetchResource reads. An incremental read of a
// resource without a usable filter, or without a cursor yet, lists the
// resource whole: that is always correct, only slower.
func (a *Activities) planListing(ctx context.Context, in FetchResourceInput) (listing, error) {
	if !in.Incremental {
		return listing{filters: in.Filters, keepsCursor: len(in.Filters) == 0}, nil
	}
	if len(in.Filters) > 0 {
		return listing{}, inputError{fmt.Errorf("an incremental listing of %s takes no other filters (got %d)", in.Resource, len(in.Filters))}
	}
	log := activity.GetLogger(ctx)
	inc, ok := in.Resource.Incremental()
	if !ok {
		log.Info("listing whole: Belvo documents no incremental filter for the resource", "link_id", in.LinkID, "resource", in.Resource)
		return listing{keepsCursor: true}, nil
	}
	cursor, ok, err := a.Store.Cursor(ctx, in.LinkID, in.Resource)
	if err != nil {
		return listing{}, storeError(err)
	}
	if !ok {
		log.Info("listing whole: no cursor yet (never listed whole, or rows without a usable timestamp)", "link_id", in.LinkID, "resource", in.Resource)
		return listing{keepsCursor: true}, nil
	}
	f := inc.Since(cursor)
	log.Info("listing incrementally", "link_id", in.LinkID, "resource", in.Resource, "cursor", cursor, inc.Filter, f[inc.Filter])
	return listing{filters: f, since: f[inc.Filter], keepsCursor: true}, nil
}

// stamps follows the newest row timestamp of a listing, and the first row
// that had none usable. It is part of the heartbeat, so a resumed attempt
// knows what the pages before it carried.
type stamps struct {
	Newest time.Time `json:"newest,omitzero"`
	// Unstamped says why a row had no usable timestamp ("" when all had).
	Unstamped string `json:"unstamped,omitempty"`
}

// add takes in one stored page's stamps.
func (s *stamps) add(page stamps) {
	if page.Newest.After(s.Newest) {
		s.Newest = page.Newest
	}
	if s.Unstamped == "" {
		s.Unstamped = page.Unstamped
	}
}

// stampField is the row timestamp read for the resource's cursor ("" when
// the resource keeps none).
func stampField(r belvo.Resource) string {
	inc, _ := r.Incremental()
	return inc.Field
}

// keepCursor advances the resource's cursor to the newest timestamp of a
// listing whose every page is stored, or drops it when a row had no usable
// timestamp: an incremental filter would never select such a row, so only
// a whole listing is safe for that resource from then on.
func (a *Activities) keepCursor(ctx context.Context, in FetchResourceInput, plan listing, seen stamps) error {
	if !plan.keepsCursor || stampField(in.Resource) == "" {
		return nil
	}
	if seen.Unstamped != "" {
		activity.GetLogger(ctx).Warn("a row has no usable timestamp: the resource is listed whole from now on",
			"link_id", in.LinkID, "resource", in.Resource, "why", seen.Unstamped)
		if err := a.Store.DropCursor(ctx, in.LinkID, in.Resource); err != nil {
			return storeError(err)
		}
		return nil
	}
	if seen.Newest.IsZero() {
		return nil // nothing read: the cursor stays where it is
	}
	if err := a.Store.AdvanceCursor(ctx, in.LinkID, in.Resource, seen.Newest); err != nil {
		return storeError(err)
	}
	return nil
}
