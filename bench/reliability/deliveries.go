package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/belvo-temporal/backbone/internal/stack"
)

// delivery is one webhook post as the sandbox (Belvo) saw it: when it
// went out, when the answer came, and the answer's status (0: no answer,
// the sender gave up or the connection failed).
type delivery struct {
	start, end time.Time
	status     int
}

// deliveries sits between the sandbox and the bridges' balancer and
// records every webhook post, so a scenario can tell what the bridges
// answered during a fault and how fast. It adds nothing to the path but a
// loopback hop.
type deliveries struct {
	addr   string
	srv    *http.Server
	target atomic.Pointer[string]
	client *http.Client

	mu   sync.Mutex
	seen []delivery
}

// newDeliveries listens on a free loopback port; setTarget then names the
// balancer's webhook URL (posts before it are answered 503 and retried).
func newDeliveries() (*deliveries, error) {
	addr, err := stack.FreeAddr()
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("webhook recorder: %w", err)
	}
	d := &deliveries{addr: addr, client: &http.Client{Timeout: 30 * time.Second}}
	d.srv = &http.Server{Handler: d, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = d.srv.Serve(l) }()
	return d, nil
}

// URL is where the sandbox posts webhooks.
func (d *deliveries) URL() string { return "http://" + d.addr + "/webhooks/belvo" }

func (d *deliveries) setTarget(url string) { d.target.Store(&url) }

func (d *deliveries) close() { _ = d.srv.Close() }

func (d *deliveries) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	status := d.forward(w, r)
	d.mu.Lock()
	d.seen = append(d.seen, delivery{start: start, end: time.Now(), status: status})
	d.mu.Unlock()
}

// forward posts the webhook to the balancer with the sender's headers and
// relays the answer; it returns the status relayed (0 when none came).
func (d *deliveries) forward(w http.ResponseWriter, r *http.Request) int {
	t := d.target.Load()
	if t == nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		return http.StatusServiceUnavailable
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return 0
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, *t, bytes.NewReader(body))
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return 0
	}
	req.Header = r.Header.Clone()
	resp, err := d.client.Do(req)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return 0
	}
	defer resp.Body.Close()
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
	return resp.StatusCode
}

// deliveryStats summarise the posts that started at or after from and
// ended before to.
type deliveryStats struct {
	posts, accepted, serverErrors, noAnswer int
	slowest                                 time.Duration
}

func (d *deliveries) between(from, to time.Time) deliveryStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	var s deliveryStats
	for _, x := range d.seen {
		if x.start.Before(from) || !x.end.Before(to) {
			continue
		}
		s.posts++
		switch {
		case x.status == http.StatusAccepted:
			s.accepted++
		case x.status >= 500:
			s.serverErrors++
		case x.status == 0:
			s.noAnswer++
		}
		s.slowest = max(s.slowest, x.end.Sub(x.start))
	}
	return s
}

// count is the posts recorded so far.
func (d *deliveries) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.seen)
}

var errNoDeliveries = errors.New("no webhook reached the bridges before the fault")
