package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/workflows"
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/temporal"
)

// refreshOptions are refresh's flags.
type refreshOptions struct {
	linkID, key string
	resources   []string
	wait        bool
}

// newRefreshCmd is refresh. --resources has no default on purpose: left
// out, the sender (AsyncPost) reads the link's own fetch_resources from
// Belvo and names those.
func newRefreshCmd(a *app) *cobra.Command {
	var o refreshOptions
	cmd := &cobra.Command{
		Use:   "refresh --link-id ID",
		Short: "Ask Belvo to fetch a link's history again and relist it into the store",
		Long: `Ask Belvo to fetch a link's history again (POST /api/links/{id}/refresh/) and relist each
resource into the store when its webhook comes. Without --resources, the link's own
fetch_resources are refreshed. Belvo takes one refresh per link every 10 minutes: a
refresh within that cooldown fails and says when to try again. --key is the sender's
idempotency key, as for async.`,
		Example: `  starter refresh --link-id 8a1b… --wait
  starter refresh --link-id 8a1b… --resources ACCOUNTS,TRANSACTIONS --key refresh-2026-10-01`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.refresh(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.linkID, "link-id", "", "Belvo link id (required)")
	resourcesFlag(f, &o.resources, nil, "resources to refresh (default: the link's own fetch_resources)")
	f.StringVar(&o.key, "key", "", "idempotency key of the request (default: a new UUID)")
	f.BoolVar(&o.wait, "wait", false, "wait for Belvo's webhooks and the data, then print the request's progress")
	_ = cmd.MarkFlagRequired("link-id")
	return cmd
}

// refresh sends the refresh and follows it as async does; Belvo's cooldown
// is printed as when to try again rather than as a failure chain.
func (a *app) refresh(cmd *cobra.Command, o refreshOptions) error {
	var named []belvo.Resource
	if cmd.Flags().Changed("resources") { // only when given: the default is the link's own
		var err error
		if named, err = parseResources(o.resources); err != nil {
			return err
		}
	}
	key := a.keyOr(o.key)
	return a.run(cmd, func(ctx context.Context, s *session, out io.Writer) error {
		fmt.Fprintf(out, "asking Belvo to refresh link %s (key %s)…\n", o.linkID, key)
		res, err := s.api.Refresh(ctx, key, o.linkID, named)
		if err != nil {
			f := s.fail(ctx, fmt.Sprintf("refresh link %s (key %s)", o.linkID, key), workflows.AsyncPostWorkflowID(key), err)
			if c, ok := cooldownOf(err); ok {
				f.what, f.cause = "", fmt.Sprintf("link %s was refreshed less than %s ago (Belvo's cooldown): try again in %s (at %s)",
					o.linkID, belvo.RefreshCooldown, c.Wait.Round(time.Second), c.RetryAt.Local().Format(time.Kitchen))
			}
			return f
		}
		return followRequest(ctx, out, s, res, o.wait)
	})
}

// cooldownOf reads Belvo's refresh cooldown out of a failed refresh: the
// sender's BelvoLinkRefreshCooldown carries when Belvo takes the next one
// (workflows.RefreshCooldown).
func cooldownOf(err error) (workflows.RefreshCooldown, bool) {
	var c workflows.RefreshCooldown
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != belvo.ClassRefreshCooldown || appErr.Details(&c) != nil {
		return c, false
	}
	return c, true
}
