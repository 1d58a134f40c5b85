// Package webhookbridge is the HTTP front door for Belvo's webhooks. It turns
// every webhook into a durable Temporal signal and answers 202 only after
// Temporal accepted it, so a 202 is a promise that nothing will be lost.
package webhookbridge

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/logging"
	"github.com/belvo-temporal/backbone/workflows"
	"github.com/gorilla/mux"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"
)

// Signaler is the part of the Temporal client the bridge uses
// (client.Client fits).
type Signaler interface {
	activities.Temporal
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
}

// Options configure a Bridge.
type Options struct {
	Signaler  Signaler
	TaskQueue string
	// Authorization is the exact Authorization value Belvo sends.
	Authorization string
	// PreviousAuthorization is also accepted while a new value is being
	// rolled out at Belvo (rotation window); empty when not rotating.
	PreviousAuthorization string
	// AllowedNetworks, when not empty, are the only source networks (of the
	// direct peer) whose webhooks are considered; others get 403.
	AllowedNetworks []*net.IPNet
	// FetchTimeout and FetchGrace are given to historical fetches the bridge
	// starts.
	FetchTimeout time.Duration
	FetchGrace   time.Duration
	// OrphanTimeout is given to async-request executions the bridge starts:
	// how long a webhook waits for a request to claim it.
	OrphanTimeout time.Duration
	// LinkUpdatesEventsPerRun is given to link-updates executions the bridge
	// starts (0: the workflow's default).
	LinkUpdatesEventsPerRun int
	// MaxInFlight bounds the webhooks being delivered at once (default 128);
	// past it the bridge sheds load with 503 + Retry-After at once instead of
	// letting every answer slow down past Belvo's 5 s.
	MaxInFlight int
	// Health reports whether Temporal is reachable, for /readyz (optional).
	Health HealthChecker
	// DeliveryTimeout bounds the wait for Temporal, well inside Belvo's 5 s
	// (default 4 s).
	DeliveryTimeout time.Duration
	// MaxBodyBytes limits a webhook body (default 1 MiB).
	MaxBodyBytes int64
	Logger       *zap.Logger
}

// HealthChecker is what /readyz asks; client.Client's CheckHealth fits.
type HealthChecker interface {
	CheckHealth(ctx context.Context, request *client.CheckHealthRequest) (*client.CheckHealthResponse, error)
}

// Bridge serves POST /webhooks/belvo, /healthz, /readyz and /metrics.
type Bridge struct {
	o        Options
	authHash [32]byte
	prevHash [32]byte // of PreviousAuthorization; unused when that is empty
	log      *zap.Logger
	metrics  *metrics
	// routing is given to the executions a webhook starts.
	routing workflows.RouteDefaults
	// slots is the admission semaphore: a webhook holds a slot while it is
	// delivered to Temporal, taken once its body was read and checked.
	slots chan struct{}
	// ready caches /readyz's last health check for a second, so probes (or
	// anyone else) cannot turn into a flood of calls to Temporal.
	readyMu  sync.Mutex
	readyAt  time.Time
	readyErr error
}

// New builds a Bridge; it refuses an empty Authorization value, which would
// let anyone in.
func New(o Options) (*Bridge, error) {
	if o.Signaler == nil || o.TaskQueue == "" {
		return nil, errors.New("webhookbridge: a Temporal client and a task queue are required")
	}
	if o.Authorization == "" {
		return nil, errors.New("webhookbridge: BELVO_WEBHOOK_AUTHORIZATION must be set; webhooks are authenticated by it")
	}
	if o.DeliveryTimeout <= 0 {
		o.DeliveryTimeout = config.DefaultWebhookDeliveryTimeout
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = config.DefaultWebhookMaxBodyBytes
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = config.DefaultWebhookMaxInFlight
	}
	o.Signaler = newSerialStarts(o.Signaler)
	return &Bridge{o: o, authHash: sha256.Sum256([]byte(o.Authorization)), prevHash: sha256.Sum256([]byte(o.PreviousAuthorization)),
		log: o.Logger, metrics: newMetrics(), slots: make(chan struct{}, o.MaxInFlight),
		routing: workflows.RouteDefaults{FetchTimeout: o.FetchTimeout, FetchGrace: o.FetchGrace, OrphanTimeout: o.OrphanTimeout,
			LinkUpdatesEventsPerRun: o.LinkUpdatesEventsPerRun}}, nil
}

// Handler routes the bridge's endpoints.
func (b *Bridge) Handler() http.Handler {
	r := mux.NewRouter()
	r.HandleFunc(webhookPath, b.webhook).Methods(http.MethodPost)
	r.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}).Methods(http.MethodGet)
	r.HandleFunc("/readyz", b.readyz).Methods(http.MethodGet)
	r.Handle("/metrics", b.metrics.handler()).Methods(http.MethodGet)
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		writeJSON(w, http.StatusMethodNotAllowed, problem{Error: "method not allowed"})
	})
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		writeJSON(w, http.StatusNotFound, problem{Error: "no such endpoint"})
	})
	return b.bodyDeadline(traced(b.middleware(r)))
}

// readyz answers 200 when Temporal answers a health check within a second,
// 503 otherwise: a load balancer then stops sending webhooks this bridge
// could only answer with 503.
func (b *Bridge) readyz(w http.ResponseWriter, r *http.Request) {
	if b.o.Health == nil {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready", "temporal": "not checked"})
		return
	}
	b.readyMu.Lock()
	if time.Since(b.readyAt) > time.Second {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		_, b.readyErr = b.o.Health.CheckHealth(ctx, &client.CheckHealthRequest{})
		cancel()
		b.readyAt = time.Now()
	}
	err := b.readyErr
	b.readyMu.Unlock()
	if err != nil {
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "temporal": "unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready", "temporal": "reachable"})
}

// admit takes a delivery slot, or reports false when all are busy: the
// webhook is then shed with 503 + Retry-After (Belvo retries it), which
// nothing acknowledged is lost by.
func (b *Bridge) admit() (release func(), ok bool) {
	select {
	case b.slots <- struct{}{}:
		b.metrics.inFlight.Inc()
		return func() { <-b.slots; b.metrics.inFlight.Dec() }, true
	default:
		return nil, false
	}
}

// The server's own limits against slow and hostile clients. They are
// constants, not settings: each follows from Belvo's 5 s acknowledgement
// limit or from the size of a webhook, not from the deployment.
const (
	// readHeaderTimeout cuts a client that has not sent its whole request
	// line and headers 2 s after its connection opened (or, on a kept-alive
	// connection, after its request began): a webhook's headers are a few
	// hundred bytes, and 2 s leaves the rest of Belvo's 5 s for the body and
	// the delivery. A slowloris trickling headers holds a connection (a
	// goroutine, a file descriptor) no longer than this.
	readHeaderTimeout = 2 * time.Second
	// readTimeout bounds a whole request on the other endpoints. A webhook's
	// body has its own deadline instead, WEBHOOK_DELIVERY_TIMEOUT after its
	// headers arrived (bodyDeadline): a body that comes later could not be
	// acknowledged within Belvo's 5 s anyway.
	readTimeout = 5 * time.Second
	// writeTimeout bounds writing an answer: twice Belvo's 5 s, so a
	// delivery that ends at its deadline can still answer 503.
	writeTimeout = 10 * time.Second
	// idleTimeout keeps a kept-alive connection (the load balancer's) open
	// between requests for 60 s: longer than common balancers' own idle
	// timeout, so the balancer, not the bridge, closes it and never sends a
	// request on a connection the bridge is closing.
	idleTimeout = 60 * time.Second
	// maxHeaderBytes: Belvo's headers are well under 1 KiB; 16 KiB leaves
	// room for a proxy's additions and refuses (431) anything larger.
	maxHeaderBytes = 16 << 10
)

// Server wraps the handler in an http.Server with every timeout set, so slow
// or hostile clients cannot hold connections open. There is deliberately no
// cap on open connections: a cap is what a slowloris fills to lock out
// Belvo; instead every connection's life is bounded by the timeouts above,
// and a slow client costs a goroutine and a file descriptor, never a
// delivery slot (webhook reads the body before it takes one).
func (b *Bridge) Server(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           b.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// bodyDeadline sets the connection's read deadline for a webhook to
// DeliveryTimeout after its arrival: a body trickled slower than that is
// cut (webhook answers 408 and the connection closes) rather than held
// until readTimeout. It wraps the traced handler because the tracing
// wrapper hides the connection from http.ResponseController; behind a
// writer without a connection (tests' recorders) it does nothing.
func (b *Bridge) bodyDeadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == webhookPath {
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(b.o.DeliveryTimeout))
		}
		next.ServeHTTP(w, r)
	})
}

// problem is the body of every error answer.
type problem struct {
	Error     string `json:"error"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// webhookBody is a Belvo webhook as received.
type webhookBody struct {
	WebhookID   string          `json:"webhook_id"`
	WebhookType string          `json:"webhook_type"`
	ProcessType string          `json:"process_type"`
	WebhookCode string          `json:"webhook_code"`
	LinkID      string          `json:"link_id"`
	RequestID   string          `json:"request_id"`
	ExternalID  *string         `json:"external_id"`
	Data        json.RawMessage `json:"data"`
}

// requestIDPattern finds a request id in a body that is not valid JSON, so
// even a 400 for malformed JSON can carry it, as Belvo asks.
var requestIDPattern = regexp.MustCompile(`"request_id"\s*:\s*"([^"\\]{1,128})"`)

func (b *Bridge) webhook(w http.ResponseWriter, r *http.Request) {
	// The receipt time, stamped before anything else: the webhook-to-data
	// latency (workflows/latency.go) counts from here.
	received := time.Now()
	// The delivery deadline counts from the request's arrival, so reading a
	// slow body cannot push the answer past Belvo's 5 s.
	ctx, cancel := context.WithTimeout(r.Context(), b.o.DeliveryTimeout)
	defer cancel()
	r = r.WithContext(ctx)
	log := logging.WithTrace(ctx, b.log)
	if !b.allowedSource(r.RemoteAddr) {
		log.Warn("webhook rejected: source not in WEBHOOK_ALLOWED_NETWORKS", zap.String("remote", r.RemoteAddr))
		writeJSON(w, http.StatusForbidden, problem{Error: "source network not allowed"})
		return
	}
	if !b.authorized(r.Header.Get("Authorization")) {
		log.Warn("webhook rejected: bad or missing Authorization", zap.String("remote", r.RemoteAddr))
		writeJSON(w, http.StatusUnauthorized, problem{Error: "missing or invalid Authorization header"})
		return
	}
	// No Content-Type check: Belvo does not document the header, and a 415
	// would only end in a webhook lost after Belvo's retries. The body must
	// be JSON whatever the header says (400 otherwise).
	if r.ContentLength > b.o.MaxBodyBytes {
		// Refused before reading a byte: a client announcing a huge body
		// holds nothing while it trickles it.
		writeJSON(w, http.StatusRequestEntityTooLarge, problem{Error: fmt.Sprintf("body larger than %d bytes", b.o.MaxBodyBytes)})
		return
	}
	// The body is read before a delivery slot is taken, so clients
	// trickling bodies cannot hold the slots legitimate webhooks need
	// (bodyDeadline bounds the read).
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, b.o.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		var netErr net.Error
		switch {
		case errors.As(err, &tooBig):
			writeJSON(w, http.StatusRequestEntityTooLarge, problem{Error: fmt.Sprintf("body larger than %d bytes", b.o.MaxBodyBytes)})
		case errors.As(err, &netErr) && netErr.Timeout():
			log.Warn("webhook rejected: body not received in time", zap.String("remote", r.RemoteAddr), zap.Int("bytes", len(raw)))
			w.Header().Set("Connection", "close")
			writeJSON(w, http.StatusRequestTimeout, problem{Error: fmt.Sprintf("body not received within %s", b.o.DeliveryTimeout)})
		default:
			writeJSON(w, http.StatusBadRequest, problem{Error: "could not read body: " + err.Error()})
		}
		return
	}
	var body webhookBody
	if err := json.Unmarshal(raw, &body); err != nil {
		reqID := ""
		if m := requestIDPattern.FindSubmatch(raw); m != nil {
			reqID = safeID(string(m[1]))
		}
		log.Warn("webhook rejected: malformed JSON", zap.String("request_id", reqID), zap.Error(err))
		writeJSON(w, http.StatusBadRequest, problem{Error: "malformed JSON: " + err.Error(), RequestID: reqID})
		return
	}
	if field := missingField(body); field != "" {
		log.Warn("webhook rejected: missing or invalid field", zap.String("field", field), zap.String("request_id", safeID(body.RequestID)))
		writeJSON(w, http.StatusBadRequest, problem{Error: "missing or invalid field " + field, Field: field, RequestID: safeID(body.RequestID)})
		return
	}
	release, ok := b.admit()
	if !ok {
		b.metrics.shed.Inc()
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, problem{Error: "bridge at capacity; retry later"})
		return
	}
	defer release()
	b.deliver(w, r, body, received)
}

// deliver signals the execution the webhook belongs to (routes.go),
// starting it when it does not exist yet (the webhook-first race), and
// answers 202 only once Temporal has accepted the signal.
func (b *Bridge) deliver(w http.ResponseWriter, r *http.Request, body webhookBody, received time.Time) {
	log := logging.WithTrace(r.Context(), b.log).With(zap.String("webhook_id", body.WebhookID), zap.String("webhook_type", body.WebhookType),
		zap.String("webhook_code", body.WebhookCode), zap.String("process_type", body.ProcessType),
		zap.String("link_id", body.LinkID), zap.String("request_id", body.RequestID))
	annotate(r.Context(), body)
	start := time.Now()
	ev := event(body)
	ev.ReceivedAt = received
	res, err := b.route(r.Context(), ev) // the context carries the delivery deadline set on arrival
	b.metrics.latency.Observe(time.Since(start).Seconds())
	if err != nil {
		log.Error("webhook not delivered to Temporal; answering 503 so Belvo retries", zap.Duration("elapsed", time.Since(start)), zap.Error(err))
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, problem{Error: "could not record the webhook durably; retry later", RequestID: body.RequestID})
		return
	}
	if res.Duplicate {
		// The request's execution already completed: this is Belvo repeating
		// a webhook that was processed. Acknowledge it; nothing to do.
		b.metrics.duplicate.Inc()
		log.Info("webhook for a request that already completed: acknowledged as a duplicate", zap.String("workflow_id", res.WorkflowID))
		writeJSON(w, http.StatusAccepted, map[string]any{"status": "duplicate", "workflow_id": res.WorkflowID, "request_id": body.RequestID})
		return
	}
	b.metrics.signals.WithLabelValues(res.WorkflowType, typeLabel(body.WebhookType), codeLabel(body.WebhookCode)).Inc()
	answer := map[string]any{"status": "accepted", "workflow_id": res.WorkflowID, "request_id": body.RequestID}
	if res.WorkflowType == workflows.UnroutedWebhooksType {
		// Kept whole and durably, visible in the web UI, for a later
		// version to replay; acknowledged so Belvo does not retry it.
		b.metrics.unrouted.Inc()
		answer["routed"] = false
		log.Warn("webhook kept, not routed: no execution handles this code yet", zap.String("workflow_id", res.WorkflowID))
	} else {
		log.Info("webhook delivered", zap.String("workflow_id", res.WorkflowID), zap.Duration("elapsed", time.Since(start)))
	}
	writeJSON(w, http.StatusAccepted, answer)
}

// authorized compares the Authorization value in constant time, on
// equal-length digests, so neither its content nor its length leaks through
// timing; during a rotation both values are always compared.
func (b *Bridge) authorized(value string) bool {
	got := sha256.Sum256([]byte(value))
	ok := subtle.ConstantTimeCompare(got[:], b.authHash[:])
	prev := subtle.ConstantTimeCompare(got[:], b.prevHash[:])
	if b.o.PreviousAuthorization == "" {
		prev = 0
	}
	return ok|prev == 1
}

// allowedSource checks the direct peer against AllowedNetworks.
func (b *Bridge) allowedSource(remote string) bool {
	if len(b.o.AllowedNetworks) == 0 {
		return true
	}
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	for _, n := range b.o.AllowedNetworks {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

// safeID echoes a request id only when it has a sane shape, so an attacker's
// 1 MiB "request_id" is not reflected into answers and logs.
func safeID(s string) string {
	if validID(s) {
		return s
	}
	return ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
