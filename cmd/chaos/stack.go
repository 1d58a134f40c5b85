package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/codec"
	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/internal/procs"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/starter"
	"github.com/belvo-temporal/backbone/store"
	"github.com/belvo-temporal/backbone/workflows"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"
)

// stack is one scenario's product: a file-backed dev server, the sandbox,
// the worker and the bridge as separate processes, on free ports.
type stack struct {
	dir, bin, cli  string
	temporal       string // host:port
	sandbox, hook  string // host:port
	env            []string
	dev, sb, wk, b *procs.Proc
	// db reads what the worker stored; opened once, since the scenarios
	// poll it many times a second.
	db      store.Store
	client  client.Client
	starter starter.Starter
}

func newStack(bin, cli, dir string, extraEnv []string) (*stack, error) {
	s := &stack{dir: dir, bin: bin, cli: cli}
	var err error
	var metricsAddr string
	for _, a := range []*string{&s.temporal, &s.sandbox, &s.hook, &metricsAddr} {
		if *a, err = procs.FreeAddr(); err != nil {
			return nil, err
		}
	}
	if s.db, err = store.Open(context.Background(), "sqlite:"+filepath.Join(dir, "belvo.db")); err != nil {
		return nil, err
	}
	keys := filepath.Join(dir, "payload-keys")
	if _, err := codec.EnsureKeyFile(keys); err != nil {
		return nil, err
	}
	s.env = append(os.Environ(),
		"TEMPORAL_ADDRESS="+s.temporal, "TEMPORAL_TASK_QUEUE=chaos", "BELVO_BASE_URL=http://"+s.sandbox,
		"SANDBOX_LISTEN_ADDR="+s.sandbox, "WEBHOOK_LISTEN_ADDR="+s.hook, "SANDBOX_WEBHOOK_URL=http://"+s.hook+"/webhooks/belvo",
		"STORE_DSN=sqlite:"+filepath.Join(dir, "belvo.db"), "PAYLOAD_ENCRYPTION_KEYS_FILE="+keys, "LOG_FORMAT=json",
		"METRICS_LISTEN_ADDR="+metricsAddr)
	s.env = append(s.env, extraEnv...)
	ctx := context.Background()
	if err := s.startTemporal(ctx); err != nil {
		return nil, err
	}
	if s.sb, err = s.start("sandbox"); err != nil {
		return nil, err
	}
	if s.wk, err = s.start("worker"); err != nil {
		return nil, err
	}
	if s.b, err = s.start("bridge"); err != nil {
		return nil, err
	}
	if err := procs.WaitHTTP(ctx, "http://"+s.hook+"/healthz", time.Minute); err != nil {
		return nil, err
	}
	if err := procs.WaitTCP(ctx, s.sandbox, 30*time.Second); err != nil {
		return nil, err
	}
	cfg := config.Config{TemporalAddress: s.temporal, TemporalNamespace: config.DefaultNamespace, PayloadKeysFile: keys}
	if s.client, err = cfg.DialTemporal(zap.NewNop()); err != nil {
		return nil, err
	}
	s.starter = starter.Starter{Client: s.client, TaskQueue: "chaos", FetchGrace: graceOf(extraEnv)}
	return s, nil
}

// graceOf is the HISTORICAL_WEBHOOK_GRACE a scenario sets, 0 otherwise.
func graceOf(env []string) time.Duration {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "HISTORICAL_WEBHOOK_GRACE="); ok {
			d, _ := time.ParseDuration(v)
			return d
		}
	}
	return 0
}

func (s *stack) start(name string) (*procs.Proc, error) {
	return procs.Start(name, filepath.Join(s.bin, name), nil, s.dir, s.env, filepath.Join(s.dir, name+".log"))
}

// startTemporal starts (or restarts) the dev server on the same port and
// database file.
func (s *stack) startTemporal(ctx context.Context) error {
	_, port, _ := strings.Cut(s.temporal, ":")
	args := []string{"server", "start-dev", "--ip", "127.0.0.1", "--port", port, "--headless", "--log-level", "error",
		"--db-filename", filepath.Join(s.dir, "temporal.db")}
	args = append(args, workflows.DevServerSearchAttributeFlags()...)
	var err error
	if s.dev, err = procs.Start("temporal", s.cli, args, s.dir, s.env, filepath.Join(s.dir, "temporal.log")); err != nil {
		return err
	}
	return procs.WaitTCP(ctx, s.temporal, 90*time.Second)
}

func (s *stack) close() {
	if s.client != nil {
		s.client.Close()
	}
	if s.db != nil {
		s.db.Close()
	}
	for _, p := range []*procs.Proc{s.b, s.wk, s.sb, s.dev} {
		if p != nil {
			p.Stop(10 * time.Second)
		}
	}
}

// restart kills a process with SIGKILL and starts it again.
func (s *stack) restart(p **procs.Proc, name string) error {
	(*p).Kill()
	np, err := s.start(name)
	if err != nil {
		return err
	}
	*p = np
	return nil
}

// tally compares the store with the sandbox for links: rows expected,
// stored, and the differences either way.
func (s *stack) tally(ctx context.Context, links []string) (expected, stored int, err error) {
	for _, l := range links {
		want, err := s.control().Expected(ctx, l)
		if err != nil {
			return 0, 0, err
		}
		for r, n := range want {
			got, err := s.db.Count(ctx, r, l)
			if err != nil {
				return 0, 0, err
			}
			expected += n
			stored += got
		}
	}
	return expected, stored, nil
}

// storedRows is the store's row count of one resource of a link.
func (s *stack) storedRows(ctx context.Context, r belvo.Resource, link string) int {
	n, _ := s.db.Count(ctx, r, link)
	return n
}

// widgetLink plays a user finishing the Connect Widget.
func (s *stack) widgetLink(ctx context.Context, bc *belvo.Client, i int) (string, error) {
	tok, err := bc.CreateWidgetToken(ctx, belvo.WidgetTokenRequest{ExternalID: "chaos-widget-" + strconv.Itoa(i), FetchHistorical: true,
		FetchResources: []belvo.Resource{belvo.Accounts, belvo.Transactions, belvo.Owners}})
	if err != nil {
		return "", err
	}
	return s.control().WidgetLink(ctx, tok.Access, "erebor_mx_retail")
}

// control drives the scenario's sandbox through its /_sandbox endpoints.
func (s *stack) control() sandbox.Control { return sandbox.Control{BaseURL: "http://" + s.sandbox} }

func waitTCP(addr string) error { return procs.WaitTCP(context.Background(), addr, 30*time.Second) }
