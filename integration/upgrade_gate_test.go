//go:build integration

package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/sandbox"
)

// webhookGate stands between the sandbox (Belvo) and the bridge. A webhook
// its hold function picks is kept and answered 202, as if Belvo had not
// sent it yet; release forwards the kept ones in order and lets every later
// one through. The others go through at once, with the bridge's answer, so
// the sandbox retries what the bridge refuses, as Belvo does. It is how the
// upgrade test keeps executions waiting across an upgrade without timing.
type webhookGate struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	target string // the bridge's webhook URL
	hold   func(sandbox.Webhook) bool
	held   []heldWebhook
}

// heldWebhook is a kept delivery: its body and Authorization header.
type heldWebhook struct {
	body []byte
	auth string
	wh   sandbox.Webhook
}

func newWebhookGate(t *testing.T, hold func(sandbox.Webhook) bool) *webhookGate {
	g := &webhookGate{t: t, hold: hold}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

// URL is where the sandbox posts webhooks.
func (g *webhookGate) URL() string { return g.srv.URL + "/webhooks/belvo" }

// forwardTo sets the bridge's webhook URL (known once the stack runs).
func (g *webhookGate) forwardTo(url string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.target = url
}

func (g *webhookGate) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var wh sandbox.Webhook
	if err := json.Unmarshal(body, &wh); err != nil {
		http.Error(w, "not a webhook: "+err.Error(), http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	if g.hold != nil && g.hold(wh) {
		g.held = append(g.held, heldWebhook{body: body, auth: r.Header.Get("Authorization"), wh: wh})
		g.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		return
	}
	target := g.target
	g.mu.Unlock()
	code, answer := g.post(target, body, r.Header.Get("Authorization"))
	w.WriteHeader(code)
	_, _ = w.Write(answer)
}

// post delivers one webhook to the bridge; a connection error is a 502.
func (g *webhookGate) post(target string, body []byte, auth string) (int, []byte) {
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return http.StatusBadGateway, []byte(err.Error())
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return http.StatusBadGateway, []byte(err.Error())
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, answer
}

// kept reports how many webhooks the gate holds.
func (g *webhookGate) kept() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.held)
}

// release stops holding and delivers what was held, in order, each until
// the bridge accepts it (a minute at most, as Belvo's retries would).
func (g *webhookGate) release() {
	g.mu.Lock()
	held, target := g.held, g.target
	g.held, g.hold = nil, nil
	g.mu.Unlock()
	for _, h := range held {
		deadline := time.Now().Add(time.Minute)
		for {
			code, answer := g.post(target, h.body, h.auth)
			if code == http.StatusAccepted || code == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				g.t.Errorf("held webhook %s (%s %s) refused by the bridge: %d %s",
					h.wh.WebhookID, h.wh.WebhookType, h.wh.WebhookCode, code, answer)
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
}

// String describes what is held, for failure messages.
func (g *webhookGate) String() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var b bytes.Buffer
	for _, h := range g.held {
		ext := ""
		if h.wh.ExternalID != nil {
			ext = *h.wh.ExternalID
		}
		fmt.Fprintf(&b, "%s/%s %s; ", ext, h.wh.WebhookType, h.wh.WebhookCode)
	}
	return b.String()
}
