package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/google/uuid"
	"github.com/gorilla/mux"
	"go.uber.org/zap"
)

// ProcessTypeAsync is the process_type the completion webhook of an async
// request carries under CompletionAsyncRequest. Belvo documents process_type
// as "why the webhook was triggered" and shows historical_update and
// recurrent_update only; this value was this project's assumption, so it is
// no longer the default shape (see CompletionShape).
const ProcessTypeAsync = "async_request"

// asyncBody is the body of an async-capable POST.
type asyncBody struct {
	Link     string `json:"link"`
	Account  string `json:"account"`
	DateFrom string `json:"date_from"`
	DateTo   string `json:"date_to"`
	Type     string `json:"type"`
}

// asyncHandler serves one async-capable POST. With X-Belvo-Request-Mode:
// async it answers 202 {request_id} and sends the completion webhook later
// (or first, with AsyncWebhookBefore202); without it, it answers 201 with the
// rows at once, as Belvo does.
func (s *Server) asyncHandler(op belvo.AsyncOp) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		mode, async := r.Header[belvo.RequestModeHeader]
		if async && (len(mode) != 1 || mode[0] != belvo.RequestModeAsync) {
			writeErrors(w, http.StatusBadRequest, "invalid", `X-Belvo-Request-Mode must be exactly "async".`, belvo.RequestModeHeader)
			return
		}
		var b asyncBody
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&b); err != nil {
			writeErrors(w, http.StatusBadRequest, "invalid", "JSON parse error - "+err.Error(), "")
			return
		}
		req := belvo.AsyncRequest{Op: op.Op, LinkID: b.Link, Account: b.Account, DateFrom: b.DateFrom, DateTo: b.DateTo, Type: b.Type}
		if err := req.Validate(); err != nil {
			writeErrors(w, http.StatusBadRequest, "invalid", err.Error(), "")
			return
		}
		l, ok := s.link(b.Link)
		if !ok {
			writeErrors(w, http.StatusNotFound, "not_found", "Link not found.", "link")
			return
		}
		if !async {
			s.mu.Lock()
			vis := s.visibleLocked(l, op.Resource, filterQuery(req))
			versions := make([]int, len(vis))
			for k, i := range vis {
				versions[k] = l.version[op.Resource][i]
			}
			s.mu.Unlock()
			rows := make([]json.RawMessage, 0, len(vis))
			for k, i := range vis {
				rows = append(rows, s.row(l, op.Resource, i, versions[k]))
			}
			writeJSON(w, http.StatusCreated, rows)
			return
		}
		rid := requestID()
		s.completeAsync(l, op, req, rid)
		writeJSON(w, http.StatusAccepted, map[string]string{"request_id": rid})
	}
}

// deleteLink serves DELETE /api/links/{id}/: 204 at once, or in async mode
// 202 {request_id} and a link_deleted webhook later.
func (s *Server) deleteLink(w http.ResponseWriter, r *http.Request) {
	mode, async := r.Header[belvo.RequestModeHeader]
	if async && (len(mode) != 1 || mode[0] != belvo.RequestModeAsync) {
		writeErrors(w, http.StatusBadRequest, "invalid", `X-Belvo-Request-Mode must be exactly "async".`, belvo.RequestModeHeader)
		return
	}
	l, ok := s.link(mux.Vars(r)["id"])
	if !ok {
		writeErrors(w, http.StatusNotFound, "not_found", "Not found.", "")
		return
	}
	if !async {
		s.forget(l)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	rid := uuid.NewString() // the spec gives this request_id the uuid format
	op, _ := belvo.LookupAsyncOp(belvo.OpLinkDeletion)
	s.completeAsync(l, op, belvo.AsyncRequest{Op: belvo.OpLinkDeletion, LinkID: l.ID}, rid)
	writeJSON(w, http.StatusAccepted, map[string]string{"request_id": rid})
}

func (s *Server) forget(l *link) {
	s.mu.Lock()
	delete(s.links, l.ID)
	s.mu.Unlock()
}

// completeAsync sends the webhook that completes an async request, shaped
// by CompletionShape and carrying the 202's request_id: the data is ready
// (with its count), the link is deleted (LINK link_deleted), or, with
// FailAsync, the request failed with a Belvo error.
func (s *Server) completeAsync(l *link, op belvo.AsyncOp, req belvo.AsyncRequest, rid string) {
	s.asyncCalls.Add(1)
	var wh Webhook
	if op.Op == belvo.OpLinkDeletion {
		wh = s.completionWebhook(l, rid, op.WebhookType, "link_deleted")
	} else {
		wh = s.completionWebhook(l, rid, op.WebhookType, "")
		wh.Data = totalData(op.Resource, s.Count(l.ID, op.Resource, req.ListFilters()))
	}
	if s.cfg.FailAsync != "" {
		wh.Data = s.failData()
	}
	s.log.Info("sandbox async request", zap.String("request_id", rid), zap.String("op", string(op.Op)), zap.String("link_id", l.ID))
	if op.Op == belvo.OpLinkDeletion && s.cfg.FailAsync == "" {
		defer s.forget(l)
	}
	s.sendAll([]Webhook{wh}, s.cfg.AsyncDelay, s.cfg.AsyncWebhookBefore202)
}

// totalData is the data of a completion that made a resource's rows ready:
// total_<resource> as in Belvo's documented historical_update example.
func totalData(res belvo.Resource, n int) map[string]any {
	return map[string]any{"total_" + strings.ToLower(string(res)): n}
}

func filterQuery(req belvo.AsyncRequest) url.Values {
	q := url.Values{}
	for k, v := range req.ListFilters() {
		q.Set(k, v)
	}
	return q
}
