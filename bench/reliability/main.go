// Command reliability is the infrastructure-fault suite (issue #16): on the
// production-like topology (a Temporal server on PostgreSQL, two workers,
// two bridges, the Belvo sandbox, each a process) it slows, cuts and
// resets the network on each hop, restarts and removes databases, fills
// the disk under SQLite and lets slow clients hold the bridge's
// connections, all with links, async requests and webhook bursts in
// flight. Each scenario ends with a row of one table: rows expected
// against stored, duplicates, lost, 202s without a durable signal, and
// the time to recover once the fault ended. It exits 1 when any row lost
// or doubled something.
//
//	go run ./bench/reliability          # full run (BENCHMARKS.md)
//	go run ./bench/reliability -short   # CI form: smaller work, shorter faults
//	go run ./bench/reliability -run net # only scenarios whose name contains "net"
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/belvo-temporal/backbone/internal/stack"
)

// opts are the run's settings, shared by every scenario.
type opts struct {
	short bool
	// cli is the pinned Temporal CLI; postgres the admin URL of the
	// PostgreSQL server that hosts Temporal's and the store's databases
	// unless a scenario starts its own.
	cli, postgres string
	// temporalPort is the Temporal server's frontend port.
	temporalPort int
	// keep leaves each scenario's directory (logs) in place; a failed
	// row's is always left.
	keep bool
	// dir is the running scenario's directory: its stacks' directories
	// (logs, certificates) go inside, so one removal clears them.
	dir string
	// bin is what every scenario's stack runs (prepare).
	bin binaries
}

func main() {
	var o opts
	flag.BoolVar(&o.short, "short", false, "CI form: less work in flight, shorter faults")
	flag.StringVar(&o.cli, "temporal-cli", filepath.Join("bin", "temporal"), "pinned Temporal CLI (scripts/test.sh installs it)")
	flag.StringVar(&o.postgres, "postgres", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL admin URL for the stack's databases")
	flag.IntVar(&o.temporalPort, "temporal-port", 25233, "Temporal frontend port; the server's other ports derive from it")
	flag.BoolVar(&o.keep, "keep", false, "keep each scenario's directory and logs (a failed scenario's are always kept)")
	only := flag.String("run", "", "run only the scenarios whose name contains this")
	flag.Parse()
	// Every scenario picks ports for private databases, proxies and the
	// stack's processes before its server starts: none may take the server's.
	stack.ReserveServerPorts(o.temporalPort)
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	ok, err := run(ctx, o, *only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

// run runs the chosen scenarios in order, each on its own stack, prints
// the table and says whether every row held.
func run(ctx context.Context, o opts, only string) (bool, error) {
	dir, err := os.MkdirTemp("", "reliability-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	if o.bin, err = prepare(ctx, dir); err != nil {
		return false, err
	}
	var rows []row
	t0 := time.Now()
	for _, sc := range scenarios() {
		if !sc.inForm(o) || only != "" && !strings.Contains(sc.name, only) {
			continue
		}
		fmt.Printf("\n=== %s: %s\n", sc.name, sc.faultIn(o))
		r, err := runScenario(ctx, o, sc)
		if err != nil {
			return false, err
		}
		rows = append(rows, r)
		if ctx.Err() != nil {
			break
		}
	}
	if len(rows) == 0 {
		return false, fmt.Errorf("no scenario matches -run %q", only)
	}
	printTable(rows, o, time.Since(t0))
	ok := true
	for _, r := range rows {
		ok = ok && r.ok()
	}
	return ok, nil
}

// runScenario runs one scenario in a directory of its own and prints its
// verdict. The directory (every process's log) is removed once the row
// passed, unless -keep; a failed row's is kept and named, so that an
// intermittent failure can be read after the run, in CI too.
func runScenario(ctx context.Context, o opts, sc scenario) (row, error) {
	dir, err := os.MkdirTemp("", "reliability-"+sc.name+"-")
	if err != nil {
		return row{}, fmt.Errorf("scenario directory: %w", err)
	}
	o.dir = dir
	start := time.Now()
	r, err := sc.run(ctx, o)
	r.scenario, r.fault, r.err, r.elapsed = sc.name, sc.faultIn(o), err, time.Since(start)
	if err != nil {
		fmt.Printf("--- FAIL %s: %v\n", sc.name, err)
	} else {
		fmt.Printf("--- %s %s (%s)\n", verdict(r), sc.name, r.elapsed.Round(time.Second))
	}
	switch {
	case !r.ok():
		fmt.Printf("   logs of the failed scenario kept in %s\n", dir)
	case o.keep:
		fmt.Printf("   kept %s\n", dir)
	default:
		_ = os.RemoveAll(dir)
	}
	return r, nil
}
