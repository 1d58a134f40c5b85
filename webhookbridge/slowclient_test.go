package webhookbridge

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Slow and abusive clients against a real bridge server over loopback TCP:
// each is cut with the documented answer, and none holds the delivery slot
// a legitimate webhook needs (the bridge has a single one here).
func TestSlowClientsAreCutAndHoldNoSlot(t *testing.T) {
	const headers = "POST /webhooks/belvo HTTP/1.1\r\nHost: bridge\r\nAuthorization: " + auth + "\r\n"
	cases := []struct {
		name string
		// sent at once; then, when trickle, one more byte every 100 ms.
		prefix  string
		trickle bool
		// wantStatus is the answer's status line prefix; "" : the
		// connection is closed without an answer.
		wantStatus string
	}{
		{"headers trickled (slowloris)", "POST /webhooks/belvo HTTP/1.1\r\nHost: bridge\r\nX-Slow: ", true, ""},
		{"body trickled", headers + "Content-Length: 1000\r\n\r\n{", true, "HTTP/1.1 408"},
		{"body announced, never sent", headers + "Content-Length: 1000\r\n\r\n", false, "HTTP/1.1 408"},
		{"body announced over the limit", headers + "Content-Length: 2097152\r\n\r\n{", true, "HTTP/1.1 413"},
		{"body without Authorization", "POST /webhooks/belvo HTTP/1.1\r\nHost: bridge\r\nContent-Length: 1000\r\n\r\n{", true, "HTTP/1.1 401"},
	}
	b, err := New(Options{Signaler: &recorder{}, TaskQueue: "q", Authorization: auth, MaxInFlight: 1, DeliveryTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	srv := b.Server("")
	arrived := make(chan struct{}, 16)
	srv.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateActive {
			arrived <- struct{}{}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	type result struct {
		answer string
		err    error
	}
	results := make([]chan result, len(cases))
	for i, c := range cases {
		results[i] = make(chan result, 1)
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		if _, err := io.WriteString(conn, c.prefix); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		if c.trickle {
			go func() {
				for {
					select {
					case <-done:
						return
					case <-time.After(100 * time.Millisecond):
					}
					if _, err := conn.Write([]byte("a")); err != nil {
						return // cut by the bridge
					}
				}
			}()
		}
		go func() {
			defer close(done)
			// A guard against a bridge that never cuts: far beyond every
			// limit, so it fails the test only when a limit is missing.
			_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			got, err := io.ReadAll(conn)
			results[i] <- result{string(got), err}
		}()
	}
	// Every slow client has begun its request before the legitimate one
	// (the short pause lets their handlers start reading their bodies).
	for range cases {
		<-arrived
	}
	time.Sleep(200 * time.Millisecond)
	req, err := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+webhookPath, strings.NewReader(valid))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("legitimate webhook among slow clients answered %d, want 202", resp.StatusCode)
	}
	for i, c := range cases {
		r := <-results[i]
		// A reset after the answer is the bridge closing too: a trickling
		// client's last bytes sat unread in the bridge's socket when it
		// closed, and the kernel answers unread bytes with RST. Only the
		// read deadline, an error with no close, means a limit is missing.
		if r.err != nil && !errors.Is(r.err, syscall.ECONNRESET) {
			t.Errorf("%s: the bridge did not close the connection: %v (got %q)", c.name, r.err, r.answer)
			continue
		}
		if c.wantStatus == "" && r.answer != "" || !strings.HasPrefix(r.answer, c.wantStatus) {
			t.Errorf("%s: answered %q, want %q and the connection closed", c.name, firstLine(r.answer), c.wantStatus)
		}
	}
	if got := scrape(t, b.Handler()); !strings.Contains(got, `belvo_bridge_requests_total{status="408"} 2`) {
		t.Errorf("cut bodies not counted as 408:\n%s", grep(got, "requests_total"))
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}
