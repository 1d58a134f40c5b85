// Command e2ebench measures the product end to end on the local stack (the
// Temporal dev server, the sandbox, the worker and the bridge as separate
// processes, SQLite): N links registered by the API, each fetching 3
// resources through webhooks, and M async POSTs; next to a baseline measured
// in the same run on the same server — workflows of the same shape (starts,
// signals, activities) whose activities do nothing, run through the plain
// SDK — which is the engine-bound estimate. It also reads back the history of
// executions to count events and Temporal actions per flow, and compares a
// link of 1k transactions with one of 100k.
//
//	go run ./bench/e2e                                  # 1,000 links + 1,000 async (BENCHMARKS.md)
//	go run ./bench/e2e -links 40 -async 40 -large 20000 # short form (CI)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/belvo-temporal/backbone/bench/internal/measure"
)

type options struct {
	links, async, concurrency int
	transactions, large       int
	cli                       string
	// histories is how many executions of each flow have their history
	// read (0: every one).
	histories int
	// latencyLinks and latencyAsync are the links and async requests of
	// each open-loop latency phase (latency.go).
	latencyLinks, latencyAsync int
}

func main() {
	var o options
	flag.IntVar(&o.links, "links", 1000, "links registered by the API, 3 resources each")
	flag.IntVar(&o.async, "async", 1000, "async POST requests (invoices), spread over the links")
	flag.IntVar(&o.concurrency, "concurrency", 32, "clients starting work at once")
	flag.IntVar(&o.transactions, "transactions", 1000, "transactions per link in the main run")
	flag.IntVar(&o.large, "large", 100_000, "transactions of the large link whose history is compared with a 1k one")
	flag.StringVar(&o.cli, "temporal-cli", filepath.Join("bin", "temporal"), "pinned Temporal CLI (scripts/test.sh installs it)")
	flag.IntVar(&o.histories, "histories", 100, "executions of each flow whose history is read for its cost (0: every one)")
	flag.IntVar(&o.latencyLinks, "latency-links", -1, "links of each open-loop latency phase (default: a quarter of -links, at least 10)")
	flag.IntVar(&o.latencyAsync, "latency-async", -1, "async requests of each open-loop latency phase (default: a quarter of -async, at least 10 when -async > 0)")
	flag.Parse()
	if o.latencyLinks < 0 {
		o.latencyLinks = max(o.links/4, 10)
	}
	if o.latencyAsync < 0 {
		o.latencyAsync = max(o.async/4, 10)
		if o.async == 0 {
			o.latencyAsync = 0
		}
	}
	if o.links < 1 || o.async < 0 || o.concurrency < 1 || o.latencyLinks < 1 {
		fmt.Fprintln(os.Stderr, "e2ebench: need -links ≥ 1, -async ≥ 0, -concurrency ≥ 1, -latency-links ≥ 1")
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "e2ebench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Hour)
	defer cancel()
	s, err := newStack(ctx, o)
	if err != nil {
		return err
	}
	defer s.close()

	fmt.Fprintf(os.Stderr, "baseline: %d link-shaped and %d async-shaped executions through the plain SDK…\n", o.links, o.async)
	base, err := s.baseline(ctx, o)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	fmt.Fprintf(os.Stderr, "product: %d links and %d async requests…\n", o.links, o.async)
	prod, err := s.product(ctx, o)
	if err != nil {
		return fmt.Errorf("product: %w", err)
	}
	lat, err := s.latency(ctx, o, prod)
	if err != nil {
		return fmt.Errorf("latency: %w", err)
	}
	costs, err := s.historyCosts(ctx, prod, o.histories)
	if err != nil {
		return err
	}
	sizes, err := s.sizeIndependence(ctx, o)
	if err != nil {
		return err
	}
	report(o, base, prod, costs, sizes)
	reportLatency(lat)
	lost := prod.lost
	for _, r := range lat {
		lost += r.lost
		// Not a timing: each webhook's data is one sample, never none
		// (a stamp lost on the way) nor two (a retry or a duplicate).
		if r.missing > 0 || r.extra > 0 {
			return fmt.Errorf("latency at %.0f %%: %d webhooks without a latency sample, %d samples too many", 100*r.load, r.missing, r.extra)
		}
	}
	if lost > 0 {
		return fmt.Errorf("%d rows missing from the store", lost)
	}
	// Not a timing: a history that grows with the number of pages would
	// mean per-page work leaked into the workflow.
	if sizes[0].work != sizes[1].work {
		return fmt.Errorf("the fetch history depends on the link's size: %d non-task events at %d transactions, %d at %d",
			sizes[0].work, sizes[0].transactions, sizes[1].work, sizes[1].transactions)
	}
	return nil
}

func report(o options, base, prod timing, costs []flowCost, sizes []sizeCost) {
	host, _ := os.Hostname()
	fmt.Printf("\n### End to end: %d links × 3 resources + %d async requests (%s, %s, %d CPUs, %s)\n\n", o.links, o.async,
		time.Now().UTC().Format("2006-01-02"), host, runtime.NumCPU(), runtime.Version())
	fmt.Printf("Command: `go run ./bench/e2e -links %d -async %d -concurrency %d -transactions %d -large %d -histories %d -latency-links %d -latency-async %d`\n\n",
		o.links, o.async, o.concurrency, o.transactions, o.large, o.histories, o.latencyLinks, o.latencyAsync)
	fmt.Println("| run | links phase | links/s | async phase | async/s | total | ratio to baseline (time) |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- |")
	for _, t := range []timing{base, prod} {
		fmt.Printf("| %s | %s | %.1f | %s | %.1f | %s | %.2f |\n", t.name, t.links.Round(time.Millisecond), float64(o.links)/t.links.Seconds(),
			t.async.Round(time.Millisecond), float64(o.async)/max(t.async.Seconds(), 1e-9), (t.links + t.async).Round(time.Millisecond),
			(t.links+t.async).Seconds()/(base.links+base.async).Seconds())
	}
	fmt.Printf("\nRows: %d expected, %d stored, %d lost. Belvo (the sandbox) served %d API requests over %d connections.\n",
		prod.expected, prod.stored, prod.lost, prod.belvoRequests, prod.belvoConns)
	reportCPU(base, prod)
	reportPersistence(o, base, prod)
	fmt.Println("\n| flow | executions read | history events (mean / max) | actions (mean / max) |")
	fmt.Println("| --- | --- | --- | --- |")
	for _, c := range costs {
		fmt.Printf("| %s | %d | %.1f / %d | %.1f / %d |\n", c.flow, c.n, c.meanEvents(), c.maxEvents, c.meanActions(), c.maxActions)
	}
	fmt.Println("\nHistory events per execution (events ×executions); the longest's events that are not workflow-task bookkeeping:")
	for _, c := range costs {
		fmt.Printf("- %s: %s; longest: %d of %d\n", c.flow, c.distribution(), c.maxWork, c.maxEvents)
	}
	fmt.Println("\n| link size | historical-fetch history events | of which not workflow-task bookkeeping | actions | pages listed |")
	fmt.Println("| --- | --- | --- | --- | --- |")
	for _, sz := range sizes {
		fmt.Printf("| %d transactions | %d | %d | %d | %d |\n", sz.transactions, sz.events, sz.work, sz.actions, sz.pages)
	}
}

// reportCPU is each process's processor time in both runs: where the
// product's time goes beyond the engine's.
func reportCPU(base, prod timing) {
	fmt.Printf("\n**CPU seconds per process** (user + system from /proc, %d cores; the bench client runs the load, its Temporal clients and the baseline's worker):\n\n", runtime.NumCPU())
	fmt.Print("| run | wall | ")
	for _, k := range measure.Processes {
		fmt.Print(k, " | ")
	}
	fmt.Println("total | of wall × cores |")
	fmt.Println("| --- | --- |" + strings.Repeat(" --- |", len(measure.Processes)+2))
	for _, t := range []timing{base, prod} {
		wall := t.links + t.async
		var total time.Duration
		fmt.Printf("| %s | %.1f s | ", t.name, wall.Seconds())
		for _, k := range measure.Processes {
			fmt.Printf("%.1f | ", t.cpu[k].Seconds())
			total += t.cpu[k]
		}
		fmt.Printf("%.1f | %.0f %% |\n", total.Seconds(), 100*total.Seconds()/(wall.Seconds()*float64(runtime.NumCPU())))
	}
}

// reportPersistence is what each phase asked of the server's database, per
// link and per async request, in both runs: the dev server takes one
// SQLite writer at a time, so the writes a flow adds are time its phase
// waits, whatever the processor does.
func reportPersistence(o options, base, prod timing) {
	fmt.Println("\n**Temporal's database per item** (the dev server's persistence requests, history and visibility stores; " +
		"per link in the links phase, per async request in the async phase; writes: every operation not named as a read):")
	fmt.Println("\n| phase | baseline requests / writes | product requests / writes | product's writes vs baseline's |")
	fmt.Println("| --- | --- | --- | --- |")
	phases := []struct {
		name       string
		n          int
		base, prod measure.Persistence
	}{
		{"links", o.links, base.dbLinks, prod.dbLinks},
		{"async", o.async, base.dbAsync, prod.dbAsync},
	}
	for _, ph := range phases {
		if ph.n == 0 {
			continue
		}
		br, bw := ph.base.Totals()
		pr, pw := ph.prod.Totals()
		n := float64(ph.n)
		fmt.Printf("| %s | %.1f / %.1f | %.1f / %.1f | %.2f× |\n", ph.name, br/n, bw/n, pr/n, pw/n, pw/max(bw, 1e-9))
	}
	fmt.Println("\nBy operation (requests per item, baseline / product; those of at least 0.1 per item in either run; W: a write):")
	fmt.Println("\n| operation | links | async |")
	fmt.Println("| --- | --- | --- |")
	all := measure.Persistence{}
	for _, ph := range phases {
		for _, m := range []measure.Persistence{ph.base, ph.prod} {
			for op, v := range m {
				all[op] = max(all[op], v/max(float64(ph.n), 1))
			}
		}
	}
	for _, op := range all.Ops() {
		if all[op] < 0.1 {
			continue
		}
		w := ""
		if measure.IsWrite(op) {
			w = " (W)"
		}
		fmt.Printf("| %s%s |", op, w)
		for _, ph := range phases {
			n := max(float64(ph.n), 1)
			fmt.Printf(" %.2f / %.2f |", ph.base[op]/n, ph.prod[op]/n)
		}
		fmt.Println()
	}
}
