// Package load is the work the end-to-end and soak benchmarks offer a
// local stack, the way an app does: links registered by the API (each
// fetching 3 resources through webhooks) and async invoices requests, each
// checked against the sandbox once done.
package load

import (
	"context"
	"fmt"
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/starter"
	"github.com/belvo-temporal/backbone/store"
	"github.com/belvo-temporal/backbone/workflows"
)

// Resources are what each link fetches.
var Resources = []belvo.Resource{belvo.Accounts, belvo.Transactions, belvo.Owners}

// Client offers the work and checks it: Starter starts executions, Ctl
// asks the sandbox what Belvo holds, DB reads the product's store.
type Client struct {
	Starter starter.Starter
	Ctl     sandbox.Control
	DB      store.Store
	// Retry, when positive, is how long a call that failed is tried again
	// with the same idempotency key, as an app does when the product
	// answers an error during an outage (zero: the first error stands).
	Retry time.Duration
	// OnRetry, when set, is told each error that is retried.
	OnRetry func(error)
}

// again calls f until it succeeds or c.Retry has passed.
func (c Client) again(ctx context.Context, f func() error) error {
	return Again(ctx, c.Retry, c.OnRetry, f)
}

// Again calls f until it succeeds, limit has passed (zero or less: once)
// or ctx ends, a second between tries; onRetry, when set, is told each
// error that is retried.
func Again(ctx context.Context, limit time.Duration, onRetry func(error), f func() error) error {
	deadline := time.Now().Add(limit)
	for {
		err := f()
		if err == nil || limit <= 0 || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		if onRetry != nil {
			onRetry(err)
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Second):
		}
	}
}

// Link registers a link by the API under an idempotency key, which is also
// its external id, and waits for its historical fetch. An app sets external
// ids (docs/failure-semantics.md): a registration whose POST was cut
// mid-request is then looked up at Belvo instead of ending uncertain.
func (c Client) Link(ctx context.Context, key string) (string, error) {
	d := sandbox.Config{}.WithDefaults()
	var reg workflows.LinkRegistrationResult
	err := c.again(ctx, func() (err error) {
		reg, err = c.Starter.RegisterLink(ctx, key, activities.RegisterLinkInput{Institution: "erebor_mx_retail",
			Username: d.BankUsername, Password: d.BankPassword, AccessMode: "single", FetchResources: Resources, ExternalID: key})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("register link %s: %w", key, err)
	}
	if err := c.again(ctx, func() error { _, err := c.Starter.WaitFetch(ctx, reg.LinkID); return err }); err != nil {
		return reg.LinkID, fmt.Errorf("fetch of %s: %w", reg.LinkID, err)
	}
	return reg.LinkID, nil
}

// Async sends an INFLOW invoices request for a link, waits for it, and
// counts the rows it should have stored that are not in the store (at
// least 1 when it did not complete).
func (c Client) Async(ctx context.Context, key, linkID string) (requestID string, lost int, err error) {
	req := belvo.AsyncRequest{Op: belvo.OpInvoices, LinkID: linkID, DateFrom: "2026-08-01", DateTo: "2026-10-31", Type: "INFLOW"}
	var res workflows.AsyncPostResult
	err = c.again(ctx, func() (err error) { res, err = c.Starter.StartAsync(ctx, key, req); return err })
	if err != nil {
		return "", 0, fmt.Errorf("async request %s: %w", key, err)
	}
	var p workflows.AsyncProgress
	err = c.again(ctx, func() (err error) { p, err = c.Starter.WaitAsync(ctx, res.RequestID); return err })
	if err != nil {
		return res.RequestID, 0, fmt.Errorf("async %s: %w", res.RequestID, err)
	}
	var want, got int
	err = c.again(ctx, func() (err error) {
		want, err = c.Ctl.Count(ctx, req.LinkID, belvo.Invoices, req.ListFilters())
		return err
	})
	if err != nil {
		return res.RequestID, 0, err
	}
	// The link's invoices in the store: every request on a link asks for
	// the same rows, so the store must hold at least this request's. (The
	// read is retried like the app's calls: a scenario may be restarting
	// the store.)
	err = c.again(ctx, func() (err error) { got, err = c.DB.Count(ctx, belvo.Invoices, req.LinkID); return err })
	if err != nil {
		return res.RequestID, 0, err
	}
	if p.Status != workflows.StatusCompleted || got < want {
		lost = max(want-got, 1)
	}
	return res.RequestID, lost, nil
}

// Check compares the store with the sandbox for links' resources.
func (c Client) Check(ctx context.Context, linkIDs []string) (expected, stored, lost int, err error) {
	for _, l := range linkIDs {
		want, err := c.Ctl.Expected(ctx, l)
		if err != nil {
			return expected, stored, lost, fmt.Errorf("expected rows of %s: %w", l, err)
		}
		for _, r := range Resources {
			var got int
			err := c.again(ctx, func() (err error) { got, err = c.DB.Count(ctx, r, l); return err })
			if err != nil {
				return expected, stored, lost, err
			}
			expected += want[r]
			stored += got
			lost += max(want[r]-got, 0)
		}
	}
	return expected, stored, lost, nil
}
