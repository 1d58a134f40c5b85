package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/workflows"
	"go.temporal.io/sdk/client"
)

var three = []belvo.Resource{belvo.Accounts, belvo.Transactions, belvo.Owners}

// timing is one run's phases, and what the product stored.
type timing struct {
	name                    string
	links, async            time.Duration
	linkIDs, keys, requests []string
	asyncKeys               []string
	expected, stored, lost  int
	// belvoConns and belvoRequests are what the worker did to Belvo.
	belvoConns, belvoRequests int64
	// cpu is each process's processor time during the run.
	cpu map[string]time.Duration
}

// parallel runs f(0..n-1) on k goroutines and returns the first error.
func parallel(n, k int, f func(i int) error) error {
	var next atomic.Int64
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for range min(n, k) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					mu.Lock()
					first = errors.Join(first, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// baseline runs the engine-only twin of every flow.
func (s *benchStack) baseline(ctx context.Context, o options) (timing, error) {
	t := timing{name: "baseline (plain SDK, no-op activities)"}
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
	waiter := func(id string, signals, acts int) error {
		run, err := s.client.SignalWithStartWorkflow(ctx, id, baselineSignal, nil,
			client.StartWorkflowOptions{ID: id, TaskQueue: baselineTaskQueue}, "BaselineWaiter", signals, acts)
		if err != nil {
			return err
		}
		for range signals - 1 {
			if err := s.client.SignalWorkflow(ctx, id, "", baselineSignal, nil); err != nil {
				return err
			}
		}
		return run.Get(ctx, nil)
	}
	steps := func(id string) error {
		run, err := s.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: baselineTaskQueue}, "BaselineSteps", 2)
		if err != nil {
			return err
		}
		return run.Get(ctx, nil)
	}
	t0 := time.Now()
	// A link: registration (2 activities), then the fetch (a fetch request
	// and 3 webhooks; stored state and 3 listings).
	err := parallel(o.links, o.concurrency, func(i int) error {
		if err := steps(fmt.Sprintf("base-reg-%s-%d", stamp, i)); err != nil {
			return err
		}
		return waiter(fmt.Sprintf("base-fetch-%s-%d", stamp, i), 4, 4)
	})
	if err != nil {
		return t, err
	}
	t.links = time.Since(t0)
	t1 := time.Now()
	// An async request: the sender (POST, hand-over), then the waiter
	// (details and webhook signals; 1 listing).
	err = parallel(o.async, o.concurrency, func(i int) error {
		if err := steps(fmt.Sprintf("base-post-%s-%d", stamp, i)); err != nil {
			return err
		}
		return waiter(fmt.Sprintf("base-async-%s-%d", stamp, i), 2, 1)
	})
	t.async = time.Since(t1)
	return t, err
}

// product runs the real flows and checks the store against the sandbox.
func (s *benchStack) product(ctx context.Context, o options) (timing, error) {
	t := timing{name: "product (local stack)", linkIDs: make([]string, o.links), keys: make([]string, o.links),
		requests: make([]string, o.async), asyncKeys: make([]string, o.async)}
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
	d := sandbox.Config{}.WithDefaults()
	var done atomic.Int64
	before, err := s.ctl.Stats(ctx)
	if err != nil {
		return t, err
	}
	cpu0 := s.cpu()
	t0 := time.Now()
	err = parallel(o.links, o.concurrency, func(i int) error {
		t.keys[i] = fmt.Sprintf("e2e-%s-%d", stamp, i)
		reg, err := s.starter.RegisterLink(ctx, t.keys[i], activities.RegisterLinkInput{Institution: "erebor_mx_retail",
			Username: d.BankUsername, Password: d.BankPassword, AccessMode: "single", FetchResources: three})
		if err != nil {
			return err
		}
		t.linkIDs[i] = reg.LinkID
		if _, err := s.starter.WaitFetch(ctx, reg.LinkID); err != nil {
			return fmt.Errorf("fetch of %s: %w", reg.LinkID, err)
		}
		if n := done.Add(1); n%200 == 0 {
			fmt.Fprintf(os.Stderr, "  %d/%d links fetched (%s)\n", n, o.links, time.Since(t0).Round(time.Second))
		}
		return nil
	})
	if err != nil {
		return t, err
	}
	t.links = time.Since(t0)
	var asyncLost atomic.Int64
	t1 := time.Now()
	err = parallel(o.async, o.concurrency, func(i int) error {
		req := belvo.AsyncRequest{Op: belvo.OpInvoices, LinkID: t.linkIDs[i%o.links], DateFrom: "2026-08-01", DateTo: "2026-10-31", Type: "INFLOW"}
		t.asyncKeys[i] = fmt.Sprintf("e2e-async-%s-%d", stamp, i)
		res, err := s.starter.StartAsync(ctx, t.asyncKeys[i], req)
		if err != nil {
			return err
		}
		t.requests[i] = res.RequestID
		p, err := s.starter.WaitAsync(ctx, res.RequestID)
		if err != nil {
			return fmt.Errorf("async %s: %w", res.RequestID, err)
		}
		want, err := s.ctl.Count(ctx, req.LinkID, belvo.Invoices, req.ListFilters())
		if err != nil {
			return err
		}
		// The link's invoices in the store: every request on a link asks for
		// the same rows, so the store must hold at least this request's.
		got, err := s.db.Count(ctx, belvo.Invoices, req.LinkID)
		if err != nil {
			return err
		}
		if p.Status != workflows.StatusCompleted || got < want {
			asyncLost.Add(int64(max(want-got, 1)))
		}
		return nil
	})
	if err != nil {
		return t, err
	}
	t.async = time.Since(t1)
	after, err := s.ctl.Stats(ctx)
	if err != nil {
		return t, err
	}
	t.belvoConns, t.belvoRequests = after.Connections-before.Connections, after.Requests-before.Requests
	t.cpu = s.cpu()
	for k, v := range cpu0 {
		t.cpu[k] -= v
	}
	for _, l := range t.linkIDs {
		want, err := s.ctl.Expected(ctx, l)
		if err != nil {
			return t, err
		}
		for _, r := range three {
			got, err := s.db.Count(ctx, r, l)
			if err != nil {
				return t, err
			}
			t.expected += want[r]
			t.stored += got
			t.lost += max(want[r]-got, 0)
		}
	}
	t.lost += int(asyncLost.Load())
	fmt.Fprintf(os.Stderr, "  product: links %s, async %s\n", t.links.Round(time.Millisecond), t.async.Round(time.Millisecond))
	return t, nil
}

// ids of the executions of each flow, for reading their histories.
func flowIDs(t timing, n int) map[string][]string {
	out := map[string][]string{}
	for i := range min(n, len(t.linkIDs)) {
		out[workflows.LinkRegistrationType] = append(out[workflows.LinkRegistrationType], workflows.LinkRegistrationWorkflowID(t.keys[i]))
		out[workflows.HistoricalFetchType] = append(out[workflows.HistoricalFetchType], workflows.HistoricalFetchWorkflowID(t.linkIDs[i]))
	}
	for i := range min(n, len(t.requests)) {
		out[workflows.AsyncPostType] = append(out[workflows.AsyncPostType], workflows.AsyncPostWorkflowID(t.asyncKeys[i]))
		out[workflows.AsyncRequestType] = append(out[workflows.AsyncRequestType], workflows.AsyncRequestWorkflowID(t.requests[i]))
	}
	return out
}

// cpu is the processor time of the product's processes and of this one
// (the load generator, its client, and the baseline's worker).
func (s *benchStack) cpu() map[string]time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	self := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return map[string]time.Duration{"worker": s.Workers[0].CPU(), "bridge": s.Bridges[0].CPU(), "sandbox": s.Sandbox.CPU(), "benchmark client": self}
}
