// Command localstack runs the whole product on one machine with embedded
// defaults: it installs the pinned Temporal CLI when missing, starts the
// Temporal dev server (web UI, persistent SQLite file, search attributes),
// the Belvo sandbox emulator, the worker and the webhook bridge as separate
// processes, runs a demo, prints where to look, and stops everything on
// Ctrl-C.
//
//	go run ./deploy/localstack                 # run, demo, keep running until Ctrl-C
//	go run ./deploy/localstack -exit-after-demo
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/belvo-temporal/backbone/internal/procs"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

// TemporalCLIVersion is the pinned Temporal CLI (the dev server).
const TemporalCLIVersion = "v1.5.1"

type options struct {
	root          string
	dataDir       string
	temporalPort  int
	uiPort        int
	transactions  int
	exitAfterDemo bool
}

func main() {
	var o options
	flag.StringVar(&o.dataDir, "data-dir", ".local", "directory for the Temporal and store databases and the logs")
	flag.IntVar(&o.temporalPort, "temporal-port", 7233, "Temporal frontend port")
	flag.IntVar(&o.uiPort, "ui-port", 8233, "Temporal web UI port")
	flag.IntVar(&o.transactions, "transactions", 2500, "transactions per sandbox link")
	flag.BoolVar(&o.exitAfterDemo, "exit-after-demo", false, "stop everything once the demo has finished (exit status tells whether it passed)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "localstack:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	root, err := procs.RepoRoot()
	if err != nil {
		return err
	}
	o.root = root
	if !filepath.IsAbs(o.dataDir) {
		o.dataDir = filepath.Join(root, o.dataDir)
	}
	if err := os.MkdirAll(filepath.Join(o.dataDir, "logs"), 0o700); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cli, err := ensureTemporalCLI(ctx, root)
	if err != nil {
		return err
	}
	if err := buildBinaries(ctx, root); err != nil {
		return err
	}
	st, err := newStack(o, cli)
	if err != nil {
		return err
	}
	defer st.stopAll()
	if err := st.start(ctx); err != nil {
		return err
	}
	demoErr := runDemo(ctx, st)
	if demoErr != nil {
		fmt.Printf("\nDEMO FAILED: %v\nlogs: %s\n", demoErr, filepath.Join(o.dataDir, "logs"))
	}
	if o.exitAfterDemo || errors.Is(demoErr, context.Canceled) {
		return demoErr
	}
	fmt.Printf("\nEverything is running. Web UI: %s  (Ctrl-C stops every process)\n", st.uiURL())
	fmt.Printf("Metrics: worker http://%s/metrics, bridge http://%s/metrics (deploy/prometheus scrapes both)\n",
		st.cfg.MetricsListenAddr, st.cfg.WebhookListenAddr)
	select {
	case <-ctx.Done():
	case err := <-st.exited:
		return fmt.Errorf("a process stopped on its own: %w", err)
	}
	fmt.Println("\nstopping…")
	return demoErr
}
