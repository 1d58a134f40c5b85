package sandbox

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/google/uuid"
	"github.com/gorilla/mux"
	"go.uber.org/zap"
)

// registerLinkBody is POST /api/links/ as the emulator reads it.
type registerLinkBody struct {
	Institution        string   `json:"institution"`
	Username           string   `json:"username"`
	Password           string   `json:"password"`
	ExternalID         string   `json:"external_id"`
	AccessMode         string   `json:"access_mode"`
	FetchResources     []string `json:"fetch_resources"`
	CredentialsStorage string   `json:"credentials_storage"`
}

func (s *Server) registerLink(w http.ResponseWriter, r *http.Request) {
	var b registerLinkBody
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&b); err != nil {
		writeErrors(w, http.StatusBadRequest, "invalid", "JSON parse error - "+err.Error(), "")
		return
	}
	switch {
	case b.Institution == "":
		writeErrors(w, http.StatusBadRequest, "required", "This field is required.", "institution")
		return
	case !institutions[b.Institution]:
		writeErrors(w, http.StatusBadRequest, "does_not_exist", "Institution does not exist.", "institution")
		return
	case b.Username == "":
		writeErrors(w, http.StatusBadRequest, "required", "This field is required.", "username")
		return
	case b.AccessMode != "" && b.AccessMode != "single" && b.AccessMode != "recurrent":
		writeErrors(w, http.StatusBadRequest, "invalid_choice", "\""+b.AccessMode+"\" is not a valid choice.", "access_mode")
		return
	case b.ExternalID != "" && (len(b.ExternalID) < 3 || len(b.ExternalID) > 256):
		writeErrors(w, http.StatusBadRequest, "invalid", "external_id must be 3 to 256 characters.", "external_id")
		return
	}
	res, err := belvo.ParseResources(b.FetchResources)
	if err != nil {
		writeErrors(w, http.StatusBadRequest, "invalid_fetch_resources", err.Error(), "fetch_resources")
		return
	}
	if subtle.ConstantTimeCompare([]byte(b.Username), []byte(s.cfg.BankUsername)) != 1 ||
		subtle.ConstantTimeCompare([]byte(b.Password), []byte(s.cfg.BankPassword)) != 1 {
		writeErrors(w, http.StatusBadRequest, "login_error", "Invalid credentials provided to login to the institution", "")
		return
	}
	mode := b.AccessMode
	if mode == "" {
		mode = "recurrent" // Belvo's default
	}
	if s.cfg.MFA {
		s.askForToken(w, pendingLink{id: uuid.NewString(), institution: b.Institution, externalID: b.ExternalID, mode: mode, resources: res,
			expires: time.Now().Add(s.cfg.MFASessionTTL)})
		return
	}
	s.finishRegistration(w, s.newLink("", b.Institution, b.ExternalID, mode, res, 0), http.StatusCreated)
}

// finishRegistration answers 201 with the link and sends its webhooks.
func (s *Server) finishRegistration(w http.ResponseWriter, l *link, status int) {
	if s.cfg.EarlyWebhooks {
		// Belvo may call back before the registration answer reaches the
		// client: deliver synchronously (no delay) before answering.
		s.sendHistorical(l, 0, true)
	} else {
		s.sendHistorical(l, s.cfg.WebhookDelay, false)
	}
	s.mu.Lock()
	v := s.linkJSON(l)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, v)
}

// newLink records a link; id is the one an MFA challenge already named
// ("" for a new one), transactions overrides the configured size when > 0.
func (s *Server) newLink(id, institution, externalID, mode string, res []belvo.Resource, transactions int) *link {
	if transactions <= 0 {
		transactions = s.cfg.Transactions
	}
	if id == "" {
		id = uuid.NewString()
	}
	l := &link{
		ID: id, Institution: institution, ExternalID: externalID, AccessMode: mode,
		FetchResources: res, CreatedAt: s.clock(),
		Accounts: s.cfg.Accounts, Status: "valid",
		counts:  map[belvo.Resource]int{},
		batches: map[belvo.Resource][]batch{},
		deleted: map[belvo.Resource]map[int]bool{},
		version: map[belvo.Resource]map[int]int{},
	}
	for _, r := range belvo.AllResources() {
		l.counts[r] = s.cfg.OtherRows
	}
	l.counts[belvo.Accounts], l.counts[belvo.Transactions] = s.cfg.Accounts, transactions
	l.counts[belvo.Owners], l.counts[belvo.Invoices] = s.cfg.Owners, s.cfg.Invoices
	for _, r := range s.cfg.EmptyResources {
		l.counts[r] = 0
	}
	for i := range l.Accounts {
		l.accountJSON = append(l.accountJSON, s.account(l, i))
	}
	s.mu.Lock()
	s.links[l.ID] = l
	s.mu.Unlock()
	s.log.Info("sandbox link created", zap.String("link_id", l.ID), zap.String("institution", institution),
		zap.Any("fetch_resources", res), zap.Int("transactions", transactions))
	return l
}

// linkJSON is the Link object (spec v1.223.0 fields).
func (s *Server) linkJSON(l *link) map[string]any {
	res := make([]string, 0, len(l.FetchResources))
	for _, r := range l.FetchResources {
		res = append(res, string(r))
	}
	v := map[string]any{
		"id": l.ID, "institution": l.Institution, "access_mode": l.AccessMode,
		"last_accessed_at": ts(l.CreatedAt), "created_at": ts(l.CreatedAt),
		"institution_user_id": institutionUserID(l), "status": l.Status,
		"created_by":   uuid.NewSHA1(idSpace, []byte(s.cfg.SecretID)).String(),
		"refresh_rate": nil, "credentials_storage": "store", "fetch_resources": res,
		"stale_in": "365d",
	}
	if l.AccessMode == "recurrent" {
		v["refresh_rate"] = "7d"
	}
	if l.ExternalID != "" {
		v["external_id"] = l.ExternalID
	}
	return v
}

func (s *Server) getLink(w http.ResponseWriter, r *http.Request) {
	l, ok := s.link(mux.Vars(r)["id"])
	if !ok {
		writeErrors(w, http.StatusNotFound, "not_found", "Not found.", "")
		return
	}
	s.mu.Lock()
	v := s.linkJSON(l)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, v)
}

// tokenBody is POST /api/token/.
type tokenBody struct {
	ID              string   `json:"id"`
	Password        string   `json:"password"`
	Scopes          string   `json:"scopes"`
	ExternalID      string   `json:"external_id"`
	FetchHistorical bool     `json:"fetch_historical"`
	FetchResources  []string `json:"fetch_resources"`
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	var b tokenBody
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&b); err != nil {
		writeErrors(w, http.StatusBadRequest, "invalid", "JSON parse error - "+err.Error(), "")
		return
	}
	if b.ID != s.cfg.SecretID || b.Password != s.cfg.SecretPassword {
		writeErrors(w, http.StatusBadRequest, "invalid", "Invalid secret id or password.", "id")
		return
	}
	if b.Scopes == "" {
		writeErrors(w, http.StatusBadRequest, "required", "This field is required.", "scopes")
		return
	}
	res, err := belvo.ParseResources(b.FetchResources)
	if err != nil {
		writeErrors(w, http.StatusBadRequest, "invalid_fetch_resources", err.Error(), "fetch_resources")
		return
	}
	if b.FetchHistorical && len(res) == 0 {
		writeErrors(w, http.StatusBadRequest, "invalid_fetch_historical", "fetch_resources is required when fetch_historical is true.", "fetch_resources")
		return
	}
	access, refresh := hexID(uuid.New()), hexID(uuid.New())
	s.mu.Lock()
	s.tokens[access] = widgetToken{ExternalID: b.ExternalID, FetchHistorical: b.FetchHistorical, FetchResources: res}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"access": access, "refresh": refresh})
}

// widgetConnectBody simulates a user finishing the Connect Widget.
type widgetConnectBody struct {
	Token        string `json:"token"`
	Institution  string `json:"institution"`
	Transactions int    `json:"transactions"`
}

// widgetConnect creates the link a widget session would create and, when the
// token asked for it, starts the historical webhooks: this is how the widget
// flow's webhooks reach the app before the app has started anything.
func (s *Server) widgetConnect(w http.ResponseWriter, r *http.Request) {
	var b widgetConnectBody
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&b); err != nil {
		writeErrors(w, http.StatusBadRequest, "invalid", "JSON parse error - "+err.Error(), "")
		return
	}
	s.mu.Lock()
	tok, ok := s.tokens[b.Token]
	delete(s.tokens, b.Token)
	s.mu.Unlock()
	if !ok {
		writeErrors(w, http.StatusBadRequest, "invalid", "Unknown or used widget token.", "token")
		return
	}
	if b.Institution == "" {
		b.Institution = "erebor_mx_retail"
	}
	if !institutions[b.Institution] {
		writeErrors(w, http.StatusBadRequest, "does_not_exist", "Institution does not exist.", "institution")
		return
	}
	var res []belvo.Resource
	if tok.FetchHistorical {
		res = tok.FetchResources
	}
	l := s.newLink("", b.Institution, tok.ExternalID, "single", res, b.Transactions)
	s.sendHistorical(l, s.cfg.WebhookDelay, false)
	writeJSON(w, http.StatusCreated, map[string]string{"link_id": l.ID})
}

// expected tells tests and the demo how many rows each fetched resource has.
func (s *Server) expected(w http.ResponseWriter, r *http.Request) {
	counts, ok := s.Expected(mux.Vars(r)["id"])
	if !ok {
		writeErrors(w, http.StatusNotFound, "not_found", "Not found.", "")
		return
	}
	writeJSON(w, http.StatusOK, counts)
}

// resendWebhooks delivers every historical_update of a link again, with the
// same ids, as Belvo does when it retries.
func (s *Server) resendWebhooks(w http.ResponseWriter, r *http.Request) {
	l, ok := s.link(mux.Vars(r)["id"])
	if !ok {
		writeErrors(w, http.StatusNotFound, "not_found", "Not found.", "")
		return
	}
	s.mu.Lock()
	sent := append([]Webhook(nil), l.sent...)
	s.mu.Unlock()
	s.sendAll(sent, 0, false)
	w.WriteHeader(http.StatusAccepted)
}

// skipped reports whether webhooks for a resource are suppressed.
func (s *Server) skipped(r belvo.Resource) bool { return slices.Contains(s.cfg.SkipWebhooks, r) }

// institutionUserID is Belvo's 44-character id of the user at the institution
// (base64 of a SHA-256, as the spec's pattern requires).
func institutionUserID(l *link) string {
	sum := sha256.Sum256([]byte(l.Institution + "/" + SandboxUsername))
	return base64.URLEncoding.EncodeToString(sum[:])
}

// countRows serves GET /_sandbox/links/{id}/count?resource=R&<filters>: how
// many rows a list request with those filters returns (for demos and tests
// in other processes).
func (s *Server) countRows(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	res, err := belvo.ParseResource(q.Get("resource"))
	if err != nil {
		writeErrors(w, http.StatusBadRequest, "invalid", err.Error(), "resource")
		return
	}
	l, ok := s.link(mux.Vars(r)["id"])
	if !ok {
		writeErrors(w, http.StatusNotFound, "not_found", "Not found.", "")
		return
	}
	q.Del("resource")
	s.mu.Lock()
	n := len(s.visibleLocked(l, res, q))
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]int{"count": n})
}

// pendingLink is a registration waiting for its MFA token; id is the link
// it becomes, named in the 428 as Belvo does (TokenRequiredResponse.link).
type pendingLink struct {
	id                            string
	institution, externalID, mode string
	resources                     []belvo.Resource
	expires                       time.Time
}

// askForToken answers 428 token_required with a new session.
func (s *Server) askForToken(w http.ResponseWriter, p pendingLink) {
	session := hexID(uuid.New())
	s.mu.Lock()
	s.mfa[session] = p
	s.mu.Unlock()
	writeJSON(w, http.StatusPreconditionRequired, []any{map[string]any{
		"code": "token_required", "message": "A MFA token is required by the institution to login",
		"request_id": requestID(), "session": session, "link": p.id, "expiry": int(time.Until(p.expires).Seconds()),
	}})
}

// completeLink serves PATCH /api/links/ {session, token}: the registration
// resumes with the right token, asks again on a wrong one, and fails with
// session_expired once the session is over.
func (s *Server) completeLink(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Session string `json:"session"`
		Link    string `json:"link"`
		Token   string `json:"token"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&b); err != nil {
		writeErrors(w, http.StatusBadRequest, "invalid", "JSON parse error - "+err.Error(), "")
		return
	}
	s.mu.Lock()
	p, ok := s.mfa[b.Session]
	if ok && time.Now().After(p.expires) {
		delete(s.mfa, b.Session)
		ok = false
		p.expires = time.Time{}
	}
	s.mu.Unlock()
	switch {
	case b.Link == "":
		// Belvo's PatchBody requires the link of the 428 with its session.
		writeErrors(w, http.StatusBadRequest, "required", "This field is required.", "link")
	case !ok:
		writeErrors(w, http.StatusBadRequest, "session_expired", "The session you are trying to resume has expired.", "session")
	case b.Link != p.id:
		writeErrors(w, http.StatusBadRequest, "invalid", "The link does not match the session.", "link")
	case subtle.ConstantTimeCompare([]byte(b.Token), []byte(s.cfg.MFAToken)) != 1:
		s.askForToken(w, p)
		s.mu.Lock()
		delete(s.mfa, b.Session)
		s.mu.Unlock()
	default:
		s.mu.Lock()
		delete(s.mfa, b.Session)
		s.mu.Unlock()
		s.finishRegistration(w, s.newLink(p.id, p.institution, p.externalID, p.mode, p.resources, 0), http.StatusOK)
	}
}

// listLinks is GET /api/links/ with the filters an app uses to find a link it
// may have created (external_id, institution, created_at__gte), paginated
// in Belvo's envelope, newest first.
func (s *Server) listLinks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size, err := intParam(q, "page_size", defaultPageSize)
	if err != nil || size < 1 || size > maxPageSize {
		writeErrors(w, http.StatusBadRequest, "invalid", "page_size must be an integer from 1 to 1000.", "page_size")
		return
	}
	page, err := intParam(q, "page", 1)
	if err != nil || page < 1 {
		writeErrors(w, http.StatusNotFound, "not_found", "Invalid page.", "")
		return
	}
	var since time.Time
	if v := q.Get("created_at__gte"); v != "" {
		if since, err = time.Parse(time.DateOnly, v); err != nil {
			writeErrors(w, http.StatusBadRequest, "invalid", "Enter a valid date (YYYY-MM-DD).", "created_at__gte")
			return
		}
	}
	s.mu.Lock()
	var match []*link
	for _, l := range s.links {
		if (q.Get("external_id") == "" || l.ExternalID == q.Get("external_id")) &&
			(q.Get("institution") == "" || l.Institution == q.Get("institution")) && !l.CreatedAt.Before(since) {
			match = append(match, l)
		}
	}
	sort.Slice(match, func(i, j int) bool { return match[i].CreatedAt.After(match[j].CreatedAt) })
	from, to := min((page-1)*size, len(match)), min(page*size, len(match))
	rows := make([]json.RawMessage, 0, to-from)
	for _, l := range match[from:to] {
		b, _ := json.Marshal(s.linkJSON(l)) // maps of plain values always marshal
		rows = append(rows, b)
	}
	s.mu.Unlock()
	last := max(1, (len(match)+size-1)/size)
	if page > last {
		writeErrors(w, http.StatusNotFound, "not_found", "Invalid page.", "")
		return
	}
	writePage(w, len(match), pageURL(r, page+1, page < last), pageURL(r, page-1, page > 1), rows)
}
