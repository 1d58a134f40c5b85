// Command localstack runs the whole product on one machine with embedded
// defaults: it installs the pinned Temporal CLI when missing, starts the
// Temporal dev server (web UI, persistent SQLite file, search attributes),
// the codec server, the Belvo sandbox emulator, the worker and the webhook
// bridge as separate processes (internal/stack), runs a demo, prints where
// to look, and stops everything on Ctrl-C.
//
//	go run ./deploy/localstack                 # run, demo, keep running until Ctrl-C
//	go run ./deploy/localstack -exit-after-demo
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/internal/stack"
)

// codecAddr is where the codec server listens for the web UI.
const codecAddr = "127.0.0.1:8081"

type options struct {
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
	root, err := stack.RepoRoot()
	if err != nil {
		return err
	}
	if !filepath.IsAbs(o.dataDir) {
		o.dataDir = filepath.Join(root, o.dataDir)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cli, err := stack.EnsureCLI(ctx, root, os.Stdout)
	if err != nil {
		return err
	}
	fmt.Println("→ building worker, bridge, sandbox, codec server and starter…")
	if err := stack.Build(ctx, root, filepath.Join(root, "bin"), os.Stdout, "worker", "bridge", "sandbox", "codec-server", "starter"); err != nil {
		return err
	}
	// The addresses are the configuration's (docs/configuration.md): the local
	// stack is what its defaults describe.
	env, err := config.FromEnv()
	if err != nil {
		return err
	}
	uiURL := "http://127.0.0.1:" + strconv.Itoa(o.uiPort)
	st, err := stack.Start(ctx, stack.Options{
		Root: root, Dir: o.dataDir, Out: os.Stdout,
		DevServer: &stack.DevServerOptions{CLI: cli, Port: o.temporalPort, UIPort: o.uiPort, LogLevel: "warn",
			DBFile: filepath.Join(o.dataDir, "temporal.db")},
		Codec: true, Sandbox: true, Workers: 1, Bridges: 1,
		WebhookAddr: env.WebhookListenAddr, SandboxAddr: env.SandboxListenAddr, CodecAddr: codecAddr,
		StoreDSN: "sqlite:" + filepath.Join(o.dataDir, "belvo.db"),
		Env: []string{"SANDBOX_TRANSACTIONS=" + strconv.Itoa(o.transactions),
			"CODEC_ALLOWED_ORIGINS=" + uiURL + ",http://localhost:" + strconv.Itoa(o.uiPort)},
	})
	if err != nil {
		return err
	}
	defer st.Stop()
	demoErr := runDemo(ctx, st)
	if demoErr != nil {
		fmt.Printf("\nDEMO FAILED: %v\nlogs: %s\n", demoErr, filepath.Join(o.dataDir, "logs"))
	}
	if o.exitAfterDemo || errors.Is(demoErr, context.Canceled) {
		return demoErr
	}
	fmt.Printf("\nEverything is running. Web UI: %s  (Ctrl-C stops every process)\n", st.Config.TemporalUIURL)
	fmt.Printf("Metrics: worker %s, bridge http://%s/metrics (deploy/prometheus scrapes both)\n",
		st.WorkerMetrics[0], st.Config.WebhookListenAddr)
	select {
	case <-ctx.Done():
	case err := <-st.Exited():
		return fmt.Errorf("a process stopped on its own: %w", err)
	}
	fmt.Println("\nstopping…")
	return demoErr
}
