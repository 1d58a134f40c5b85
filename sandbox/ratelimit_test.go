package sandbox

import (
	"net/http"
	"testing"
	"time"
)

func TestRateLimitPosts(t *testing.T) {
	cases := []struct {
		name  string
		limit int
		// refused marks, for POSTs 1, 2, 3…, which are answered 429.
		refused []bool
	}{
		{"off", 0, []bool{false, false, false, false, false}},
		{"every 2nd, from the first", 2, []bool{true, false, true, false, true}},
		{"1 is taken as 2", 1, []bool{true, false, true, false, true}},
		{"every 3rd, from the first", 3, []bool{true, false, false, true, false}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, Config{RateLimitPosts: c.limit, WebhookDelay: time.Hour, AsyncDelay: time.Hour})
			// A link to send async requests and refreshes for, made while the
			// limiter is bypassed so the scripted sequence starts at POST 1.
			link := h.s.newLink("", "erebor_mx_retail", "", "single", nil, 0).ID
			posts := []struct {
				path   string
				body   map[string]any
				header map[string]string
				ok     int
			}{
				{"/api/links/", map[string]any{"institution": "erebor_mx_retail", "username": "bnk100", "password": "full", "external_id": "rl-1"}, nil, 201},
				{"/api/links/", map[string]any{"institution": "erebor_mx_retail", "username": "bnk100", "password": "full", "external_id": "rl-2"}, nil, 201},
				{"/api/transactions/", map[string]any{"link": link, "date_from": "2026-10-01", "date_to": "2026-10-31"}, map[string]string{"X-Belvo-Request-Mode": "async"}, 202},
				{"/api/links/" + link + "/refresh/", map[string]any{}, nil, 202},
				{"/api/invoices/", map[string]any{"link": link, "date_from": "2026-10-01", "date_to": "2026-10-31", "type": "INFLOW"}, map[string]string{"X-Belvo-Request-Mode": "async"}, 202},
			}
			wantLinks, wantAsync, wantRefreshes := 1, int64(0), 0
			for i, p := range posts {
				status, header, b := h.do("POST", p.path, p.body, p.header)
				if c.refused[i] {
					if status != http.StatusTooManyRequests || header.Get("Retry-After") != "1" {
						t.Fatalf("POST %d %s: HTTP %d, Retry-After %q, want 429 and 1: %s", i+1, p.path, status, header.Get("Retry-After"), b)
					}
					if e := belvoErrorOf(t, b); e["code"] != "too_many_requests" {
						t.Errorf("429 error %v", e)
					}
					continue
				}
				if status != p.ok {
					t.Fatalf("POST %d %s: HTTP %d, want %d: %s", i+1, p.path, status, p.ok, b)
				}
				switch {
				case p.path == "/api/links/":
					wantLinks++
				case p.ok == 202:
					wantAsync++
				}
				if p.path == "/api/links/"+link+"/refresh/" {
					wantRefreshes++
				}
			}
			h.s.mu.Lock()
			links := len(h.s.links)
			h.s.mu.Unlock()
			if links != wantLinks || h.s.AsyncRequests() != wantAsync || h.s.Refreshes(link) != wantRefreshes {
				t.Errorf("%d links, %d async requests, %d refreshes; want %d, %d, %d: a refused POST did something",
					links, h.s.AsyncRequests(), h.s.Refreshes(link), wantLinks, wantAsync, wantRefreshes)
			}
			// GETs are never limited.
			if status, _, b := h.do("GET", "/api/links/"+link+"/", nil, nil); status != 200 {
				t.Errorf("GET link: HTTP %d: %s", status, b)
			}
		})
	}
}

func TestRateLimitedPostSucceedsOnRetryAndSendsNoWebhook(t *testing.T) {
	h := newHarness(t, Config{RateLimitPosts: 2})
	body := map[string]any{"institution": "erebor_mx_retail", "username": "bnk100", "password": "full",
		"fetch_resources": []string{"ACCOUNTS"}}
	status, header, b := h.do("POST", "/api/links/", body, nil)
	if status != 429 || header.Get("Retry-After") != "1" {
		t.Fatalf("first POST: HTTP %d, Retry-After %q: %s", status, header.Get("Retry-After"), b)
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(h.hook.webhooks()); n != 0 {
		t.Fatalf("%d webhooks after a refused registration", n)
	}
	link := h.register("", "ACCOUNTS") // the retry
	if got := h.waitWebhooks(1); len(got) != 1 || got[0]["link_id"] != link {
		t.Errorf("webhooks %v, want one for %s", got, link)
	}
}
