// Package netfault puts fault-injecting TCP proxies on the hops between
// the product's processes: Shopify's toxiproxy, embedded as a library (no
// toxiproxy process, no HTTP API), with the faults of issue #16 as
// ready-made toxics: latency, a bandwidth cap, connections reset in the
// middle of a response, and a full partition that heals.
//
// A Server holds the proxies; each Proxy listens on a free loopback
// address and forwards to one upstream. A process is routed through a
// proxy by giving it the proxy's address instead of the upstream's; a
// fault is turned on with Proxy.Add and ended with Proxy.Remove.
package netfault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/belvo-temporal/backbone/internal/stack"
	"github.com/rs/zerolog"
	zlog "github.com/rs/zerolog/log"
)

var quiet sync.Once

// Server runs toxiproxy's proxies inside the calling process.
type Server struct {
	api *toxiproxy.ApiServer

	mu      sync.Mutex
	proxies []*Proxy
}

// New returns a server with no proxies. Toxiproxy's own logs are
// discarded: a fault's effect is what the caller measures.
func New() *Server {
	// Some toxics (bandwidth) log through zerolog's global logger at trace
	// level, onto stderr; nothing else in the module uses zerolog.
	quiet.Do(func() { zlog.Logger = zerolog.Nop() })
	return &Server{api: toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())}
}

// Proxy starts a proxy named name that listens on a free loopback address
// and forwards each connection it accepts to upstream, which need not be
// up yet: the proxy dials it per connection.
func (s *Server) Proxy(name, upstream string) (*Proxy, error) {
	addr, err := stack.FreeAddr()
	if err != nil {
		return nil, fmt.Errorf("netfault: address for proxy %s: %w", name, err)
	}
	tp := toxiproxy.NewProxy(s.api, name, addr, upstream)
	if err := s.api.Collection.Add(tp, true); err != nil {
		return nil, fmt.Errorf("netfault: start proxy %s on %s: %w", name, addr, err)
	}
	p := &Proxy{p: tp, armed: map[string]chan struct{}{}}
	// Every connection through the proxy closes with SO_LINGER 0, so that a
	// connection the proxy cuts is reset (RST, ECONNRESET at the client)
	// rather than closed cleanly (FIN, a mere EOF). Toxiproxy sets the
	// linger only on connections accepted while a reset_peer toxic is in
	// the chain, so a dormant one (toxicity 0: it never fires) stays there
	// for the proxy's life; it must be there before the first connection,
	// since the gRPC connection to Temporal is opened once and kept.
	if err := p.add(toxic{Name: "netfault_linger0", Type: "reset_peer", Stream: "upstream", Toxicity: 0,
		Attributes: map[string]any{"timeout": 0}}); err != nil {
		s.api.Collection.Remove(name) //nolint:errcheck // undoing a half-made proxy
		return nil, err
	}
	s.mu.Lock()
	s.proxies = append(s.proxies, p)
	s.mu.Unlock()
	return p, nil
}

// Close ends every fault and stops every proxy, closing their
// connections.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.proxies {
		p.stopRearming()
	}
	_ = s.api.Collection.Clear()
	s.proxies = nil
}

// Proxy is one hop's proxy.
type Proxy struct {
	p *toxiproxy.Proxy

	mu sync.Mutex
	// armed holds, per fault that re-arms itself, the channel that stops
	// its loop.
	armed map[string]chan struct{}
}

// Name is the proxy's name.
func (p *Proxy) Name() string { return p.p.Name }

// Addr is where the proxy listens ("127.0.0.1:port"): give it to the
// client in place of the upstream's.
func (p *Proxy) Addr() string { return p.p.Listen }

// Upstream is where the proxy forwards.
func (p *Proxy) Upstream() string { return p.p.Upstream }

// toxic is a toxic as toxiproxy's JSON API takes it: the embedded library
// exposes no typed constructor, only ToxicCollection.AddToxicJson.
type toxic struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Stream     string         `json:"stream"`
	Toxicity   float32        `json:"toxicity"`
	Attributes map[string]any `json:"attributes"`
}

func (p *Proxy) add(t toxic) error {
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("netfault: toxic %s: %w", t.Name, err)
	}
	if _, err := p.p.Toxics.AddToxicJson(bytes.NewReader(b)); err != nil {
		return fmt.Errorf("netfault: add toxic %s to proxy %s: %w", t.Name, p.Name(), err)
	}
	return nil
}

func (p *Proxy) remove(name string) error {
	if err := p.p.Toxics.RemoveToxic(context.Background(), name); err != nil {
		return fmt.Errorf("netfault: remove toxic %s from proxy %s: %w", name, p.Name(), err)
	}
	return nil
}

// Add turns a fault on. Adding a fault that is already on is an error.
func (p *Proxy) Add(f Fault) error {
	if len(f.toxics) == 0 {
		return errors.New("netfault: the zero Fault has no toxics")
	}
	for i, t := range f.toxics {
		if err := p.add(t); err != nil {
			for _, done := range f.toxics[:i] {
				_ = p.remove(done.Name)
			}
			return err
		}
	}
	if f.rearm > 0 {
		p.mu.Lock()
		stop := make(chan struct{})
		p.armed[f.Name] = stop
		p.mu.Unlock()
		go p.rearm(f, stop)
	}
	return nil
}

// Remove ends a fault: its toxics leave every connection, existing and
// new. Connections a partition held are closed (see Partition).
func (p *Proxy) Remove(f Fault) error {
	// Held throughout, so that a re-arming loop is not between removing
	// and adding its toxics.
	p.mu.Lock()
	defer p.mu.Unlock()
	if stop, ok := p.armed[f.Name]; ok {
		close(stop)
		delete(p.armed, f.Name)
	}
	var errs []error
	for _, t := range f.toxics {
		errs = append(errs, p.remove(t.Name))
	}
	return errors.Join(errs...)
}

func (p *Proxy) stopRearming() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for name, stop := range p.armed {
		close(stop)
		delete(p.armed, name)
	}
}
