package stack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/codec"
	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/store"
	"github.com/belvo-temporal/backbone/webhookbridge"
	"github.com/belvo-temporal/backbone/worker"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.uber.org/zap"
)

// InProcessOptions choose the parts of the product to run inside the
// calling process, over real HTTP on loopback, on a Temporal the caller
// reaches with Client: for tests that read every log line or replace a
// part, and for benchmarks that profile the bridge.
type InProcessOptions struct {
	// Client reaches Temporal; its data converter is the product's codec.
	Client    client.Client
	TaskQueue string
	// Logger receives every component's log lines (nil: none).
	Logger *zap.Logger
	// Bridge starts a bridge with these options (Signaler, Health,
	// TaskQueue and Logger are filled in); nil: no bridge.
	Bridge *webhookbridge.Options
	// Sandbox starts the emulator with this configuration (its webhooks go
	// to the bridge, with the bridge's Authorization); nil: no sandbox.
	Sandbox *sandbox.Config
	// WrapSandbox wraps the emulator's handler (a spec validator, say).
	WrapSandbox func(http.Handler) http.Handler
	// Worker runs a worker with the product's activities on a Belvo client
	// of the sandbox (BelvoHTTP, when set, bounds its calls) and Store
	// (SQLite in Dir when nil).
	Worker    bool
	BelvoHTTP *http.Client
	Store     store.Store
	Dir       string
}

// InProcess is a running in-process product.
type InProcess struct {
	Bridge *webhookbridge.Bridge
	// BridgeURL is the bridge's base URL (webhooks go to
	// BridgeURL/webhooks/belvo).
	BridgeURL  string
	Sandbox    *sandbox.Server
	SandboxURL string
	// SandboxConfig is the emulator's configuration with its defaults, for
	// the credentials it expects.
	SandboxConfig sandbox.Config
	Belvo         *belvo.Client
	Store         store.Store
	Worker        sdkworker.Worker
	closers       []func()
}

// StartInProcess starts the chosen parts: the bridge first, so the
// sandbox's webhooks have somewhere to go, then the sandbox and the worker.
func StartInProcess(ctx context.Context, o InProcessOptions) (*InProcess, error) {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	p := &InProcess{}
	if err := p.start(ctx, o); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func (p *InProcess) start(ctx context.Context, o InProcessOptions) error {
	if o.Bridge != nil {
		bo := *o.Bridge
		bo.Signaler, bo.TaskQueue = o.Client, o.TaskQueue
		if bo.Health == nil {
			bo.Health = o.Client
		}
		if bo.Logger == nil {
			bo.Logger = o.Logger.Named("bridge")
		}
		br, err := webhookbridge.New(bo)
		if err != nil {
			return err
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := br.Server(l.Addr().String()) // with the bridge's own timeouts, as in production
		go func() { _ = srv.Serve(l) }()
		p.closers = append(p.closers, func() { _ = srv.Close() })
		p.Bridge, p.BridgeURL = br, "http://"+l.Addr().String()
	}
	if o.Sandbox != nil {
		cfg := *o.Sandbox
		if p.Bridge != nil && cfg.WebhookURL == "" {
			cfg.WebhookURL, cfg.WebhookAuthorization = p.BridgeURL+"/webhooks/belvo", o.Bridge.Authorization
		}
		if cfg.Logger == nil {
			cfg.Logger = o.Logger.Named("sandbox")
		}
		p.Sandbox, p.SandboxURL, p.closers = serveSandbox(cfg, o.WrapSandbox, p.closers)
		p.SandboxConfig = cfg.WithDefaults()
		bc, err := belvo.New(belvo.Options{BaseURL: p.SandboxURL, SecretID: p.SandboxConfig.SecretID,
			SecretPassword: p.SandboxConfig.SecretPassword, HTTPClient: o.BelvoHTTP})
		if err != nil {
			return err
		}
		p.Belvo = bc
	}
	if !o.Worker {
		return nil
	}
	if p.Belvo == nil {
		return errors.New("stack: an in-process worker needs the in-process sandbox")
	}
	p.Store = o.Store
	if p.Store == nil {
		st, err := store.OpenSQLite(ctx, filepath.Join(o.Dir, "store.db"))
		if err != nil {
			return err
		}
		p.Store = st
		p.closers = append(p.closers, func() { _ = st.Close() })
	}
	w := worker.New(o.Client, o.TaskQueue, config.DefaultWorkerTaskPollers, &activities.Activities{Belvo: p.Belvo, Store: p.Store, Temporal: o.Client})
	if err := w.Start(); err != nil {
		return fmt.Errorf("start the in-process worker on %s: %w", o.TaskQueue, err)
	}
	p.Worker = w
	p.closers = append(p.closers, w.Stop)
	return nil
}

// Close stops what StartInProcess started, the worker first.
func (p *InProcess) Close() {
	for i := len(p.closers) - 1; i >= 0; i-- {
		p.closers[i]()
	}
	p.closers = nil
}

// ServeSandbox serves the emulator over HTTP on loopback, its handler
// wrapped by wrap when given (a spec validator, say), for tests of one
// component against it. The returned close stops both.
func ServeSandbox(cfg sandbox.Config, wrap func(http.Handler) http.Handler) (sb *sandbox.Server, url string, close func()) {
	var closers []func()
	sb, url, closers = serveSandbox(cfg, wrap, closers)
	return sb, url, func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
}

func serveSandbox(cfg sandbox.Config, wrap func(http.Handler) http.Handler, closers []func()) (*sandbox.Server, string, []func()) {
	emu := sandbox.New(cfg)
	h := emu.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	// The emulator stops its webhook deliveries before its server goes.
	return emu, srv.URL, append(closers, srv.Close, emu.Close)
}

// ServeCodec serves the codec server's handler (codec.Handler) over HTTP on
// loopback, for a dev server's web UI to decode payloads through; close
// stops it.
func ServeCodec(ring *codec.KeyRing, o codec.ServerOptions) (url string, close func()) {
	srv := httptest.NewServer(codec.Handler(ring, o))
	return srv.URL, srv.Close
}
