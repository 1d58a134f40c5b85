// Package sandbox is an offline emulator of Belvo's API, faithful to Belvo's
// OpenAPI specs for what this product uses: link registration, retrieval,
// deletion and refresh, widget tokens, paginated list endpoints and detail
// endpoints with deterministic synthetic data, async requests, and webhooks
// delivered with retries. It can misbehave on purpose (duplicate and early
// webhooks, webhook delays, other completion webhook shapes, failing pages,
// rate-limited writes) so tests can prove the product survives Belvo's real
// behaviour, including what Belvo leaves undocumented.
package sandbox

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/google/uuid"
	"github.com/gorilla/mux"
	"go.uber.org/zap"
)

// Sandbox credentials accepted for link registration, as in Belvo's sandbox.
const (
	SandboxUsername = "bnk100"
	SandboxPassword = "full"
)

// The secret keys the emulator expects by default: the local stack's
// defaults (config.DefaultSecretID, config.DefaultSecretPassword).
const (
	DefaultSecretID       = "sandbox-secret-id"
	DefaultSecretPassword = "sandbox-secret-password"
)

// Institutions the emulator knows.
var institutions = map[string]bool{"erebor_mx_retail": true, "erebor_br_retail": true, "gringotts_co_retail": true}

// Config sets the emulator's behaviour. Zero values take the defaults noted.
type Config struct {
	SecretID       string // Basic auth user Belvo expects (default DefaultSecretID)
	SecretPassword string // Basic auth password (default DefaultSecretPassword)

	// BankUsername and BankPassword are the end-user credentials link
	// registration accepts (default bnk100 / full, as in Belvo's sandbox).
	BankUsername, BankPassword string
	// MFA makes registration answer 428 token_required with a session that
	// PATCH /api/links/ completes with MFAToken (default "123456") within
	// MFASessionTTL (default 5 min).
	MFA           bool
	MFAToken      string
	MFASessionTTL time.Duration

	WebhookURL           string // where webhooks go; none are sent when empty
	WebhookAuthorization string // sent verbatim as the Authorization header

	Seed         uint64 // data seed (default 1)
	Accounts     int    // accounts per link (default 3)
	Transactions int    // transactions per link (default 250)
	Owners       int    // owners per link (default 1)
	Invoices     int    // invoices per link, one a day back from 2026-11-01 (default 60)
	OtherRows    int    // rows of every other resource per link (default 5)

	WebhookDelay       time.Duration // wait before the first delivery (default 100 ms)
	WebhookTimeout     time.Duration // a delivery not answered 2xx within this fails (default 5 s, Belvo's)
	WebhookMaxAttempts int           // deliveries per webhook before giving up (default 12)
	WebhookBackoff     time.Duration // first retry delay, doubled each time up to 30 s (default 500 ms)

	// Misbehaviour, on purpose.
	DuplicateWebhooks bool // deliver every webhook twice
	EarlyWebhooks     bool // deliver webhooks before answering POST /api/links/
	// SkipWebhooks are resources whose historical_update a new link never
	// sends. Completions of async requests and refreshes are still sent
	// for them: those answer a request_id the product waits on.
	SkipWebhooks     []belvo.Resource
	FailEveryNthList int // answer 500 to every Nth list request (0: never)
	// FailListsWith answers every list request with this HTTP status and a
	// Belvo error (0: never), e.g. 403 for a GET that cannot succeed.
	FailListsWith int

	// ListLatency delays every list answer by this much: Belvo across a
	// network, reading its own database, rather than a process on
	// loopback (0: answer at once).
	ListLatency time.Duration
	// ListFaults are served, in order, to the first list requests (one
	// each), then lists behave: Belvo's 5xx bursts, 429s, slow answers and
	// broken pages on demand.
	ListFaults []Fault
	// EmptyResources have no rows for any link (Belvo found nothing yet).
	EmptyResources []belvo.Resource
	// TimeoutAbovePageSize answers 408 request_timeout to list requests
	// asking for more than this many rows (0: never).
	TimeoutAbovePageSize int

	// Async requests (X-Belvo-Request-Mode: async).
	AsyncDelay            time.Duration // wait before the completion webhook (default 200 ms)
	AsyncWebhookBefore202 bool          // deliver the completion webhook before answering 202
	// FailAsync makes every async request and refresh fail: its webhooks
	// carry this Belvo error code (e.g. "institution_down") instead of data.
	FailAsync string
	// CompletionShape is the webhook_code and process_type of the webhooks
	// completing async requests and refreshes (default CompletionHistorical,
	// Belvo's documented shape). New panics on a value not in
	// CompletionShapes: it is a programming error (ParseCompletionShape
	// checks text).
	CompletionShape CompletionShape
	// RefreshCooldown is how long after an accepted refresh of a link
	// another is refused with 409 link_refreshed (default
	// belvo.RefreshCooldown, Belvo's 10 minutes; negative: no cooldown).
	RefreshCooldown time.Duration
	// RateLimitPosts N > 0 answers 429 too_many_requests (Retry-After: 1)
	// to the 1st, (1+N)th, (1+2N)th… POST that makes Belvo work (link
	// registration, POSTs to async-capable endpoints with or without the
	// async header, refreshes; not POST /api/token/), and does nothing else
	// for it. The POST right after a refused one is accepted, so a client
	// retrying alone always gets through. 1 is taken as 2, since N = 1
	// would refuse every POST forever; 0 or less never refuses.
	RateLimitPosts int
	// ClockOffset moves the emulator's clock away from the host's (e.g.
	// -5h): the timestamps it gives rows (collected_at, created_at) come
	// from it, so tests can show the product's correctness does not
	// depend on its clock agreeing with Belvo's.
	ClockOffset time.Duration

	Logger *zap.Logger
}

// WithDefaults is the configuration with every zero value replaced by its
// default, as New uses it (tests read the credentials the emulator expects).
func (c Config) WithDefaults() Config {
	c.defaults()
	return c
}

func (c *Config) defaults() {
	if c.SecretID == "" {
		c.SecretID = DefaultSecretID
	}
	if c.SecretPassword == "" {
		c.SecretPassword = DefaultSecretPassword
	}
	if c.BankUsername == "" {
		c.BankUsername, c.BankPassword = SandboxUsername, SandboxPassword
	}
	if c.MFAToken == "" {
		c.MFAToken = "123456"
	}
	if c.MFASessionTTL == 0 {
		c.MFASessionTTL = 5 * time.Minute
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Accounts == 0 {
		c.Accounts = 3
	}
	if c.Transactions == 0 {
		c.Transactions = 250
	}
	if c.Owners == 0 {
		c.Owners = 1
	}
	if c.Invoices == 0 {
		c.Invoices = 60
	}
	if c.OtherRows == 0 {
		c.OtherRows = 5
	}
	if c.AsyncDelay == 0 {
		c.AsyncDelay = 200 * time.Millisecond
	}
	if c.WebhookDelay == 0 {
		c.WebhookDelay = 100 * time.Millisecond
	}
	if c.WebhookTimeout == 0 {
		c.WebhookTimeout = 5 * time.Second
	}
	if c.WebhookMaxAttempts == 0 {
		c.WebhookMaxAttempts = 12
	}
	if c.WebhookBackoff == 0 {
		c.WebhookBackoff = 500 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	if c.CompletionShape == "" {
		c.CompletionShape = CompletionHistorical
	}
	if c.RefreshCooldown == 0 {
		c.RefreshCooldown = belvo.RefreshCooldown
	}
	if c.RateLimitPosts == 1 {
		c.RateLimitPosts = 2
	}
}

// link is the emulator's record of one link. Its mutable parts (counts,
// deleted and updated rows, status) change only under Server.mu.
type link struct {
	ID             string
	Institution    string
	ExternalID     string
	AccessMode     string
	FetchResources []belvo.Resource
	CreatedAt      time.Time
	// Accounts is the number of accounts transactions are spread over; it
	// stays fixed so that a transaction's content never changes by itself.
	Accounts int
	Status   string
	// accountJSON is each account as JSON, made once: every transaction
	// embeds its account, and encoding it per row made the emulator, not
	// the product, the volume benchmark's limit.
	accountJSON []json.RawMessage

	sent    []Webhook // historical webhooks sent, for resends
	lists   int       // list requests served for this link
	details int       // detail requests (GET /api/<resource>/{id}/) served for its rows
	// refreshes counts accepted refreshes; lastRefresh starts the cooldown.
	refreshes   int
	lastRefresh time.Time
	counts      map[belvo.Resource]int
	// batches are the rows added after the link was created
	// (new_*_available), with when the emulator collected them.
	batches map[belvo.Resource][]batch
	deleted map[belvo.Resource]map[int]bool
	version map[belvo.Resource]map[int]int
}

// widgetToken remembers what a widget token asked for.
type widgetToken struct {
	ExternalID      string
	FetchHistorical bool
	FetchResources  []belvo.Resource
}

// Server is the emulator. Build it with New, serve Handler, and Close it to
// stop pending webhook deliveries.
type Server struct {
	cfg       Config
	log       *zap.Logger
	router    *mux.Router
	hooks     *http.Client
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	listCalls atomic.Int64
	// clockShift is how far AdvanceClock moved the emulator's clock.
	clockShift atomic.Int64
	// conns and requests count what clients did, for benchmarks (a client
	// that does not reuse connections opens one per request).
	conns, requests atomic.Int64
	delivered       atomic.Int64
	asyncCalls      atomic.Int64
	posts           atomic.Int64 // POSTs seen by the rate limiter (RateLimitPosts)
	// now is the clock of the refresh cooldown (tests move it).
	now func() time.Time

	mu      sync.Mutex
	closing bool
	faults  []Fault // ListFaults not served yet
	links   map[string]*link
	mfa     map[string]pendingLink // MFA sessions by id
	tokens  map[string]widgetToken
	// rowIndex finds the rows the emulator handed out by id (in the
	// transactions_updated/deleted webhooks) without a scan.
	rowIndex map[string]rowRef
}

// New builds an emulator.
func New(cfg Config) *Server {
	cfg.defaults()
	if !cfg.CompletionShape.Valid() {
		_, err := ParseCompletionShape(string(cfg.CompletionShape))
		panic("sandbox.New: " + err.Error())
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg: cfg, log: cfg.Logger, ctx: ctx, cancel: cancel, faults: append([]Fault(nil), cfg.ListFaults...),
		hooks:    &http.Client{Timeout: cfg.WebhookTimeout},
		links:    map[string]*link{},
		mfa:      map[string]pendingLink{},
		tokens:   map[string]widgetToken{},
		rowIndex: map[string]rowRef{},
		now:      time.Now,
	}
	s.routes()
	return s
}

// Handler serves Belvo's API and the emulator's /_sandbox control endpoints.
func (s *Server) Handler() http.Handler { return s.router }

// Close stops webhook deliveries still waiting or retrying.
func (s *Server) Close() {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// AsyncRequests is the number of async requests (202s) the emulator took.
func (s *Server) AsyncRequests() int64 { return s.asyncCalls.Load() }

// Delivered is the number of webhook deliveries that got a 2xx answer.
func (s *Server) Delivered() int64 { return s.delivered.Load() }

func (s *Server) routes() {
	r := mux.NewRouter()
	api := r.PathPrefix("/api").Subrouter()
	api.Use(s.basicAuth)
	api.HandleFunc("/links/", s.limitPosts(s.registerLink)).Methods(http.MethodPost)
	api.HandleFunc("/links/", s.listLinks).Methods(http.MethodGet)
	api.HandleFunc("/links/", s.completeLink).Methods(http.MethodPatch)
	api.HandleFunc("/links/{id}/", s.getLink).Methods(http.MethodGet)
	api.HandleFunc("/links/{id}/", s.deleteLink).Methods(http.MethodDelete)
	api.HandleFunc("/links/{id}/refresh/", s.limitPosts(s.refreshLink)).Methods(http.MethodPost)
	for _, op := range belvo.AsyncOps() {
		if op.Method == http.MethodPost && op.Op != belvo.OpLinkRefresh {
			api.HandleFunc(op.Path[len("/api"):], s.limitPosts(s.asyncHandler(op))).Methods(http.MethodPost)
		}
	}
	api.HandleFunc("/token/", s.createToken).Methods(http.MethodPost)
	for _, res := range belvo.AllResources() {
		api.Handle(res.ListPath()[len("/api"):], s.listHandler(res)).Methods(http.MethodGet)
		api.HandleFunc(res.ListPath()[len("/api"):]+"{id}/", s.detailHandler(res)).Methods(http.MethodGet)
	}
	ctl := r.PathPrefix("/_sandbox").Subrouter()
	ctl.HandleFunc("/widget/links", s.widgetConnect).Methods(http.MethodPost)
	ctl.HandleFunc("/stats", s.stats).Methods(http.MethodGet)
	ctl.HandleFunc("/links/{id}/expected", s.expected).Methods(http.MethodGet)
	ctl.HandleFunc("/links/{id}/webhooks", s.resendWebhooks).Methods(http.MethodPost)
	ctl.HandleFunc("/links/{id}/events", s.events).Methods(http.MethodPost)
	ctl.HandleFunc("/clock", s.advanceClock).Methods(http.MethodPost)
	ctl.HandleFunc("/links/{id}/count", s.countRows).Methods(http.MethodGet)
	ctl.HandleFunc("/links/{id}/refreshes", s.refreshCount).Methods(http.MethodGet)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		writeErrors(w, http.StatusNotFound, "not_found", "Not found.", "")
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		writeErrors(w, http.StatusMethodNotAllowed, "method_not_allowed", "Method \""+req.Method+"\" not allowed.", "")
	})
	s.router = r
}

// basicAuth checks the secret keys as Belvo does: 401 with Belvo's error list.
func (s *Server) basicAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		id, pw, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(id), []byte(s.cfg.SecretID)) != 1 ||
			subtle.ConstantTimeCompare([]byte(pw), []byte(s.cfg.SecretPassword)) != 1 {
			writeErrors(w, http.StatusUnauthorized, "authentication_failed", "Credentials provided are not valid", "")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) link(id string) (*link, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.links[id]
	return l, ok
}

// Expected returns how many rows each fetched resource of a link has, for
// tests and tools; false when the link is unknown.
func (s *Server) Expected(id string) (ExpectedCounts, bool) {
	l, ok := s.link(id)
	if !ok {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := ExpectedCounts{}
	for _, r := range l.FetchResources {
		out[r] = len(s.visibleLocked(l, r, nil))
	}
	return out, true
}

// ListRequests is how many list requests the emulator served for a link: a
// test's measure of how often data was fetched.
func (s *Server) ListRequests(linkID string) int {
	l, ok := s.link(linkID)
	if !ok {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return l.lists
}

// ExpectedCounts maps each fetched resource of a link to its row count.
type ExpectedCounts map[belvo.Resource]int

// Count is how many rows of a resource of a link a list request with these
// filters returns (an async request's expected result).
func (s *Server) Count(linkID string, r belvo.Resource, filters map[string]string) int {
	l, ok := s.link(linkID)
	if !ok {
		return 0
	}
	q := url.Values{}
	for k, v := range filters {
		q.Set(k, v)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.visibleLocked(l, r, q))
}

// requestID is a Belvo-style request id (32 hex characters).
func requestID() string {
	id := uuid.New()
	return hexID(id)
}

func hexID(id uuid.UUID) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 32)
	for i, c := range id {
		b[2*i], b[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(b)
}

// writeJSON answers with a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeErrors answers with Belvo's error list.
func writeErrors(w http.ResponseWriter, status int, code, message, field string) {
	e := map[string]any{"code": code, "message": message, "request_id": requestID()}
	if field != "" {
		e["field"] = field
	}
	writeJSON(w, status, []any{e})
}

// ConnState counts new connections; set it as the http.Server's ConnState.
func (s *Server) ConnState(_ net.Conn, st http.ConnState) {
	if st == http.StateNew {
		s.conns.Add(1)
	}
}

// Stats is what GET /_sandbox/stats reports.
type Stats struct {
	Connections int64 `json:"connections"` // opened, when ConnState is set
	Requests    int64 `json:"requests"`    // Belvo API requests served
}

func (s *Server) stats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, Stats{Connections: s.conns.Load(), Requests: s.requests.Load()})
}
