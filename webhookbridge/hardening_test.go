package webhookbridge

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
)

// blocking holds every delivery until released, to fill the bridge.
type blocking struct {
	idle
	started chan struct{}
	release chan struct{}
}

func (b *blocking) SignalWithStartWorkflow(ctx context.Context, _, _ string, _ any, _ client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	b.started <- struct{}{}
	select {
	case <-b.release:
		return run{}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type panicking struct{ idle }

func (panicking) SignalWithStartWorkflow(context.Context, string, string, any, client.StartWorkflowOptions, any, ...any) (client.WorkflowRun, error) {
	panic("a bug in delivery")
}

type health struct{ err error }

func (h health) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	return &client.CheckHealthResponse{}, h.err
}

func post(h http.Handler, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/belvo", strings.NewReader(body))
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// At its concurrency limit the bridge sheds at once with 503 + Retry-After,
// and the webhooks it admitted still complete with 202.
func TestOverloadIsShedQuickly(t *testing.T) {
	sig := &blocking{started: make(chan struct{}, 4), release: make(chan struct{})}
	b, _ := New(Options{Signaler: sig, TaskQueue: "q", Authorization: auth, MaxInFlight: 2})
	h := b.Handler()
	var wg sync.WaitGroup
	codes := make(chan int, 2)
	// Two links: the bridge delivers one link's webhooks one at a time, so
	// two of the same link would not both be inside Temporal's call.
	for _, link := range []string{"L1", "L2"} {
		wg.Add(1)
		go func() { defer wg.Done(); codes <- post(h, strings.Replace(valid, `"L1"`, `"`+link+`"`, 1)).Code }()
	}
	<-sig.started
	<-sig.started
	start := time.Now()
	w := post(h, valid)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("third webhook at the limit: %d %q", w.Code, w.Header().Get("Retry-After"))
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("shedding took %s; it must not wait", d)
	}
	close(sig.release)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusAccepted {
			t.Errorf("admitted webhook answered %d, want 202", c)
		}
	}
	if got := scrape(t, h); !strings.Contains(got, "belvo_bridge_shed_total 1") {
		t.Errorf("shed not counted:\n%s", grep(got, "shed"))
	}
}

// Temporal slower than the delivery deadline: 503 + Retry-After within the
// deadline, never a 202 and never a hang past Belvo's 5 s.
func TestSlowTemporalAnswers503InTime(t *testing.T) {
	sig := &blocking{started: make(chan struct{}, 1), release: make(chan struct{})}
	b, _ := New(Options{Signaler: sig, TaskQueue: "q", Authorization: auth, DeliveryTimeout: 300 * time.Millisecond})
	start := time.Now()
	w := post(b.Handler(), valid)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("answered %d, want 503 with Retry-After", w.Code)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("answered after %s", d)
	}
}

func TestPanicIsRecovered(t *testing.T) {
	// One slot: a panic that leaked it would shed the next webhook.
	b, _ := New(Options{Signaler: panicking{}, TaskQueue: "q", Authorization: auth, MaxInFlight: 1})
	w := post(b.Handler(), valid)
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("answered %d, want 500", w.Code)
	}
	if w := post(b.Handler(), `{`); w.Code != http.StatusBadRequest {
		t.Errorf("bridge unusable after a panic (slot leaked?): %d", w.Code)
	}
}

func TestRequestIDAndProbes(t *testing.T) {
	cases := []struct {
		name, path, reqID string
		health            HealthChecker
		want              int
		wantReqID         string
	}{
		{"liveness", "/healthz", "", nil, 200, ""},
		{"ready when Temporal answers", "/readyz", "", health{}, 200, ""},
		{"not ready when Temporal does not", "/readyz", "", health{errors.New("unreachable")}, 503, ""},
		{"caller's request id echoed", "/healthz", "abc-123", nil, 200, "abc-123"},
		{"hostile request id replaced", "/healthz", "x\"y", nil, 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, _ := New(Options{Signaler: &recorder{}, TaskQueue: "q", Authorization: auth, Health: c.health})
			req := httptest.NewRequest(http.MethodGet, c.path, nil)
			if c.reqID != "" {
				req.Header.Set(RequestIDHeader, c.reqID)
			}
			w := httptest.NewRecorder()
			b.Handler().ServeHTTP(w, req)
			got := w.Header().Get(RequestIDHeader)
			if w.Code != c.want || got == "" || (c.wantReqID != "" && got != c.wantReqID) || got == c.reqID && c.wantReqID == "" && c.reqID != "" {
				t.Errorf("status %d request id %q", w.Code, got)
			}
		})
	}
}

func TestHostileValuesAreNotReflected(t *testing.T) {
	b, _ := New(Options{Signaler: &recorder{}, TaskQueue: "q", Authorization: auth})
	w := post(b.Handler(), `{"request_id": "<script>alert(1)</script>", `)
	if w.Code != 400 || strings.Contains(w.Body.String(), "script") {
		t.Errorf("answer %d reflects the hostile request id: %s", w.Code, w.Body.String())
	}
	req := httptest.NewRequest(http.MethodDelete, "/webhooks/<b>x</b>", nil)
	rec := httptest.NewRecorder()
	b.Handler().ServeHTTP(rec, req)
	if strings.Contains(rec.Body.String(), "<b>") {
		t.Errorf("404 reflects the path: %s", rec.Body.String())
	}
}

func TestMetricsSeries(t *testing.T) {
	b, _ := New(Options{Signaler: &recorder{}, TaskQueue: "q", Authorization: auth})
	h := b.Handler()
	post(h, valid)
	post(h, `{"webhook_id":"w","webhook_type":"X","webhook_code":"brand_new","link_id":"L"}`)
	post(h, `{`)
	got := scrape(t, h)
	for _, want := range []string{
		`belvo_bridge_requests_total{status="202"} 2`,
		`belvo_bridge_requests_total{status="400"} 1`,
		`belvo_bridge_signals_total{route="HistoricalFetch",webhook_code="historical_update",webhook_type="TRANSACTIONS"} 1`,
		`belvo_bridge_unrouted_total 1`,
		`belvo_bridge_delivery_seconds_count 2`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(got, auth) {
		t.Error("metrics leak the Authorization value")
	}
}

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	b, _ := io.ReadAll(w.Body)
	return string(b)
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
