package activities

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/sandbox"
	"go.temporal.io/sdk/testsuite"
)

// After a registration's answer was lost with its worker, the retry asks
// Belvo (here the sandbox, over HTTP) for links with the registration's
// external id created since the activity was scheduled: one is adopted,
// none means sending again is safe, several stay uncertain.
func TestReconcileAnUncertainRegistration(t *testing.T) {
	ctx := context.Background()
	emu := sandbox.New(sandbox.Config{})
	defer emu.Close()
	srv := httptest.NewServer(emu.Handler())
	defer srv.Close()
	d := sandbox.Config{}.WithDefaults()
	bc, err := belvo.New(belvo.Options{BaseURL: srv.URL, SecretID: d.SecretID, SecretPassword: d.SecretPassword})
	if err != nil {
		t.Fatal(err)
	}
	register := func(ext string) string {
		l, err := bc.RegisterLink(ctx, belvo.RegisterLinkRequest{Institution: "erebor_mx_retail", Username: d.BankUsername,
			Password: d.BankPassword, ExternalID: ext, AccessMode: "single"})
		if err != nil {
			t.Fatal(err)
		}
		return l.ID
	}
	once := register("user-once")
	register("user-twice")
	register("user-twice")

	a := &Activities{Belvo: bc}
	probe := func(ctx context.Context, in RegisterLinkInput) (LinkInfo, error) {
		info, found, err := a.reconcile(ctx, in)
		if err == nil && !found {
			info.LinkID = "none"
		}
		return info, err
	}
	cases := []struct {
		name, ext, want, wantErr string
	}{
		{"the earlier attempt's link is adopted", "user-once", once, ""},
		{"no link: safe to send again", "user-never", "none", ""},
		{"two links: still uncertain", "user-twice", "", "BelvoUncertain"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var suite testsuite.WorkflowTestSuite
			env := suite.NewTestActivityEnvironment()
			env.RegisterActivity(probe)
			val, err := env.ExecuteActivity(probe, RegisterLinkInput{Institution: "erebor_mx_retail", ExternalID: c.ext})
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %s", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var info LinkInfo
			if err := val.Get(&info); err != nil || info.LinkID != c.want {
				t.Errorf("link %q (%v), want %q", info.LinkID, err, c.want)
			}
		})
	}
}
