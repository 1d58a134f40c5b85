package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/internal/stack"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/starter"
	"github.com/belvo-temporal/backbone/store"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

const taskQueue = "e2e"

// benchStack is the local stack as separate processes around one dev
// server (internal/stack), plus the baseline's worker in this process.
type benchStack struct {
	*stack.Stack
	dir        string
	client     client.Client
	starter    starter.Starter
	ctl        sandbox.Control
	db         store.Store
	baseWorker sdkworker.Worker
}

func newStack(ctx context.Context, o options) (*benchStack, error) {
	if _, err := os.Stat(o.cli); err != nil {
		return nil, fmt.Errorf("the Temporal CLI is not at %s (run scripts/test.sh once, or pass -temporal-cli): %w", o.cli, err)
	}
	root, err := stack.RepoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "e2ebench-")
	if err != nil {
		return nil, err
	}
	s := &benchStack{dir: dir}
	bin := filepath.Join(dir, "bin")
	fmt.Fprintln(os.Stderr, "building worker, bridge and sandbox…")
	if err := stack.Build(ctx, root, bin, os.Stderr, "worker", "bridge", "sandbox"); err != nil {
		return nil, err
	}
	cli, _ := filepath.Abs(o.cli)
	if s.Stack, err = stack.Start(ctx, stack.Options{
		Root: root, Bin: bin, Dir: dir, Out: os.Stderr,
		DevServer: &stack.DevServerOptions{CLI: cli, DBFile: filepath.Join(dir, "temporal.db")},
		Sandbox:   true, Workers: 1, Bridges: 1,
		Env: []string{"LOG_FORMAT=json", "LOG_LEVEL=warn", "SANDBOX_TRANSACTIONS=" + strconv.Itoa(o.transactions),
			"SANDBOX_WEBHOOK_DELAY=10ms", "SANDBOX_ASYNC_DELAY=10ms"},
		// The worker logs each webhook-to-data sample at Info: the latency
		// phases read exact percentiles from its log.
		WorkerEnv: []string{"LOG_LEVEL=info"},
		Config:    func(c *config.Config) { c.TaskQueue = taskQueue },
	}); err != nil {
		s.close()
		return nil, err
	}
	if s.client, err = s.Dial(nil); err != nil {
		s.close()
		return nil, err
	}
	s.starter = starter.Starter{Client: s.client, TaskQueue: taskQueue}
	s.ctl = s.Control()
	if s.db, err = store.Open(ctx, s.Config.StoreDSN); err != nil {
		s.close()
		return nil, err
	}
	// The baseline's worker, in this process, through the plain SDK.
	s.baseWorker = sdkworker.New(s.client, baselineTaskQueue, sdkworker.Options{})
	s.baseWorker.RegisterWorkflowWithOptions(baseSteps, workflow.RegisterOptions{Name: "BaselineSteps"})
	s.baseWorker.RegisterWorkflowWithOptions(baseWaiter, workflow.RegisterOptions{Name: "BaselineWaiter"})
	s.baseWorker.RegisterActivity(noop)
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
	if s.client != nil {
		s.client.Close()
	}
	if s.db != nil {
		s.db.Close()
	}
	if s.Stack != nil {
		s.Stop()
	}
	_ = os.RemoveAll(s.dir)
}
