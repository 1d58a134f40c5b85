package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/belvo-temporal/backbone/bench/internal/load"
	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/internal/stack"
	"github.com/belvo-temporal/backbone/starter"
	"github.com/belvo-temporal/backbone/store"
	"go.temporal.io/sdk/client"
)

const taskQueue = "soak"

// soakStack is the local stack (internal/stack, the one stack builder)
// and the clients that offer it work.
type soakStack struct {
	*stack.Stack
	dir    string
	client client.Client
	db     store.Store
	load   load.Client
	// bridgeMetrics is the bridge's /metrics URL.
	bridgeMetrics string
}

func newStack(ctx context.Context, o options) (*soakStack, error) {
	if _, err := os.Stat(o.cli); err != nil {
		return nil, fmt.Errorf("the Temporal CLI is not at %s (run scripts/test.sh once, or pass -temporal-cli): %w", o.cli, err)
	}
	root, err := stack.RepoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "soak-")
	if err != nil {
		return nil, err
	}
	s := &soakStack{dir: dir}
	bin := filepath.Join(dir, "bin")
	fmt.Fprintln(os.Stderr, "building worker, bridge and sandbox…")
	if err := stack.Build(ctx, root, bin, os.Stderr, "worker", "bridge", "sandbox"); err != nil {
		s.close()
		return nil, err
	}
	cli, _ := filepath.Abs(o.cli)
	if s.Stack, err = stack.Start(ctx, stack.Options{
		Root: root, Bin: bin, Dir: dir, Out: os.Stderr,
		DevServer: &stack.DevServerOptions{CLI: cli, DBFile: filepath.Join(dir, "temporal.db")},
		Sandbox:   true, Workers: 1, Bridges: 1,
		Env: []string{"LOG_FORMAT=json", "LOG_LEVEL=warn", "SANDBOX_TRANSACTIONS=" + strconv.Itoa(o.transactions),
			"SANDBOX_WEBHOOK_DELAY=10ms", "SANDBOX_ASYNC_DELAY=10ms"},
		// The worker logs each webhook-to-data sample at Info: the
		// per-minute p99 is read exactly from its log.
		WorkerEnv: []string{"LOG_LEVEL=info"},
		Config:    func(c *config.Config) { c.TaskQueue = taskQueue },
	}); err != nil {
		s.close()
		return nil, err
	}
	s.bridgeMetrics = "http://" + s.BridgeAddrs[0] + "/metrics"
	if s.client, err = s.Dial(nil); err != nil {
		s.close()
		return nil, err
	}
	if s.db, err = store.Open(ctx, s.Config.StoreDSN); err != nil {
		s.close()
		return nil, err
	}
	s.load = load.Client{Starter: starter.Starter{Client: s.client, TaskQueue: taskQueue}, Ctl: s.Control(), DB: s.db}
	return s, nil
}

func (s *soakStack) close() {
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
