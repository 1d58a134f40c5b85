package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/belvo-temporal/backbone/bench/internal/load"
	"github.com/belvo-temporal/backbone/bench/internal/measure"
	"github.com/belvo-temporal/backbone/workflows"
	"go.temporal.io/sdk/client"
)

var three = load.Resources

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
	// dbLinks and dbAsync are the server's persistence requests in each
	// phase.
	dbLinks, dbAsync measure.Persistence
}

// persistence reads the dev server's persistence counters.
func (s *benchStack) persistence(ctx context.Context) (measure.Persistence, error) {
	p, err := measure.ReadPersistence(ctx, s.Dev.MetricsURL())
	if err != nil {
		return nil, fmt.Errorf("the Temporal server's persistence counters: %w", err)
	}
	return p, nil
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
func (s *benchStack) baseline(ctx context.Context, o options) (t timing, err error) {
	t = timing{name: "baseline (plain SDK, no-op activities)"}
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
	waiter := func(id string, signals, acts int) error {
		run, err := s.Client.SignalWithStartWorkflow(ctx, id, baselineSignal, nil,
			client.StartWorkflowOptions{ID: id, TaskQueue: baselineTaskQueue}, "BaselineWaiter", signals, acts)
		if err != nil {
			return err
		}
		for range signals - 1 {
			if err := s.Client.SignalWorkflow(ctx, id, "", baselineSignal, nil); err != nil {
				return err
			}
		}
		return run.Get(ctx, nil)
	}
	steps := func(id string) error {
		run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: baselineTaskQueue}, "BaselineSteps", 2)
		if err != nil {
			return err
		}
		return run.Get(ctx, nil)
	}
	db0, err := s.persistence(ctx)
	if err != nil {
		return t, err
	}
	cpu0 := measure.CPU(s.Stack)
	defer func() { t.cpu = measure.Sub(measure.CPU(s.Stack), cpu0) }()
	t0 := time.Now()
	// A link: registration (2 activities), then the fetch (a fetch request
	// and 3 webhooks; stored state and 3 listings).
	err = parallel(o.links, o.concurrency, func(i int) error {
		if err := steps(fmt.Sprintf("base-reg-%s-%d", stamp, i)); err != nil {
			return err
		}
		return waiter(fmt.Sprintf("base-fetch-%s-%d", stamp, i), 4, 4)
	})
	if err != nil {
		return t, err
	}
	t.links = time.Since(t0)
	db1, err := s.persistence(ctx)
	if err != nil {
		return t, err
	}
	t.dbLinks = db1.Sub(db0)
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
	if err != nil {
		return t, err
	}
	db2, err := s.persistence(ctx)
	t.dbAsync = db2.Sub(db1)
	return t, err
}

// product runs the real flows and checks the store against the sandbox.
func (s *benchStack) product(ctx context.Context, o options) (timing, error) {
	t := timing{name: "product (local stack)", linkIDs: make([]string, o.links), keys: make([]string, o.links),
		requests: make([]string, o.async), asyncKeys: make([]string, o.async)}
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
	var done atomic.Int64
	before, err := s.Load.Ctl.Stats(ctx)
	if err != nil {
		return t, err
	}
	db0, err := s.persistence(ctx)
	if err != nil {
		return t, err
	}
	cpu0 := measure.CPU(s.Stack)
	t0 := time.Now()
	err = parallel(o.links, o.concurrency, func(i int) error {
		t.keys[i] = fmt.Sprintf("e2e-%s-%d", stamp, i)
		var err error
		if t.linkIDs[i], err = s.link(ctx, t.keys[i]); err != nil {
			return err
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
	db1, err := s.persistence(ctx)
	if err != nil {
		return t, err
	}
	t.dbLinks = db1.Sub(db0)
	var asyncLost atomic.Int64
	t1 := time.Now()
	err = parallel(o.async, o.concurrency, func(i int) error {
		t.asyncKeys[i] = fmt.Sprintf("e2e-async-%s-%d", stamp, i)
		var lost int
		var err error
		t.requests[i], lost, err = s.async(ctx, t.asyncKeys[i], t.linkIDs[i%o.links])
		asyncLost.Add(int64(lost))
		return err
	})
	if err != nil {
		return t, err
	}
	t.async = time.Since(t1)
	db2, err := s.persistence(ctx)
	if err != nil {
		return t, err
	}
	t.dbAsync = db2.Sub(db1)
	after, err := s.Load.Ctl.Stats(ctx)
	if err != nil {
		return t, err
	}
	t.belvoConns, t.belvoRequests = after.Connections-before.Connections, after.Requests-before.Requests
	t.cpu = measure.Sub(measure.CPU(s.Stack), cpu0)
	if t.expected, t.stored, t.lost, err = s.check(ctx, t.linkIDs); err != nil {
		return t, err
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

// link, async and check are the shared load's (bench/internal/load).
func (s *benchStack) link(ctx context.Context, key string) (string, error) {
	return s.Load.Link(ctx, key)
}

func (s *benchStack) async(ctx context.Context, key, linkID string) (string, int, error) {
	return s.Load.Async(ctx, key, linkID)
}

func (s *benchStack) check(ctx context.Context, linkIDs []string) (expected, stored, lost int, err error) {
	return s.Load.Check(ctx, linkIDs)
}
