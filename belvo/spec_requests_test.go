//go:build integration

package belvo_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/internal/specval"
	"github.com/belvo-temporal/backbone/internal/testenv"
	"github.com/belvo-temporal/backbone/sandbox"
)

// Credentials shaped as Belvo's current spec documents a registration
// (LinksRequestFiscalMexico in v1.223.0: a 12–13 character RFC and an
// alphanumeric password): the emulator is told to accept them, so the
// documented request also succeeds.
const (
	fiscalRFC      = "ABCD010101AB1"
	fiscalPassword = "Secret123"
)

// noRequestMethods are the exported methods of *belvo.Client that send
// nothing (they build URLs or report settings), so the spec check has
// nothing to drive.
var noRequestMethods = map[string]bool{"FirstPageURL": true, "Timeout": true}

// specSandbox serves an emulator behind the spec validator and returns a
// client for it.
func specSandbox(t *testing.T, v *specval.Validator, cfg sandbox.Config) *belvo.Client {
	t.Helper()
	sb := sandbox.New(cfg)
	srv := httptest.NewServer(v.Wrap(sb.Handler()))
	t.Cleanup(func() { sb.Close(); srv.Close() })
	c, err := belvo.New(belvo.Options{BaseURL: srv.URL, SecretID: "sandbox-secret-id", SecretPassword: "sandbox-secret-password"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEveryRequestIsDocumented drives every request-sending method of
// *belvo.Client, with every option the product uses, against the emulator
// behind specval's validator, and fails on any request that Belvo's specs
// (v1.223.0, or v1.35.0 for Mexico banking) do not document. A reflection
// guard fails when a new method sends requests and is not driven here.
func TestEveryRequestIsDocumented(t *testing.T) {
	v := specval.New(t, testenv.SpecDir(t))
	ctx := context.Background()
	covered := map[string]bool{}
	// call runs one client call, remembering which method it drives; a
	// failed call is reported and the flow goes on, so one run lists every
	// undocumented request.
	call := func(method, what string, f func() error) bool {
		t.Helper()
		covered[method] = true
		if err := f(); err != nil {
			t.Errorf("%s (%s): %v", method, what, err)
			return false
		}
		return true
	}

	c := specSandbox(t, v, sandbox.Config{BankUsername: fiscalRFC, BankPassword: fiscalPassword})

	// Registration with every optional field, in the shape v1.223.0
	// documents.
	var link belvo.Link
	call("RegisterLink", "fiscal Mexico shape, every optional field", func() (err error) {
		link, err = c.RegisterLink(ctx, belvo.RegisterLinkRequest{Institution: "erebor_mx_retail", Username: fiscalRFC, Password: fiscalPassword,
			ExternalID: "spec-requests-1", AccessMode: "single", FetchResources: []belvo.Resource{belvo.Invoices, belvo.TaxStatus},
			CredentialsStorage: "store"})
		return err
	})
	if link.ID == "" {
		t.Fatal("no link to drive the other requests with")
	}

	// Registration as the product sends it for a Mexico retail bank (the
	// activities, the demo and the integration tests).
	banking := specSandbox(t, v, sandbox.Config{})
	call("RegisterLink", "Mexico banking, as the product registers", func() error {
		_, err := banking.RegisterLink(ctx, belvo.RegisterLinkRequest{Institution: "erebor_mx_retail", Username: sandbox.SandboxUsername,
			Password: sandbox.SandboxPassword, ExternalID: "spec-requests-2", AccessMode: "recurrent",
			FetchResources: []belvo.Resource{belvo.Accounts, belvo.Transactions, belvo.Owners}, CredentialsStorage: "store"})
		return err
	})

	// MFA: the registration pauses with 428 and PATCH /api/links/ resumes it.
	mfa := specSandbox(t, v, sandbox.Config{MFA: true, BankUsername: fiscalRFC, BankPassword: fiscalPassword})
	call("CompleteLink", "resume a registration paused for MFA", func() error {
		_, err := mfa.RegisterLink(ctx, belvo.RegisterLinkRequest{Institution: "erebor_mx_retail", Username: fiscalRFC, Password: fiscalPassword,
			ExternalID: "spec-requests-mfa", AccessMode: "single"})
		ch, ok := belvo.TokenRequired(err)
		if !ok || ch.Link == "" {
			t.Fatalf("registration did not ask for a token with a link to resume: %+v, %v", ch, err)
		}
		_, err = mfa.CompleteLink(ctx, ch, sandbox.Config{}.WithDefaults().MFAToken)
		return err
	})

	call("GetLink", "one link", func() error {
		got, err := c.GetLink(ctx, link.ID)
		if err == nil && got.ID != link.ID {
			t.Errorf("GetLink returned link %s, want %s", got.ID, link.ID)
		}
		return err
	})
	call("ListLinks", "every LinkFilter field", func() error {
		got, err := c.ListLinks(ctx, belvo.LinkFilter{ExternalID: "spec-requests-1", Institution: "erebor_mx_retail",
			CreatedAtOrAfter: time.Now().Add(-time.Hour)})
		if err == nil && len(got) != 1 {
			t.Errorf("ListLinks found %d links, want 1", len(got))
		}
		return err
	})
	call("CreateWidgetToken", "as the product asks for one", func() error {
		_, err := c.CreateWidgetToken(ctx, belvo.WidgetTokenRequest{ExternalID: "spec-requests-widget", FetchHistorical: true,
			FetchResources: []belvo.Resource{belvo.Accounts, belvo.Transactions}})
		return err
	})

	// Every list: page 1 as a fetch asks for it, a one-row peek, and the
	// peek's next page.
	firstRows := map[belvo.Resource]json.RawMessage{}
	secondPages := 0
	list := func(r belvo.Resource, filters map[string]string, what string) {
		t.Helper()
		for _, size := range []string{"", "1"} {
			f := maps.Clone(filters)
			if f == nil {
				f = map[string]string{}
			}
			if size != "" {
				f["page_size"] = size
			}
			first, err := c.FirstPageURL(r, link.ID, f)
			if err != nil {
				t.Errorf("FirstPageURL(%s): %v", r, err)
				continue
			}
			var p belvo.Page
			if !call("ListPage", string(r)+" "+what+" page_size="+size, func() (err error) { p, err = c.ListPage(ctx, first); return err }) {
				continue
			}
			if len(p.Results) > 0 && firstRows[r] == nil {
				firstRows[r] = p.Results[0]
			}
			if size == "1" && p.Next != nil {
				if call("ListPage", string(r)+" "+what+" next page", func() error { _, err := c.ListPage(ctx, *p.Next); return err }) {
					secondPages++
				}
			}
		}
	}
	for _, r := range belvo.AllResources() {
		list(r, nil, "unfiltered")
	}
	// Every incremental read, as new_<resource>_available sends it.
	for _, r := range belvo.AllResources() {
		if inc, ok := r.Incremental(); ok {
			list(r, inc.Since(time.Now()), "incremental by "+inc.Filter)
		}
	}
	if secondPages == 0 {
		t.Error("no list had a second page: next was never followed")
	}

	// Every async operation, then the list that reads its data with the
	// operation's filters. The deletion goes last: it removes the link.
	account, err := belvo.RowID(firstRows[belvo.Accounts])
	if err != nil {
		t.Fatalf("no account to filter transactions by: %v", err)
	}
	ops := belvo.AsyncOps()
	slices.SortStableFunc(ops, func(a, b belvo.AsyncOp) int {
		return boolCmp(a.Op == belvo.OpLinkDeletion, b.Op == belvo.OpLinkDeletion)
	})
	for _, op := range ops {
		req := belvo.AsyncRequest{Op: op.Op, LinkID: link.ID}
		if op.NeedsRange {
			req.DateFrom, req.DateTo = "2026-10-01", "2026-10-31"
		}
		if op.NeedsType {
			req.Type = "INFLOW"
		}
		switch op.Op {
		case belvo.OpTransactions:
			req.Account = account // the one async operation Belvo lets pick an account
		case belvo.OpLinkRefresh:
			req.Resources = []belvo.Resource{belvo.Accounts, belvo.Transactions}
		}
		call("StartAsync", string(op.Op), func() error {
			id, err := c.StartAsync(ctx, req)
			if err == nil && id == "" {
				t.Errorf("StartAsync(%s) returned no request id", op.Op)
			}
			return err
		})
		for _, r := range req.ExpectedResources() {
			list(r, req.ListFilters(), "after async "+string(op.Op))
		}
	}

	// GET /api/<resource>/{id}/ for every resource a list returned a row of
	// (after the deletion the link's rows are gone: use a fresh link).
	fresh := specSandbox(t, v, sandbox.Config{BankUsername: fiscalRFC, BankPassword: fiscalPassword})
	l2, err := fresh.RegisterLink(ctx, belvo.RegisterLinkRequest{Institution: "erebor_mx_retail", Username: fiscalRFC, Password: fiscalPassword})
	if err != nil {
		t.Fatalf("register a link for detail requests: %v", err)
	}
	for _, r := range belvo.AllResources() {
		first, _ := fresh.FirstPageURL(r, l2.ID, map[string]string{"page_size": "1"})
		p, err := fresh.ListPage(ctx, first)
		if err != nil || len(p.Results) == 0 {
			if r == belvo.Transactions {
				t.Errorf("no transaction to read by id (%v)", err)
			}
			continue
		}
		id, err := belvo.RowID(p.Results[0])
		if err != nil {
			t.Errorf("%s row: %v", r, err)
			continue
		}
		call("GetRow", string(r), func() error {
			raw, err := fresh.GetRow(ctx, r, id)
			if err == nil {
				if got, _ := belvo.RowID(raw); got != id {
					t.Errorf("GetRow(%s, %s) returned row %q", r, id, got)
				}
			}
			return err
		})
	}

	v.AssertNoViolations(t)

	// The requests reached the operations they are meant to.
	seen := v.Operations()
	for _, op := range []string{"RegisterLink", "PatchLinks", "DetailLink", "ListLinks", "GenerateWidgetAccessToken",
		"ListTransactions", "ListInvoices", "ListEmploymentRecords", "RetrieveTransactions", "RetrieveInvoices",
		"RetrieveInvoicesChile", "DestroyLink", "RefreshHistoricalDataForLink", "DetailTransaction"} {
		if seen[op] == 0 {
			t.Errorf("no request reached operation %s (seen: %v)", op, seen)
		}
	}

	// Coverage guard: every exported method that sends a request is driven
	// above, so a new one cannot escape the spec check.
	ct := reflect.TypeOf(&belvo.Client{})
	methods := map[string]bool{}
	for i := range ct.NumMethod() {
		name := ct.Method(i).Name
		methods[name] = true
		if !noRequestMethods[name] && !covered[name] {
			t.Errorf("(*belvo.Client).%s is not driven by this test: drive it against the spec validator, or add it to noRequestMethods if it sends nothing", name)
		}
	}
	for name := range noRequestMethods {
		if !methods[name] {
			t.Errorf("noRequestMethods lists %s, which *belvo.Client no longer has", name)
		}
	}
}

// boolCmp orders false before true.
func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// TestEveryAcceptedAsyncRequestIsDocumented: any AsyncRequest that Validate
// accepts is one the client may send, so each optional field, alone on top
// of what the operation requires, must make a documented request and
// documented list requests afterwards; a field Belvo does not document for
// the operation must be refused by Validate before anything is sent.
func TestEveryAcceptedAsyncRequestIsDocumented(t *testing.T) {
	v := specval.New(t, testenv.SpecDir(t))
	ctx := context.Background()
	c := specSandbox(t, v, sandbox.Config{BankUsername: fiscalRFC, BankPassword: fiscalPassword})
	// newLink is a fresh link per request: deletions remove theirs and a
	// link takes one refresh per cooldown.
	newLink := func() (link, account string) {
		t.Helper()
		l, err := c.RegisterLink(ctx, belvo.RegisterLinkRequest{Institution: "erebor_mx_retail", Username: fiscalRFC, Password: fiscalPassword})
		if err != nil {
			t.Fatalf("register a link: %v", err)
		}
		first, _ := c.FirstPageURL(belvo.Accounts, l.ID, nil)
		p, err := c.ListPage(ctx, first)
		if err != nil || len(p.Results) == 0 {
			t.Fatalf("list the link's accounts: %d rows, %v", len(p.Results), err)
		}
		account, err = belvo.RowID(p.Results[0])
		if err != nil {
			t.Fatal(err)
		}
		return l.ID, account
	}
	variants := []struct {
		name string
		set  func(r *belvo.AsyncRequest, account string)
	}{
		{"required fields only", func(*belvo.AsyncRequest, string) {}},
		{"account", func(r *belvo.AsyncRequest, account string) { r.Account = account }},
		{"date range", func(r *belvo.AsyncRequest, _ string) { r.DateFrom, r.DateTo = "2026-10-01", "2026-10-31" }},
		{"type", func(r *belvo.AsyncRequest, _ string) { r.Type = "OUTFLOW" }},
		{"resources", func(r *belvo.AsyncRequest, _ string) { r.Resources = []belvo.Resource{belvo.Accounts} }},
	}
	sent := 0
	for _, op := range belvo.AsyncOps() {
		for _, vr := range variants {
			link, account := newLink()
			req := belvo.AsyncRequest{Op: op.Op, LinkID: link}
			if op.NeedsRange {
				req.DateFrom, req.DateTo = "2026-10-01", "2026-10-31"
			}
			if op.NeedsType {
				req.Type = "INFLOW"
			}
			vr.set(&req, account)
			if req.Validate() != nil {
				continue // refused before sending: nothing reaches Belvo
			}
			sent++
			if _, err := c.StartAsync(ctx, req); err != nil {
				t.Errorf("%s with %s: %v", op.Op, vr.name, err)
			}
			for _, r := range req.ExpectedResources() {
				first, err := c.FirstPageURL(r, link, req.ListFilters())
				if err != nil {
					t.Errorf("%s with %s: %v", op.Op, vr.name, err)
					continue
				}
				if _, err := c.ListPage(ctx, first); err != nil {
					t.Errorf("%s with %s: list %s: %v", op.Op, vr.name, r, err)
				}
			}
		}
	}
	if sent < len(belvo.AsyncOps()) {
		t.Errorf("only %d async requests were accepted by Validate", sent)
	}
	v.AssertNoViolations(t)
}
