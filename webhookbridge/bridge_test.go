package webhookbridge

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/workflows"
)

const auth = "Bearer s3cr3t-value"

// r7webhook is a webhook of request R7, process_type async_request.
const r7webhook = `{"webhook_id":"w2","webhook_type":"TRANSACTIONS","process_type":"async_request","webhook_code":"historical_update","link_id":"L1","request_id":"R7"}`

const valid = `{"webhook_id":"w1","webhook_type":"TRANSACTIONS","webhook_code":"historical_update","link_id":"L1","request_id":"r1","external_id":null,"data":{"total_transactions":3}}`

func TestWebhookHandler(t *testing.T) {
	cases := []struct {
		name        string
		method      string
		auth        string
		contentType string
		body        string
		signalErr   error
		wantStatus  int
		wantInBody  string
		wantSignals int
		wantTarget  string
		wantIDs     int
		wantData    string
		// running, failed: an execution in that state; completed: an
		// execution that completed with result.
		running, failed string
		completed       map[string]string
	}{
		{name: "valid historical_update", body: valid, wantStatus: 202, wantInBody: `"workflow_id":"historical-fetch-L1"`, wantSignals: 1},
		{name: "missing Authorization", auth: "-", body: valid, wantStatus: 401},
		{name: "wrong Authorization of the same length", auth: "Bearer s3cr3t-valuX", body: valid, wantStatus: 401},
		{name: "wrong Authorization, shorter", auth: "Bearer", body: valid, wantStatus: 401},
		{name: "any content type: Belvo does not document it, the body must be JSON", contentType: "text/plain", body: valid, wantStatus: 202,
			wantInBody: `"workflow_id":"historical-fetch-L1"`, wantSignals: 1},
		{name: "no content type at all", contentType: "-", body: valid, wantStatus: 202, wantInBody: `"workflow_id":"historical-fetch-L1"`, wantSignals: 1},
		{name: "malformed JSON keeps the request id", body: `{"request_id": "abc123", "webhook_id": `, wantStatus: 400, wantInBody: `"request_id":"abc123"`},
		{name: "not JSON at all", body: `hello`, wantStatus: 400, wantInBody: "malformed JSON"},
		{name: "missing webhook_id", body: `{"webhook_type":"ACCOUNTS","webhook_code":"historical_update","link_id":"L1"}`, wantStatus: 400, wantInBody: `"field":"webhook_id"`},
		{name: "missing webhook_type", body: `{"webhook_id":"w","webhook_code":"historical_update","link_id":"L1"}`, wantStatus: 400, wantInBody: `"field":"webhook_type"`},
		{name: "missing webhook_code", body: `{"webhook_id":"w","webhook_type":"ACCOUNTS","link_id":"L1"}`, wantStatus: 400, wantInBody: `"field":"webhook_code"`},
		{name: "historical_update without link_id", body: `{"webhook_id":"w","webhook_type":"ACCOUNTS","webhook_code":"historical_update","request_id":"r9"}`, wantStatus: 400, wantInBody: `"field":"link_id"`},
		{name: "body over the limit", body: `{"webhook_id":"` + strings.Repeat("x", 2048) + `"}`, wantStatus: 413},
		{name: "wrong method", method: http.MethodGet, wantStatus: 405},
		{name: "Temporal unavailable: 503, never 202", body: valid, signalErr: errors.New("unavailable"), wantStatus: 503, wantInBody: `"request_id":"r1"`},
		{name: "unknown code: kept durably for a later replay, not dropped", body: `{"webhook_id":"w","webhook_type":"TRANSACTIONS","webhook_code":"brand_new_code","link_id":"L1","data":{"x":1}}`,
			wantStatus: 202, wantInBody: `"routed":false`, wantSignals: 1, wantTarget: "unrouted-webhooks-L1", wantData: `{"x":1}`},
		{name: "oversized webhook_code", body: `{"webhook_id":"w","webhook_type":"TRANSACTIONS","webhook_code":"` + strings.Repeat("x", 65) + `","link_id":"L1"}`, wantStatus: 400, wantInBody: `"field":"webhook_code"`},
		{name: "hostile request id in malformed JSON is not reflected", body: `{"request_id": "<script>", `, wantStatus: 400, wantInBody: `malformed JSON`},
		{name: "a request's webhook while its link has requests in flight goes to the link's registry",
			body:    `{"webhook_id":"w2","webhook_type":"TRANSACTIONS","process_type":"historical_update","webhook_code":"historical_update","link_id":"L1","request_id":"R7"}`,
			running: "link-requests-L1", wantStatus: 202, wantInBody: `"workflow_id":"link-requests-L1"`, wantSignals: 1, wantTarget: "link-requests-L1"},
		{name: "historical_update of our request goes to it, not to the link's fetch", body: `{"webhook_id":"w2","webhook_type":"TRANSACTIONS","process_type":"historical_update","webhook_code":"historical_update","link_id":"L1","request_id":"R7"}`,
			running: "async-request-R7", wantStatus: 202, wantInBody: `"workflow_id":"async-request-R7"`, wantSignals: 1, wantTarget: "async-request-R7"},
		{name: "new_transactions_available of our request goes to it, not to the link's updates", body: `{"webhook_id":"w2","webhook_type":"TRANSACTIONS","process_type":"recurrent_update","webhook_code":"new_transactions_available","link_id":"L1","request_id":"R7"}`,
			running: "async-request-R7", wantStatus: 202, wantInBody: `"workflow_id":"async-request-R7"`, wantSignals: 1, wantTarget: "async-request-R7"},
		{name: "our request's webhook without process_type goes to it", body: `{"webhook_id":"w2","webhook_type":"TRANSACTIONS","webhook_code":"historical_update","link_id":"L1","request_id":"R7"}`,
			running: "async-request-R7", wantStatus: 202, wantInBody: `"workflow_id":"async-request-R7"`, wantSignals: 1, wantTarget: "async-request-R7"},
		{name: "a copy of a webhook our completed request processed is a duplicate", body: r7webhook,
			completed:  map[string]string{"async-request-R7": `{"processed":["w2|TRANSACTIONS|historical_update|L1|R7"]}`},
			wantStatus: 202, wantInBody: `"status":"duplicate"`},
		{name: "a webhook our completed request never processed takes its route by code", body: r7webhook,
			completed:  map[string]string{"async-request-R7": `{"processed":["w1|TRANSACTIONS|historical_update|L1|R7"]}`},
			wantStatus: 202, wantInBody: `"workflow_id":"historical-fetch-L1"`, wantSignals: 1, wantTarget: "historical-fetch-L1"},
		{name: "a completed request from before processed keys were recorded took only its first webhook", body: r7webhook,
			completed: map[string]string{"async-request-R7": `{"request_id":"R7"}`}, wantStatus: 202, wantInBody: `"status":"duplicate"`},
		{name: "a webhook of our request that failed takes its route by code", body: r7webhook,
			failed: "async-request-R7", wantStatus: 202, wantInBody: `"workflow_id":"historical-fetch-L1"`, wantSignals: 1, wantTarget: "historical-fetch-L1"},
		{name: "process_type async_request of no request of ours keeps its route by code", body: `{"webhook_id":"w2","webhook_type":"TRANSACTIONS","process_type":"async_request","webhook_code":"historical_update","link_id":"L1","request_id":"R8"}`,
			wantStatus: 202, wantInBody: `"workflow_id":"historical-fetch-L1"`, wantSignals: 1, wantTarget: "historical-fetch-L1"},
		{name: "recurrent webhook goes to the link's updates", body: `{"webhook_id":"w3","webhook_type":"TRANSACTIONS","process_type":"recurrent_update","webhook_code":"transactions_deleted","link_id":"L1","data":{"deleted_transactions":["t1","t2"]}}`,
			wantStatus: 202, wantInBody: `"workflow_id":"link-updates-L1"`, wantSignals: 1, wantTarget: "link-updates-L1", wantIDs: 2},
		{name: "link status webhook without link_id", body: `{"webhook_id":"w3","webhook_type":"LINK","webhook_code":"invalid_credentials"}`,
			wantStatus: 400, wantInBody: `"field":"link_id"`},
		{name: "a link id Temporal would refuse is a 400, not an endless 503", body: `{"webhook_id":"w","webhook_type":"ACCOUNTS","webhook_code":"historical_update","link_id":"` + strings.Repeat("L", 300) + `"}`,
			wantStatus: 400, wantInBody: `"field":"link_id"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := &recorder{err: c.signalErr, running: map[string]bool{c.running: true}, failed: map[string]bool{c.failed: true},
				completed: c.completed}
			b, err := New(Options{Signaler: rec, TaskQueue: "q", Authorization: auth, MaxBodyBytes: 1024})
			if err != nil {
				t.Fatal(err)
			}
			method := c.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, "/webhooks/belvo", strings.NewReader(c.body))
			switch c.auth {
			case "":
				req.Header.Set("Authorization", auth)
			case "-":
			default:
				req.Header.Set("Authorization", c.auth)
			}
			switch c.contentType {
			case "":
				req.Header.Set("Content-Type", "application/json")
			case "-":
			default:
				req.Header.Set("Content-Type", c.contentType)
			}
			w := httptest.NewRecorder()
			before := time.Now()
			b.Handler().ServeHTTP(w, req)
			after := time.Now()
			body, _ := io.ReadAll(w.Body)
			if w.Code != c.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, c.wantStatus, body)
			}
			if !strings.Contains(string(body), c.wantInBody) {
				t.Errorf("body %s does not contain %s", body, c.wantInBody)
			}
			if len(rec.calls) != c.wantSignals {
				t.Fatalf("%d signals, want %d", len(rec.calls), c.wantSignals)
			}
			for _, got := range rec.calls {
				// The receipt time the latency counts from, stamped by this
				// delivery (it travels through JSON, so compare instants).
				if at := got.ev.ReceivedAt; at.Before(before.Round(0)) || at.After(after.Round(0)) {
					t.Errorf("received_at %s not within the request (%s … %s)", at, before, after)
				}
			}
			if c.wantStatus == 503 && w.Header().Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			if c.wantTarget != "" {
				got := rec.calls[0]
				if got.id != c.wantTarget || got.signal != workflows.WebhookSignal || len(got.ev.IDs) != c.wantIDs || string(got.ev.Data) != c.wantData {
					t.Errorf("signal %+v", got)
				}
			} else if c.wantSignals == 1 {
				got := rec.calls[0]
				ev := got.ev
				if got.id != "historical-fetch-L1" || got.signal != workflows.WebhookSignal || got.wf != workflows.HistoricalFetchType ||
					ev.WebhookID != "w1" || ev.LinkID != "L1" || ev.Type != "TRANSACTIONS" || ev.Data != nil {
					t.Errorf("signal %+v", got)
				}
			}
		})
	}
}

func TestNewRefusesEmptyAuthorization(t *testing.T) {
	if _, err := New(Options{Signaler: &recorder{}, TaskQueue: "q"}); err == nil {
		t.Fatal("a bridge without an Authorization value would accept anyone")
	}
}

func TestAuthorizationRotationAndSourceNetworks(t *testing.T) {
	_, lan, _ := net.ParseCIDR("192.0.2.0/24")
	cases := []struct {
		name, auth, remote string
		prev               string
		nets               []*net.IPNet
		want               int
	}{
		{"new value", auth, "192.0.2.7:1234", "Bearer old", nil, 202},
		{"previous value during rotation", "Bearer old", "192.0.2.7:1234", "Bearer old", nil, 202},
		{"previous value after rotation", "Bearer old", "192.0.2.7:1234", "", nil, 401},
		{"empty value never matches an unset previous", "", "192.0.2.7:1234", "", nil, 401},
		{"allowed network", auth, "192.0.2.7:1234", "", []*net.IPNet{lan}, 202},
		{"other network", auth, "198.51.100.9:1234", "", []*net.IPNet{lan}, 403},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, _ := New(Options{Signaler: &recorder{}, TaskQueue: "q", Authorization: auth, PreviousAuthorization: c.prev, AllowedNetworks: c.nets})
			req := httptest.NewRequest(http.MethodPost, "/webhooks/belvo", strings.NewReader(valid))
			req.RemoteAddr = c.remote
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			b.Handler().ServeHTTP(w, req)
			if w.Code != c.want {
				t.Errorf("status %d, want %d", w.Code, c.want)
			}
		})
	}
}
