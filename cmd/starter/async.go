package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/workflows"
	"github.com/spf13/cobra"
)

// asyncOptions are async's flags.
type asyncOptions struct {
	op, linkID, account, from, to, typ, key string
	wait                                    bool
}

// opTable lists the async operations with the flags each needs, for the
// help, from belvo.AsyncOps so that it cannot drift from what Validate
// accepts.
func opTable() string {
	var b strings.Builder
	for _, o := range belvo.AsyncOps() {
		var needs []string
		if o.NeedsRange {
			needs = append(needs, "--from", "--to")
		}
		if o.NeedsType {
			needs = append(needs, "--type")
		}
		b.WriteString(strings.TrimRight(fmt.Sprintf("  %-22s %s", o.Op, strings.Join(needs, " ")), " ") + "\n")
	}
	return b.String()
}

// newAsyncCmd is async. --op has no default: an async POST costs a Belvo
// request, so a forgotten --op must not send transactions.
func newAsyncCmd(a *app) *cobra.Command {
	var o asyncOptions
	cmd := &cobra.Command{
		Use:   "async --op OP --link-id ID",
		Short: "Send an async Belvo request and store the data it produces",
		Long: `Send an async Belvo request (X-Belvo-Request-Mode: async). Belvo answers with a
request_id at once; an execution per request_id waits for the webhook and lists the
data into the store. --key is the sender's idempotency key: the same key twice sends one
request and returns the first result.

Operations (--op), and the flags each needs:
` + opTable() + `A link refresh has its own command, starter refresh, which names the resources.`,
		Example: `  starter async --op transactions --link-id 8a1b… --from 2026-09-01 --to 2026-10-31 --wait
  starter async --op invoices --link-id 8a1b… --from 2026-09-01 --to 2026-10-31 --type INFLOW --key inv-2026-09
  starter async --op link_deletion --link-id 8a1b…`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.async(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.op, "op", "", "async operation (required; listed above)")
	f.StringVar(&o.linkID, "link-id", "", "Belvo link id (required)")
	f.StringVar(&o.from, "from", "", "date_from, YYYY-MM-DD")
	f.StringVar(&o.to, "to", "", "date_to, YYYY-MM-DD")
	f.StringVar(&o.typ, "type", "", "INFLOW or OUTFLOW (invoices)")
	f.StringVar(&o.account, "account", "", "account id (transactions, optional)")
	f.StringVar(&o.key, "key", "", "idempotency key of the request (default: a new UUID)")
	f.BoolVar(&o.wait, "wait", false, "wait for Belvo's webhooks and the data, then print the request's progress")
	_ = cmd.MarkFlagRequired("op")
	_ = cmd.MarkFlagRequired("link-id")
	return cmd
}

// async checks the request as Belvo's specs do before anything is sent,
// then sends it and follows it.
func (a *app) async(cmd *cobra.Command, o asyncOptions) error {
	req := belvo.AsyncRequest{Op: belvo.Operation(o.op), LinkID: o.linkID, Account: o.account, DateFrom: o.from, DateTo: o.to, Type: o.typ}
	if err := req.Validate(); err != nil {
		return usagef("%v", err)
	}
	key := a.keyOr(o.key)
	return a.run(cmd, func(ctx context.Context, s *session, out io.Writer) error {
		fmt.Fprintf(out, "sending async %s for link %s (key %s)…\n", req.Op, req.LinkID, key)
		res, err := s.api.StartAsync(ctx, key, req)
		if err != nil {
			return s.fail(ctx, fmt.Sprintf("send async %s for link %s (key %s)", req.Op, req.LinkID, key), workflows.AsyncPostWorkflowID(key), err)
		}
		return followRequest(ctx, out, s, res, o.wait)
	})
}
