package main

import (
	"context"

	"github.com/belvo-temporal/backbone/bench/internal/load"
	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/worker"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

const taskQueue = "e2e"

// benchStack is the benchmarks' local stack (load.StartLocal: separate
// processes around one dev server, on internal/stack), plus the baseline's
// worker in this process.
type benchStack struct {
	*load.Local
	baseWorker sdkworker.Worker
	baseActs   *baseActivities
}

func newStack(ctx context.Context, o options) (*benchStack, error) {
	l, err := load.StartLocal(ctx, load.LocalOptions{CLI: o.cli, DirPrefix: "e2ebench-", TaskQueue: taskQueue, Transactions: o.transactions})
	if err != nil {
		return nil, err
	}
	s := &benchStack{Local: l}
	// The baseline's worker, in this process, through the plain SDK, with
	// the product's worker options (its pollers).
	s.baseWorker = sdkworker.New(s.Client, baselineTaskQueue, worker.Options(config.DefaultWorkerTaskPollers))
	s.baseWorker.RegisterWorkflowWithOptions(baseSteps, workflow.RegisterOptions{Name: baseStepsType})
	s.baseWorker.RegisterWorkflowWithOptions(baseWaiter, workflow.RegisterOptions{Name: baseWaiterType})
	s.baseActs = &baseActivities{c: s.Client}
	s.baseWorker.RegisterActivity(noop)
	s.baseWorker.RegisterActivity(s.baseActs)
	if err := s.baseWorker.Start(); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// startSandbox restarts the sandbox with extra settings.
func (s *benchStack) startSandbox(ctx context.Context, extra []string) error {
	return s.StartSandbox(ctx, extra...)
}

func (s *benchStack) close() {
	if s.baseWorker != nil {
		s.baseWorker.Stop()
	}
	s.Close() // the stack: load.Local.Close
}
