//go:build integration

package integration

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/workflows"
)

// Belvo misbehaving while pages are listed: 500 and 503 answers, a 429 with
// Retry-After, a page slower than the client's timeout, a truncated and a
// malformed page, and 408 for any page over 500 rows (which makes the
// listing walk down to smaller pages). Every row ends stored exactly once.
func TestBelvoFaultsStillStoreExactCounts(t *testing.T) {
	s := newStackWith(t, sandbox.Config{Transactions: 2600, TimeoutAbovePageSize: 500, ListFaults: []sandbox.Fault{
		{Status: 500}, {Status: 503}, {Status: 429, RetryAfter: time.Second},
		{Slow: 3 * time.Second}, {Truncated: true}, {Malformed: true},
	}}, 0, bridgeTuning{clientTimeout: 2 * time.Second})
	reg, p, err := s.registerLink("it-faults")
	if err != nil {
		t.Fatalf("fetch: %v: %s", err, describe(p))
	}
	s.assertStored(reg.LinkID)
	if left := s.sandbox.FaultsLeft(); left != 0 {
		t.Errorf("%d faults never served: the test did not exercise them", left)
	}
	if tx := p.Resources[belvo.Transactions]; tx.Pages < 6 {
		t.Errorf("transactions in %d pages: the 408s should have forced pages of at most 500 rows", tx.Pages)
	}
}

// Belvo asks for an MFA token: the registration waits (BelvoStatus
// mfa_required), a wrong token makes Belvo ask again, the right one completes
// it, and the history is fetched.
func TestMFARegistration(t *testing.T) {
	s := newStack(t, sandbox.Config{MFA: true, MFAToken: "424242"}, 0)
	key := "mfa-" + uuid.NewString()[:8]
	type result struct {
		reg workflows.LinkRegistrationResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		reg, err := s.starter.RegisterLink(s.ctx(2*time.Minute), key, activities.RegisterLinkInput{
			Institution: "erebor_mx_retail", Username: s.bankUser, Password: s.bankPassword, AccessMode: "single",
			FetchResources: []belvo.Resource{belvo.Accounts, belvo.Owners}})
		done <- result{reg, err}
	}()
	regID := workflows.LinkRegistrationWorkflowID(key)
	assertStatusByID(t, s, regID, workflows.StatusMFARequired)
	if err := s.starter.SendMFAToken(s.ctx(10*time.Second), key, "000000"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	select {
	case r := <-done:
		t.Fatalf("registration ended on a wrong token: %+v", r)
	default:
	}
	if err := s.starter.SendMFAToken(s.ctx(10*time.Second), key, "424242"); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("registration: %v", r.err)
	}
	if _, err := s.starter.WaitFetch(s.ctx(time.Minute), r.reg.LinkID); err != nil {
		t.Fatalf("fetch after MFA: %v", err)
	}
	s.assertStored(r.reg.LinkID)
}

// No token before Belvo's session expires: the registration ends visibly
// with MFASessionExpired.
func TestMFASessionExpires(t *testing.T) {
	s := newStack(t, sandbox.Config{MFA: true, MFASessionTTL: 2 * time.Second}, 0)
	_, err := s.starter.RegisterLink(s.ctx(time.Minute), "mfa-exp-"+uuid.NewString()[:8], activities.RegisterLinkInput{
		Institution: "erebor_mx_retail", Username: s.bankUser, Password: s.bankPassword, FetchResources: []belvo.Resource{belvo.Accounts}})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != "MFASessionExpired" {
		t.Fatalf("error %v, want MFASessionExpired", err)
	}
}

// assertStatusByID waits until an execution's BelvoStatus is status.
func assertStatusByID(t *testing.T, s *testStack, workflowID, status string) {
	t.Helper()
	waitFor(t, 20*time.Second, func() bool {
		d, err := s.client.DescribeWorkflow(s.ctx(5*time.Second), workflowID, "")
		if err != nil {
			return false
		}
		got, _ := searchKeyword(d.RawResponse.GetWorkflowExecutionInfo(), "BelvoStatus")
		return got == status
	})
}

// A webhook that never comes while Belvo has the data: after the grace
// period the execution looks it up and fetches it anyway.
func TestMissingWebhookWithDataIsFetchedAfterGrace(t *testing.T) {
	s := newStack(t, sandbox.Config{Transactions: 500, SkipWebhooks: []belvo.Resource{belvo.Owners}}, 0)
	s.starter.FetchGrace = time.Second
	reg, p, err := s.registerLink("it-missing-with-data")
	if err != nil {
		t.Fatalf("fetch: %v: %s", err, describe(p))
	}
	s.assertStored(reg.LinkID)
	if o := p.Resources[belvo.Owners]; o == nil || !o.WithoutWebhook {
		t.Errorf("owners %+v: want stored without a webhook", o)
	}
}

// A webhook that never comes and no data at Belvo: "webhook missing", then a
// visible timeout that names it.
func TestMissingWebhookWithoutDataTimesOut(t *testing.T) {
	s := newStack(t, sandbox.Config{Transactions: 300, SkipWebhooks: []belvo.Resource{belvo.Owners}, EmptyResources: []belvo.Resource{belvo.Owners}}, 8*time.Second)
	s.starter.FetchGrace = time.Second
	_, _, err := s.registerLink("it-missing-no-data")
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != "HistoricalFetchTimedOut" || !strings.Contains(appErr.Error(), "OWNERS (webhook missing)") {
		t.Fatalf("error %v, want a timeout naming OWNERS (webhook missing)", err)
	}
}
