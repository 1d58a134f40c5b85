package main

import (
	"context"
	"fmt"
	"io"

	"github.com/belvo-temporal/backbone/workflows"
	"github.com/spf13/cobra"
)

// mfaOptions are mfa's flags.
type mfaOptions struct{ registration, token string }

// newMFACmd is mfa. The token may come from the environment, as the bank
// password does, so that it need not appear in ps.
func newMFACmd(a *app) *cobra.Command {
	var o mfaOptions
	cmd := &cobra.Command{
		Use:   "mfa --registration KEY [--token TOKEN]",
		Short: "Give a registration that Belvo paused for MFA the user's token",
		Long: `Give a registration that Belvo paused for MFA (BelvoStatus mfa_required) the user's
token; it then completes the registration. --registration is the key register printed
(its --key). The token may come from $BELVO_MFA_TOKEN instead of --token, to keep it
out of ps and shell history.`,
		Example: `  starter mfa --registration user-1-link --token 123456
  BELVO_MFA_TOKEN=123456 starter mfa --registration user-1-link`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.mfa(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.registration, "registration", "", "the registration's idempotency key, register's --key (required)")
	f.StringVar(&o.token, "token", "", "the MFA token (default: $BELVO_MFA_TOKEN)")
	_ = cmd.MarkFlagRequired("registration")
	return cmd
}

// mfa signals the token to the registration.
func (a *app) mfa(cmd *cobra.Command, o mfaOptions) error {
	token := o.token
	if token == "" {
		token = a.getenv("BELVO_MFA_TOKEN")
	}
	if token == "" {
		return usagef("the MFA token is required: --token or $BELVO_MFA_TOKEN")
	}
	return a.run(cmd, func(ctx context.Context, s *session, out io.Writer) error {
		if err := s.api.SendMFAToken(ctx, o.registration, token); err != nil {
			return s.fail(ctx, "send the MFA token to registration "+o.registration, workflows.LinkRegistrationWorkflowID(o.registration), err)
		}
		fmt.Fprintln(out, "MFA token sent; the registration resumes")
		return nil
	})
}
