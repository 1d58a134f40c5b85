package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/belvo-temporal/backbone/codec"
	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/internal/procs"
	"github.com/belvo-temporal/backbone/logging"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/starter"
	"github.com/belvo-temporal/backbone/store"
	"github.com/belvo-temporal/backbone/workflows"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"
)

const taskQueue = "e2e"

// stack is the local stack as separate processes around one dev server.
type stack struct {
	dir, bin       string
	env            []string
	sandboxAddr    string
	dev            *testsuite.DevServer
	sb, wk, bridge *procs.Proc
	client         client.Client
	starter        starter.Starter
	ctl            sandbox.Control
	db             store.Store
	baseWorker     sdkworker.Worker
}

func newStack(ctx context.Context, o options) (*stack, error) {
	if _, err := os.Stat(o.cli); err != nil {
		return nil, fmt.Errorf("Temporal CLI not found at %s (run scripts/test.sh once, or pass -temporal-cli): %w", o.cli, err)
	}
	root, err := procs.RepoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "e2ebench-")
	if err != nil {
		return nil, err
	}
	s := &stack{dir: dir, bin: filepath.Join(dir, "bin")}
	fmt.Fprintln(os.Stderr, "building worker, bridge and sandbox…")
	if err := procs.Build(ctx, root, s.bin, os.Stderr, "worker", "bridge", "sandbox"); err != nil {
		return nil, err
	}
	cli, _ := filepath.Abs(o.cli)
	s.dev, err = testsuite.StartDevServer(ctx, testsuite.DevServerOptions{ExistingPath: cli, LogLevel: "error",
		DBFilename: filepath.Join(dir, "temporal.db"), ExtraArgs: workflows.DevServerSearchAttributeFlags(),
		Stdout: os.Stderr, Stderr: os.Stderr, ClientOptions: &client.Options{Logger: logging.NewTemporal(zap.NewNop())}})
	if err != nil {
		return nil, fmt.Errorf("start dev server: %w", err)
	}
	keys := filepath.Join(dir, "payload-keys")
	if _, err := codec.EnsureKeyFile(keys); err != nil {
		return nil, err
	}
	var hook, metrics string
	for _, a := range []*string{&s.sandboxAddr, &hook, &metrics} {
		if *a, err = procs.FreeAddr(); err != nil {
			return nil, err
		}
	}
	dsn := "sqlite:" + filepath.Join(dir, "belvo.db")
	s.env = append(os.Environ(), "TEMPORAL_ADDRESS="+s.dev.FrontendHostPort(), "TEMPORAL_TASK_QUEUE="+taskQueue,
		"BELVO_BASE_URL=http://"+s.sandboxAddr, "SANDBOX_LISTEN_ADDR="+s.sandboxAddr, "WEBHOOK_LISTEN_ADDR="+hook,
		"SANDBOX_WEBHOOK_URL=http://"+hook+"/webhooks/belvo", "METRICS_LISTEN_ADDR="+metrics, "STORE_DSN="+dsn,
		"PAYLOAD_ENCRYPTION_KEYS_FILE="+keys, "LOG_FORMAT=json", "LOG_LEVEL=warn",
		"SANDBOX_TRANSACTIONS="+strconv.Itoa(o.transactions), "SANDBOX_WEBHOOK_DELAY=10ms", "SANDBOX_ASYNC_DELAY=10ms")
	if err := s.startSandbox(ctx, nil); err != nil {
		return nil, err
	}
	if s.wk, err = s.start("worker", nil); err != nil {
		return nil, err
	}
	if s.bridge, err = s.start("bridge", nil); err != nil {
		return nil, err
	}
	if err := procs.WaitHTTP(ctx, "http://"+hook+"/readyz", time.Minute); err != nil {
		return nil, err
	}
	cfg := config.Config{TemporalAddress: s.dev.FrontendHostPort(), TemporalNamespace: config.DefaultNamespace, PayloadKeysFile: keys}
	if s.client, err = cfg.DialTemporal(zap.NewNop()); err != nil {
		return nil, err
	}
	s.starter = starter.Starter{Client: s.client, TaskQueue: taskQueue}
	s.ctl = sandbox.Control{BaseURL: "http://" + s.sandboxAddr}
	if s.db, err = store.Open(ctx, dsn); err != nil {
		return nil, err
	}
	// The baseline's worker, in this process, through the plain SDK.
	s.baseWorker = sdkworker.New(s.client, baselineTaskQueue, sdkworker.Options{})
	s.baseWorker.RegisterWorkflowWithOptions(baseSteps, workflow.RegisterOptions{Name: "BaselineSteps"})
	s.baseWorker.RegisterWorkflowWithOptions(baseWaiter, workflow.RegisterOptions{Name: "BaselineWaiter"})
	s.baseWorker.RegisterActivity(noop)
	if err := s.baseWorker.Start(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *stack) start(name string, extra []string) (*procs.Proc, error) {
	return procs.Start(name, filepath.Join(s.bin, name), nil, s.dir, append(s.env, extra...), filepath.Join(s.dir, name+".log"))
}

// startSandbox (re)starts the sandbox with extra settings.
func (s *stack) startSandbox(ctx context.Context, extra []string) error {
	if s.sb != nil {
		s.sb.Stop(5 * time.Second)
	}
	var err error
	if s.sb, err = s.start("sandbox", extra); err != nil {
		return err
	}
	return procs.WaitTCP(ctx, s.sandboxAddr, 30*time.Second)
}

func (s *stack) close() {
	if s.baseWorker != nil {
		s.baseWorker.Stop()
	}
	if s.client != nil {
		s.client.Close()
	}
	if s.db != nil {
		s.db.Close()
	}
	for _, p := range []*procs.Proc{s.bridge, s.wk, s.sb} {
		if p != nil {
			p.Stop(10 * time.Second)
		}
	}
	if s.dev != nil {
		_ = s.dev.Stop()
	}
	_ = os.RemoveAll(s.dir)
}
