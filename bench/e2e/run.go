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

// baseline runs the engine-only twin of every flow (baseline.go).
func (s *benchStack) baseline(ctx context.Context, o options) (t timing, err error) {
	t = timing{name: "baseline (plain SDK, no-op activities)"}
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
	// A webhook Belvo's stand-in cannot deliver ends the run, whose
	// waiter would otherwise wait for ever.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	s.baseActs.onFailure(cancel)
	defer s.baseActs.onFailure(nil)
	// sender runs a sender twin and waits for its waiter to end.
	sender := func(id string, steps []step, waiter string) error {
		run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: baselineTaskQueue}, baseStepsType, steps)
		if err == nil {
			err = run.Get(ctx, nil)
		}
		if err == nil {
			err = s.Client.GetWorkflow(ctx, waiter, "").Get(ctx, nil)
		}
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			return cause
		}
		return err
	}
	db0, err := s.persistence(ctx)
	if err != nil {
		return t, err
	}
	cpu0 := measure.CPU(s.Stack)
	defer func() { t.cpu = measure.Sub(measure.CPU(s.Stack), cpu0) }()
	t0 := time.Now()
	err = parallel(o.links, o.concurrency, func(i int) error {
		fetch := waiterShape{ID: fmt.Sprintf("base-fetch-%s-%d", stamp, i), Signals: 4, Acts: 3, Locals: 2}
		steps := []step{{Belvo: &belvoSends{To: fetch, Webhooks: 3}}, {To: &fetch}}
		return sender(fmt.Sprintf("base-reg-%s-%d", stamp, i), steps, fetch.ID)
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
	err = parallel(o.async, o.concurrency, func(i int) error {
		// One registry per request: the run's requests go to links with no
		// other request in flight, as in the product's run (one per link).
		waiter := waiterShape{ID: fmt.Sprintf("base-async-%s-%d", stamp, i), Signals: 2, Acts: 1}
		registry := waiterShape{ID: fmt.Sprintf("base-requests-%s-%d", stamp, i), Signals: 3, Forward: waiter.ID}
		steps := []step{{To: &registry}, {Belvo: &belvoSends{To: registry, Webhooks: 1}}, {To: &waiter}, {To: &registry}}
		return sender(fmt.Sprintf("base-post-%s-%d", stamp, i), steps, waiter.ID)
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
		// The request's link's registry (its last run, when the link had
		// several requests one after the other).
		if i < len(t.linkIDs) {
			out[workflows.LinkRequestsType] = append(out[workflows.LinkRequestsType], workflows.LinkRequestsWorkflowID(t.linkIDs[i]))
		}
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
