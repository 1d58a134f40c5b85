package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/internal/fetchaudit"
	"github.com/belvo-temporal/backbone/internal/stack"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/starter"
	"github.com/belvo-temporal/backbone/store"
	"github.com/belvo-temporal/backbone/workflows"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"
)

var fetched = []belvo.Resource{belvo.Accounts, belvo.Transactions, belvo.Owners}

// replicaRun is what the multi-replica test did and found.
type replicaRun struct {
	links, async                 []string // link ids; async Belvo request ids
	asyncLink                    map[string]string
	asyncReq                     map[string]belvo.AsyncRequest
	killedAt                     int // links started when the kills happened
	expected, stored             int
	asyncExpected, asyncStored   int
	duplicateExecutions, refetch int
	absorbed                     int // extra executions that listed nothing
	// uncertain counts registrations retried after BelvoUncertain.
	uncertain atomic.Int64
	elapsed   time.Duration
}

// replicaTest drives links and async requests through two workers and two
// bridges, SIGKILLs one of each mid-run, and checks the store against the
// sandbox: exact counts, one execution per link, no resource listed twice.
func replicaTest(ctx context.Context, s *stack.Stack, o options, pg stack.Postgres) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	cfg := s.Config
	c, err := cfg.DialTemporal(zap.NewNop())
	if err != nil {
		return err
	}
	defer c.Close()
	st := s.Starter(c)
	ctl := s.Control()
	defaults := sandbox.Config{}.WithDefaults()
	bc, err := belvo.New(belvo.Options{BaseURL: s.Config.BelvoBaseURL, SecretID: defaults.SecretID, SecretPassword: defaults.SecretPassword})
	if err != nil {
		return err
	}
	run := &replicaRun{links: make([]string, o.links), asyncLink: map[string]string{}, asyncReq: map[string]belvo.AsyncRequest{}}
	stamp := strconv.FormatInt(time.Now().Unix(), 36)
	fmt.Printf("\n=== multi-replica test: %d links (half by the API, half by the widget) and %d async requests, %d workers, %d bridges\n",
		o.links, o.async, len(s.Workers), len(s.Bridges))

	// Links start from 8 clients at once; at 40 % one worker and one bridge
	// die (SIGKILL: no graceful shutdown, in-flight work is lost).
	var started atomic.Int64
	var once sync.Once
	killAt := int64(o.links * 40 / 100)
	jobs := make(chan int)
	errs := make(chan error, o.links)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				link, err := newLink(ctx, st, bc, ctl, stamp, i, &run.uncertain)
				if err != nil {
					errs <- fmt.Errorf("link %d: %w", i, err)
					continue
				}
				run.links[i] = link
				if started.Add(1) >= killAt {
					once.Do(func() {
						run.killedAt = int(started.Load())
						fmt.Printf("   kill -9 worker-1 and bridge-1 after %d links started\n", run.killedAt)
						s.Workers[0].Kill()
						s.Bridges[0].Kill()
					})
				}
			}
		}()
	}
	for i := range o.links {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	if err := errors.Join(drain(errs)...); err != nil {
		return err
	}
	fmt.Printf("   %d links started in %s\n", len(run.links), time.Since(start).Round(time.Second))

	// Async invoice requests on the first links: their rows land in a table
	// the historical fetch does not touch, so each request's count is exact.
	for i := range o.async {
		req := belvo.AsyncRequest{Op: belvo.OpInvoices, LinkID: run.links[i], DateFrom: "2026-08-01", DateTo: "2026-10-31", Type: "INFLOW"}
		res, err := st.StartAsync(ctx, "replica-"+stamp+"-"+strconv.Itoa(i), req)
		if err != nil {
			return fmt.Errorf("async request %d: %w", i, err)
		}
		run.async = append(run.async, res.RequestID)
		run.asyncLink[res.RequestID], run.asyncReq[res.RequestID] = req.LinkID, req
	}
	fmt.Printf("   %d async requests accepted by Belvo (202)\n", len(run.async))

	if err := waitAll(ctx, st, run); err != nil {
		return err
	}
	if err := tally(ctx, s, pg, c, ctl, run); err != nil {
		return err
	}
	run.elapsed = time.Since(start)
	return report(s, run)
}

// newLink creates link i: even ones by the API (the starter's registration
// execution), odd ones by the Connect Widget (the webhooks start the fetch
// through the bridges).
//
// A registration whose POST was in flight on the killed worker ends as
// BelvoUncertain (Belvo may or may not have created the link, and the POST
// is not idempotent); the app then retries with a new idempotency key, as
// the error says, and so does this test, counting it.
func newLink(ctx context.Context, st starter.Starter, bc *belvo.Client, ctl sandbox.Control, stamp string, i int, uncertain *atomic.Int64) (string, error) {
	if i%2 == 0 {
		var err error
		for attempt := range 3 {
			key := "replica-" + stamp + "-" + strconv.Itoa(i)
			if attempt > 0 {
				key += "-again-" + strconv.Itoa(attempt)
			}
			var reg workflows.LinkRegistrationResult
			// The external id lets a retried registration find the link an
			// attempt on the killed worker created (activities.reconcile).
			reg, err = st.RegisterLink(ctx, key, activities.RegisterLinkInput{Institution: "erebor_mx_retail", ExternalID: key,
				Username: sandbox.SandboxUsername, Password: sandbox.SandboxPassword, AccessMode: "single", FetchResources: fetched})
			if err == nil || !strings.Contains(err.Error(), "type: BelvoUncertain") {
				return reg.LinkID, err
			}
			uncertain.Add(1)
			fmt.Printf("   registration %s: outcome at Belvo uncertain (its worker was killed mid-POST); retrying with a new key\n", key)
		}
		return "", err
	}
	tok, err := bc.CreateWidgetToken(ctx, belvo.WidgetTokenRequest{ExternalID: "replica-" + stamp + "-" + strconv.Itoa(i),
		FetchHistorical: true, FetchResources: fetched})
	if err != nil {
		return "", err
	}
	return ctl.WidgetLink(ctx, tok.Access, "erebor_mx_retail")
}

// waitAll waits for every link's fetch and every async request to end.
func waitAll(ctx context.Context, st starter.Starter, run *replicaRun) error {
	t0 := time.Now()
	for i, l := range run.links {
		for {
			_, err := st.WaitFetch(ctx, l)
			var notFound *serviceerror.NotFound
			if err == nil {
				break
			}
			if !errors.As(err, &notFound) || ctx.Err() != nil {
				return fmt.Errorf("fetch of link %s: %w", l, err)
			}
			time.Sleep(500 * time.Millisecond) // a widget link whose webhooks are still being redelivered
		}
		if (i+1)%50 == 0 {
			fmt.Printf("   %d/%d fetches complete (%s)\n", i+1, len(run.links), time.Since(t0).Round(time.Second))
		}
	}
	for _, rid := range run.async {
		if _, err := st.WaitAsync(ctx, rid); err != nil {
			return fmt.Errorf("async request %s: %w", rid, err)
		}
	}
	fmt.Printf("   all %d fetches and %d async requests complete\n", len(run.links), len(run.async))
	return nil
}

// tally compares the store (PostgreSQL) with the sandbox, and counts
// executions and listings per link through Temporal's visibility and queries.
func tally(ctx context.Context, s *stack.Stack, pg stack.Postgres, c client.Client, ctl sandbox.Control, run *replicaRun) error {
	db, err := store.Open(ctx, pg.DSN(pg.StoreDB))
	if err != nil {
		return err
	}
	defer db.Close()
	for _, l := range run.links {
		want, err := ctl.Expected(ctx, l)
		if err != nil {
			return err
		}
		for _, r := range fetched {
			got, err := db.Count(ctx, r, l)
			if err != nil {
				return err
			}
			run.expected += want[r]
			run.stored += got
		}
	}
	for _, rid := range run.async {
		req := run.asyncReq[rid]
		want, err := ctl.Count(ctx, req.LinkID, belvo.Invoices, req.ListFilters())
		if err != nil {
			return err
		}
		got, err := db.Count(ctx, belvo.Invoices, req.LinkID)
		if err != nil {
			return err
		}
		run.asyncExpected += want
		run.asyncStored += got
	}
	// One historical-fetch execution per link that lists anything; a late
	// webhook copy's run that lists nothing is counted apart (fetchaudit).
	runs, err := fetchaudit.Count(ctx, c, run.links)
	if err != nil {
		return err
	}
	run.duplicateExecutions, run.refetch, run.absorbed = runs.Twice, runs.Refetch, runs.Absorbed
	return nil
}

// report prints the summary table (pasted into BENCHMARKS.md) and fails on
// any difference.
func report(s *stack.Stack, run *replicaRun) error {
	host, _ := os.Hostname()
	lost := max(run.expected-run.stored, 0) + max(run.asyncExpected-run.asyncStored, 0)
	dupes := max(run.stored-run.expected, 0) + max(run.asyncStored-run.asyncExpected, 0) + run.duplicateExecutions + run.refetch
	ok := lost == 0 && dupes == 0 && run.expected > 0 && run.asyncExpected >= 0
	verdict := "pass"
	if !ok {
		verdict = "FAIL"
	}
	fmt.Printf("\n### Multi-replica run on Temporal %s on PostgreSQL (%s, %s, %d CPUs)\n\n", stack.TemporalServerVersion,
		time.Now().UTC().Format("2006-01-02"), host, runtime.NumCPU())
	fmt.Println("| links | async requests | workers / bridges | killed (SIGKILL) | rows expected | rows stored | async rows expected | async rows stored | duplicate executions | resources listed twice | late copies absorbed | registrations retried (uncertain outcome) | lost | webhooks per bridge | time | result |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	fmt.Printf("| %d | %d | %d / %d | worker-1 and bridge-1 after %d links | %d | %d | %d | %d | %d | %d | %d | %d | %d | %v | %s | %s |\n",
		len(run.links), len(run.async), len(s.Workers), len(s.Bridges), run.killedAt, run.expected, run.stored,
		run.asyncExpected, run.asyncStored, run.duplicateExecutions, run.refetch, run.absorbed, run.uncertain.Load(), lost, s.Balancer.Sent(),
		run.elapsed.Round(time.Second), verdict)
	if !ok {
		return fmt.Errorf("multi-replica test failed: %d rows lost, %d duplicates (logs in %s)", lost, dupes, filepath.Dir(s.LogPath("worker")))
	}
	fmt.Println("\nmulti-replica: pass")
	return nil
}

func drain(errs <-chan error) []error {
	var out []error
	for e := range errs {
		out = append(out, e)
	}
	return out
}
