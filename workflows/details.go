package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/workflow"
)

// showDetails publishes the fetch's state as the execution's current
// details (markdown the web UI shows on the execution page), so a person
// sees which resource waits, lists or failed without running a query. It
// records no command, so it never affects replay.
func (h *historicalFetch) showDetails(ctx workflow.Context) {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** — link `%s`", h.progress.Status, h.in.LinkID)
	if h.progress.Institution != "" {
		fmt.Fprintf(&b, " at %s", h.progress.Institution)
	}
	b.WriteString("\n\n| resource | state | rows stored | pages | note |\n| --- | --- | --- | --- | --- |\n")
	for _, r := range h.progress.Expected {
		p, ok := h.progress.Resources[r]
		if !ok {
			continue
		}
		note := p.Error
		if p.WithoutWebhook {
			note = strings.TrimSpace(note + " fetched without its webhook")
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %s |\n", r, p.State, p.Stored, p.Pages, strings.ReplaceAll(note, "|", "/"))
	}
	if !h.expectedKnown {
		b.WriteString("\nThe expected resources are not known yet (no fetch request, link not read).\n")
	}
	workflow.SetCurrentDetails(ctx, b.String())
}
