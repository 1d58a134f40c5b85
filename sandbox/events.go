package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/google/uuid"
	"github.com/gorilla/mux"
)

// eventBody asks the emulator to play a recurrent-link event.
type eventBody struct {
	Code  string `json:"code"`
	Count int    `json:"count"`
}

// RecurrentEvent changes a link's data as Belvo's refresh of a recurrent link
// would, and sends the matching webhook (process_type recurrent_update):
//
//	new_<resource>_available  n new rows (accounts, transactions, owners, invoices, …)
//	transactions_updated      n transactions change; data.updated_transactions lists them
//	transactions_deleted      n transactions go; data.deleted_transactions lists them
//	invalid_credentials, token_required, link_deleted   LINK webhooks
//
// It returns the webhook sent.
func (s *Server) RecurrentEvent(linkID, code string, n int) (Webhook, error) {
	l, ok := s.link(linkID)
	if !ok {
		return Webhook{}, errNotFound
	}
	if n <= 0 {
		n = 1
	}
	wh := Webhook{WebhookID: hexID(uuid.New()), ProcessType: "recurrent_update", WebhookCode: code,
		LinkID: l.ID, RequestID: requestID(), Data: map[string]any{}}
	if l.ExternalID != "" {
		ext := l.ExternalID
		wh.ExternalID = &ext
	}
	switch {
	case strings.HasPrefix(code, "new_") && strings.HasSuffix(code, "_available"):
		res, err := belvo.ParseResource(strings.TrimSuffix(strings.TrimPrefix(code, "new_"), "_available"))
		if err != nil {
			return Webhook{}, err
		}
		s.addRows(l, res, n)
		wh.WebhookType = string(res)
		wh.Data["new_"+strings.ToLower(string(res))] = n
	case code == "transactions_updated":
		wh.WebhookType = string(belvo.Transactions)
		wh.Data["updated_transactions"] = s.touchRows(l, belvo.Transactions, n, false)
	case code == "transactions_deleted":
		wh.WebhookType = string(belvo.Transactions)
		wh.Data["deleted_transactions"] = s.touchRows(l, belvo.Transactions, n, true)
	case code == "invalid_credentials" || code == "token_required":
		wh.WebhookType = "LINK"
		s.setStatus(l, map[string]string{"invalid_credentials": "invalid", "token_required": "token_required"}[code])
		wh.Data = map[string]any{"error_code": map[string]string{"invalid_credentials": "login_error", "token_required": "token_required"}[code],
			"error_message": "Sandbox event " + code, "status": map[string]int{"invalid_credentials": 400, "token_required": 428}[code]}
	case code == "link_deleted":
		wh.WebhookType = "LINK"
		s.forget(l)
	default:
		return Webhook{}, errUnknownEvent
	}
	s.Send(wh)
	return wh, nil
}

type sandboxError string

func (e sandboxError) Error() string { return string(e) }

const (
	errNotFound     sandboxError = "link not found"
	errUnknownEvent sandboxError = "unknown event code (see sandbox.RecurrentEvent)"
)

// events serves POST /_sandbox/links/{id}/events {"code": …, "count": n}.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	var b eventBody
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&b); err != nil {
		writeErrors(w, http.StatusBadRequest, "invalid", "JSON parse error - "+err.Error(), "")
		return
	}
	wh, err := s.RecurrentEvent(mux.Vars(r)["id"], b.Code, b.Count)
	switch {
	case err == errNotFound:
		writeErrors(w, http.StatusNotFound, "not_found", "Not found.", "")
	case err != nil:
		writeErrors(w, http.StatusBadRequest, "invalid", err.Error(), "code")
	default:
		writeJSON(w, http.StatusAccepted, wh)
	}
}
