package main

import (
	"context"
	"fmt"
	"io"

	"github.com/belvo-temporal/backbone/workflows"
	"github.com/spf13/cobra"
)

// relistOptions are relist's flags.
type relistOptions struct {
	linkID, key string
	resources   []string
}

// newRelistCmd is relist: --resources is required, because a whole listing
// of a 100k-transaction link is a hundred pages and should be asked for by
// name.
func newRelistCmd(a *app) *cobra.Command {
	var o relistOptions
	cmd := &cobra.Command{
		Use:   "relist --link-id ID --resources R[,R…]",
		Short: "List resources of a link whole into the store again",
		Long: `Ask a link's recurrent updates (LinkUpdates) to list each named resource whole into the
store again, from what Belvo holds now (no request to Belvo's refresh). Webhooks such as
new_transactions_available read only the rows at or after the resource's cursor; this is the
explicit complete read, e.g. after rows were removed from the store outside the product (a
restored backup needs none: its cursors come back with its rows). It is queued in order
with the link's webhooks and starts the handler if it is not running. --key is the
idempotency key: the same key twice relists once.`,
		Example: `  starter relist --link-id 8a1b… --resources TRANSACTIONS
  starter relist --link-id 8a1b… --resources accounts,transactions --key restore-2026-11-29
  starter status --updates --link-id 8a1b…`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.relist(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.linkID, "link-id", "", "Belvo link id (required)")
	resourcesFlag(f, &o.resources, nil, "resources to list whole (required)")
	f.StringVar(&o.key, "key", "", "idempotency key of the request (default: a new UUID)")
	_ = cmd.MarkFlagRequired("link-id")
	_ = cmd.MarkFlagRequired("resources")
	return cmd
}

// relist queues the relists; they run after it returns.
func (a *app) relist(cmd *cobra.Command, o relistOptions) error {
	named, err := parseResources(o.resources)
	if err != nil {
		return err
	}
	key := a.keyOr(o.key)
	return a.run(cmd, func(ctx context.Context, s *session, out io.Writer) error {
		wfID, err := s.api.Relist(ctx, key, o.linkID, named)
		if err != nil {
			return s.fail(ctx, fmt.Sprintf("ask for a full relist of link %s (key %s)", o.linkID, key), workflows.LinkUpdatesWorkflowID(o.linkID), err)
		}
		fmt.Fprintf(out, "asked %s to list %d resource(s) whole (key %s)\n", wfID, len(named), key)
		fmt.Fprintf(out, "follow it with: starter status --updates --link-id %s\n", o.linkID)
		return nil
	})
}
