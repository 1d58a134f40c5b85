package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
)

// receiver is a webhook endpoint that fails its first answers on purpose.
type receiver struct {
	mu        sync.Mutex
	failFirst int
	slowFirst time.Duration
	attempts  int
	got       []Webhook
	auth      []string
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.attempts++
	n := r.attempts
	r.mu.Unlock()
	if n == 1 && r.slowFirst > 0 {
		// Too late: the sender has given up, so this answer does not count.
		time.Sleep(r.slowFirst)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if n <= r.failFirst {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var wh Webhook
	_ = json.NewDecoder(req.Body).Decode(&wh)
	r.mu.Lock()
	r.got = append(r.got, wh)
	r.auth = append(r.auth, req.Header.Get("Authorization"))
	r.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func (r *receiver) snapshot() (int, []Webhook, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts, append([]Webhook(nil), r.got...), append([]string(nil), r.auth...)
}

func waitDelivered(t *testing.T, s *Server, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.Delivered() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d webhooks delivered, want %d", s.Delivered(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestWebhookDelivery(t *testing.T) {
	cases := []struct {
		name         string
		rcv          *receiver
		cfg          Config
		wantAccepted int // deliveries answered 2xx
		wantAttempts int
	}{
		{name: "one historical_update per resource, with the Authorization value",
			rcv: &receiver{}, wantAccepted: 3, wantAttempts: 3},
		{name: "answers other than 2xx are retried with backoff",
			rcv: &receiver{failFirst: 2}, wantAccepted: 3, wantAttempts: 5},
		{name: "an answer slower than the timeout is retried",
			rcv: &receiver{slowFirst: 400 * time.Millisecond}, cfg: Config{WebhookTimeout: 200 * time.Millisecond}, wantAccepted: 3, wantAttempts: 4},
		{name: "duplicates on purpose",
			rcv: &receiver{}, cfg: Config{DuplicateWebhooks: true}, wantAccepted: 6, wantAttempts: 6},
		{name: "a skipped resource never gets its webhook",
			rcv: &receiver{}, cfg: Config{SkipWebhooks: []belvo.Resource{belvo.Owners}}, wantAccepted: 2, wantAttempts: 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hook := httptest.NewServer(c.rcv)
			defer hook.Close()
			cfg := c.cfg
			cfg.WebhookURL, cfg.WebhookAuthorization = hook.URL, "Bearer xyz"
			cfg.WebhookDelay, cfg.WebhookBackoff = time.Millisecond, 10*time.Millisecond
			s := New(cfg)
			defer s.Close()
			api := httptest.NewServer(s.Handler())
			defer api.Close()
			body, _ := json.Marshal(map[string]any{"institution": "erebor_mx_retail", "username": "bnk100", "password": "full",
				"fetch_resources": []string{"ACCOUNTS", "TRANSACTIONS", "OWNERS"}})
			req, _ := http.NewRequest("POST", api.URL+"/api/links/", bytes.NewReader(body))
			req.SetBasicAuth("sandbox-secret-id", "sandbox-secret-password")
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != 201 {
				t.Fatalf("register: %v %v", err, resp)
			}
			var link struct{ ID string }
			_ = json.NewDecoder(resp.Body).Decode(&link)
			waitDelivered(t, s, int64(c.wantAccepted))
			time.Sleep(50 * time.Millisecond) // nothing more may arrive
			attempts, got, auth := c.rcv.snapshot()
			if len(got) != c.wantAccepted || attempts != c.wantAttempts {
				t.Fatalf("%d accepted in %d attempts, want %d in %d", len(got), attempts, c.wantAccepted, c.wantAttempts)
			}
			types := map[string]int{}
			for i, wh := range got {
				if wh.LinkID != link.ID || wh.WebhookCode != "historical_update" || wh.WebhookID == "" || auth[i] != "Bearer xyz" {
					t.Errorf("webhook %+v with Authorization %q", wh, auth[i])
				}
				types[wh.WebhookType]++
			}
			if c.cfg.SkipWebhooks != nil && types["OWNERS"] != 0 {
				t.Errorf("skipped resource got a webhook: %v", types)
			}
		})
	}
}

func TestEarlyWebhooksArriveBeforeTheRegistrationAnswer(t *testing.T) {
	rcv := &receiver{}
	hook := httptest.NewServer(rcv)
	defer hook.Close()
	s := New(Config{WebhookURL: hook.URL, EarlyWebhooks: true})
	defer s.Close()
	api := httptest.NewServer(s.Handler())
	defer api.Close()
	body, _ := json.Marshal(map[string]any{"institution": "erebor_mx_retail", "username": "bnk100", "password": "full",
		"fetch_resources": []string{"ACCOUNTS", "OWNERS"}})
	req, _ := http.NewRequest("POST", api.URL+"/api/links/", bytes.NewReader(body))
	req.SetBasicAuth("sandbox-secret-id", "sandbox-secret-password")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("register: %v %v", err, resp)
	}
	if _, got, _ := rcv.snapshot(); len(got) != 2 {
		t.Fatalf("%d webhooks had arrived when the 201 came, want 2", len(got))
	}
}

func TestDataIsDeterministicAndLarge(t *testing.T) {
	l := &link{ID: "11111111-2222-4333-8444-555555555555", Institution: "erebor_mx_retail", CreatedAt: epoch,
		Accounts: 3, counts: map[belvo.Resource]int{belvo.Transactions: 100_000}}
	a, b, other := New(Config{Seed: 7}), New(Config{Seed: 7}), New(Config{Seed: 8})
	for _, i := range []int{0, 50_000, 99_999} {
		ra, rb, ro := a.row(l, belvo.Transactions, i, 0), b.row(l, belvo.Transactions, i, 0), other.row(l, belvo.Transactions, i, 0)
		if !bytes.Equal(ra, rb) {
			t.Errorf("row %d differs between two emulators with the same seed", i)
		}
		if bytes.Equal(ra, ro) {
			t.Errorf("row %d is the same under another seed", i)
		}
		if id, err := belvo.RowID(ra); err != nil || id != rowID(l.ID, belvo.Transactions, i) {
			t.Errorf("row %d id %q, %v", i, id, err)
		}
	}
	a.mu.Lock()
	n := len(a.visibleLocked(l, belvo.Transactions, nil))
	a.mu.Unlock()
	if n != 100_000 {
		t.Fatalf("%d rows visible, want 100000", n)
	}
}
