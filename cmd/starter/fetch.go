package main

import (
	"context"
	"fmt"
	"io"

	"github.com/belvo-temporal/backbone/workflows"
	"github.com/spf13/cobra"
)

// fetchOptions are fetch's flags.
type fetchOptions struct {
	linkID, externalID, institution string
	resources                       []string
	wait                            bool
}

// newFetchCmd is fetch: the Connect Widget's links, whose registration
// this product did not make.
func newFetchCmd(a *app) *cobra.Command {
	var o fetchOptions
	cmd := &cobra.Command{
		Use:   "fetch --link-id ID",
		Short: "Fetch the history of an existing link (e.g. one the Connect Widget created)",
		Long: `Start the historical fetch of a link created elsewhere (the Connect Widget), or join
the one its first webhook already started: running it twice is harmless. The fetch
waits for Belvo's historical_update webhooks and stores each resource.`,
		Example: `  starter fetch --link-id 8a1b… --resources ACCOUNTS,TRANSACTIONS,OWNERS --wait
  starter fetch --link-id 8a1b… --external-id my-user-1 --institution erebor_mx_retail`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.fetch(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.linkID, "link-id", "", "Belvo link id (required)")
	resourcesFlag(f, &o.resources, defaultResources, "resources the link was created to fetch")
	f.StringVar(&o.externalID, "external-id", "", "your id for the link, shown and searchable in the web UI")
	// No default, unlike register's: the first institution a fetch is told
	// sticks to its progress and search attributes, so a sandbox default
	// would mislabel a real link.
	f.StringVar(&o.institution, "institution", "", "the link's Belvo institution, shown and searchable in the web UI")
	f.BoolVar(&o.wait, "wait", false, "wait for the historical fetch to end and print its progress")
	_ = cmd.MarkFlagRequired("link-id")
	return cmd
}

// fetch checks the command line, then starts (or joins) the fetch.
func (a *app) fetch(cmd *cobra.Command, o fetchOptions) error {
	res, err := parseResources(o.resources)
	if err != nil {
		return err
	}
	req := workflows.FetchRequest{Resources: res, ExternalID: o.externalID, Institution: o.institution}
	return a.run(cmd, func(ctx context.Context, s *session, out io.Writer) error {
		if _, err := s.api.FetchLink(ctx, o.linkID, req); err != nil {
			return s.fail(ctx, "start the historical fetch of link "+o.linkID, workflows.HistoricalFetchWorkflowID(o.linkID), err)
		}
		fmt.Fprintf(out, "historical fetch of link %s started (or joined)\n", o.linkID)
		return followFetch(ctx, out, s, o.linkID, o.wait)
	})
}
