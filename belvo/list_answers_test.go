package belvo_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/belvo-temporal/backbone/belvo"
)

// ListPage reads what a list endpoint answers, whatever the framing of the
// body, and refuses what is not a page instead of taking it for an empty
// one: a listing that ended on an empty page would lose the rest silently.
func TestListPageAnswers(t *testing.T) {
	const page = `{"count":2,"next":null,"previous":null,"results":[{"id":"a"},{"id":"b"}]}`
	for _, tc := range []struct {
		name    string
		raw     string // the whole HTTP answer, headers and body
		wantIDs int
		wantErr string
	}{
		{"content length", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + fmt.Sprint(len(page)) + "\r\n\r\n" + page, 2, ""},
		{"chunked", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(page), page), 2, ""},
		{"until close", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n" + page, 2, ""},
		{"empty body", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, "(HTTP 200, 0 bytes): unexpected end of JSON input"},
		{"shorter than announced", "HTTP/1.1 200 OK\r\nContent-Length: 268435000\r\nConnection: close\r\n\r\n" + page, 0, "unexpected EOF"},
		{"not a page", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]", 0, "cannot unmarshal array"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := rawServer(t, tc.raw)
			c, err := belvo.New(belvo.Options{BaseURL: url, SecretID: "id", SecretPassword: "pw"})
			if err != nil {
				t.Fatal(err)
			}
			p, err := c.ListPage(context.Background(), url+"/api/transactions/?link=l&page=1")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ListPage error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Results) != tc.wantIDs || p.Count != 2 || p.Next != nil {
				t.Fatalf("ListPage = %+v, want %d rows, count 2, no next", p, tc.wantIDs)
			}
		})
	}
}

// rawServer answers every connection's first request with raw, byte for
// byte, then closes it: framings httptest's handlers would correct.
func rawServer(t *testing.T, raw string) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	ln := srv.Listener
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func(conn net.Conn) {
				defer conn.Close()
				if _, err := http.ReadRequest(bufio.NewReader(conn)); err != nil {
					return
				}
				_, _ = conn.Write([]byte(raw))
			}(conn)
		}
	}()
	return "http://" + ln.Addr().String()
}
