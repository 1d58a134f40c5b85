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
	"github.com/belvo-temporal/backbone/workflows"
)

// codecAddr is where the codec server listens for the web UI.
const codecAddr = "127.0.0.1:8081"

// stack is the set of processes of the local stack.
type stack struct {
	o      options
	cli    string
	env    []string
	cfg    config.Config
	procs  []*procs.Proc
	exited chan error
}

// newStack derives every process's configuration from the environment
// (README's table; defaults serve this stack), pinned to this stack's
// Temporal ports, data directory and sandbox.
func newStack(o options, cli string) (*stack, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return nil, err
	}
	cfg.TemporalAddress = "127.0.0.1:" + strconv.Itoa(o.temporalPort)
	cfg.TemporalUIURL = "http://127.0.0.1:" + strconv.Itoa(o.uiPort)
	cfg.StoreDSN = "sqlite:" + filepath.Join(o.dataDir, "belvo.db")
	if cfg.PayloadKeys == "" {
		// The stack's own key ring, created on first run and kept with its
		// data: the Temporal database is unreadable without it.
		cfg.PayloadKeysFile = filepath.Join(o.dataDir, "payload-keys")
		created, err := codec.EnsureKeyFile(cfg.PayloadKeysFile)
		if err != nil {
			return nil, err
		}
		if created {
			fmt.Printf("✓ created the payload encryption key ring %s (keep it with the data)\n", cfg.PayloadKeysFile)
		}
	}
	cfg.BelvoBaseURL = "http://" + cfg.SandboxListenAddr
	env := append(os.Environ(),
		"TEMPORAL_ADDRESS="+cfg.TemporalAddress, "TEMPORAL_NAMESPACE="+cfg.TemporalNamespace,
		"TEMPORAL_TASK_QUEUE="+cfg.TaskQueue, "TEMPORAL_UI_URL="+cfg.TemporalUIURL,
		"BELVO_BASE_URL="+cfg.BelvoBaseURL, "BELVO_SECRET_ID="+cfg.BelvoSecretID,
		"BELVO_SECRET_PASSWORD="+cfg.BelvoSecretPassword, "BELVO_WEBHOOK_AUTHORIZATION="+cfg.WebhookAuthorization,
		"STORE_DSN="+cfg.StoreDSN, "WEBHOOK_LISTEN_ADDR="+cfg.WebhookListenAddr,
		"SANDBOX_LISTEN_ADDR="+cfg.SandboxListenAddr, "SANDBOX_TRANSACTIONS="+strconv.Itoa(o.transactions),
		"PAYLOAD_ENCRYPTION_KEYS_FILE="+cfg.PayloadKeysFile, "CODEC_LISTEN_ADDR="+codecAddr, "CODEC_ALLOWED_ORIGINS="+cfg.TemporalUIURL+",http://localhost:"+strconv.Itoa(o.uiPort),
	)
	return &stack{o: o, cli: cli, env: env, cfg: cfg, exited: make(chan error, 8)}, nil
}

func (s *stack) uiURL() string { return s.cfg.TemporalUIURL }

// start launches every process in dependency order and waits for each to be
// ready before the next.
func (s *stack) start(ctx context.Context) error {
	for _, addr := range []string{s.cfg.TemporalAddress, "127.0.0.1:" + strconv.Itoa(s.o.uiPort), s.cfg.SandboxListenAddr, s.cfg.WebhookListenAddr, codecAddr} {
		if err := procs.PortFree(addr); err != nil {
			return err
		}
	}
	args := []string{"server", "start-dev",
		"--ip", "127.0.0.1", "--port", strconv.Itoa(s.o.temporalPort), "--ui-port", strconv.Itoa(s.o.uiPort),
		"--db-filename", filepath.Join(s.o.dataDir, "temporal.db"), "--log-level", "warn",
		// The web UI decodes encrypted payloads through the codec server.
		"--ui-codec-endpoint", "http://" + codecAddr}
	args = append(args, workflows.DevServerSearchAttributeFlags()...)
	fmt.Printf("→ starting Temporal dev server on %s (UI %s, data %s)…\n", s.cfg.TemporalAddress, s.uiURL(), filepath.Join(s.o.dataDir, "temporal.db"))
	if err := s.launch("temporal", s.cli, args...); err != nil {
		return err
	}
	if err := procs.WaitTCP(ctx, s.cfg.TemporalAddress, 90*time.Second); err != nil {
		return fmt.Errorf("Temporal dev server: %w (see %s)", err, s.logPath("temporal"))
	}
	fmt.Println("→ starting codec server, sandbox, worker and bridge…")
	for _, name := range []string{"codec-server", "sandbox", "worker", "bridge"} {
		if err := s.launch(name, filepath.Join(s.o.root, "bin", name)); err != nil {
			return err
		}
	}
	if err := procs.WaitHTTP(ctx, "http://"+s.cfg.WebhookListenAddr+"/healthz", 60*time.Second); err != nil {
		return fmt.Errorf("bridge: %w (see %s)", err, s.logPath("bridge"))
	}
	if err := procs.WaitTCP(ctx, s.cfg.SandboxListenAddr, 30*time.Second); err != nil {
		return fmt.Errorf("sandbox: %w (see %s)", err, s.logPath("sandbox"))
	}
	fmt.Printf("✓ stack up; logs in %s\n", filepath.Join(s.o.dataDir, "logs"))
	return nil
}

func (s *stack) logPath(name string) string { return filepath.Join(s.o.dataDir, "logs", name+".log") }

// launch starts a child process and reports its exit on s.exited.
func (s *stack) launch(name, bin string, args ...string) error {
	p, err := procs.Start(name, bin, args, s.o.root, s.env, s.logPath(name))
	if err != nil {
		return err
	}
	go func() {
		<-p.Done()
		select {
		case s.exited <- fmt.Errorf("%s exited: %v (see %s)", name, p.Err(), s.logPath(name)):
		default:
		}
	}()
	s.procs = append(s.procs, p)
	return nil
}

// stopAll stops children in reverse start order: the bridge first (no new
// webhooks), then the worker (finishing activities), the sandbox, Temporal.
func (s *stack) stopAll() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		p := s.procs[i]
		if !p.Running() {
			continue
		}
		if p.Stop(25 * time.Second) {
			fmt.Printf("  stopped %s\n", p.Name)
		} else {
			fmt.Printf("  killed %s (did not stop within 25 s)\n", p.Name)
		}
	}
}
