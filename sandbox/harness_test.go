package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"
)

// hexRequestID is the request_id format of Belvo's 202 answers and errors.
var hexRequestID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// rawReceiver keeps every webhook as the JSON object it arrived as, so tests
// can check which fields are present, not only their values.
type rawReceiver struct {
	mu  sync.Mutex
	got []map[string]any
}

func (r *rawReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var m map[string]any
	if err := json.NewDecoder(req.Body).Decode(&m); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.got = append(r.got, m)
	r.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func (r *rawReceiver) webhooks() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]any(nil), r.got...)
}

// harness is an emulator behind real HTTP, with a webhook receiver.
type harness struct {
	t    *testing.T
	s    *Server
	api  *httptest.Server
	hook *rawReceiver
}

// newHarness starts an emulator; webhooks go to the harness's receiver
// without delay unless cfg says otherwise.
func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, hook: &rawReceiver{}}
	hook := httptest.NewServer(h.hook)
	t.Cleanup(hook.Close)
	cfg.WebhookURL = hook.URL
	if cfg.WebhookDelay == 0 {
		cfg.WebhookDelay = time.Millisecond
	}
	if cfg.AsyncDelay == 0 {
		cfg.AsyncDelay = time.Millisecond
	}
	h.s = New(cfg)
	h.api = httptest.NewServer(h.s.Handler())
	t.Cleanup(func() { h.api.Close(); h.s.Close() })
	return h
}

// do sends an authenticated request (body marshalled unless nil or []byte)
// and returns the answer's status, headers and body.
func (h *harness) do(method, path string, body any, header map[string]string) (int, http.Header, []byte) {
	h.t.Helper()
	var rdr io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rdr = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rdr = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, h.api.URL+path, rdr)
	req.SetBasicAuth(h.s.cfg.SecretID, h.s.cfg.SecretPassword)
	if rdr != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// register creates a link (201 expected) and returns its id.
func (h *harness) register(externalID string, resources ...string) string {
	h.t.Helper()
	body := map[string]any{"institution": "erebor_mx_retail", "username": "bnk100", "password": "full", "fetch_resources": resources}
	if externalID != "" {
		body["external_id"] = externalID
	}
	status, _, b := h.do("POST", "/api/links/", body, nil)
	if status != http.StatusCreated {
		h.t.Fatalf("register: HTTP %d: %s", status, b)
	}
	var l struct{ ID string }
	_ = json.Unmarshal(b, &l)
	return l.ID
}

// async sends an async POST and returns the 202's request_id.
func (h *harness) async(path string, body map[string]any) string {
	h.t.Helper()
	status, _, b := h.do("POST", path, body, map[string]string{"X-Belvo-Request-Mode": "async"})
	if status != http.StatusAccepted {
		h.t.Fatalf("POST %s: HTTP %d: %s", path, status, b)
	}
	return requestIDOf(h.t, b)
}

// requestIDOf reads the request_id of a 202 answer, which must be Belvo's
// 32 lower-case hex characters.
func requestIDOf(t *testing.T, b []byte) string {
	t.Helper()
	var a struct {
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal(b, &a); err != nil || !hexRequestID.MatchString(a.RequestID) {
		t.Fatalf("202 body %s: request_id not 32 lower-case hex (%v)", b, err)
	}
	return a.RequestID
}

// waitWebhooks waits until the receiver has n webhooks, lets a little more
// time pass so that extra ones would show, and returns them all.
func (h *harness) waitWebhooks(n int) []map[string]any {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(h.hook.webhooks()) < n {
		if time.Now().After(deadline) {
			h.t.Fatalf("%d webhooks arrived, want %d: %v", len(h.hook.webhooks()), n, h.hook.webhooks())
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	return h.hook.webhooks()
}

// belvoErrorOf reads a Belvo error list with exactly one entry whose
// request_id has Belvo's format.
func belvoErrorOf(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var list []map[string]any
	if err := json.Unmarshal(b, &list); err != nil || len(list) != 1 {
		t.Fatalf("not a one-entry Belvo error list: %s (%v)", b, err)
	}
	if rid, _ := list[0]["request_id"].(string); !hexRequestID.MatchString(rid) {
		t.Errorf("error request_id %q is not 32 lower-case hex", rid)
	}
	return list[0]
}
