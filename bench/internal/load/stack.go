package load

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/internal/stack"
	"github.com/belvo-temporal/backbone/store"
	"go.temporal.io/sdk/client"
)

// LocalOptions say which local stack a benchmark measures.
type LocalOptions struct {
	// CLI is the pinned Temporal CLI (scripts/test.sh installs it).
	CLI string
	// DirPrefix names the stack's temporary directory ("e2ebench-").
	DirPrefix string
	// TaskQueue is the product's task queue in this stack.
	TaskQueue string
	// Transactions per link at the sandbox.
	Transactions int
}

// Local is the stack the end-to-end and soak benchmarks share, defined
// once so that both measure the same thing: a dev server on a SQLite file,
// the sandbox, one worker (SQLite store) and one bridge as separate
// processes (internal/stack), with a client, the product's store and the
// load that offers work to it.
type Local struct {
	*stack.Stack
	Dir    string
	Client client.Client
	DB     store.Store
	Load   Client
}

// WebhookDelay is how long after creating a link, or answering an async
// POST with 202, the local stack's sandbox sends the webhooks: soon, as a
// Belvo that has little to gather would, so that they race the sender's
// hand-over. Baselines that stand in for Belvo wait as long.
const WebhookDelay = 10 * time.Millisecond

// StartLocal builds the shipped worker, bridge and sandbox and starts the
// stack. The worker logs at Info so that its webhook-to-data samples can
// be read exactly from its log (workflows.WebhookToDataLog); the rest log
// warnings only. On error everything started is stopped.
func StartLocal(ctx context.Context, o LocalOptions) (*Local, error) {
	if _, err := os.Stat(o.CLI); err != nil {
		return nil, fmt.Errorf("the Temporal CLI is not at %s (run scripts/test.sh once, or pass -temporal-cli): %w", o.CLI, err)
	}
	root, err := stack.RepoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", o.DirPrefix)
	if err != nil {
		return nil, fmt.Errorf("stack directory: %w", err)
	}
	l := &Local{Dir: dir}
	bin := filepath.Join(dir, "bin")
	fmt.Fprintln(os.Stderr, "building worker, bridge and sandbox…")
	if err := stack.Build(ctx, root, bin, os.Stderr, "worker", "bridge", "sandbox"); err != nil {
		l.Close()
		return nil, err
	}
	cli, err := filepath.Abs(o.CLI)
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("temporal CLI path: %w", err)
	}
	// The server's metrics: its persistence counters say what each flow
	// asks of its database (bench/internal/measure.Persistence).
	metricsPort, err := stack.FreePort()
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("a port for the server's metrics: %w", err)
	}
	if l.Stack, err = stack.Start(ctx, stack.Options{
		Root: root, Bin: bin, Dir: dir, Out: os.Stderr,
		DevServer: &stack.DevServerOptions{CLI: cli, DBFile: filepath.Join(dir, "temporal.db"), MetricsPort: metricsPort},
		Sandbox:   true, Workers: 1, Bridges: 1,
		Env: []string{"LOG_FORMAT=json", "LOG_LEVEL=warn", "SANDBOX_TRANSACTIONS=" + strconv.Itoa(o.Transactions),
			"SANDBOX_WEBHOOK_DELAY=" + WebhookDelay.String(), "SANDBOX_ASYNC_DELAY=" + WebhookDelay.String()},
		WorkerEnv: []string{"LOG_LEVEL=info"},
		Config:    func(c *config.Config) { c.TaskQueue = o.TaskQueue },
	}); err != nil {
		l.Close()
		return nil, err
	}
	if l.Client, err = l.Dial(nil); err != nil {
		l.Close()
		return nil, err
	}
	if l.DB, err = store.Open(ctx, l.Config.StoreDSN); err != nil {
		l.Close()
		return nil, err
	}
	l.Load = Client{Starter: l.Starter(l.Client), Ctl: l.Control(), DB: l.DB}
	return l, nil
}

// Close stops what StartLocal started and removes its directory.
func (l *Local) Close() {
	if l.Client != nil {
		l.Client.Close()
	}
	if l.DB != nil {
		_ = l.DB.Close()
	}
	if l.Stack != nil {
		l.Stop()
	}
	_ = os.RemoveAll(l.Dir)
}
