package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/bench/internal/measure"
	"github.com/belvo-temporal/backbone/internal/fetchaudit"
	"github.com/belvo-temporal/backbone/workflows"
	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/temporal"
)

// work is what runs through a fault, the way an app and Belvo load the
// product: links registered by the API (3 resources each, their webhooks
// sent by the sandbox), an async invoices request on each, and a burst of
// Connect Widget links whose webhooks all arrive at once.
type work struct {
	links, burst int
}

func (w work) String() string {
	return fmt.Sprintf("%d links × 3 resources + %d async requests, a burst of %d widget links (%d webhooks)",
		w.links, w.links, w.burst, 3*w.burst)
}

// inFlight is work offered and not yet tallied.
type inFlight struct {
	w  work
	b0 measure.BridgeCounts
	wg sync.WaitGroup

	mu         sync.Mutex
	linkIDs    []string // every link: API and widget
	keys       []string // the API links' idempotency keys, their external ids
	requestIDs []string // Belvo request ids of the async requests
	asyncLost  int
	errs       []error
	last       time.Time // when the last piece of work completed
}

func (f *inFlight) done(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		f.errs = append(f.errs, err)
	}
	f.last = time.Now()
}

// offer starts the work and returns at once; wait collects it.
func (s *prodStack) offer(ctx context.Context, w work) (*inFlight, error) {
	b0, err := measure.ReadBridgeCounts(ctx, s.bridgeMetrics...)
	if err != nil {
		return nil, err
	}
	f := &inFlight{w: w, b0: b0}
	stamp := uuid.NewString()[:8]
	for i := range w.links {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			key := "rel-" + stamp + "-" + strconv.Itoa(i)
			f.mu.Lock()
			f.keys = append(f.keys, key)
			f.mu.Unlock()
			id, err := s.load.Link(ctx, key)
			if id != "" {
				f.mu.Lock()
				f.linkIDs = append(f.linkIDs, id)
				f.mu.Unlock()
			}
			if err != nil {
				f.done(err)
				return
			}
			req, lost, err := s.load.Async(ctx, key+"-async", id)
			f.mu.Lock()
			if req != "" {
				f.requestIDs = append(f.requestIDs, req)
			}
			f.asyncLost += lost
			f.mu.Unlock()
			f.done(err)
		}()
	}
	for i := range w.burst {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			id, err := s.widgetLink(ctx, "rel-widget-"+stamp+"-"+strconv.Itoa(i))
			if id != "" {
				f.mu.Lock()
				f.linkIDs = append(f.linkIDs, id)
				f.mu.Unlock()
			}
			if err == nil {
				err = s.waitExecution(ctx, id)
			}
			f.done(err)
		}()
	}
	return f, nil
}

// widgetLink plays a user finishing the Connect Widget: the sandbox creates
// the link and sends its webhooks, which start the fetch through a bridge.
func (s *prodStack) widgetLink(ctx context.Context, externalID string) (string, error) {
	return s.widgetLinkSized(ctx, externalID, 0)
}

// widgetLinkSized is widgetLink for a link of its own number of
// transactions (0: the stack's).
func (s *prodStack) widgetLinkSized(ctx context.Context, externalID string, transactions int) (string, error) {
	tok, err := s.belvo.CreateWidgetToken(ctx, belvo.WidgetTokenRequest{ExternalID: externalID, FetchHistorical: true,
		FetchResources: []belvo.Resource{belvo.Accounts, belvo.Transactions, belvo.Owners}})
	if err != nil {
		return "", fmt.Errorf("widget token: %w", err)
	}
	return s.Control().WidgetLinkSized(ctx, tok.Access, "erebor_mx_retail", transactions)
}

// waitExecution waits for a widget link's fetch execution to exist (its
// webhooks may still be redelivered) and complete.
func (s *prodStack) waitExecution(ctx context.Context, link string) error {
	deadline := time.Now().Add(s.load.Retry)
	for {
		_, err := s.load.Starter.WaitFetch(ctx, link)
		if err == nil {
			return nil
		}
		var notFound *serviceerror.NotFound
		var failed *temporal.WorkflowExecutionError
		switch {
		case ctx.Err() != nil:
			return fmt.Errorf("link %s: %w", link, err)
		case errors.As(err, &notFound):
			// Not started yet: its webhooks are still being redelivered.
		case !errors.As(err, &failed) && time.Now().Before(deadline):
			// Temporal did not answer (a scenario has it down): the app
			// asks again, as the load's other calls do (load.Client.Retry).
			if s.load.OnRetry != nil {
				s.load.OnRetry(err)
			}
		default:
			return fmt.Errorf("link %s: %w", link, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("link %s: %w", link, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// tally waits for the work and fills the row's common columns; faultEnd
// is when the fault was lifted (recovery is measured from it). A product
// process that died during the row fails it (watch).
func (s *prodStack) tally(ctx context.Context, f *inFlight, faultEnd time.Time) (row, error) {
	f.wg.Wait()
	r := row{inFlight: f.w.String()}
	if f.last.After(faultEnd) && !faultEnd.IsZero() {
		r.recovery = f.last.Sub(faultEnd)
	}
	expected, stored, missing, err := s.load.Check(ctx, f.linkIDs)
	if err != nil {
		return r, err
	}
	r.expected, r.stored = expected, stored
	// Each piece of work that failed (a registration, a fetch, an async
	// request) counts once, below, beside the rows missing from the store.
	r.lost = missing + f.asyncLost
	// Rows beyond Belvo's per link and resource: the store keys rows by
	// Belvo's id, so this is a stored row Belvo does not hold.
	rowsTwice := max(stored-(expected-missing), 0)
	r.duplicates = rowsTwice
	if err := s.executionsTwice(ctx, &r, f.linkIDs, f.requestIDs); err != nil {
		return r, err
	}
	runsTwice := r.duplicates - rowsTwice
	links, err := s.linksTwice(ctx, f.keys)
	if err != nil {
		return r, err
	}
	r.duplicates += links
	if r.duplicates > 0 {
		r.notes = append(r.notes, fmt.Sprintf("duplicates: %d rows beyond Belvo's, %d executions or listings twice, %d links registered twice at Belvo",
			rowsTwice, runsTwice, links))
	}
	b1, err := measure.ReadBridgeCounts(ctx, s.bridgeMetrics...)
	if err != nil {
		return r, err
	}
	b := b1.Sub(f.b0)
	r.unsignalled = int(b.Unaccounted())
	r.notes = append(r.notes, fmt.Sprintf("bridges: %.0f webhooks answered 202, %.0f signalled (%.0f unrouted), %.0f copies of processed ones",
		b.Accepted, b.Signals, b.Unrouted, b.Duplicates))
	if len(f.errs) > 0 {
		r.lost += len(f.errs)
		return r, errors.Join(fmt.Errorf("%d pieces of work failed: %w", len(f.errs), errors.Join(f.errs[:min(len(f.errs), 3)]...)),
			s.processDied())
	}
	// A product process must not die under any fault, even when the
	// others finished its work.
	return r, s.processDied()
}

// linksTwice counts links Belvo (the sandbox) holds beyond one per API
// registration, found by their external ids: a registration sent twice
// would leave a second link whose data nothing fetches.
func (s *prodStack) linksTwice(ctx context.Context, keys []string) (int, error) {
	extra := 0
	for _, k := range keys {
		links, err := s.belvo.ListLinks(ctx, belvo.LinkFilter{ExternalID: k})
		if err != nil {
			return 0, fmt.Errorf("links with external id %s: %w", k, err)
		}
		extra += max(len(links)-1, 0)
	}
	return extra, nil
}

// executionsTwice adds to a row's duplicates the executions beyond one per
// link fetch that listed something, resources listed twice within one,
// and executions beyond one per async request: a fault must not make the
// product do work twice. A fetch run that listed nothing (a late webhook
// copy, absorbed: fetchaudit) is noted instead.
func (s *prodStack) executionsTwice(ctx context.Context, r *row, links, requestIDs []string) error {
	runs, err := fetchaudit.Count(ctx, s.client, links)
	if err != nil {
		return err
	}
	r.duplicates += runs.Duplicates()
	if runs.Absorbed > 0 {
		r.notes = append(r.notes, fmt.Sprintf("%d late webhook copies opened a fetch execution after the first had completed; it listed nothing (absorbed, not a duplicate)", runs.Absorbed))
	}
	for _, rid := range requestIDs {
		id := workflows.AsyncRequestWorkflowID(rid)
		n, err := s.client.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: "WorkflowId = '" + id + "'"})
		if err != nil {
			return fmt.Errorf("count executions of %s: %w", id, err)
		}
		r.duplicates += max(int(n.GetCount())-1, 0)
	}
	return nil
}

// waitStored waits until a link holds at least from transactions in the
// store, and fails if the listing reached all n first (the fault would
// then hit no listing).
func (s *prodStack) waitStored(ctx context.Context, link string, from, n int, limit time.Duration) (int, error) {
	deadline := time.Now().Add(limit)
	for {
		got, err := s.db.Count(ctx, belvo.Transactions, link)
		if err != nil {
			return 0, err
		}
		if got >= n {
			return got, fmt.Errorf("the listing stored all %d rows before the fault could hit it", n)
		}
		if got >= from {
			return got, nil
		}
		if time.Now().After(deadline) {
			return got, fmt.Errorf("only %d of %d rows stored after %s", got, n, limit)
		}
		select {
		case <-ctx.Done():
			return got, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
