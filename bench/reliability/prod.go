package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/bench/internal/load"
	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/internal/certs"
	"github.com/belvo-temporal/backbone/internal/stack"
	"github.com/belvo-temporal/backbone/store"
	"go.temporal.io/sdk/client"
)

const taskQueue = "reliability"

// binaries are what every scenario's stack runs, built or installed once
// per run (prepare).
type binaries struct {
	root, bin       string
	server, sqlTool string
}

// prepare builds the product's binaries into dir and makes sure the pinned
// Temporal server and schema tool are in bin/server.
func prepare(ctx context.Context, dir string) (binaries, error) {
	root, err := stack.RepoRoot()
	if err != nil {
		return binaries{}, err
	}
	b := binaries{root: root, bin: filepath.Join(dir, "bin")}
	fmt.Println("→ building worker, bridge and sandbox…")
	if err := stack.Build(ctx, root, b.bin, os.Stdout, "worker", "bridge", "sandbox"); err != nil {
		return b, err
	}
	b.server, b.sqlTool, err = stack.EnsureServer(ctx, root, os.Stdout)
	return b, err
}

// prodOptions shape one scenario's production-like stack.
type prodOptions struct {
	// name keys the scenario's databases (rel_<name>_temporal, …) and
	// directory.
	name string
	// temporalAdmin and storeAdmin are the admin URLs of the PostgreSQL
	// servers under Temporal and under the store ("" : opts.postgres).
	temporalAdmin, storeAdmin string
	// storeDSN, when set, is the workers' store instead of a database on
	// storeAdmin (SQLite on a small disk, say).
	storeDSN string
	// transactions per sandbox link.
	transactions int
	// env is added to every process's environment, workerEnv to the
	// workers' only, bridgeEnv to the bridges' only (faults, proxied
	// addresses).
	env, workerEnv, bridgeEnv []string
	// sandboxAddr fixes the sandbox's address ("" : a free port), for a
	// proxy that must know its upstream before the stack starts.
	sandboxAddr string
}

// prodStack is one scenario's running stack and the clients that offer it
// work and check it.
type prodStack struct {
	*stack.Stack
	pg     stack.Postgres
	client client.Client
	db     store.Store
	load   load.Client
	// belvo calls the sandbox as Belvo's API, for the harness's own
	// widget links and checks (built once per stack).
	belvo *belvo.Client
	// bridgeMetrics are the bridges' /metrics URLs.
	bridgeMetrics []string
	// died is the first product process that ended by itself (watch),
	// and dead is closed then; unwatch stops watching.
	died    atomic.Pointer[error]
	dead    chan struct{}
	unwatch chan struct{}
}

// startProd starts the production-like topology on fresh databases: a
// Temporal server (mTLS) on PostgreSQL, the sandbox, two workers and two
// bridges behind a round-robin balancer.
func startProd(ctx context.Context, o opts, po prodOptions) (*prodStack, error) {
	dir, err := os.MkdirTemp(o.dir, po.name+"-")
	if err != nil {
		return nil, fmt.Errorf("stack directory: %w", err)
	}
	s := &prodStack{}
	b := o.bin
	admin := po.temporalAdmin
	if admin == "" {
		admin = o.postgres
	}
	prefix := dbPrefix(po.name)
	if s.pg, err = stack.NewPostgres(admin, prefix); err != nil {
		return s, err
	}
	if err := s.pg.Recreate(ctx); err != nil {
		return s, err
	}
	storeDSN := po.storeDSN
	if storeDSN == "" {
		sa := po.storeAdmin
		if sa == "" {
			sa = o.postgres
		}
		spg, err := stack.NewPostgres(sa, prefix)
		if err != nil {
			return s, err
		}
		if err := spg.Recreate(ctx); err != nil {
			return s, err
		}
		if _, err := spg.EnsureDB(ctx, spg.StoreDB); err != nil {
			return s, err
		}
		storeDSN = spg.DSN(spg.StoreDB)
	}
	set, err := certs.Generate(filepath.Join(dir, "tls"), certs.Options{})
	if err != nil {
		return s, err
	}
	if po.transactions == 0 {
		po.transactions = 300
	}
	fmt.Printf("→ starting Temporal %s on PostgreSQL (%s*), 2 workers, 2 bridges, the sandbox; logs in %s\n",
		stack.TemporalServerVersion, prefix, filepath.Join(dir, "logs"))
	s.Stack, err = stack.Start(ctx, stack.Options{
		Root: b.root, Bin: b.bin, Dir: dir,
		Server: &stack.ServerOptions{Binary: b.server, SQLTool: b.sqlTool, Postgres: s.pg,
			PortBase: o.temporalPort, Retention: 24 * time.Hour, TLS: &set},
		Sandbox: true, Workers: 2, Bridges: 2,
		StoreDSN: storeDSN,
		Env: append([]string{"LOG_FORMAT=json", "LOG_LEVEL=warn", "SANDBOX_TRANSACTIONS=" + strconv.Itoa(po.transactions),
			"SANDBOX_WEBHOOK_DELAY=10ms", "SANDBOX_ASYNC_DELAY=10ms"}, po.env...),
		WorkerEnv: po.workerEnv, BridgeEnv: po.bridgeEnv, SandboxAddr: po.sandboxAddr,
		Config: func(c *config.Config) { c.TaskQueue = taskQueue },
	})
	if err != nil {
		return s, err
	}
	if s.client, err = s.Dial(nil); err != nil {
		return s, err
	}
	// Kept only when it opened: a failed Open's value is not one close can
	// close.
	db, err := store.Open(ctx, s.Config.StoreDSN)
	if err != nil {
		return s, err
	}
	s.db = db
	if s.belvo, err = belvo.New(belvo.Options{BaseURL: s.Config.BelvoBaseURL, SecretID: s.Config.BelvoSecretID,
		SecretPassword: s.Config.BelvoSecretPassword}); err != nil {
		return s, err
	}
	s.load = load.Client{Starter: s.Starter(s.client), Ctl: s.Control(), DB: s.db}
	for _, a := range s.BridgeAddrs {
		s.bridgeMetrics = append(s.bridgeMetrics, "http://"+a+"/metrics")
	}
	s.watch()
	// The stack does not wait for workers (they have no port): a fault
	// must meet a running topology, and a worker that could not start
	// fails the row here, with its log's end, rather than leaving the
	// other to do all the work unnoticed.
	if err := s.waitPolling(ctx, len(s.Workers)); err != nil {
		return s, err
	}
	return s, nil
}

// watch records the first product process of the stack that ends by
// itself, until close: tally fails the row on it, whatever the scenario,
// and a scenario may stop early on dead.
func (s *prodStack) watch() {
	exited := s.Exited()
	s.dead, s.unwatch = make(chan struct{}), make(chan struct{})
	go func() {
		select {
		case err := <-exited:
			s.died.Store(&err)
			close(s.dead)
		case <-s.unwatch:
		}
	}()
}

// processDied is the first product process that ended by itself, or nil.
func (s *prodStack) processDied() error {
	if err := s.died.Load(); err != nil {
		return fmt.Errorf("a process of the stack died: %w", *err)
	}
	return nil
}

// dbPrefix names a scenario's databases: rel_<name>_temporal, ….
func dbPrefix(name string) string { return "rel_" + strings.NewReplacer("-", "_").Replace(name) }

// close stops the stack. Its directory stays: it lies in the scenario's,
// which the run removes once the row passed (runScenario).
func (s *prodStack) close() {
	if s == nil {
		return // it failed before it had a directory
	}
	if s.unwatch != nil {
		close(s.unwatch)
	}
	if s.client != nil {
		s.client.Close()
	}
	if s.db != nil {
		_ = s.db.Close()
	}
	if s.Stack != nil {
		s.Stop()
	}
}
