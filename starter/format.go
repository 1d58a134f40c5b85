package starter

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/workflows"
)

// FormatProgress prints a historical fetch's progress as a table.
func FormatProgress(w io.Writer, p workflows.Progress) {
	fmt.Fprintf(w, "link %s  status %s  webhooks %d (duplicates %d, ignored %d)\n",
		p.LinkID, p.Status, p.Webhooks, p.DuplicateWebhooks, p.IgnoredWebhooks)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tSTATE\tSTORED ROWS\tPAGES\tFETCHES\tERROR")
	names := make([]belvo.Resource, 0, len(p.Resources))
	for r := range p.Resources {
		names = append(names, r)
	}
	slices.Sort(names)
	for _, r := range names {
		rp := p.Resources[r]
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", r, rp.State, rp.Stored, rp.Pages, rp.Fetches, rp.Error)
	}
	tw.Flush()
}

// FormatAsync prints an async request's progress.
func FormatAsync(w io.Writer, p workflows.AsyncProgress) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "request id\t%s\n", p.RequestID)
	fmt.Fprintf(tw, "status\t%s\n", p.Status)
	fmt.Fprintf(tw, "operation\t%s (link %s, %s..%s %s)\n", p.Request.Op, p.Request.LinkID, p.Request.DateFrom, p.Request.DateTo, p.Request.Type)
	fmt.Fprintf(tw, "webhooks\t%d (duplicates %d)\n", p.Webhooks, p.DuplicateWebhooks)
	switch {
	case len(p.Resources) > 1:
		for _, r := range slices.Sorted(maps.Keys(p.Resources)) {
			rp := p.Resources[r]
			fmt.Fprintf(tw, "%s\t%s: %d listed, %d pages; %d of the link's rows stored %s\n", r, rp.State, rp.BelvoCount, rp.Pages, rp.Stored, rp.Error)
		}
	case p.Resource != "":
		fmt.Fprintf(tw, "%s\t%d produced by the request, %d pages; %d of the link's rows stored\n", p.Resource, p.BelvoCount, p.Pages, p.Stored)
	}
	if p.Error != "" {
		fmt.Fprintf(tw, "error\t%s\n", p.Error)
	}
	tw.Flush()
}
