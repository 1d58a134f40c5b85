package main

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/bench/internal/measure"
	"github.com/google/uuid"
)

// updateLinks are the links whose recurrent updates run through the store
// outage; deletedPerLink and newPerLink what each update changes.
const (
	updateLinks    = 3
	deletedPerLink = 10
	newPerLink     = 50
)

func (o opts) storeOutage() time.Duration {
	if o.short {
		return 20 * time.Second
	}
	return 3 * time.Minute
}

// storeOutage stops the store's PostgreSQL, has Belvo send
// transactions_deleted and new_transactions_available for some links
// while it is down, with the usual work in flight, keeps it down, then
// brings it back: the store must then equal Belvo, deleted rows gone and
// new ones there.
func storeOutage(ctx context.Context, o opts) (row, error) {
	s, pg, _, stop, err := privateStack(ctx, o, prodOptions{name: "db-store-outage"})
	defer stop()
	if err != nil {
		return row{}, err
	}
	stamp := uuid.NewString()[:8]
	var links []string
	for i := range updateLinks {
		l, err := s.load.Link(ctx, "rel-updates-"+stamp+"-"+strconv.Itoa(i))
		if err != nil {
			return row{}, err
		}
		links = append(links, l)
	}
	f, err := s.offer(ctx, o.work())
	if err != nil {
		return row{}, err
	}
	fmt.Println("→ stopping the store's PostgreSQL…")
	if err := pg.Stop(); err != nil {
		return row{}, err
	}
	t0 := time.Now()
	var deleted [][]string
	for _, l := range links {
		wh, err := s.Control().Event(ctx, l, "transactions_deleted", deletedPerLink)
		if err != nil {
			return row{}, err
		}
		deleted = append(deleted, ids(wh.Data["deleted_transactions"]))
		if _, err := s.Control().Event(ctx, l, "new_transactions_available", newPerLink); err != nil {
			return row{}, err
		}
	}
	select {
	case <-ctx.Done():
		return row{}, ctx.Err()
	case <-time.After(time.Until(t0.Add(o.storeOutage()))):
	}
	fmt.Println("→ starting the store's PostgreSQL again…")
	if err := pg.Start(ctx); err != nil {
		return row{}, err
	}
	faultEnd := time.Now()
	var doneAt time.Time
	for _, l := range links {
		at, err := s.waitUpdates(ctx, l, 2, 20*time.Minute)
		if err != nil {
			return row{}, err
		}
		doneAt = at
	}
	r, err := s.tally(ctx, f, faultEnd)
	if err != nil {
		return r, err
	}
	if err := s.addLinks(ctx, &r, links); err != nil {
		return r, err
	}
	back, checked := 0, 0 // deleted rows still in the store, of those looked up
	for i, l := range links {
		if len(deleted[i]) != deletedPerLink {
			return r, fmt.Errorf("the transactions_deleted webhook for %s named %d rows, want %d", l, len(deleted[i]), deletedPerLink)
		}
		for _, id := range deleted[i] {
			checked++
			data, err := s.db.Row(ctx, belvo.Transactions, l, id)
			if err != nil {
				return r, err
			}
			if data != nil {
				back++
			}
		}
	}
	r.duplicates += back
	r.inFlight = fmt.Sprintf("%d links × (%d deleted + %d new transactions) webhooks; ", updateLinks, deletedPerLink, newPerLink) + r.inFlight
	r.recovery = max(r.recovery, doneAt.Sub(faultEnd))
	r.notes = append(r.notes, fmt.Sprintf("after %s down: every update applied %s after PostgreSQL was back; %d of the %d deleted rows still stored",
		faultEnd.Sub(t0).Round(time.Second), doneAt.Sub(faultEnd).Round(100*time.Millisecond), back, checked))
	return r, nil
}

// ids reads a webhook's list of row ids (decoded JSON or Go strings).
func ids(v any) []string {
	var out []string
	switch l := v.(type) {
	case []string:
		out = l
	case []any:
		for _, x := range l {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func (o opts) temporalOutage() time.Duration {
	if o.short {
		return 10 * time.Second
	}
	return time.Minute
}

// temporalDBOutage stops the PostgreSQL under Temporal during a webhook
// burst, keeps it down, and starts it again. Meanwhile the bridges must
// answer 5xx, never 202, and within Belvo's 5 s; the sandbox redelivers
// what got 5xx and the work completes by itself.
func temporalDBOutage(ctx context.Context, o opts) (row, error) {
	spg, pg, err := privatePGs(ctx)
	if err != nil {
		return row{}, err
	}
	defer pg.Close()
	defer spg.Close()
	rec, err := newDeliveries()
	if err != nil {
		return row{}, err
	}
	defer rec.close()
	s, err := startProd(ctx, o, prodOptions{name: "db-temporal-outage", temporalAdmin: pg.AdminDSN(), storeAdmin: spg.AdminDSN(),
		env: []string{"SANDBOX_WEBHOOK_URL=" + rec.URL()}})
	defer s.close()
	if err != nil {
		return row{}, err
	}
	rec.setTarget(s.WebhookURL())
	// The app's calls that fail during the outage are tried again with
	// the same idempotency key, as an app does; what they met is noted.
	var retried atomic.Int64
	var firstRetried atomic.Value
	s.load.Retry = 5 * time.Minute
	s.load.OnRetry = func(err error) {
		if retried.Add(1) == 1 {
			firstRetried.Store(err.Error())
		}
	}
	w := o.work()
	f, err := s.offer(ctx, w)
	if err != nil {
		return row{}, err
	}
	// Stop as the burst's first webhook goes out, so that the burst meets
	// the outage.
	for waitFrom := time.Now(); rec.count() == 0; {
		if time.Since(waitFrom) > time.Minute {
			return row{}, errNoDeliveries
		}
		select {
		case <-ctx.Done():
			return row{}, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	b0, err := measure.ReadBridgeCounts(ctx, s.bridgeMetrics...)
	if err != nil {
		return row{}, err
	}
	fmt.Println("→ stopping Temporal's PostgreSQL…")
	if err := pg.Stop(); err != nil {
		return row{}, err
	}
	down := time.Now()
	select {
	case <-ctx.Done():
		return row{}, ctx.Err()
	case <-time.After(o.temporalOutage()):
	}
	b1, err := measure.ReadBridgeCounts(ctx, s.bridgeMetrics...)
	if err != nil {
		return row{}, err
	}
	up := time.Now()
	fmt.Println("→ starting Temporal's PostgreSQL again…")
	if err := pg.Start(ctx); err != nil {
		return row{}, err
	}
	faultEnd := time.Now()
	r, err := s.tally(ctx, f, faultEnd)
	out := rec.between(down, up)
	all := rec.between(time.Time{}, time.Now().Add(time.Hour))
	// A 202 answered for a post that began once the database was down
	// cannot have a durable signal behind it.
	r.unsignalled += out.accepted
	r.notes = append(r.notes,
		fmt.Sprintf("during the %s outage: %d webhook posts answered, %d × 202, %d × 5xx, %d unanswered; slowest answer %s (Belvo waits 5 s)",
			up.Sub(down).Round(time.Second), out.posts, out.accepted, out.serverErrors, out.noAnswer, out.slowest.Round(time.Millisecond)),
		fmt.Sprintf("bridges' 202 counter rose by %.0f from just before the stop to the outage's end (202s for signals accepted before the stop included)",
			b1.Sub(b0).Accepted),
		fmt.Sprintf("whole run: %d webhook posts, %d × 202, %d × 5xx, slowest answer %s", all.posts, all.accepted, all.serverErrors, all.slowest.Round(time.Millisecond)))
	if n := retried.Load(); n > 0 {
		r.notes = append(r.notes, fmt.Sprintf("the app's calls answered an error and tried again with the same key: %d (first: %v)", n, firstRetried.Load()))
	}
	if err != nil {
		return r, err
	}
	if out.slowest >= 5*time.Second || out.noAnswer > 0 {
		return r, fmt.Errorf("a bridge answered a webhook in %s during the outage (%d unanswered): Belvo gives up after 5 s",
			out.slowest.Round(time.Millisecond), out.noAnswer)
	}
	if out.posts == 0 || out.serverErrors == 0 {
		return r, fmt.Errorf("no webhook post was answered 5xx during the outage (%d posts): the outage was not exercised", out.posts)
	}
	return r, nil
}
