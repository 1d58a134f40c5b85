package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/gorilla/mux"
	"go.uber.org/zap"
)

// defaultRefreshResources are refreshed when neither the request nor the link
// names any. Belvo then refreshes "all resources supported by the
// institution"; the emulator's institutions are retail banks, and these are
// the core banking resources every one of them supports (refreshing every
// resource Belvo knows would send webhooks no bank sends).
var defaultRefreshResources = []belvo.Resource{belvo.Accounts, belvo.Transactions, belvo.Owners}

// refreshBody is POST /api/links/{id}/refresh/ (RefreshHistoricalDataForLink,
// spec v1.223.0); the body is optional.
type refreshBody struct {
	FetchResources []string `json:"fetch_resources"`
}

// refreshLink serves POST /api/links/{id}/refresh/: 202 {request_id}, then
// one completion webhook per refreshed resource carrying that request_id
// (after AsyncDelay, or before the 202 with AsyncWebhookBefore202). Belvo's
// operation is always asynchronous, so X-Belvo-Request-Mode is neither
// needed nor checked. A second refresh within RefreshCooldown is refused
// with Belvo's 409 link_refreshed.
func (s *Server) refreshLink(w http.ResponseWriter, r *http.Request) {
	var b refreshBody
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&b); err != nil && !errors.Is(err, io.EOF) {
		writeErrors(w, http.StatusBadRequest, "invalid", "JSON parse error - "+err.Error(), "")
		return
	}
	l, ok := s.link(mux.Vars(r)["id"])
	if !ok {
		writeErrors(w, http.StatusNotFound, "not_found", "Not found.", "")
		return
	}
	res, err := refreshResources(b.FetchResources, l)
	if err != nil {
		writeErrors(w, http.StatusBadRequest, "invalid", err.Error(), "fetch_resources")
		return
	}
	s.mu.Lock()
	if left := s.cooldownLeftLocked(l); left > 0 {
		s.mu.Unlock()
		writeErrors(w, http.StatusConflict, "link_refreshed", cooldownMessage(left), "")
		return
	}
	l.refreshes++
	l.lastRefresh = s.now()
	whs := make([]Webhook, 0, len(res))
	rid := requestID()
	for _, re := range res {
		wh := s.completionWebhook(l, rid, string(re), "")
		wh.Data = totalData(re, len(s.visibleLocked(l, re, nil)))
		if s.cfg.FailAsync != "" {
			wh.Data = s.failData()
		}
		whs = append(whs, wh)
	}
	s.mu.Unlock()
	s.asyncCalls.Add(1)
	s.log.Info("sandbox link refresh", zap.String("request_id", rid), zap.String("link_id", l.ID), zap.Strings("fetch_resources", belvo.Names(res)))
	s.sendAll(whs, s.cfg.AsyncDelay, s.cfg.AsyncWebhookBefore202)
	writeJSON(w, http.StatusAccepted, map[string]string{"request_id": rid})
}

// refreshResources are the resources a refresh fetches: the request's, else
// the link's fetch_resources, else defaultRefreshResources. An unknown name
// is an error in Belvo's documented words for unsupported resources.
func refreshResources(names []string, l *link) ([]belvo.Resource, error) {
	for _, n := range names {
		if _, err := belvo.ParseResource(n); err != nil {
			return nil, fmt.Errorf("%q is not a resource. The institution only supports the following resources: %s",
				n, strings.Join(belvo.Names(belvo.AllResources()), ", "))
		}
	}
	res, _ := belvo.ParseResources(names) // every name parsed above
	switch {
	case len(res) > 0:
		return res, nil
	case len(l.FetchResources) > 0:
		return l.FetchResources, nil
	}
	return defaultRefreshResources, nil
}

// cooldownLeftLocked is how long the link's refresh cooldown still runs (0:
// a refresh is taken). The caller holds s.mu.
func (s *Server) cooldownLeftLocked(l *link) time.Duration {
	if l.refreshes == 0 || s.cfg.RefreshCooldown < 0 {
		return 0
	}
	return max(0, s.cfg.RefreshCooldown-s.now().Sub(l.lastRefresh))
}

// cooldownMessage is Belvo's documented 409 message, with the whole minutes
// left rounded up (never 0: the refresh is still refused).
func cooldownMessage(left time.Duration) string {
	minutes := max(1, int((left+time.Minute-1)/time.Minute))
	return fmt.Sprintf("The link has already been refreshed. Please wait %d minutes before trying again.", minutes)
}

// Refreshes is how many refreshes of a link the emulator accepted (202), for
// tests of the product's refresh flows; 0 for an unknown or deleted link.
func (s *Server) Refreshes(linkID string) int {
	l, ok := s.link(linkID)
	if !ok {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return l.refreshes
}

// refreshCount serves GET /_sandbox/links/{id}/refreshes: {"refreshes": n},
// Refreshes for tools in other processes (Control.Refreshes).
func (s *Server) refreshCount(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if _, ok := s.link(id); !ok {
		writeErrors(w, http.StatusNotFound, "not_found", "Not found.", "")
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"refreshes": s.Refreshes(id)})
}
