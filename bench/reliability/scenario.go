package main

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"time"
)

// scenario is one infrastructure fault with work in flight through it. run
// starts what it needs (a stack of its own: a fault must not leak into the
// next scenario), injects the fault, ends it, waits for the work and
// tallies it.
type scenario struct {
	// name selects it with -run ("net-belvo-latency", "disk-full", …).
	name string
	// fault is the table's fault cell: the fault and its duration in the
	// full form; faultShort, when set, in the short form.
	fault, faultShort string
	// form, when set, is the only form the scenario runs in: "short" (a
	// condensed stand-in for several full rows) or "full".
	form string
	run  func(ctx context.Context, o opts) (row, error)
}

// faultIn is the fault cell for the run's form.
func (sc scenario) faultIn(o opts) string {
	if o.short && sc.faultShort != "" {
		return sc.faultShort
	}
	return sc.fault
}

// inForm says whether the scenario runs in the run's form.
func (sc scenario) inForm(o opts) bool {
	return sc.form == "" || (sc.form == "short") == o.short
}

// scenarios are every fault of issue #16, in the table's order.
func scenarios() []scenario {
	return append([]scenario{
		{name: "baseline", fault: "none (the control: the same work undisturbed)", run: baseline},
		{name: "db-store-restart", fault: "store's PostgreSQL killed (immediate shutdown) and restarted mid-listing", run: storeRestart},
		{name: "db-store-outage", run: storeOutage,
			fault:      "store's PostgreSQL down for 3 min during LinkUpdates",
			faultShort: "store's PostgreSQL down for 20 s during LinkUpdates"},
		{name: "db-temporal-outage", run: temporalDBOutage,
			fault:      "Temporal's PostgreSQL stopped for 60 s, then restarted, during a webhook burst",
			faultShort: "Temporal's PostgreSQL stopped for 10 s, then restarted, during a webhook burst"},
		{name: "disk-full", run: diskFull,
			fault:      "the disk under SQLite fills during a listing, freed after 30 s",
			faultShort: "the disk under SQLite fills during a listing, freed after 10 s"},
		{name: "slowloris", run: slowloris,
			fault:      "500 slow connections on each bridge, half trickling headers, half bodies, a byte a second, for the whole work and at least 2 min",
			faultShort: "200 slow connections on each bridge, half trickling headers, half bodies, a byte a second, for the whole work and at least 30 s"},
	}, netScenarios()...)
}

// row is one scenario's line in the reliability table.
type row struct {
	scenario, fault string
	// inFlight describes the work that ran through the fault.
	inFlight string
	// expected rows are what Belvo (the sandbox) holds for the work's
	// links and requests; stored what the store holds of them.
	expected, stored int
	// duplicates are rows stored beyond what Belvo holds plus executions
	// started twice for one link or request; lost are expected rows
	// missing plus work that never completed.
	duplicates, lost int
	// unsignalled is the bridges' 202s with no durable signal behind them
	// (measure.BridgeCounts.Unaccounted).
	unsignalled int
	// recovery is from the fault's end until every piece of work in flight
	// had completed (0 when it all finished during the fault).
	recovery time.Duration
	// notes carry what a scenario measures beyond the common columns (the
	// slowest legitimate 202 under slowloris, the error the full disk
	// gave, …).
	notes []string

	err     error
	elapsed time.Duration
}

// ok: the scenario ran, its work was all there, nothing lost, nothing
// doubled, and every 202 was backed by a durable signal.
func (r row) ok() bool {
	return r.err == nil && r.expected > 0 && r.stored == r.expected && r.duplicates == 0 && r.lost == 0 && r.unsignalled == 0
}

func verdict(r row) string {
	if r.ok() {
		return "PASS"
	}
	return "FAIL"
}

// printTable prints the reliability table as Markdown (BENCHMARKS.md).
func printTable(rows []row, o opts, took time.Duration) {
	form := "full"
	if o.short {
		form = "short (CI)"
	}
	fmt.Printf("\nReliability under infrastructure faults, %s form, %s on %s/%s, %d cores; %s in all.\n\n",
		form, time.Now().UTC().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), took.Round(time.Second))
	fmt.Println("| scenario | fault and duration | work in flight | rows expected / stored | duplicates | lost | 202s without a durable signal | recovery after the fault | result |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range rows {
		res := verdict(r)
		if r.err != nil {
			res = "FAIL: " + strings.ReplaceAll(r.err.Error(), "|", "/")
		}
		fmt.Printf("| %s | %s | %s | %d / %d | %d | %d | %d | %s | %s |\n", r.scenario, r.fault, r.inFlight,
			r.expected, r.stored, r.duplicates, r.lost, r.unsignalled, r.recovery.Round(100*time.Millisecond), res)
	}
	for _, r := range rows {
		for _, n := range r.notes {
			fmt.Printf("- %s: %s\n", r.scenario, n)
		}
	}
}
