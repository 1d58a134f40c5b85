// Command soak runs the local stack (internal/stack: the Temporal dev
// server, the sandbox, the worker and the bridge as separate processes) at
// a steady fraction of its sustainable rate for a long time, and watches
// for drift: every minute it prints the worker's, the bridge's and the
// server's resident memory, that minute's p99 webhook-to-data latency, the
// webhooks the bridge shed (503) and the rows stored against the rows
// expected. At the end it checks that nothing was lost (exit status 1 if
// anything was) and fits a least-squares line to memory and p99 to judge
// whether they drift beyond noise.
//
// A unit of work is what an app does for a customer: register a link by
// the API (3 resources fetched through webhooks), then send one async
// invoices request on it. Units start at a fixed rate whatever the product
// does (open loop, as Belvo sends webhooks).
//
//	go run ./bench/soak                  # 30 minutes at 50 % (BENCHMARKS.md)
//	go run ./bench/soak -duration 1m     # short form (CI): correctness only
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

type options struct {
	duration     time.Duration
	load, rate   float64
	calibrate    int
	concurrency  int
	transactions int
	cli          string
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 30*time.Minute, "how long units are offered (then the run drains and checks)")
	flag.Float64Var(&o.load, "load", 0.5, "fraction of the sustainable rate offered")
	flag.Float64Var(&o.rate, "rate", 0, "units (link + async request) per second to offer; 0: -load × the rate measured at start")
	flag.IntVar(&o.calibrate, "calibrate", 60, "units of the closed-loop run that measures the sustainable rate at start")
	flag.IntVar(&o.concurrency, "concurrency", 32, "clients of the calibration run")
	flag.IntVar(&o.transactions, "transactions", 1000, "transactions per link")
	flag.StringVar(&o.cli, "temporal-cli", filepath.Join("bin", "temporal"), "pinned Temporal CLI (scripts/test.sh installs it)")
	flag.Parse()
	if o.duration < time.Minute || o.load <= 0 || o.rate < 0 || o.calibrate < 1 || o.concurrency < 1 || o.transactions < 1 {
		fmt.Fprintln(os.Stderr, "soak: need -duration ≥ 1m, -load > 0, -rate ≥ 0, -calibrate ≥ 1, -concurrency ≥ 1, -transactions ≥ 1")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	lost, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	if lost {
		os.Exit(1)
	}
}
