package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/belvo-temporal/backbone/codec"
	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/internal/procs"
	"github.com/belvo-temporal/backbone/internal/roundrobin"
)

// stack is the production-like stack's processes: the Temporal server on
// PostgreSQL, the sandbox, the worker and bridge replicas, and the
// round-robin balancer in front of the bridges (in this process).
type stack struct {
	o        options
	pg       postgres
	env      []string
	temporal string // frontend host:port
	sandbox  string // host:port
	server   *procs.Proc
	sb       *procs.Proc
	workers  []*procs.Proc
	bridges  []*procs.Proc
	bridgeAt []string // each bridge's host:port
	// workerMetrics are the workers' /metrics URLs.
	workerMetrics []string
	lb            *roundrobin.Balancer
	lbSrv         *http.Server
	keysFile      string
}

func (s *stack) logPath(name string) string { return filepath.Join(s.o.dataDir, "logs", name+".log") }

// start brings everything up in dependency order, each part ready before the
// next.
func (s *stack) start(ctx context.Context, server, sqlTool string) error {
	if err := setupSchemas(ctx, s.pg, sqlTool, filepath.Join(s.o.dataDir, "logs")); err != nil {
		return err
	}
	if _, err := s.pg.ensureDB(ctx, s.pg.appDB); err != nil {
		return err
	}
	fmt.Printf("→ starting Temporal server %s on PostgreSQL (frontend %s)…\n", TemporalServerVersion, s.temporal)
	var err error
	if s.server, err = startServer(ctx, s.o.root, server, s.pg, s.o.temporalPort, s.logPath("temporal-server")); err != nil {
		return err
	}
	if err := prepareNamespace(ctx, s.temporal, config.DefaultNamespace, s.o.retention); err != nil {
		return err
	}
	s.keysFile = filepath.Join(s.o.dataDir, "payload-keys")
	if _, err := codec.EnsureKeyFile(s.keysFile); err != nil {
		return err
	}
	s.env = append(os.Environ(),
		"TEMPORAL_ADDRESS="+s.temporal, "TEMPORAL_NAMESPACE="+config.DefaultNamespace, "TEMPORAL_TASK_QUEUE="+config.DefaultTaskQueue,
		"BELVO_BASE_URL=http://"+s.sandbox, "SANDBOX_LISTEN_ADDR="+s.sandbox,
		"SANDBOX_WEBHOOK_URL=http://"+s.o.webhookAddr+"/webhooks/belvo",
		"SANDBOX_TRANSACTIONS="+strconv.Itoa(s.o.transactions),
		"STORE_DSN="+s.pg.dsn(s.pg.appDB), "PAYLOAD_ENCRYPTION_KEYS_FILE="+s.keysFile, "LOG_FORMAT=json")
	if err := s.startLB(); err != nil {
		return err
	}
	if s.sb, err = s.launch("sandbox", nil); err != nil {
		return err
	}
	if err := procs.WaitTCP(ctx, s.sandbox, 30*time.Second); err != nil {
		return fmt.Errorf("sandbox: %w (see %s)", err, s.logPath("sandbox"))
	}
	for i := range s.o.workers {
		// Each replica serves its own /metrics, as each pod does.
		addr, err := procs.FreeAddr()
		if err != nil {
			return err
		}
		w, err := s.launch("worker", []string{"METRICS_LISTEN_ADDR=" + addr}, strconv.Itoa(i+1))
		if err != nil {
			return err
		}
		s.workers = append(s.workers, w)
		s.workerMetrics = append(s.workerMetrics, "http://"+addr+"/metrics")
	}
	for i := range s.o.bridges {
		b, err := s.launch("bridge", []string{"WEBHOOK_LISTEN_ADDR=" + s.bridgeAt[i]}, strconv.Itoa(i+1))
		if err != nil {
			return err
		}
		s.bridges = append(s.bridges, b)
		if err := procs.WaitHTTP(ctx, "http://"+s.bridgeAt[i]+"/readyz", time.Minute); err != nil {
			return fmt.Errorf("bridge %d: %w (see %s)", i+1, err, s.logPath("bridge-"+strconv.Itoa(i+1)))
		}
	}
	fmt.Printf("✓ %d workers, %d bridges behind %s (round-robin), sandbox %s; logs in %s\n",
		s.o.workers, s.o.bridges, s.o.webhookAddr, s.sandbox, filepath.Join(s.o.dataDir, "logs"))
	fmt.Printf("  metrics: workers %v, bridges", s.workerMetrics)
	for _, b := range s.bridgeAt {
		fmt.Printf(" http://%s/metrics", b)
	}
	fmt.Println()
	return nil
}

// startLB serves the round-robin balancer on the webhook address, over the
// bridges' own free ports.
func (s *stack) startLB() error {
	var urls []string
	for range s.o.bridges {
		a, err := procs.FreeAddr()
		if err != nil {
			return err
		}
		s.bridgeAt = append(s.bridgeAt, a)
		urls = append(urls, "http://"+a)
	}
	lb, err := roundrobin.New(urls)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.o.webhookAddr)
	if err != nil {
		return fmt.Errorf("webhook address %s: %w (choose -webhook-addr)", s.o.webhookAddr, err)
	}
	s.lb = lb
	s.lbSrv = &http.Server{Handler: lb, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := s.lbSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "balancer:", err)
		}
	}()
	return nil
}

// launch starts a product binary from bin/ as its own process; replica names
// it ("worker-2") for its log file.
func (s *stack) launch(name string, extraEnv []string, replica ...string) (*procs.Proc, error) {
	logName := name
	if len(replica) > 0 {
		logName += "-" + replica[0]
	}
	return procs.Start(logName, filepath.Join(s.o.root, "bin", name), nil, s.o.root, append(s.env, extraEnv...), s.logPath(logName))
}

// stop stops the stack: bridges first (no new webhooks), then workers, the
// sandbox and the server.
func (s *stack) stop() {
	if s.lbSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.lbSrv.Shutdown(ctx)
		cancel()
	}
	all := append(append([]*procs.Proc{}, s.bridges...), s.workers...)
	all = append(all, s.sb, s.server)
	for _, p := range all {
		if p != nil {
			p.Stop(15 * time.Second)
		}
	}
}
