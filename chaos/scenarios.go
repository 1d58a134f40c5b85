package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
)

var three = []belvo.Resource{belvo.Accounts, belvo.Transactions, belvo.Owners}

func scenarios() []scenario {
	return []scenario{
		{name: "worker killed (kill -9) 3 times while a large link is paged", run: killWorker},
		{name: "bridge killed (kill -9) in a webhook burst", run: killBridge},
		{name: "Temporal dev server stopped, restarted on the same db", run: stopTemporal},
		{name: "Belvo 500/503 bursts, 429, 408, slow, truncated and malformed pages",
			env: []string{"SANDBOX_TRANSACTIONS=6000", "SANDBOX_LIST_FAULTS=500,500,503,503,429:1s,slow:3s,truncated,malformed",
				"SANDBOX_TIMEOUT_ABOVE_PAGE_SIZE=500", "BELVO_HTTP_TIMEOUT=2s"},
			run: plainLinks(2)},
		{name: "webhooks duplicated, early, reordered and missing",
			env: []string{"SANDBOX_TRANSACTIONS=1500", "SANDBOX_DUPLICATE_WEBHOOKS=true", "SANDBOX_EARLY_WEBHOOKS=true",
				"SANDBOX_SKIP_WEBHOOKS=OWNERS", "HISTORICAL_WEBHOOK_GRACE=3s"},
			run: plainLinks(5)},
	}
}

// register registers a link by the API and returns its id.
func register(ctx context.Context, s *scenarioStack, key string) (string, error) {
	reg, err := s.starter.RegisterLink(ctx, key, activities.RegisterLinkInput{Institution: "erebor_mx_retail",
		Username: sandbox.SandboxUsername, Password: sandbox.SandboxPassword, AccessMode: "single", FetchResources: three})
	if err != nil {
		return "", err
	}
	return reg.LinkID, nil
}

// plainLinks registers n links and waits for their fetches.
func plainLinks(n int) func(context.Context, *scenarioStack, opts) (int, []string, error) {
	return func(ctx context.Context, s *scenarioStack, _ opts) (int, []string, error) {
		var links []string
		for i := range n {
			l, err := register(ctx, s, "chaos-"+strconv.Itoa(i)+"-"+uuid.NewString()[:8])
			if err != nil {
				return 0, nil, err
			}
			links = append(links, l)
		}
		for _, l := range links {
			if _, err := s.starter.WaitFetch(ctx, l); err != nil {
				return 0, links, fmt.Errorf("fetch %s: %w", l, err)
			}
		}
		return 2 * n, links, nil
	}
}

// killWorker: SIGKILL the worker at 25, 50 and 75 % of a large listing; the
// listing resumes from its last heartbeated page on a new worker.
func killWorker(ctx context.Context, s *scenarioStack, o opts) (int, []string, error) {
	if err := s.StartSandbox(ctx, fmt.Sprintf("SANDBOX_TRANSACTIONS=%d", o.transactions)); err != nil {
		return 0, nil, err
	}
	link, err := register(ctx, s, "chaos-kill-worker")
	if err != nil {
		return 0, nil, err
	}
	for _, share := range []int{25, 50, 75} {
		target := o.transactions * share / 100
		for s.storedRows(ctx, belvo.Transactions, link) < target {
			if ctx.Err() != nil {
				return 0, nil, ctx.Err()
			}
			time.Sleep(50 * time.Millisecond)
		}
		fmt.Printf("   kill -9 worker at %d transactions stored\n", s.storedRows(ctx, belvo.Transactions, link))
		if _, err := s.Restart(ctx, s.Workers[0]); err != nil {
			return 0, nil, err
		}
	}
	if _, err := s.starter.WaitFetch(ctx, link); err != nil {
		return 0, nil, fmt.Errorf("fetch: %w", err)
	}
	return 2, []string{link}, nil
}

// killBridge: many widget links send their webhooks at once; the bridge is
// killed mid-burst and comes back 2 s later; the sandbox redelivers what got
// no 2xx.
func killBridge(ctx context.Context, s *scenarioStack, o opts) (int, []string, error) {
	bc, err := belvo.New(belvo.Options{BaseURL: s.Config.BelvoBaseURL, SecretID: s.Config.BelvoSecretID, SecretPassword: s.Config.BelvoSecretPassword})
	if err != nil {
		return 0, nil, err
	}
	links := make([]string, o.burstLinks)
	var wg sync.WaitGroup
	errs := make(chan error, o.burstLinks)
	for i := range o.burstLinks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := s.widgetLink(ctx, bc, i)
			links[i] = l
			if err != nil {
				errs <- err
			}
		}()
	}
	time.Sleep(150 * time.Millisecond)
	fmt.Println("   kill -9 bridge mid-burst")
	s.Bridges[0].Kill()
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, nil, err
	}
	time.Sleep(2 * time.Second)
	if _, err = s.Restart(ctx, s.Bridges[0]); err != nil {
		return 0, nil, err
	}
	for _, l := range links {
		if err := s.waitExecution(ctx, l); err != nil {
			return 0, links, err
		}
	}
	return len(links), links, nil
}

// stopTemporal: the dev server goes away mid-fetch for the outage and comes
// back on the same database file.
func stopTemporal(ctx context.Context, s *scenarioStack, o opts) (int, []string, error) {
	if err := s.StartSandbox(ctx, fmt.Sprintf("SANDBOX_TRANSACTIONS=%d", o.transactions/2)); err != nil {
		return 0, nil, err
	}
	link, err := register(ctx, s, "chaos-stop-temporal")
	if err != nil {
		return 0, nil, err
	}
	for s.storedRows(ctx, belvo.Transactions, link) == 0 {
		if ctx.Err() != nil {
			return 0, nil, ctx.Err()
		}
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Printf("   stopping the dev server for %s\n", o.outage)
	if err := s.Dev.Stop(); err != nil {
		return 0, nil, err
	}
	time.Sleep(o.outage)
	if err := s.Dev.Start(ctx); err != nil {
		return 0, nil, err
	}
	if _, err := s.starter.WaitFetch(ctx, link); err != nil {
		return 0, nil, fmt.Errorf("fetch after the outage: %w", err)
	}
	return 2, []string{link}, nil
}

// waitExecution waits for a link's fetch execution to exist and complete.
func (s *scenarioStack) waitExecution(ctx context.Context, link string) error {
	for {
		_, err := s.starter.WaitFetch(ctx, link)
		if err == nil {
			return nil
		}
		var notFound *serviceerror.NotFound
		if !errors.As(err, &notFound) {
			return fmt.Errorf("link %s: %w", link, err)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("link %s: %w", link, errors.Join(err, ctx.Err()))
		}
		time.Sleep(500 * time.Millisecond) // not started yet: webhooks still being redelivered
	}
}
