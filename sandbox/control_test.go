package sandbox_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/sandbox"
)

func TestControlDrivesTheSandboxOverHTTP(t *testing.T) {
	ctx := context.Background()
	emu := sandbox.New(sandbox.Config{Transactions: 1500})
	defer emu.Close()
	srv := httptest.NewServer(emu.Handler())
	defer srv.Close()
	cfg := sandbox.Config{}.WithDefaults()
	bc, err := belvo.New(belvo.Options{BaseURL: srv.URL, SecretID: cfg.SecretID, SecretPassword: cfg.SecretPassword})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := bc.CreateWidgetToken(ctx, belvo.WidgetTokenRequest{ExternalID: "ctl", FetchHistorical: true,
		FetchResources: []belvo.Resource{belvo.Accounts, belvo.Transactions}})
	if err != nil {
		t.Fatal(err)
	}
	ctl := sandbox.Control{BaseURL: srv.URL}
	link, err := ctl.WidgetLink(ctx, tok.Access, "erebor_mx_retail")
	if err != nil || link == "" {
		t.Fatalf("WidgetLink = %q, %v", link, err)
	}
	want, err := ctl.Expected(ctx, link)
	if err != nil || want[belvo.Transactions] != 1500 || want[belvo.Accounts] == 0 {
		t.Fatalf("Expected = %v, %v", want, err)
	}
	if n, err := ctl.Count(ctx, link, belvo.Transactions, nil); err != nil || n != 1500 {
		t.Errorf("Count = %d, %v; want 1500", n, err)
	}
	if st, err := ctl.Stats(ctx); err != nil || st.Requests < 1 {
		t.Errorf("Stats = %+v, %v; want the token request counted", st, err)
	}
	if _, err := ctl.Expected(ctx, "no-such-link"); err == nil {
		t.Error("Expected of an unknown link succeeded")
	}
	if _, err := ctl.WidgetLink(ctx, "bad-token", "erebor_mx_retail"); err == nil {
		t.Error("WidgetLink with a bad token succeeded")
	}
}
