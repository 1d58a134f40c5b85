package belvo_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/sandbox"
)

// newSandbox serves the emulator over real HTTP.
func newSandbox(t *testing.T, cfg sandbox.Config) (*belvo.Client, string) {
	t.Helper()
	sb := sandbox.New(cfg)
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { sb.Close(); srv.Close() })
	c, err := belvo.New(belvo.Options{BaseURL: srv.URL, SecretID: "sandbox-secret-id", SecretPassword: "sandbox-secret-password"})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv.URL
}

func TestRegisterGetAndListEveryPage(t *testing.T) {
	c, _ := newSandbox(t, sandbox.Config{Transactions: 2345})
	ctx := context.Background()
	l, err := c.RegisterLink(ctx, belvo.RegisterLinkRequest{Institution: "erebor_mx_retail", Username: "bnk100", Password: "full",
		ExternalID: "client-test", AccessMode: "single", FetchResources: []belvo.Resource{belvo.Transactions}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetLink(ctx, l.ID)
	if err != nil || got.ID != l.ID || got.Status != "valid" || got.ExternalID == nil || *got.ExternalID != "client-test" {
		t.Fatalf("GetLink = %+v, %v", got, err)
	}
	next, err := c.FirstPageURL(belvo.Transactions, l.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(next, "/api/transactions/?") || !strings.Contains(next, "page_size=1000") {
		t.Errorf("first page URL %s", next)
	}
	ids := map[string]bool{}
	pages := 0
	for next != "" {
		p, err := c.ListPage(ctx, next)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if p.Count != 2345 {
			t.Errorf("count %d", p.Count)
		}
		for _, raw := range p.Results {
			id, err := belvo.RowID(raw)
			if err != nil {
				t.Fatal(err)
			}
			ids[id] = true
		}
		next = ""
		if p.Next != nil {
			next = *p.Next
		}
	}
	if pages != 3 || len(ids) != 2345 {
		t.Errorf("%d pages, %d distinct ids; want 3 and 2345", pages, len(ids))
	}
}

func TestErrorsAreTyped(t *testing.T) {
	ctx := context.Background()
	c, url := newSandbox(t, sandbox.Config{})
	cases := []struct {
		name      string
		call      func() error
		status    int
		code      string
		retryable bool
	}{
		{"wrong bank credentials", func() error {
			_, err := c.RegisterLink(ctx, belvo.RegisterLinkRequest{Institution: "erebor_mx_retail", Username: "bnk100", Password: "nope"})
			return err
		}, 400, "login_error", false},
		{"unknown institution", func() error {
			_, err := c.RegisterLink(ctx, belvo.RegisterLinkRequest{Institution: "nowhere", Username: "bnk100", Password: "full"})
			return err
		}, 400, "does_not_exist", false},
		{"unknown link", func() error { _, err := c.GetLink(ctx, "00000000-0000-0000-0000-000000000000"); return err }, 404, "not_found", false},
		{"wrong secret keys", func() error {
			bad, _ := belvo.New(belvo.Options{BaseURL: url, SecretID: "x", SecretPassword: "y"})
			_, err := bad.GetLink(ctx, "x")
			return err
		}, 401, "authentication_failed", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var api *belvo.APIError
			if !errors.As(err, &api) {
				t.Fatalf("error %v is not an *APIError", err)
			}
			if api.StatusCode != tc.status || api.Code() != tc.code || api.RequestID() == "" || api.Retryable() != tc.retryable {
				t.Errorf("got status %d code %q request id %q retryable %v", api.StatusCode, api.Code(), api.RequestID(), api.Retryable())
			}
			if strings.Contains(err.Error(), "full") || strings.Contains(err.Error(), "sandbox-secret") {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestRefusesPageURLOnAnotherHost(t *testing.T) {
	c, _ := newSandbox(t, sandbox.Config{})
	hits := 0
	evil := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits++ }))
	defer evil.Close()
	if _, err := c.ListPage(context.Background(), evil.URL+"/api/transactions/?page=2"); err == nil || hits != 0 {
		t.Fatalf("followed a page URL on another host (err %v, hits %d): credentials would leak", err, hits)
	}
}

func TestParseResources(t *testing.T) {
	cases := []struct {
		in      []string
		want    string
		wantErr bool
	}{
		{[]string{"accounts", "TRANSACTIONS", "accounts"}, "ACCOUNTS,TRANSACTIONS", false},
		{[]string{" owners "}, "OWNERS", false},
		{[]string{"BANANAS"}, "", true},
	}
	for _, c := range cases {
		got, err := belvo.ParseResources(c.in)
		if (err != nil) != c.wantErr {
			t.Fatalf("%v: error %v", c.in, err)
		}
		var names []string
		for _, r := range got {
			names = append(names, string(r))
		}
		if strings.Join(names, ",") != c.want {
			t.Errorf("%v → %v, want %s", c.in, names, c.want)
		}
	}
}

func TestNewValidatesOptions(t *testing.T) {
	for _, o := range []belvo.Options{
		{BaseURL: "not a url", SecretID: "a", SecretPassword: "b"},
		{BaseURL: "ftp://x", SecretID: "a", SecretPassword: "b"},
		{BaseURL: "http://x"},
	} {
		if _, err := belvo.New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}
