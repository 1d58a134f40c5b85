// Command worker runs the Temporal worker that executes the product's
// workflows and activities. Configuration comes from the environment
// (docs/configuration.md); SIGINT/SIGTERM stop it after running activities
// finish.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/tracing"
	"github.com/belvo-temporal/backbone/worker"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, log, err := config.Load("worker")
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Before anything traced is built (docs/tracing.md); closed after the
	// worker stopped, so its last spans are flushed.
	tp, err := tracing.Setup(ctx, "belvo-worker", log)
	if err != nil {
		return err
	}
	defer tp.Close(log)
	return worker.Run(ctx, cfg, log)
}
