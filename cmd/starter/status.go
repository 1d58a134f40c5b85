package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// statusOptions are status's flags.
type statusOptions struct {
	linkID, requestID string
	updates           bool
}

// newStatusCmd is status: one command for the three kinds of execution a
// person asks about, chosen by which id is given.
func newStatusCmd(a *app) *cobra.Command {
	var o statusOptions
	cmd := &cobra.Command{
		Use:   "status (--link-id ID [--updates] | --request-id RID)",
		Short: "Print the progress of a historical fetch, a link's updates or an async request",
		Long: `Print an execution's progress, from its progress query (a worker answers it):
  --link-id ID            the link's historical fetch: each resource's state and rows stored
  --link-id ID --updates  the link's recurrent updates: counts and the steps that failed
  --request-id RID        an async request (or refresh), by Belvo's request_id
When the query cannot be answered (no worker, or it returns nothing yet), status
prints the result of a closed execution, else what the server records of it (status,
start and close times, search attributes), and says which.`,
		Example: `  starter status --link-id 8a1b…
  starter status --link-id 8a1b… --updates
  starter status --request-id 5c2d…`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.status(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.linkID, "link-id", "", "Belvo link id: its historical fetch, or with --updates its recurrent updates")
	f.StringVar(&o.requestID, "request-id", "", "Belvo's request_id of an async request or refresh")
	f.BoolVar(&o.updates, "updates", false, "with --link-id: the link's recurrent updates (LinkUpdates) instead of its historical fetch")
	return cmd
}

// status shows the chosen execution, then where to see it in the web UI.
// The flag combinations are checked here rather than with cobra's flag
// groups, whose messages name groups rather than what to type.
func (a *app) status(cmd *cobra.Command, o statusOptions) error {
	switch {
	case o.linkID == "" && o.requestID == "":
		return usagef("say which execution: --link-id ID (a link's historical fetch, with --updates its recurrent updates) or --request-id RID (an async request)")
	case o.linkID != "" && o.requestID != "":
		return usagef("--link-id and --request-id name different executions: give one")
	case o.updates && o.linkID == "":
		return usagef("--updates shows a link's recurrent updates: it goes with --link-id, not --request-id")
	}
	return a.run(cmd, func(ctx context.Context, s *session, out io.Writer) error {
		var what, wfID string
		var err error
		switch {
		case o.requestID != "":
			v := asyncView(s, o.requestID)
			what, wfID, err = v.what, v.workflowID, show(ctx, out, s, v)
		case o.updates:
			v := updatesView(s, o.linkID)
			what, wfID, err = v.what, v.workflowID, show(ctx, out, s, v)
		default:
			v := fetchView(s, o.linkID)
			what, wfID, err = v.what, v.workflowID, show(ctx, out, s, v)
		}
		if err != nil {
			return s.fail(ctx, "status of the "+what, wfID, err)
		}
		fmt.Fprintf(out, "workflow id: %s\nweb UI:      %s\n", wfID, s.uiURL(ctx, wfID))
		return nil
	})
}
