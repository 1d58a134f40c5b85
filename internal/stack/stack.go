// Package stack starts the product and what it runs on, in any combination:
// a Temporal dev server or a Temporal server on PostgreSQL, the Belvo
// sandbox, workers, bridges (behind a round-robin balancer when there are
// several) and the codec server, each as its own process as in production
// (Start), or the sandbox, the bridge and a worker inside the calling
// process for tests that watch their logs (StartInProcess, ServeSandbox).
//
// It is the one place that starts any of them: the local stack
// (deploy/localstack), the production-like stack (deploy/prodstack), the
// chaos suite, the benchmarks and the integration tests all go through it,
// so a new setting or process is added once.
package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/belvo-temporal/backbone/codec"
	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/internal/roundrobin"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/starter"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"
)

// Options choose the parts of a stack and their settings. Zero values take
// the defaults of config.FromEnv (docs/configuration.md), so a
// stack's processes read exactly what a deployment's would.
type Options struct {
	// Root is the module: product binaries are in Bin (default Root/bin,
	// built there by Build) and the Temporal server's config template in
	// Root/deploy/temporal.
	Root string
	Bin  string
	// Dir holds the stack's data: logs in Dir/logs, the SQLite databases,
	// the payload key ring (created on first use and kept).
	Dir string
	// Out receives progress lines (nil: discarded).
	Out io.Writer

	// One of DevServer, Server or TemporalAddress says what the product
	// runs on: a dev server the stack starts, a Temporal server on
	// PostgreSQL the stack starts, or one that already runs (none: a stack
	// of the sandbox alone).
	DevServer       *DevServerOptions
	Server          *ServerOptions
	TemporalAddress string

	// Sandbox starts the Belvo emulator; Workers and Bridges start that
	// many replicas; Codec starts the codec server (the dev server's web UI
	// decodes through it).
	Sandbox          bool
	Workers, Bridges int
	Codec            bool

	// WebhookAddr is where webhooks are received: the bridge's address,
	// or the balancer's in front of several bridges ("" : a free port).
	WebhookAddr string
	// SandboxAddr and CodecAddr fix those listeners ("" : free ports).
	SandboxAddr, CodecAddr string
	// StoreDSN is the workers' store ("" : SQLite in Dir).
	StoreDSN string
	// Env is added to every product process's environment after the
	// stack's own settings (a scenario's SANDBOX_* faults, say).
	Env []string
	// WorkerEnv is added to the workers' environment only, after Env (a
	// benchmark's LOG_LEVEL=info for the worker's latency samples, say).
	WorkerEnv []string
	// BridgeEnv is added to the bridges' environment only, after Env (a
	// proxied TEMPORAL_ADDRESS for a network fault on the bridge's hop,
	// say).
	BridgeEnv []string
	// Config overrides the environment-derived configuration before the
	// stack pins addresses into it (task queue, UI URL, secrets, …).
	Config func(*config.Config)
}

// Stack is a running stack.
type Stack struct {
	o Options
	// Config is what every product process of the stack reads: addresses,
	// task queue, store, key ring file.
	Config config.Config
	env    []string

	// Dev is the dev server (nil with Server or TemporalAddress); Server
	// the Temporal server process (nil otherwise).
	Dev    *DevServer
	Server *Proc
	// Sandbox, Codec, Workers and Bridges are the product processes;
	// BridgeAddrs each bridge's own address (behind the balancer).
	Sandbox, Codec *Proc
	Workers        []*Proc
	Bridges        []*Proc
	BridgeAddrs    []string
	// WorkerMetrics are the workers' /metrics URLs, one per replica.
	WorkerMetrics []string
	// Balancer spreads webhooks over several bridges (nil with one).
	Balancer *roundrobin.Balancer

	lb *http.Server
	// devLog is the dev server's log file when the stack opened it.
	devLog *os.File
}

// Start builds nothing (see Build and EnsureCLI) and starts the stack's
// parts in dependency order, each ready before the next. On error what
// started is stopped.
func Start(ctx context.Context, o Options) (*Stack, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Bin == "" {
		o.Bin = filepath.Join(o.Root, "bin")
	}
	if err := os.MkdirAll(filepath.Join(o.Dir, "logs"), 0o700); err != nil {
		return nil, fmt.Errorf("stack: data directory: %w", err)
	}
	if o.Server != nil {
		ReserveServerPorts(o.Server.PortBase)
	}
	s := &Stack{o: o}
	if err := s.configure(); err != nil {
		return nil, err
	}
	if err := s.start(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// configure derives every process's configuration: the environment's,
// pinned to this stack's addresses, data directory and key ring.
func (s *Stack) configure() error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	if s.o.Config != nil {
		s.o.Config(&cfg)
	}
	for _, a := range []*string{&s.o.WebhookAddr, &s.o.SandboxAddr, &s.o.CodecAddr} {
		if *a == "" {
			if *a, err = FreeAddr(); err != nil {
				return err
			}
		}
	}
	cfg.WebhookListenAddr, cfg.SandboxListenAddr = s.o.WebhookAddr, s.o.SandboxAddr
	cfg.BelvoBaseURL = "http://" + s.o.SandboxAddr
	cfg.StoreDSN = s.o.StoreDSN
	if cfg.StoreDSN == "" {
		cfg.StoreDSN = "sqlite:" + filepath.Join(s.o.Dir, "belvo.db")
	}
	if cfg.PayloadKeys == "" {
		// The stack's own key ring, created on first use and kept with its
		// data: the Temporal database is unreadable without it.
		cfg.PayloadKeysFile = filepath.Join(s.o.Dir, "payload-keys")
		created, err := codec.EnsureKeyFile(cfg.PayloadKeysFile)
		if err != nil {
			return err
		}
		if created {
			fmt.Fprintf(s.o.Out, "✓ created the payload encryption key ring %s (keep it with the data)\n", cfg.PayloadKeysFile)
		}
	}
	s.Config = cfg
	return nil
}

// processEnv is the environment every product process gets: the
// documented variables (docs/configuration.md) from s.Config, what only the
// stack's wiring adds (where the sandbox posts webhooks, the codec
// server's address and allowed origin), then Options.Env, which wins.
func (s *Stack) processEnv() []string {
	env := append(os.Environ(), s.Config.Environ()...)
	env = append(env, "SANDBOX_WEBHOOK_URL="+s.WebhookURL(), "CODEC_LISTEN_ADDR="+s.o.CodecAddr,
		"CODEC_ALLOWED_ORIGINS="+s.Config.TemporalUIURL)
	return append(env, s.o.Env...)
}

func (s *Stack) start(ctx context.Context) error {
	if err := s.startTemporal(ctx); err != nil {
		return err
	}
	s.env = s.processEnv()
	if s.o.Codec {
		if err := s.launch(ctx, "codec-server", nil, &s.Codec); err != nil {
			return err
		}
	}
	if s.o.Sandbox {
		if err := s.StartSandbox(ctx); err != nil {
			return err
		}
	}
	for i := range s.o.Workers {
		// Each replica serves its own /metrics, as each pod does.
		addr, err := FreeAddr()
		if err != nil {
			return err
		}
		var w *Proc
		extra := append([]string{"METRICS_LISTEN_ADDR=" + addr}, s.o.WorkerEnv...)
		if err := s.launch(ctx, replica("worker", i, s.o.Workers), extra, &w); err != nil {
			return err
		}
		s.Workers = append(s.Workers, w)
		s.WorkerMetrics = append(s.WorkerMetrics, "http://"+addr+"/metrics")
	}
	if err := s.startBridges(ctx); err != nil {
		return err
	}
	fmt.Fprintf(s.o.Out, "✓ stack up: Temporal %s, webhooks http://%s/webhooks/belvo; logs in %s\n",
		s.Config.TemporalAddress, s.Config.WebhookListenAddr, s.logDir())
	return nil
}

// startTemporal starts (or finds) what the product runs on and pins its
// address into the configuration.
func (s *Stack) startTemporal(ctx context.Context) error {
	switch {
	case s.o.DevServer != nil:
		o := *s.o.DevServer
		if o.Log == nil {
			f, err := os.OpenFile(s.LogPath("temporal"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
			if err != nil {
				return err
			}
			o.Log, s.devLog = f, f
		}
		if o.UIPort != 0 && s.o.Codec && o.CodecEndpoint == "" {
			o.CodecEndpoint = "http://" + s.o.CodecAddr
		}
		fmt.Fprintln(s.o.Out, "→ starting the Temporal dev server…")
		dev, err := StartDevServer(ctx, o)
		if err != nil {
			return fmt.Errorf("%w (see %s)", err, s.LogPath("temporal"))
		}
		s.Dev = dev
		s.Config.TemporalAddress = dev.Address()
		if o.UIPort != 0 {
			s.Config.TemporalUIURL = "http://127.0.0.1:" + strconv.Itoa(o.UIPort)
		}
	case s.o.Server != nil:
		s.Config.TemporalAddress = "127.0.0.1:" + strconv.Itoa(s.o.Server.PortBase)
		if s.o.Server.TLS != nil {
			s.Config.TemporalClient.TLS = ClientTLS(*s.o.Server.TLS)
		}
		srv, err := startServer(ctx, s.o.Root, *s.o.Server, s.Config, s.logDir(), s.o.Out)
		if err != nil {
			return err
		}
		s.Server = srv
	case s.o.TemporalAddress != "":
		s.Config.TemporalAddress = s.o.TemporalAddress
	case s.o.Workers > 0 || s.o.Bridges > 0:
		return errors.New("stack: workers and bridges need Temporal: set DevServer, Server or TemporalAddress")
	}
	return nil
}

// startBridges starts the bridges: on the webhook address when there is
// one, behind a round-robin balancer on it when there are several.
func (s *Stack) startBridges(ctx context.Context) error {
	if s.o.Bridges == 0 {
		return nil
	}
	if s.o.Bridges == 1 {
		s.BridgeAddrs = []string{s.o.WebhookAddr}
	} else {
		var urls []string
		for range s.o.Bridges {
			a, err := FreeAddr()
			if err != nil {
				return err
			}
			s.BridgeAddrs = append(s.BridgeAddrs, a)
			urls = append(urls, "http://"+a)
		}
		if err := s.serveBalancer(urls); err != nil {
			return err
		}
	}
	for i, addr := range s.BridgeAddrs {
		var b *Proc
		extra := append([]string{"WEBHOOK_LISTEN_ADDR=" + addr}, s.o.BridgeEnv...)
		if err := s.launch(ctx, replica("bridge", i, s.o.Bridges), extra, &b); err != nil {
			return err
		}
		s.Bridges = append(s.Bridges, b)
	}
	return nil
}

// serveBalancer spreads webhooks over the bridges, as a load balancer in
// front of bridge replicas does.
func (s *Stack) serveBalancer(urls []string) error {
	lb, err := roundrobin.New(urls)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.o.WebhookAddr)
	if err != nil {
		return fmt.Errorf("webhook address %s: %w", s.o.WebhookAddr, err)
	}
	s.Balancer = lb
	s.lb = &http.Server{Handler: lb, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := s.lb.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(s.o.Out, "balancer:", err)
		}
	}()
	return nil
}

// replica names the i-th of n processes of a kind ("worker", or
// "worker-2" when there are several).
func replica(kind string, i, n int) string {
	if n == 1 {
		return kind
	}
	return kind + "-" + strconv.Itoa(i+1)
}

// launch starts a product binary under a process name (its log file's),
// with extra environment, waits until it is ready and stores it in *p.
func (s *Stack) launch(ctx context.Context, name string, extra []string, p **Proc) error {
	kind := name
	for _, k := range []string{"worker", "bridge"} {
		if len(name) > len(k) && name[:len(k)+1] == k+"-" {
			kind = k
		}
	}
	proc, err := startProc(name, filepath.Join(s.o.Bin, kind), nil, s.o.Dir, append(append([]string{}, s.env...), extra...), s.LogPath(name))
	if err != nil {
		return err
	}
	proc.extra = extra
	if err := s.waitReady(ctx, kind, extra); err != nil {
		// Not ready: stopped here, since no field of the stack holds it
		// for Stop to find.
		proc.Stop(5 * time.Second)
		return fmt.Errorf("%s: %w (see %s)", name, err, s.LogPath(name))
	}
	*p = proc
	return nil
}

// waitReady waits for a process kind to serve.
func (s *Stack) waitReady(ctx context.Context, kind string, extra []string) error {
	switch kind {
	case "sandbox":
		return WaitTCP(ctx, s.o.SandboxAddr, 30*time.Second)
	case "codec-server":
		return WaitTCP(ctx, s.o.CodecAddr, 30*time.Second)
	case "bridge":
		addr := s.o.WebhookAddr
		for _, kv := range extra {
			if v, ok := cut(kv, "WEBHOOK_LISTEN_ADDR="); ok {
				addr = v
			}
		}
		return WaitHTTP(ctx, "http://"+addr+"/readyz", time.Minute)
	}
	return nil // a worker has no port to wait for: it polls
}

func cut(kv, prefix string) (string, bool) {
	if len(kv) >= len(prefix) && kv[:len(prefix)] == prefix {
		return kv[len(prefix):], true
	}
	return "", false
}

// StartSandbox (re)starts the sandbox with extra settings on top of the
// stack's (a scenario's faults, say), stopping the running one first.
func (s *Stack) StartSandbox(ctx context.Context, extra ...string) error {
	if s.Sandbox != nil {
		s.Sandbox.Stop(5 * time.Second)
	}
	return s.launch(ctx, "sandbox", extra, &s.Sandbox)
}

// Restart kills a product process with SIGKILL, as a crash would, and
// starts the same again (same name, settings and address), returning the
// new process; the stack's fields point at it too.
func (s *Stack) Restart(ctx context.Context, p *Proc) (*Proc, error) {
	p.Kill()
	var np *Proc
	if err := s.launch(ctx, p.Name, p.extra, &np); err != nil {
		return nil, err
	}
	for _, list := range [][]*Proc{s.Workers, s.Bridges} {
		for i := range list {
			if list[i] == p {
				list[i] = np
			}
		}
	}
	for _, f := range []**Proc{&s.Sandbox, &s.Codec} {
		if *f == p {
			*f = np
		}
	}
	return np, nil
}

// Stop stops the stack in reverse dependency order: the balancer and the
// bridges first (no new webhooks), then the workers (finishing their
// activities), the sandbox, the codec server, Temporal.
func (s *Stack) Stop() {
	if s.lb != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.lb.Shutdown(ctx)
		cancel()
	}
	var all []*Proc
	all = append(append(all, s.Bridges...), s.Workers...)
	all = append(all, s.Sandbox, s.Codec, s.Server)
	for _, p := range all {
		if p == nil || !p.Running() {
			continue
		}
		if p.Stop(25 * time.Second) {
			fmt.Fprintf(s.o.Out, "  stopped %s\n", p.Name)
		} else {
			fmt.Fprintf(s.o.Out, "  killed %s (did not stop within 25 s)\n", p.Name)
		}
	}
	if s.Dev != nil {
		_ = s.Dev.Stop()
	}
	if s.devLog != nil {
		_ = s.devLog.Close()
	}
}

// Exited reports the first product process that ended by itself, among
// those running when it is called; one the stack stopped or killed on
// purpose (Stop, Restart, StartSandbox) is not reported. Call it again
// after a Restart to watch the new process. The error quotes the end of
// the process's log: why it ended.
func (s *Stack) Exited() <-chan error {
	out := make(chan error, 1)
	var all []*Proc
	all = append(append(all, s.Bridges...), s.Workers...)
	all = append(all, s.Sandbox, s.Codec, s.Server)
	for _, p := range all {
		if p == nil {
			continue
		}
		go func() {
			<-p.Done()
			if p.stopped.Load() {
				return
			}
			select {
			case out <- fmt.Errorf("%s exited: %v (see %s); its log ends:\n%s", p.Name, p.Err(), s.LogPath(p.Name),
				fileTail(s.LogPath(p.Name), exitedLogLines)):
			default:
			}
		}()
	}
	return out
}

// exitedLogLines is how much of an exited process's log Exited quotes.
const exitedLogLines = 10

func (s *Stack) logDir() string { return filepath.Join(s.o.Dir, "logs") }

// LogPath is the log file of a process of the stack.
func (s *Stack) LogPath(name string) string { return filepath.Join(s.logDir(), name+".log") }

// WebhookURL is where Belvo (the sandbox) posts webhooks.
func (s *Stack) WebhookURL() string {
	return "http://" + s.Config.WebhookListenAddr + "/webhooks/belvo"
}

// Dial connects to the stack's Temporal with its key ring, as the product's
// processes do.
func (s *Stack) Dial(log *zap.Logger) (client.Client, error) {
	if log == nil {
		log = zap.NewNop()
	}
	return s.Config.DialTemporal(log)
}

// Starter starts executions on the stack's task queue with its defaults.
func (s *Stack) Starter(c client.Client) starter.Starter {
	cfg := s.Config
	st := starter.Starter{Client: c, TaskQueue: cfg.TaskQueue, FetchTimeout: cfg.HistoricalFetchTimeout,
		FetchGrace: cfg.HistoricalWebhookGrace, AsyncTimeout: cfg.AsyncTimeout}
	// The stack's processes started with this key ring, so it loads.
	if ring, err := cfg.KeyRing(); err == nil {
		st.Payloads = codec.DataConverter(ring)
	}
	return st
}

// Control drives the stack's sandbox through its /_sandbox endpoints.
func (s *Stack) Control() sandbox.Control { return sandbox.Control{BaseURL: s.Config.BelvoBaseURL} }
