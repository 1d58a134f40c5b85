package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Historical rows are collected when the link is created, rows added later
// when they are added, by the emulator's own clock (ClockOffset away from
// the host's); list filters on created_at and collected_at select by them
// as documented, and refuse what the spec's formats do not allow.
func TestListFiltersOnRowTimestamps(t *testing.T) {
	h := newHarness(t, Config{Transactions: 20, Accounts: 3, ClockOffset: -5 * time.Hour})
	host := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	h.s.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return host }
	link := h.register("", "TRANSACTIONS", "ACCOUNTS")
	mu.Lock()
	host = host.Add(2 * time.Hour)
	mu.Unlock()
	if _, err := h.s.RecurrentEvent(link, "new_transactions_available", 5); err != nil {
		t.Fatal(err)
	}
	old, added := "2026-11-29T07:00:00Z", "2026-11-29T09:00:00Z" // the host's clock less 5 h

	list := func(res string, filters url.Values) (int, []map[string]any, []byte) {
		t.Helper()
		q := url.Values{"link": {link}, "page_size": {"1000"}}
		for k, v := range filters {
			q[k] = v
		}
		status, _, b := h.do("GET", "/api/"+res+"/?"+q.Encode(), nil, nil)
		var p struct {
			Count   int              `json:"count"`
			Results []map[string]any `json:"results"`
		}
		if status == http.StatusOK {
			if err := json.Unmarshal(b, &p); err != nil {
				t.Fatal(err)
			}
			return p.Count, p.Results, b
		}
		return -status, nil, b
	}
	_, rows, _ := list("transactions", nil)
	stamps := map[string]int{}
	for _, r := range rows {
		if r["collected_at"] != r["created_at"] {
			t.Errorf("row %v: collected_at %v, created_at %v", r["id"], r["collected_at"], r["created_at"])
		}
		c, _ := r["collected_at"].(string)
		stamps[c]++
	}
	if stamps["2026-11-29T07:00:00.000Z"] != 20 || stamps["2026-11-29T09:00:00.000Z"] != 5 {
		t.Fatalf("collected_at of the rows: %v; want 20 at link creation, 5 later", stamps)
	}

	tests := []struct {
		name, res, param, value string
		want                    int // rows; -400 for a refused request
	}{
		{"gte timestamp", "transactions", "collected_at__gte", added, 5},
		{"gte timestamp in another zone", "transactions", "collected_at__gte", "2026-11-29T04:00:00-05:00", 5},
		{"gte timestamp with fraction", "transactions", "collected_at__gte", "2026-11-29T08:59:59.999Z", 5},
		{"gt timestamp", "transactions", "collected_at__gt", added, 0},
		{"lt timestamp", "transactions", "collected_at__lt", added, 20},
		{"lte timestamp", "transactions", "collected_at__lte", added, 25},
		{"exact timestamp", "transactions", "collected_at", old, 20},
		{"range of timestamps", "transactions", "collected_at__range", "2026-11-29T06:00:00Z,2026-11-29T08:00:00Z", 20},
		{"gte date", "transactions", "collected_at__gte", "2026-11-29", 25},
		{"gt date", "transactions", "collected_at__gt", "2026-11-29", 0},
		{"lte date", "transactions", "collected_at__lte", "2026-11-28", 0},
		{"created_at gte date", "transactions", "created_at__gte", "2026-11-29", 25},
		{"created_at gte next day", "transactions", "created_at__gte", "2026-11-30", 0},
		{"created_at lt date", "transactions", "created_at__lt", "2026-11-29", 0},
		{"created_at range", "transactions", "created_at__range", "2026-11-28,2026-11-29", 25},
		{"created_at takes no timestamp", "transactions", "created_at__gte", added, -400},
		{"not a date", "transactions", "collected_at__gte", "yesterday", -400},
		{"a range of one", "transactions", "collected_at__range", "2026-11-29", -400},
		{"a range of mixed forms", "transactions", "collected_at__range", "2026-11-29," + added, -400},
		{"accounts: created_at", "accounts", "created_at__gte", "2026-11-29", 3},
		{"accounts: collected_at is not documented, so ignored", "accounts", "collected_at__gte", "2030-01-01", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, b := list(tt.res, url.Values{tt.param: {tt.value}})
			if got != tt.want {
				t.Errorf("%s=%s: %d rows, want %d (%s)", tt.param, tt.value, got, tt.want, b)
			}
		})
	}

	// A day later by the emulator's clock (AdvanceClock), new rows carry
	// that day; the host's clock did not move.
	h.s.AdvanceClock(24 * time.Hour)
	h.s.AdvanceClock(-time.Hour) // never backwards
	if _, err := h.s.RecurrentEvent(link, "new_transactions_available", 3); err != nil {
		t.Fatal(err)
	}
	if got, _, b := list("transactions", url.Values{"collected_at__gte": {"2026-11-30T09:00:00Z"}}); got != 3 {
		t.Errorf("rows collected a day later: %d, want 3 (%s)", got, b)
	}
}
