package sandbox

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"
)

func TestParseFaults(t *testing.T) {
	cases := []struct {
		script  string
		want    []Fault
		wantErr bool
	}{
		{"ok", []Fault{{}}, false},
		{"ok,slow:25s", []Fault{{}, {Slow: 25 * time.Second}}, false},
		{"500, ok ,429:2s,truncated,malformed", []Fault{{Status: 500}, {}, {Status: 429, RetryAfter: 2 * time.Second}, {Truncated: true}, {Malformed: true}}, false},
		{"ok:1s", nil, true},
		{"okay", nil, true},
		{"slow", nil, true},
		{"200", nil, true},
	}
	for _, c := range cases {
		got, err := ParseFaults(c.script)
		if (err != nil) != c.wantErr || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseFaults(%q) = %+v, %v; want %+v (error %v)", c.script, got, err, c.want, c.wantErr)
		}
	}
}

func TestOKFaultAimsAtALaterListRequest(t *testing.T) {
	faults, err := ParseFaults("ok,slow:5s,ok")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Config{ListFaults: faults, WebhookDelay: time.Hour})
	link := h.register("", "ACCOUNTS")
	// The slow answer would come after 5 s; a client giving up after 1 s
	// tells it apart from a normal one without waiting for it.
	client := &http.Client{Timeout: time.Second}
	for i, wantSlow := range []bool{false, true, false, false} {
		req, _ := http.NewRequestWithContext(context.Background(), "GET", h.api.URL+"/api/accounts/?link="+link, nil)
		req.SetBasicAuth(h.s.cfg.SecretID, h.s.cfg.SecretPassword)
		resp, err := client.Do(req)
		var timeout interface{ Timeout() bool }
		slow := err != nil && errors.As(err, &timeout) && timeout.Timeout()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("list %d: HTTP %d", i+1, resp.StatusCode)
			}
		} else if !slow {
			t.Fatalf("list %d: %v", i+1, err)
		}
		if slow != wantSlow {
			t.Errorf("list %d: slow %v, want %v", i+1, slow, wantSlow)
		}
	}
	if n := h.s.FaultsLeft(); n != 0 {
		t.Errorf("%d faults left", n)
	}
}

// TestListLatencyDelaysEveryList checks that every list answer, not only
// the first, comes no sooner than ListLatency, and that a client giving up
// before it gets nothing: the delay is before the page, as a slow Belvo's.
func TestListLatencyDelaysEveryList(t *testing.T) {
	const latency = 300 * time.Millisecond
	h := newHarness(t, Config{ListLatency: latency, WebhookDelay: time.Hour})
	link := h.register("", "ACCOUNTS")
	for i := range 3 {
		start := time.Now()
		code, _, body := h.do("GET", "/api/accounts/?link="+link, nil, nil)
		if took := time.Since(start); took < latency {
			t.Errorf("list %d answered after %s, before the latency of %s", i+1, took, latency)
		}
		if code != http.StatusOK || len(body) == 0 {
			t.Errorf("list %d: HTTP %d, %d bytes", i+1, code, len(body))
		}
	}
	req, _ := http.NewRequestWithContext(context.Background(), "GET", h.api.URL+"/api/accounts/?link="+link, nil)
	req.SetBasicAuth(h.s.cfg.SecretID, h.s.cfg.SecretPassword)
	resp, err := (&http.Client{Timeout: latency / 3}).Do(req)
	var timeout interface{ Timeout() bool }
	if err == nil {
		resp.Body.Close()
		t.Fatalf("a client waiting %s got HTTP %d before the latency of %s", latency/3, resp.StatusCode, latency)
	} else if !errors.As(err, &timeout) || !timeout.Timeout() {
		t.Fatalf("a client waiting %s: %v, want its timeout", latency/3, err)
	}
}
