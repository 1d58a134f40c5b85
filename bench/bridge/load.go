package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/webhookbridge"
	"github.com/belvo-temporal/backbone/workflows"
	"github.com/google/uuid"
	"go.temporal.io/sdk/client"
)

type bench struct {
	c    client.Client
	url  string
	http *http.Client
	seq  atomic.Int64
}

// result is one phase's outcome.
type result struct {
	name                  string
	sent, acked, shed, ko int
	elapsed               time.Duration
	lat                   []time.Duration // of acknowledged sends
	slowest202            time.Duration
	ackedIDs              []string
	mu                    sync.Mutex
}

func (r *result) add(id string, code int, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent++
	switch code {
	case 202:
		r.acked++
		r.lat = append(r.lat, d)
		r.ackedIDs = append(r.ackedIDs, id)
		r.slowest202 = max(r.slowest202, d)
	case 503:
		r.shed++
	default:
		r.ko++
	}
}

// merge adds another round of the same phase.
func (r *result) merge(o *result) {
	r.sent, r.acked, r.shed, r.ko = r.sent+o.sent, r.acked+o.acked, r.shed+o.shed, r.ko+o.ko
	r.elapsed += o.elapsed
	r.lat = append(r.lat, o.lat...)
	r.ackedIDs = append(r.ackedIDs, o.ackedIDs...)
	r.slowest202 = max(r.slowest202, o.slowest202)
}

func (r *result) rate() float64 { return float64(r.acked) / r.elapsed.Seconds() }

func (r *result) pct(p int) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	s := slices.Clone(r.lat)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func (r *result) row() string {
	return fmt.Sprintf("| %s | %d | %d | %d | %d | %.0f | %s | %s | %s |", r.name, r.sent, r.acked, r.shed, r.ko, r.rate(),
		r.pct(50).Round(100*time.Microsecond), r.pct(99).Round(100*time.Microsecond), r.slowest202.Round(time.Millisecond))
}

// send is one delivery: direct SignalWithStart or a webhook over HTTP. It
// returns the HTTP-like status (202 accepted, 503 refused, other).
type send func(rid string) int

func (b *bench) rid(phase string) string {
	return fmt.Sprintf("bench%s%07d%s", phase, b.seq.Add(1), uuid.NewString()[:8])
}

// event is the benchmark's webhook: a link's historical_update carrying a
// request_id that no request of this product sent, the common webhook,
// one new link each so every delivery starts an execution.
func event(rid string) workflows.WebhookEvent {
	return workflows.WebhookEvent{WebhookID: "w-" + rid, Type: "TRANSACTIONS", ProcessType: "historical_update", Code: "historical_update",
		LinkID: "link-" + rid, RequestID: rid}
}

// direct is the baseline: the SignalWithStart the bridge ends with, made
// directly (same target, options and encoding). The bridge also makes the
// two lookups that correlate a webhook with this product's requests (its
// link's LinkRequests, its request's AsyncRequest): that is what the
// ratio prices.
func (b *bench) direct(rid string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	in, err := workflows.ForwardFor(event(rid), "bench", workflows.RouteDefaults{}, false)
	if err != nil {
		return 500
	}
	if _, err := activities.SignalWithStart(ctx, b.c, in.Fallback); err != nil {
		return 503
	}
	return 202
}

// sameCalls is the bridge's delivery made directly: the correlation
// lookups and the SignalWithStart, without HTTP. Against it the ratio is the
// bridge's own cost (HTTP, JSON, admission), as before correlation.
func (b *bench) sameCalls(rid string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	if _, err := webhookbridge.Route(ctx, b.c, "bench", workflows.RouteDefaults{}, event(rid)); err != nil {
		return 503
	}
	return 202
}

func (b *bench) viaBridge(rid string) int {
	ev := event(rid)
	body, _ := json.Marshal(map[string]any{"webhook_id": ev.WebhookID, "webhook_type": ev.Type, "process_type": ev.ProcessType,
		"webhook_code": ev.Code, "request_id": rid, "link_id": ev.LinkID, "data": map[string]any{}})
	req, _ := http.NewRequest(http.MethodPost, b.url, bytes.NewReader(body))
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.http.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// closedLoop sends n deliveries from conc senders as fast as answers come.
func (b *bench) closedLoop(name string, n, conc int, f send) *result {
	r := &result{name: name}
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				rid := b.rid(name)
				t := time.Now()
				code := f(rid)
				r.add(rid, code, time.Since(t))
			}
		}()
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	return r
}

// openLoop sends webhooks through the bridge at a fixed rate whatever the
// answers, as Belvo does; the bridge must shed what it cannot take quickly.
func (b *bench) openLoop(name string, rate float64, d time.Duration) *result {
	r := &result{name: fmt.Sprintf("%s (%.0f/s offered)", name, rate)}
	interval := time.Duration(float64(time.Second) / rate)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; time.Since(start) < d; i++ {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rid := b.rid(name[:4])
			t := time.Now()
			code := b.viaBridge(rid)
			r.add(rid, code, time.Since(t))
		}()
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	return r
}

// lost counts acknowledged webhooks whose execution Temporal does not have.
func (b *bench) lost(r *result) int {
	lost := 0
	for _, rid := range r.ackedIDs {
		if _, err := b.c.DescribeWorkflow(context.Background(), workflows.HistoricalFetchWorkflowID(event(rid).LinkID), ""); err != nil {
			lost++
		}
	}
	return lost
}
