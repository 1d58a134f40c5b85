// Command prodstack runs the product the way production does, on one
// machine: the real Temporal server (v1.29.1, built from the Go module proxy)
// with mTLS on its frontend and between its services (a CA, server and
// client certificates generated at every start-up, never committed), with
// persistence and visibility in PostgreSQL, its schemas created and
// updated by the server's own schema tool, the namespace and search
// attributes registered, the store on PostgreSQL, two workers and two bridges
// behind a round-robin balancer, and the Belvo sandbox. Every process
// connects with the client certificate, through the same TEMPORAL_TLS_*
// variables a deployment sets.
//
//	go run ./deploy/prodstack                      # bring it up; Ctrl-C stops it
//	go run ./deploy/prodstack -fresh -replica-test # the multi-replica run, then exit
//
// The multi-replica run first checks that the server refuses clients
// without a valid certificate, then registers links and async requests,
// kills one worker and one bridge with SIGKILL mid-run, waits for
// everything and compares the store with the sandbox: it exits non-zero
// unless every refusal and every count is exact.
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
	"strings"
	"syscall"
	"time"

	"github.com/belvo-temporal/backbone/internal/certs"
	"github.com/belvo-temporal/backbone/internal/stack"
)

type options struct {
	dataDir          string
	postgres, prefix string
	temporalPort     int
	webhookAddr      string
	workers, bridges int
	transactions     int
	retention        time.Duration
	fresh            bool
	plaintext        bool
	replicaTest      bool
	links, async     int
}

func main() {
	var o options
	flag.StringVar(&o.dataDir, "data-dir", ".local/prodstack", "directory for logs and the payload key ring")
	flag.StringVar(&o.postgres, "postgres", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL admin URL (databases are created through it)")
	flag.StringVar(&o.prefix, "db-prefix", "belvo_prod", "prefix of the databases: <prefix>_temporal, <prefix>_visibility, <prefix>_store")
	flag.IntVar(&o.temporalPort, "temporal-port", 7233, "Temporal frontend port; the server's other ports derive from it")
	flag.StringVar(&o.webhookAddr, "webhook-addr", "127.0.0.1:8080", "where the balancer in front of the bridges listens")
	flag.IntVar(&o.workers, "workers", 2, "worker replicas")
	flag.IntVar(&o.bridges, "bridges", 2, "bridge replicas")
	flag.IntVar(&o.transactions, "transactions", 2500, "transactions per sandbox link")
	flag.DurationVar(&o.retention, "retention", 72*time.Hour, "namespace retention of closed executions")
	flag.BoolVar(&o.fresh, "fresh", false, "drop the stack's databases first")
	flag.BoolVar(&o.plaintext, "plaintext", false, "run Temporal without TLS (default: mTLS with certificates generated at start-up)")
	flag.BoolVar(&o.replicaTest, "replica-test", false, "run the multi-replica test, print its summary and exit")
	flag.IntVar(&o.links, "links", 300, "links in the multi-replica test")
	flag.IntVar(&o.async, "async", 100, "async requests in the multi-replica test")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "prodstack:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.workers < 1 || o.bridges < 1 || o.links < 1 || o.async < 0 || o.async > o.links {
		return errors.New("need -workers ≥ 1, -bridges ≥ 1, -links ≥ 1 and 0 ≤ -async ≤ -links")
	}
	if o.replicaTest && (o.workers < 2 || o.bridges < 2) {
		return errors.New("the multi-replica test kills one worker and one bridge: it needs at least 2 of each")
	}
	root, err := stack.RepoRoot()
	if err != nil {
		return err
	}
	if !filepath.IsAbs(o.dataDir) {
		o.dataDir = filepath.Join(root, o.dataDir)
	}
	pg, err := stack.NewPostgres(o.postgres, o.prefix)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	server, sqlTool, err := stack.EnsureServer(ctx, root, os.Stdout)
	if err != nil {
		return err
	}
	fmt.Println("→ building worker, bridge, sandbox and starter…")
	if err := stack.Build(ctx, root, filepath.Join(root, "bin"), os.Stdout, "worker", "bridge", "sandbox", "starter"); err != nil {
		return err
	}
	if o.fresh {
		fmt.Printf("→ dropping databases %s, %s, %s\n", pg.TemporalDB, pg.VisibilityDB, pg.StoreDB)
		if err := pg.Recreate(ctx); err != nil {
			return err
		}
	}
	if _, err := pg.EnsureDB(ctx, pg.StoreDB); err != nil {
		return err
	}
	srv := &stack.ServerOptions{Binary: server, SQLTool: sqlTool, Postgres: pg, PortBase: o.temporalPort, Retention: o.retention}
	if !o.plaintext {
		// Fresh at every start: nothing to keep, nothing to leak.
		set, err := certs.Generate(filepath.Join(o.dataDir, "tls"), certs.Options{})
		if err != nil {
			return err
		}
		srv.TLS = &set
		fmt.Printf("✓ generated a CA, a server certificate (%s) and a client certificate (%s) in %s\n", set.ServerName, set.ClientName, set.Dir)
	}
	s, err := stack.Start(ctx, stack.Options{
		Root: root, Dir: o.dataDir, Out: os.Stdout,
		Server:  srv,
		Sandbox: true, Workers: o.workers, Bridges: o.bridges, WebhookAddr: o.webhookAddr,
		StoreDSN: pg.DSN(pg.StoreDB),
		Env:      []string{"SANDBOX_TRANSACTIONS=" + strconv.Itoa(o.transactions), "LOG_FORMAT=json"},
	})
	if err != nil {
		return err
	}
	defer s.Stop()
	fmt.Printf("  metrics: workers %v, bridges", s.WorkerMetrics)
	for _, b := range s.BridgeAddrs {
		fmt.Printf(" http://%s/metrics", b)
	}
	fmt.Println()
	if o.replicaTest {
		if srv.TLS != nil {
			if err := checkRefusals(s.Config, *srv.TLS, o.dataDir); err != nil {
				return err
			}
		}
		return replicaTest(ctx, s, o, pg)
	}
	fmt.Printf("\nTemporal frontend %s, webhooks %s, store %s\n", s.Config.TemporalAddress, s.WebhookURL(), pg.StoreDB)
	if srv.TLS != nil {
		fmt.Printf("The CLI connects as the processes do:\n  %s bin/temporal workflow list\n",
			strings.Join(clientEnv(s.Config), " "))
	}
	fmt.Println("Ctrl-C stops everything.")
	<-ctx.Done()
	fmt.Println("\nstopping…")
	return nil
}
