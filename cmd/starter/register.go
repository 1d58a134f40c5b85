package main

import (
	"context"
	"fmt"
	"io"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/workflows"
	"github.com/spf13/cobra"
)

// registerOptions are register's flags.
type registerOptions struct {
	username, institution, externalID, accessMode, key string
	resources                                          []string
	wait                                               bool
}

// newRegisterCmd is register. Its key flag is --key, like async's and
// refresh's, and mfa names the same key --registration: one flag, one
// meaning, where the old starter had --request-id for this and for Belvo's
// request_id.
func newRegisterCmd(a *app) *cobra.Command {
	var o registerOptions
	cmd := &cobra.Command{
		Use:   "register --username USER",
		Short: "Register a link by the API and fetch its history",
		Long: `Register a link by the API (POST /api/links/) and hand it to its historical fetch.
The bank password is read from $BELVO_LINK_PASSWORD, never from a flag, so it stays
out of ps and shell history.

--key is the idempotency key: the same key twice registers one link and returns the
first result. If the bank asks for an MFA token, the registration waits for it: send it
from another shell with 'starter mfa --registration KEY --token TOKEN'.`,
		Example: `  BELVO_LINK_PASSWORD=full starter register --username bnk100 --external-id my-user-1 --wait
  BELVO_LINK_PASSWORD=full starter register --username bnk100 --access-mode recurrent --key user-1-link`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.register(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.username, "username", "", "the bank username (required)")
	f.StringVar(&o.institution, "institution", "erebor_mx_retail", "Belvo institution")
	resourcesFlag(f, &o.resources, defaultResources, "resources Belvo fetches for the link (its fetch_resources)")
	f.StringVar(&o.externalID, "external-id", "", "your id for the link (3 to 256 characters)")
	f.StringVar(&o.accessMode, "access-mode", "single", "single or recurrent")
	f.StringVar(&o.key, "key", "", "idempotency key of the registration (default: a new UUID)")
	f.BoolVar(&o.wait, "wait", false, "wait for the historical fetch to end and print its progress")
	_ = cmd.MarkFlagRequired("username")
	return cmd
}

// register checks the command line, then registers and follows the fetch.
func (a *app) register(cmd *cobra.Command, o registerOptions) error {
	password := a.getenv("BELVO_LINK_PASSWORD")
	if password == "" {
		return usagef("the bank password must be in $BELVO_LINK_PASSWORD (never a flag)")
	}
	if o.accessMode != "single" && o.accessMode != "recurrent" {
		return usagef("--access-mode must be single or recurrent, not %q", o.accessMode)
	}
	res, err := parseResources(o.resources)
	if err != nil {
		return err
	}
	key := a.keyOr(o.key)
	in := activities.RegisterLinkInput{Institution: o.institution, Username: o.username, Password: password,
		ExternalID: o.externalID, AccessMode: o.accessMode, FetchResources: res}
	return a.run(cmd, func(ctx context.Context, s *session, out io.Writer) error {
		regID := workflows.LinkRegistrationWorkflowID(key)
		fmt.Fprintf(out, "registering link at %s (key %s)…\n", o.institution, key)
		fmt.Fprintf(out, "if the bank asks for an MFA token, send it with: starter mfa --registration %s --token <token>\n", key)
		reg, err := s.api.RegisterLink(ctx, key, in)
		if err != nil {
			return s.fail(ctx, fmt.Sprintf("register a link at %s (key %s)", o.institution, key), regID, err)
		}
		fmt.Fprintf(out, "link id:      %s\nregistration: %s\n", reg.LinkID, s.uiURL(ctx, regID))
		return followFetch(ctx, out, s, reg.LinkID, o.wait)
	})
}
