package main

import (
	"context"
	"fmt"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/bench/internal/load"
	"github.com/belvo-temporal/backbone/internal/stack"
	"github.com/google/uuid"
)

// The database scenarios run the store and Temporal each on a private
// PostgreSQL cluster (stack.PGCluster): restarting one touches neither the
// machine's shared server nor the stack's other database.

// privatePG starts a private cluster for one of the stack's databases.
func privatePG(ctx context.Context, what string) (*stack.PGCluster, error) {
	c, err := stack.NewPGCluster(ctx, stack.PGClusterOptions{})
	if err != nil {
		return nil, fmt.Errorf("private PostgreSQL for %s: %w", what, err)
	}
	fmt.Printf("✓ private PostgreSQL for %s on %s (log %s)\n", what, c.Addr, c.LogPath)
	return c, nil
}

// privatePGs starts a private cluster for the store and one for Temporal.
func privatePGs(ctx context.Context) (storePG, temporalPG *stack.PGCluster, err error) {
	if storePG, err = privatePG(ctx, "the store"); err != nil {
		return nil, nil, err
	}
	if temporalPG, err = privatePG(ctx, "Temporal"); err != nil {
		storePG.Close()
		return nil, nil, err
	}
	return storePG, temporalPG, nil
}

// privateStack starts the production-like stack on two private PostgreSQL
// clusters, one under the store and one under Temporal, so that a scenario
// can stop either without touching the machine's server or the other;
// stop ends the stack, then the clusters.
func privateStack(ctx context.Context, o opts, po prodOptions) (s *prodStack, storePG, temporalPG *stack.PGCluster, stop func(), err error) {
	if storePG, temporalPG, err = privatePGs(ctx); err != nil {
		return nil, nil, nil, func() {}, err
	}
	po.storeAdmin, po.temporalAdmin = storePG.AdminDSN(), temporalPG.AdminDSN()
	s, err = startProd(ctx, o, po)
	if err == nil {
		// The app's calls and the harness's own reads of the store are
		// tried again while a database is down, as an app's would be: the
		// row judges the product, not a checker that gave up.
		s.load.Retry = 5 * time.Minute
	}
	return s, storePG, temporalPG, func() {
		s.close()
		temporalPG.Close()
		storePG.Close()
	}, err
}

// bigListing is how many transactions the store-restart scenario lists.
func (o opts) bigListing() int {
	if o.short {
		return 20_000
	}
	return 100_000
}

// storeRestart kills the store's PostgreSQL (immediate shutdown, as a
// crash) while a link's listing of o.bigListing() transactions is part
// stored, with the usual work in flight, and starts it again.
func storeRestart(ctx context.Context, o opts) (row, error) {
	s, pg, _, stop, err := privateStack(ctx, o, prodOptions{name: "db-store-restart"})
	defer stop()
	if err != nil {
		return row{}, err
	}
	n := o.bigListing()
	big, err := s.bigLink(ctx, n)
	if err != nil {
		return row{}, err
	}
	f, err := s.offer(ctx, o.work())
	if err != nil {
		return row{}, err
	}
	at, err := s.waitStored(ctx, big, n/3, n, 10*time.Minute)
	if err != nil {
		return row{}, err
	}
	fmt.Printf("→ %d of %d rows stored: killing the store's PostgreSQL…\n", at, n)
	if err := pg.Kill(); err != nil {
		return row{}, err
	}
	t0 := time.Now()
	if err := pg.Start(ctx); err != nil {
		return row{}, err
	}
	faultEnd := time.Now()
	fmt.Printf("✓ store's PostgreSQL back after %s (crash recovery included)\n", faultEnd.Sub(t0).Round(100*time.Millisecond))
	doneAt, err := s.waitUpdates(ctx, big, 1, 20*time.Minute)
	if err != nil {
		return row{}, err
	}
	r, err := s.tally(ctx, f, faultEnd)
	if err != nil {
		return r, err
	}
	if err := s.addLinks(ctx, &r, []string{big}); err != nil {
		return r, err
	}
	r.inFlight = fmt.Sprintf("a listing of %d transactions, %d stored at the kill; ", n, at) + r.inFlight
	r.recovery = max(r.recovery, doneAt.Sub(faultEnd))
	r.notes = append(r.notes, fmt.Sprintf("the %d-row listing ended %s after PostgreSQL was back (down %s)",
		n, doneAt.Sub(faultEnd).Round(100*time.Millisecond), faultEnd.Sub(t0).Round(100*time.Millisecond)))
	return r, nil
}

// bigLink registers a link and grows it to n transactions: Belvo's
// new_transactions_available for the difference makes LinkUpdates list
// the link's whole history once more (docs/incremental-updates.md: the
// first update after a historical fetch reads it again), so one listing
// carries n rows while the sandbox's other links stay small.
func (s *prodStack) bigLink(ctx context.Context, n int) (string, error) {
	link, err := s.load.Link(ctx, "rel-big-"+uuid.NewString()[:8])
	if err != nil {
		return "", err
	}
	want, err := s.Control().Expected(ctx, link)
	if err != nil {
		return "", err
	}
	if have := want[belvo.Transactions]; have < n {
		if _, err := s.Control().Event(ctx, link, "new_transactions_available", n-have); err != nil {
			return "", err
		}
	}
	return link, nil
}

// waitUpdates waits until a link's LinkUpdates has applied handled
// webhooks and returns when it saw that. A step that failed after the
// engine's retries is an error: it would be retried only an hour later.
func (s *prodStack) waitUpdates(ctx context.Context, link string, handled int, limit time.Duration) (time.Time, error) {
	deadline := time.Now().Add(limit)
	for {
		p, err := s.load.Starter.LinkUpdatesProgress(ctx, link)
		if err == nil && len(p.Failed) > 0 {
			return time.Time{}, fmt.Errorf("link updates of %s: a step failed for good: %s", link, p.Failed[0].Error)
		}
		if err == nil && p.Handled >= handled {
			return time.Now(), nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("link updates of %s: %d of %d webhooks applied after %s (last error %q, query error %v)",
				link, p.Handled, handled, limit, p.LastError, err)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// addLinks adds links outside the offered work to a row's counts: rows
// Belvo holds against rows stored, and their historical fetch run once.
func (s *prodStack) addLinks(ctx context.Context, r *row, links []string) error {
	for _, l := range links {
		want, err := s.Control().Expected(ctx, l)
		if err != nil {
			return err
		}
		for _, res := range load.Resources {
			got, err := s.db.Count(ctx, res, l)
			if err != nil {
				return err
			}
			r.expected += want[res]
			r.stored += got
			r.lost += max(want[res]-got, 0)
			r.duplicates += max(got-want[res], 0)
		}
	}
	return s.executionsTwice(ctx, r, links, nil)
}
