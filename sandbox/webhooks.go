package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/google/uuid"
	"go.uber.org/zap"
)

// Webhook is the body Belvo posts to the app. process_type is left out when
// empty (CompletionNone); external_id is null when the link has none.
type Webhook struct {
	WebhookID   string         `json:"webhook_id"`
	WebhookType string         `json:"webhook_type"`
	ProcessType string         `json:"process_type,omitempty"`
	WebhookCode string         `json:"webhook_code"`
	LinkID      string         `json:"link_id"`
	RequestID   string         `json:"request_id"`
	ExternalID  *string        `json:"external_id"`
	Data        map[string]any `json:"data"`
}

// historicalWebhook is the historical_update of one resource of a link.
func (s *Server) historicalWebhook(l *link, res belvo.Resource) Webhook {
	s.mu.Lock()
	n := len(s.visibleLocked(l, res, nil))
	s.mu.Unlock()
	data := map[string]any{"total_" + strings.ToLower(string(res)): n}
	if res == belvo.Transactions {
		data["first_transaction_date"] = epoch.Add(-time.Duration((n-1)/10) * 24 * time.Hour).Format("2006-01-02")
		data["last_transaction_date"] = epoch.Format("2006-01-02")
	}
	var ext *string
	if l.ExternalID != "" {
		ext = &l.ExternalID
	}
	return Webhook{
		WebhookID: hexID(uuid.New()), WebhookType: string(res), ProcessType: "historical_update", WebhookCode: "historical_update",
		LinkID: l.ID, RequestID: requestID(), ExternalID: ext, Data: data,
	}
}

// sendHistorical delivers one historical_update per requested resource (twice
// each when DuplicateWebhooks is set) and remembers them, so a later resend
// repeats them with the same ids, as Belvo's retries do. With sync the first
// attempt happens before it returns (retries continue in the background).
func (s *Server) sendHistorical(l *link, delay time.Duration, sync bool) {
	var sent []Webhook
	for _, res := range l.FetchResources {
		if s.skipped(res) {
			s.log.Info("sandbox skips webhook on purpose", zap.String("link_id", l.ID), zap.String("resource", string(res)))
			continue
		}
		sent = append(sent, s.historicalWebhook(l, res))
	}
	s.mu.Lock()
	l.sent = append(l.sent, sent...)
	s.mu.Unlock()
	s.sendAll(sent, delay, sync)
}

// sendAll delivers webhooks, each twice with DuplicateWebhooks.
func (s *Server) sendAll(whs []Webhook, delay time.Duration, sync bool) {
	copies := 1
	if s.cfg.DuplicateWebhooks {
		copies = 2
	}
	for _, wh := range whs {
		for range copies {
			if sync {
				s.deliverFirstNow(wh)
			} else {
				s.spawn(func() { s.deliver(wh, delay) })
			}
		}
	}
}

// Send delivers any webhook (used by tests and later flows), asynchronously.
func (s *Server) Send(wh Webhook) { s.spawn(func() { s.deliver(wh, 0) }) }

// spawn runs f in the background unless the server is closing: a webhook
// that starts after Close would race its wait.
func (s *Server) spawn(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// deliverFirstNow makes one attempt before returning (webhooks that must
// arrive before an answer) and leaves retries to the background, so a slow
// receiver cannot hold the answer for minutes.
func (s *Server) deliverFirstNow(wh Webhook) {
	body, _ := json.Marshal(wh)
	if err := s.post(body); err == nil {
		s.delivered.Add(1)
		return
	}
	s.spawn(func() { s.deliver(wh, s.cfg.WebhookBackoff) })
}

// deliver posts a webhook until it is answered 2xx within WebhookTimeout,
// backing off exponentially, as Belvo retries unacknowledged webhooks.
func (s *Server) deliver(wh Webhook, delay time.Duration) {
	if s.cfg.WebhookURL == "" {
		return
	}
	body, _ := json.Marshal(wh)
	log := s.log.With(zap.String("webhook_id", wh.WebhookID), zap.String("link_id", wh.LinkID),
		zap.String("webhook_type", wh.WebhookType), zap.String("webhook_code", wh.WebhookCode))
	wait := delay
	backoff := s.cfg.WebhookBackoff
	for attempt := 1; attempt <= s.cfg.WebhookMaxAttempts; attempt++ {
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(wait):
		}
		err := s.post(body)
		if err == nil {
			s.delivered.Add(1)
			log.Debug("sandbox webhook delivered", zap.Int("attempt", attempt))
			return
		}
		log.Warn("sandbox webhook not acknowledged, will retry", zap.Int("attempt", attempt), zap.Error(err))
		wait, backoff = backoff, min(2*backoff, 30*time.Second)
	}
	log.Error("sandbox webhook abandoned after max attempts", zap.Int("attempts", s.cfg.WebhookMaxAttempts))
}

func (s *Server) post(body []byte) error {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, s.cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if s.cfg.WebhookAuthorization != "" {
		req.Header.Set("Authorization", s.cfg.WebhookAuthorization)
	}
	resp, err := s.hooks.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("answered HTTP %d", resp.StatusCode)
	}
	return nil
}
