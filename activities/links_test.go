package activities

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/sandbox"
	"go.temporal.io/sdk/temporal"
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

// A registration POST cut mid-request (the connection reset after it was
// written) has an unknown outcome. With an external id the attempt fails
// retryably, its retry delayed by the client's timeout, so the next attempt
// reconciles (above) instead of the registration ending uncertain; without
// one nothing can tell what Belvo did, so it ends BelvoUncertain.
func TestRegistrationCutMidRequest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // the whole POST arrived
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // a reset, not a clean close
		}
		_ = conn.Close()
	}))
	defer srv.Close()
	const timeout = 42 * time.Second
	bc, err := belvo.New(belvo.Options{BaseURL: srv.URL, SecretID: "id", SecretPassword: "pw", HTTPClient: &http.Client{Timeout: timeout}})
	if err != nil {
		t.Fatal(err)
	}
	a := &Activities{Belvo: bc}
	cases := []struct {
		name, ext, wantType string
		retryable           bool
		wantDelay           time.Duration
	}{
		{"with an external id: retried after the client's timeout", "user-1", "BelvoUncertainReconcile", true, timeout},
		{"without: uncertain for good", "", "BelvoUncertain", false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var suite testsuite.WorkflowTestSuite
			env := suite.NewTestActivityEnvironment()
			env.RegisterActivity(a)
			_, err := env.ExecuteActivity(a.RegisterLink, RegisterLinkInput{Institution: "erebor_mx_retail", Username: "u", Password: "p", ExternalID: c.ext})
			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) {
				t.Fatalf("err = %v, want an application error", err)
			}
			if appErr.Type() != c.wantType || appErr.NonRetryable() == c.retryable || appErr.NextRetryDelay() != c.wantDelay {
				t.Errorf("type %s, retryable %v, next retry in %s; want %s, %v, %s (%v)",
					appErr.Type(), !appErr.NonRetryable(), appErr.NextRetryDelay(), c.wantType, c.retryable, c.wantDelay, err)
			}
		})
	}
}
