package sandbox

import (
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/belvo-temporal/backbone/belvo"
)

// wantProcessType is each shape's process_type ("" means no field at all).
var wantProcessType = map[CompletionShape]string{
	CompletionHistorical:   "historical_update",
	CompletionRecurrent:    "recurrent_update",
	CompletionAsyncRequest: "async_request",
	CompletionNone:         "",
}

func TestCompletionWebhookShapes(t *testing.T) {
	type request struct {
		name       string
		externalID string // "" checks that external_id is still sent, as null
		// send starts the request on a link and returns the 202's request_id.
		send      func(h *harness, link string) string
		wantType  string
		wantCodes map[CompletionShape]string
		// wantData is the webhook's data, read from the emulator's state.
		wantData func(h *harness, link string) map[string]any
	}
	requests := []request{
		{name: "async transactions", externalID: "shape-tx",
			send: func(h *harness, link string) string {
				return h.async("/api/transactions/", map[string]any{"link": link, "date_from": "2026-10-01", "date_to": "2026-10-31"})
			},
			wantType: "TRANSACTIONS",
			wantCodes: map[CompletionShape]string{CompletionHistorical: "historical_update", CompletionRecurrent: "new_transactions_available",
				CompletionAsyncRequest: "historical_update", CompletionNone: "historical_update"},
			wantData: func(h *harness, link string) map[string]any {
				return map[string]any{"total_transactions": float64(h.s.Count(link, belvo.Transactions, map[string]string{"value_date__range": "2026-10-01,2026-10-31"}))}
			}},
		{name: "async invoices", externalID: "shape-inv",
			send: func(h *harness, link string) string {
				return h.async("/api/invoices/", map[string]any{"link": link, "date_from": "2026-10-01", "date_to": "2026-10-31", "type": "INFLOW"})
			},
			wantType: "INVOICES",
			wantCodes: map[CompletionShape]string{CompletionHistorical: "historical_update", CompletionRecurrent: "new_invoices_available",
				CompletionAsyncRequest: "historical_update", CompletionNone: "historical_update"},
			wantData: func(h *harness, link string) map[string]any {
				return map[string]any{"total_invoices": float64(h.s.Count(link, belvo.Invoices, map[string]string{"invoice_date__range": "2026-10-01,2026-10-31", "type": "INFLOW"}))}
			}},
		{name: "async link deletion, link without external id",
			send: func(h *harness, link string) string {
				status, _, b := h.do("DELETE", "/api/links/"+link+"/", nil, map[string]string{"X-Belvo-Request-Mode": "async"})
				if status != http.StatusAccepted {
					h.t.Fatalf("async delete: HTTP %d: %s", status, b)
				}
				var a struct {
					RequestID string `json:"request_id"`
				}
				_ = json.Unmarshal(b, &a) // the spec gives this request_id the uuid format
				return a.RequestID
			},
			wantType:  "LINK",
			wantCodes: map[CompletionShape]string{CompletionHistorical: "link_deleted", CompletionRecurrent: "link_deleted", CompletionAsyncRequest: "link_deleted", CompletionNone: "link_deleted"},
			wantData:  func(*harness, string) map[string]any { return map[string]any{} }},
	}
	for _, shape := range CompletionShapes() {
		for _, rq := range requests {
			t.Run(string(shape)+"/"+rq.name, func(t *testing.T) {
				h := newHarness(t, Config{CompletionShape: shape})
				link := h.register(rq.externalID) // no fetch_resources: no historical webhooks
				data := rq.wantData(h, link)
				rid := rq.send(h, link)
				got := h.waitWebhooks(1)
				if len(got) != 1 {
					t.Fatalf("%d webhooks, want 1: %v", len(got), got)
				}
				wh := got[0]
				keys := []string{"webhook_id", "webhook_type", "webhook_code", "link_id", "request_id", "external_id", "data"}
				if wantProcessType[shape] != "" {
					keys = append(keys, "process_type")
				}
				if gotKeys := slices.Sorted(maps.Keys(wh)); !slices.Equal(gotKeys, slices.Sorted(slices.Values(keys))) {
					t.Errorf("fields %v, want exactly %v", gotKeys, slices.Sorted(slices.Values(keys)))
				}
				var ext any
				if rq.externalID != "" {
					ext = rq.externalID
				}
				want := map[string]any{"webhook_type": rq.wantType, "webhook_code": rq.wantCodes[shape], "link_id": link,
					"request_id": rid, "external_id": ext, "data": data}
				if pt := wantProcessType[shape]; pt != "" {
					want["process_type"] = pt
				}
				for k, v := range want {
					if !reflect.DeepEqual(wh[k], v) {
						t.Errorf("%s = %#v, want %#v", k, wh[k], v)
					}
				}
				if id, _ := wh["webhook_id"].(string); !hexRequestID.MatchString(id) {
					t.Errorf("webhook_id %q", id)
				}
			})
		}
	}
}

func TestHistoricalWebhooksOfANewLinkKeepTheirShape(t *testing.T) {
	for _, shape := range CompletionShapes() {
		t.Run(string(shape), func(t *testing.T) {
			h := newHarness(t, Config{CompletionShape: shape})
			h.register("", "ACCOUNTS", "OWNERS")
			for _, wh := range h.waitWebhooks(2) {
				if wh["process_type"] != "historical_update" || wh["webhook_code"] != "historical_update" {
					t.Errorf("historical webhook %v", wh)
				}
			}
		})
	}
}

func TestParseCompletionShape(t *testing.T) {
	cases := []struct {
		in      string
		want    CompletionShape
		wantErr bool
	}{
		{"", CompletionHistorical, false},
		{"historical", CompletionHistorical, false},
		{"recurrent", CompletionRecurrent, false},
		{"async_request", CompletionAsyncRequest, false},
		{"none", CompletionNone, false},
		{"HISTORICAL", "", true},
		{"async", "", true},
	}
	for _, c := range cases {
		got, err := ParseCompletionShape(c.in)
		if got != c.want || (err != nil) != c.wantErr {
			t.Errorf("ParseCompletionShape(%q) = %q, %v", c.in, got, err)
		}
		if err != nil {
			for _, s := range CompletionShapes() {
				if !strings.Contains(err.Error(), string(s)) {
					t.Errorf("error %q does not name %q", err, s)
				}
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("New accepted an unknown CompletionShape")
		}
	}()
	New(Config{CompletionShape: "bogus"})
}
