package main

import (
	"context"
	"fmt"
	"io"

	"github.com/belvo-temporal/backbone/workflows"
	"github.com/spf13/cobra"
)

// newRetryFailedCmd is retry-failed: for an operator who fixed what made
// the steps fail and does not want to wait for the next scheduled retry.
func newRetryFailedCmd(a *app) *cobra.Command {
	var linkID string
	cmd := &cobra.Command{
		Use:   "retry-failed --link-id ID",
		Short: "Apply again, now, a link's recurrent-update steps that failed",
		Long: `Ask a link's recurrent updates (LinkUpdates) to apply again, now, the webhooks whose
steps failed after the engine's retries. They are also retried by themselves after
1 h, then less and less often (at most 24 h apart); 'starter status --updates
--link-id ID' lists them.`,
		Example: `  starter retry-failed --link-id 8a1b…
  starter status --updates --link-id 8a1b…`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.retryFailed(cmd, linkID) },
	}
	cmd.Flags().StringVar(&linkID, "link-id", "", "Belvo link id (required)")
	_ = cmd.MarkFlagRequired("link-id")
	return cmd
}

// retryFailed signals the retry. The count printed after is best-effort:
// the signal is what matters, and it was accepted.
func (a *app) retryFailed(cmd *cobra.Command, linkID string) error {
	return a.run(cmd, func(ctx context.Context, s *session, out io.Writer) error {
		wfID := workflows.LinkUpdatesWorkflowID(linkID)
		if err := s.api.RetryFailedSteps(ctx, linkID); err != nil {
			return s.fail(ctx, "ask the recurrent updates of link "+linkID+" to retry failed steps", wfID, err)
		}
		if p, err := s.api.LinkUpdatesProgress(ctx, linkID); err == nil && p.Status != "" {
			fmt.Fprintf(out, "asked %s to retry its failed steps now (%d failed at the time of asking)\n", wfID, len(p.Failed))
		} else {
			fmt.Fprintf(out, "asked %s to retry its failed steps now\n", wfID)
		}
		fmt.Fprintf(out, "follow them with: starter status --updates --link-id %s\n", linkID)
		return nil
	})
}
