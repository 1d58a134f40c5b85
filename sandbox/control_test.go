package sandbox_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

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
	if wh, err := ctl.Event(ctx, link, "new_transactions_available", 7); err != nil || wh.WebhookCode != "new_transactions_available" || wh.LinkID != link {
		t.Fatalf("Event = %+v, %v", wh, err)
	}
	if n, err := ctl.Count(ctx, link, belvo.Transactions, nil); err != nil || n != 1507 {
		t.Errorf("Count after 7 new transactions = %d, %v; want 1507", n, err)
	}
	if now, err := ctl.AdvanceClock(ctx, 72*time.Hour); err != nil || time.Until(now) < 71*time.Hour {
		t.Errorf("AdvanceClock = %s, %v; want three days ahead", now, err)
	}
	if _, err := ctl.AdvanceClock(ctx, -time.Hour); err == nil {
		t.Error("the clock was moved back")
	}
	if _, err := ctl.Event(ctx, link, "new_bananas_available", 1); err == nil {
		t.Error("an unknown event code was played")
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

// The product's Belvo client against the emulator: a refresh is accepted
// once, then refused with the cooldown the client classifies; a row is read
// by id; Control reports the refresh.
func TestBelvoClientRefreshAndDetailAgainstTheSandbox(t *testing.T) {
	ctx := context.Background()
	emu := sandbox.New(sandbox.Config{Transactions: 120, WebhookDelay: time.Hour, AsyncDelay: time.Hour})
	defer emu.Close()
	srv := httptest.NewServer(emu.Handler())
	defer srv.Close()
	cfg := sandbox.Config{}.WithDefaults()
	bc, err := belvo.New(belvo.Options{BaseURL: srv.URL, SecretID: cfg.SecretID, SecretPassword: cfg.SecretPassword})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := bc.CreateWidgetToken(ctx, belvo.WidgetTokenRequest{ExternalID: "refresh", FetchHistorical: true,
		FetchResources: []belvo.Resource{belvo.Transactions}})
	if err != nil {
		t.Fatal(err)
	}
	ctl := sandbox.Control{BaseURL: srv.URL}
	link, err := ctl.WidgetLink(ctx, tok.Access, "erebor_mx_retail")
	if err != nil {
		t.Fatal(err)
	}
	req := belvo.AsyncRequest{Op: belvo.OpLinkRefresh, LinkID: link, Resources: []belvo.Resource{belvo.Transactions, belvo.Accounts}}
	if rid, err := bc.StartAsync(ctx, req); err != nil || len(rid) != 32 {
		t.Fatalf("first refresh: %q, %v", rid, err)
	}
	_, err = bc.StartAsync(ctx, req)
	if c := belvo.Classify(err, 1); c.Name != belvo.ClassRefreshCooldown || c.Delay != belvo.RefreshCooldown {
		t.Errorf("second refresh: %v classified %+v, want the 10-minute cooldown", err, c)
	}
	if n, err := ctl.Refreshes(ctx, link); err != nil || n != 1 {
		t.Errorf("Control.Refreshes = %d, %v; want 1", n, err)
	}
	if _, err := ctl.Refreshes(ctx, "no-such-link"); err == nil {
		t.Error("Refreshes of an unknown link succeeded")
	}
	first, err := bc.ListPage(ctx, mustFirstPage(t, bc, link))
	if err != nil || len(first.Results) == 0 {
		t.Fatalf("list: %v", err)
	}
	id, _ := belvo.RowID(first.Results[0])
	row, err := bc.GetRow(ctx, belvo.Transactions, id)
	if err != nil || string(row) != string(first.Results[0]) {
		t.Errorf("GetRow = %.200s, %v; want the listed row", row, err)
	}
	_, err = bc.GetRow(ctx, belvo.Transactions, "00000000-0000-4000-8000-000000000000")
	if c := belvo.Classify(err, 1); c.Name != belvo.ClassNotFound {
		t.Errorf("GetRow of an unknown id: %v classified %+v", err, c)
	}
}

func mustFirstPage(t *testing.T, bc *belvo.Client, link string) string {
	t.Helper()
	u, err := bc.FirstPageURL(belvo.Transactions, link, nil)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
