package starter

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"
	"time"

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

// FormatLinkUpdates prints a link's recurrent-update handler: its counts,
// then the steps that failed after the engine's retries, which an operator
// retries with RetryFailedSteps (they are retried by themselves later).
func FormatLinkUpdates(w io.Writer, p workflows.LinkUpdatesProgress) {
	fmt.Fprintf(w, "link %s  status %s  webhooks handled %d (duplicates %d, ignored %d)  runs %d\n",
		p.LinkID, p.Status, p.Handled, p.Duplicates, p.Ignored, p.Runs)
	if p.LastEvent != "" {
		fmt.Fprintf(w, "last event: %s\n", p.LastEvent)
	}
	if p.LastError != "" {
		fmt.Fprintf(w, "last error: %s\n", p.LastError)
	}
	if len(p.Failed) == 0 {
		fmt.Fprintln(w, "failed steps: none")
		return
	}
	fmt.Fprintf(w, "failed steps: %d\n", len(p.Failed))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WEBHOOK\tID\tATTEMPTS\tNEXT RETRY\tERROR")
	for _, f := range p.Failed {
		next := "-"
		if !f.NextRetry.IsZero() {
			next = f.NextRetry.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%d\t%s\t%s\n", f.Webhook.Type, f.Webhook.Code, f.Webhook.WebhookID, f.Attempts, next, f.Error)
	}
	tw.Flush()
}

// FormatExecution prints what the server records of an execution: what is
// left to show when its progress query cannot be answered.
func FormatExecution(w io.Writer, e Execution) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "workflow id\t%s (%s)\n", e.WorkflowID, e.Type)
	fmt.Fprintf(tw, "run id\t%s\n", e.RunID)
	fmt.Fprintf(tw, "status\t%s\n", e.Status)
	if !e.Start.IsZero() {
		fmt.Fprintf(tw, "started\t%s\n", e.Start.Local().Format(time.DateTime))
	}
	if !e.Close.IsZero() {
		fmt.Fprintf(tw, "closed\t%s (after %s)\n", e.Close.Local().Format(time.DateTime), e.Close.Sub(e.Start).Round(time.Second))
	}
	fmt.Fprintf(tw, "history\t%d events\n", e.HistoryLength)
	for _, name := range slices.Sorted(maps.Keys(e.SearchAttributes)) {
		fmt.Fprintf(tw, "%s\t%s\n", name, e.SearchAttributes[name])
	}
	for _, a := range e.Pending {
		line := fmt.Sprintf("%s, attempt %d", a.Type, a.Attempt)
		if a.LastFailure != "" {
			line += ", last failure: " + a.LastFailure
		}
		fmt.Fprintf(tw, "pending activity\t%s\n", line)
	}
	tw.Flush()
}
