package roundrobin_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/belvo-temporal/backbone/internal/roundrobin"
)

func TestSpreadsAndSkipsDeadBackends(t *testing.T) {
	var hits [2]atomic.Int64
	backend := func(i int) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits[i].Add(1)
			b, _ := io.ReadAll(r.Body)
			w.Header().Set("X-Backend", string(rune('a'+i)))
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write(append([]byte(r.Header.Get("Authorization")+" "), b...))
		}))
	}
	a, b := backend(0), backend(1)
	defer a.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close() // a killed replica: connections are refused
	lb, err := roundrobin.New([]string{a.URL, dead.URL, b.URL})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(lb)
	defer front.Close()
	post := func() (int, string) {
		req, _ := http.NewRequest(http.MethodPost, front.URL+"/webhooks/belvo", strings.NewReader(`{"x":1}`))
		req.Header.Set("Authorization", "Bearer k")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for range 30 {
		if code, body := post(); code != http.StatusAccepted || body != `Bearer k {"x":1}` {
			t.Fatalf("answer %d %q", code, body)
		}
	}
	if hits[0].Load() == 0 || hits[1].Load() == 0 || hits[0].Load()+hits[1].Load() != 30 {
		t.Errorf("hits %d/%d, want both used and 30 in all", hits[0].Load(), hits[1].Load())
	}
	if sent := lb.Sent(); sent[1] != 0 {
		t.Errorf("dead backend credited with %d requests", sent[1])
	}
	b.Close()
	a.Close()
	if code, _ := post(); code != http.StatusBadGateway {
		t.Errorf("all backends down: %d, want 502", code)
	}
}

func TestRejectsBadBackends(t *testing.T) {
	for _, bs := range [][]string{nil, {"not a url"}, {"http://"}} {
		if _, err := roundrobin.New(bs); err == nil {
			t.Errorf("New(%q) accepted", bs)
		}
	}
}
