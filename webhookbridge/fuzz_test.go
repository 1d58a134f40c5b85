package webhookbridge

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzWebhookHandler throws arbitrary bodies and headers at the handler. It
// must never panic (the recovery middleware would turn one into a 500, which
// this target treats as a failure), answer only documented statuses, answer
// 202 only after a signal was accepted, and never echo the Authorization
// value. CI runs it briefly; see README for the long run.
func FuzzWebhookHandler(f *testing.F) {
	f.Add(valid, auth, "application/json", "")
	f.Add(`{"webhook_id":"w","webhook_type":"TRANSACTIONS","process_type":"async_request","webhook_code":"historical_update","request_id":"R1"}`, auth, "application/json; charset=utf-8", "rid-1")
	f.Add(`{"webhook_id":"w","webhook_type":"TRANSACTIONS","webhook_code":"transactions_deleted","link_id":"L","data":{"deleted_transactions":["a","b"]}}`, auth, "", "")
	f.Add(`{"request_id": "abc", `, auth, "application/json", "")
	f.Add(`[]`, "Bearer wrong", "text/plain", "\x00")
	f.Add(`{"webhook_id":1,"data":{"error_code":{}}}`, auth, "application/json", "")
	f.Fuzz(func(t *testing.T, body, authorization, contentType, requestID string) {
		rec := &recorder{}
		b, err := New(Options{Signaler: rec, TaskQueue: "q", Authorization: auth, MaxBodyBytes: 4096})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/webhooks/belvo", strings.NewReader(body))
		setHeader(req, "Authorization", authorization)
		setHeader(req, "Content-Type", contentType)
		setHeader(req, RequestIDHeader, requestID)
		w := httptest.NewRecorder()
		b.Handler().ServeHTTP(w, req)
		switch w.Code {
		case 202:
			var out map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
				t.Fatalf("202 with a body that is not JSON: %q", w.Body.String())
			}
			if out["status"] != "duplicate" && len(rec.calls) != 1 {
				t.Fatalf("202 after %d signals", len(rec.calls))
			}
		case 400, 401, 413:
			if len(rec.calls) != 0 {
				t.Fatalf("%d after signalling", w.Code)
			}
		default:
			t.Fatalf("unexpected status %d for body %q: %s", w.Code, body, w.Body.String())
		}
		if authorization != auth && w.Code != 401 {
			t.Fatalf("wrong Authorization %q answered %d", authorization, w.Code)
		}
		if strings.Contains(w.Body.String(), auth) {
			t.Fatal("answer echoes the Authorization value")
		}
	})
}

// setHeader sets a header only when net/http would accept it on the wire.
func setHeader(r *http.Request, k, v string) {
	if v == "" {
		return
	}
	for _, c := range v {
		if c < 0x20 || c == 0x7f {
			return
		}
	}
	r.Header.Set(k, v)
}
