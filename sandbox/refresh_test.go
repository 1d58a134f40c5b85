package sandbox

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
)

func TestRefreshSendsOneWebhookPerResource(t *testing.T) {
	cases := []struct {
		name          string
		cfg           Config
		linkResources []string
		body          any // nil: no body at all
		header        map[string]string
		want          []string // webhook_types, sorted
		copies        int
		wantCode      string // per webhook, "" for historical_update
	}{
		{name: "named resources", body: map[string]any{"fetch_resources": []string{"ACCOUNTS", "TRANSACTIONS"}},
			linkResources: []string{"OWNERS"}, want: []string{"ACCOUNTS", "TRANSACTIONS"}, copies: 1},
		{name: "resource names in any case, duplicates dropped", body: map[string]any{"fetch_resources": []string{"transactions", "TRANSACTIONS"}},
			want: []string{"TRANSACTIONS"}, copies: 1},
		{name: "no body: the link's fetch_resources", linkResources: []string{"OWNERS", "INVOICES"},
			want: []string{"INVOICES", "OWNERS"}, copies: 1},
		{name: "empty list: the link's fetch_resources", body: map[string]any{"fetch_resources": []string{}}, linkResources: []string{"ACCOUNTS"},
			want: []string{"ACCOUNTS"}, copies: 1},
		{name: "link without fetch_resources: accounts, transactions, owners", body: map[string]any{},
			want: []string{"ACCOUNTS", "OWNERS", "TRANSACTIONS"}, copies: 1},
		{name: "the async header is accepted, not needed", body: map[string]any{"fetch_resources": []string{"OWNERS"}},
			header: map[string]string{"X-Belvo-Request-Mode": "async"}, want: []string{"OWNERS"}, copies: 1},
		{name: "duplicates on purpose", cfg: Config{DuplicateWebhooks: true}, body: map[string]any{"fetch_resources": []string{"ACCOUNTS", "OWNERS"}},
			want: []string{"ACCOUNTS", "OWNERS"}, copies: 2},
		{name: "webhooks before the 202", cfg: Config{AsyncWebhookBefore202: true}, body: map[string]any{"fetch_resources": []string{"TRANSACTIONS"}},
			want: []string{"TRANSACTIONS"}, copies: 1},
		{name: "recurrent shape", cfg: Config{CompletionShape: CompletionRecurrent}, body: map[string]any{"fetch_resources": []string{"TRANSACTIONS"}},
			want: []string{"TRANSACTIONS"}, copies: 1, wantCode: "new_transactions_available"},
		{name: "failing on purpose", cfg: Config{FailAsync: "institution_down"}, body: map[string]any{"fetch_resources": []string{"ACCOUNTS", "OWNERS"}},
			want: []string{"ACCOUNTS", "OWNERS"}, copies: 1},
		{name: "skipped resources only concern a new link's webhooks", cfg: Config{SkipWebhooks: []belvo.Resource{belvo.Owners}},
			body: map[string]any{"fetch_resources": []string{"OWNERS"}}, want: []string{"OWNERS"}, copies: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.WebhookDelay = time.Hour // keep the link's own historical webhooks out of the way
			if c.cfg.AsyncWebhookBefore202 {
				c.cfg.AsyncDelay = time.Hour // only the synchronous first attempt can arrive
			}
			h := newHarness(t, c.cfg)
			link := h.register("refresh-ext", c.linkResources...)
			status, _, b := h.do("POST", "/api/links/"+link+"/refresh/", c.body, c.header)
			if status != http.StatusAccepted {
				t.Fatalf("refresh: HTTP %d: %s", status, b)
			}
			rid := requestIDOf(t, b)
			if c.cfg.AsyncWebhookBefore202 {
				if n := len(h.hook.webhooks()); n != len(c.want) {
					t.Fatalf("%d webhooks had arrived when the 202 came, want %d", n, len(c.want))
				}
			}
			got := h.waitWebhooks(len(c.want) * c.copies)
			if len(got) != len(c.want)*c.copies {
				t.Fatalf("%d webhooks, want %d: %v", len(got), len(c.want)*c.copies, got)
			}
			types := map[string]int{}
			for _, wh := range got {
				typ, _ := wh["webhook_type"].(string)
				types[typ]++
				res := belvo.Resource(typ)
				code := c.wantCode
				if code == "" {
					code = "historical_update"
				}
				if wh["request_id"] != rid || wh["link_id"] != link || wh["webhook_code"] != code || wh["external_id"] != "refresh-ext" {
					t.Errorf("webhook %v: want request_id %s, link %s, code %s", wh, rid, link, code)
				}
				data, _ := wh["data"].(map[string]any)
				if c.cfg.FailAsync != "" {
					if data["error_code"] != c.cfg.FailAsync || data["status"] == nil || data["error_message"] == nil {
						t.Errorf("failed refresh webhook data %v", data)
					}
					continue
				}
				want := map[string]any{"total_" + strings.ToLower(typ): float64(h.s.Count(link, res, nil))}
				if !maps.Equal(data, want) {
					t.Errorf("%s data %v, want %v", typ, data, want)
				}
			}
			if gotTypes := slices.Sorted(maps.Keys(types)); !slices.Equal(gotTypes, c.want) {
				t.Errorf("webhook types %v, want %v", gotTypes, c.want)
			}
			for typ, n := range types {
				if n != c.copies {
					t.Errorf("%d %s webhooks, want %d", n, typ, c.copies)
				}
			}
			if h.s.Refreshes(link) != 1 || h.s.AsyncRequests() != 1 {
				t.Errorf("Refreshes = %d, AsyncRequests = %d; want 1 and 1", h.s.Refreshes(link), h.s.AsyncRequests())
			}
		})
	}
}

func TestRefreshErrors(t *testing.T) {
	h := newHarness(t, Config{WebhookDelay: time.Hour})
	link := h.register("", "ACCOUNTS")
	cases := []struct {
		name, path string
		body       any
		status     int
		code       string
		field      string
	}{
		{"unknown link", "/api/links/00000000-0000-4000-8000-000000000000/refresh/", nil, 404, "not_found", ""},
		{"unknown resource", "/api/links/" + link + "/refresh/", map[string]any{"fetch_resources": []string{"ACCOUNTS", "NARNIA"}}, 400, "invalid", "fetch_resources"},
		{"not JSON", "/api/links/" + link + "/refresh/", []byte("{fetch"), 400, "invalid", ""},
		{"fetch_resources not a list", "/api/links/" + link + "/refresh/", map[string]any{"fetch_resources": "ACCOUNTS"}, 400, "invalid", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, _, b := h.do("POST", c.path, c.body, nil)
			if status != c.status {
				t.Fatalf("HTTP %d, want %d: %s", status, c.status, b)
			}
			e := belvoErrorOf(t, b)
			if e["code"] != c.code || (c.field != "" && e["field"] != c.field) {
				t.Errorf("error %v, want code %s field %q", e, c.code, c.field)
			}
			if c.code == "invalid" && c.field != "" && !strings.Contains(e["message"].(string), "NARNIA") {
				t.Errorf("message %q does not name the unknown resource", e["message"])
			}
		})
	}
	if h.s.Refreshes(link) != 0 || h.s.AsyncRequests() != 0 {
		t.Errorf("refused refreshes counted: %d, %d", h.s.Refreshes(link), h.s.AsyncRequests())
	}
}

func TestRefreshCooldown(t *testing.T) {
	cases := []struct {
		name     string
		cooldown time.Duration
		after    time.Duration // between the two refreshes
		status   int
		minutes  string // in the 409's message
	}{
		{"default 10 minutes, at once", 0, 0, 409, "10"},
		{"3m30s later: 6m30s left, rounded up", 0, 3*time.Minute + 30*time.Second, 409, "7"},
		{"9m59s later: never 0 minutes", 0, 9*time.Minute + 59*time.Second, 409, "1"},
		{"10 minutes later", 0, 10 * time.Minute, 202, ""},
		{"90 s cooldown, at once", 90 * time.Second, 0, 409, "2"},
		{"no cooldown", -1, 0, 202, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, Config{RefreshCooldown: c.cooldown, WebhookDelay: time.Hour, AsyncDelay: time.Hour})
			clock := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
			h.s.now = func() time.Time { return clock }
			link := h.register("", "ACCOUNTS")
			refresh := func() (int, []byte) {
				status, _, b := h.do("POST", "/api/links/"+link+"/refresh/", nil, nil)
				return status, b
			}
			if status, b := refresh(); status != 202 {
				t.Fatalf("first refresh: HTTP %d: %s", status, b)
			}
			clock = clock.Add(c.after)
			status, b := refresh()
			if status != c.status {
				t.Fatalf("second refresh: HTTP %d, want %d: %s", status, c.status, b)
			}
			wantRefreshes := 2
			if status == 409 {
				wantRefreshes = 1
				e := belvoErrorOf(t, b)
				want := "The link has already been refreshed. Please wait " + c.minutes + " minutes before trying again."
				if e["code"] != "link_refreshed" || e["message"] != want || e["field"] != nil {
					t.Errorf("409 %v, want link_refreshed %q", e, want)
				}
				// The product reads the wait out of the message.
				api := &belvo.APIError{StatusCode: 409, Details: []belvo.ErrorDetail{{Code: "link_refreshed", Message: want}}}
				if got := belvo.Classify(api, 1); got.Name != belvo.ClassRefreshCooldown || got.Delay.String() != c.minutes+"m0s" {
					t.Errorf("Classify = %+v", got)
				}
			}
			if h.s.Refreshes(link) != wantRefreshes {
				t.Errorf("Refreshes = %d, want %d", h.s.Refreshes(link), wantRefreshes)
			}
		})
	}
	t.Run("a short cooldown in real time", func(t *testing.T) {
		h := newHarness(t, Config{RefreshCooldown: 50 * time.Millisecond, WebhookDelay: time.Hour, AsyncDelay: time.Hour})
		link := h.register("", "ACCOUNTS")
		for i, want := range []int{202, 409} {
			if status, _, b := h.do("POST", "/api/links/"+link+"/refresh/", nil, nil); status != want {
				t.Fatalf("refresh %d: HTTP %d, want %d: %s", i+1, status, want, b)
			}
		}
		time.Sleep(80 * time.Millisecond)
		if status, _, b := h.do("POST", "/api/links/"+link+"/refresh/", nil, nil); status != 202 {
			t.Fatalf("refresh after the cooldown: HTTP %d: %s", status, b)
		}
	})
}
