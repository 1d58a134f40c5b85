package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/internal/stack"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/starter"
	"github.com/belvo-temporal/backbone/store"
	"github.com/belvo-temporal/backbone/workflows"
)

var demoResources = []belvo.Resource{belvo.Accounts, belvo.Transactions, belvo.Owners}

// demoRun is one demo link and what became of it.
type demoRun struct {
	flow, linkID string
}

// runDemo registers a link by the API and connects one through the widget
// flow, waits for both historical fetches, and compares the store with the
// sandbox's counts. It fails unless every count matches.
func runDemo(ctx context.Context, st *stack.Stack) error {
	c, err := st.Dial(nil)
	if err != nil {
		return err
	}
	defer c.Close()
	s := st.Starter(c)
	stamp := time.Now().UTC().Format("20060102-150405")

	fmt.Println("\n=== demo 1: register a link by the API (ACCOUNTS, TRANSACTIONS, OWNERS) ===")
	reg, err := s.RegisterLink(ctx, "demo-"+stamp, activities.RegisterLinkInput{
		Institution: "erebor_mx_retail", Username: sandbox.SandboxUsername, Password: sandbox.SandboxPassword,
		ExternalID: "demo-api-" + stamp, AccessMode: "single", FetchResources: demoResources,
	})
	if err != nil {
		return fmt.Errorf("register demo link: %w", err)
	}
	fmt.Printf("link %s registered; fetch execution %s\n", reg.LinkID, reg.FetchWorkflowID)
	if err := waitShowingProgress(ctx, s, reg.LinkID); err != nil {
		return err
	}

	fmt.Println("\n=== demo 2: a Connect Widget link; Belvo's webhooks arrive before the app asks ===")
	widgetLink, err := widgetConnect(ctx, st, "demo-widget-"+stamp)
	if err != nil {
		return err
	}
	fmt.Printf("widget created link %s; the bridge started its execution from the first webhook\n", widgetLink)
	if _, err := s.FetchLink(ctx, widgetLink, workflows.FetchRequest{Resources: demoResources, ExternalID: "demo-widget-" + stamp, Institution: "erebor_mx_retail"}); err != nil {
		return err
	}
	if err := waitShowingProgress(ctx, s, widgetLink); err != nil {
		return err
	}
	if err := summary(ctx, st, s, []demoRun{{"API registration", reg.LinkID}, {"Connect Widget", widgetLink}}); err != nil {
		return err
	}

	fmt.Println("\n=== demo 3: async POST requests (X-Belvo-Request-Mode: async) on the API link ===")
	return asyncDemo(ctx, st, s, reg.LinkID, stamp)
}

// asyncDemo sends one async transactions and two async invoices requests,
// waits for Belvo's webhooks and the data, and checks each count against the
// sandbox.
func asyncDemo(ctx context.Context, st *stack.Stack, s starter.Starter, linkID, stamp string) error {
	reqs := []belvo.AsyncRequest{
		{Op: belvo.OpTransactions, LinkID: linkID, DateFrom: "2026-09-01", DateTo: "2026-10-31"},
		{Op: belvo.OpInvoices, LinkID: linkID, DateFrom: "2026-09-01", DateTo: "2026-10-31", Type: "INFLOW"},
		{Op: belvo.OpInvoices, LinkID: linkID, DateFrom: "2026-09-01", DateTo: "2026-10-31", Type: "OUTFLOW"},
	}
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REQUEST\tBELVO REQUEST ID\tROWS FETCHED INTO STORE\tIN BELVO (SANDBOX)\tOK")
	bad := 0
	var ids []string
	for i, req := range reqs {
		res, err := s.StartAsync(ctx, fmt.Sprintf("demo-%s-%d", stamp, i), req)
		if err != nil {
			return fmt.Errorf("async %s: %w", req.Op, err)
		}
		p, err := s.WaitAsync(ctx, res.RequestID)
		if err != nil {
			return fmt.Errorf("async %s request %s: %w", req.Op, res.RequestID, err)
		}
		op, _ := belvo.LookupAsyncOp(req.Op)
		want, err := st.Control().Count(ctx, linkID, op.Resource, req.ListFilters())
		if err != nil {
			return err
		}
		ok := "yes"
		if p.BelvoCount != want {
			ok, bad = "NO", bad+1
		}
		fmt.Fprintf(tw, "%s %s..%s %s\t%s\t%d\t%d\t%s\n", req.Op, req.DateFrom, req.DateTo, req.Type, res.RequestID, p.BelvoCount, want, ok)
		ids = append(ids, res.RequestWorkflowID)
	}
	tw.Flush()
	for _, id := range ids {
		runID, _ := s.LatestRunID(ctx, id)
		fmt.Printf("  %s\n", starter.UIURL(st.Config.TemporalUIURL, st.Config.TemporalNamespace, id, runID))
	}
	if bad > 0 {
		return fmt.Errorf("%d async requests stored a count that differs from the sandbox", bad)
	}
	fmt.Println("DEMO PASSED: async requests stored with exact counts")
	return nil
}

// waitShowingProgress prints each change of the progress query until the
// execution ends.
func waitShowingProgress(ctx context.Context, s starter.Starter, linkID string) error {
	done := make(chan error, 1)
	go func() { _, err := s.WaitFetch(ctx, linkID); done <- err }()
	last := ""
	for {
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("historical fetch of %s: %w", linkID, err)
			}
			return nil
		case <-time.After(300 * time.Millisecond):
		}
		p, err := s.Progress(ctx, linkID)
		if err != nil {
			continue
		}
		line := progressLine(p)
		if line != last {
			fmt.Println("  " + line)
			last = line
		}
	}
}

func progressLine(p workflows.Progress) string {
	parts := []string{p.Status}
	for _, r := range slices.Sorted(maps.Keys(p.Resources)) {
		rp := p.Resources[r]
		parts = append(parts, fmt.Sprintf("%s: %s (%d rows)", r, rp.State, rp.Stored))
	}
	return strings.Join(parts, " | ")
}

// widgetConnect plays the user finishing the Connect Widget against the
// sandbox: a widget token asking for the history, then the connection.
func widgetConnect(ctx context.Context, st *stack.Stack, externalID string) (string, error) {
	bc, err := belvo.New(belvo.Options{BaseURL: st.Config.BelvoBaseURL, SecretID: st.Config.BelvoSecretID, SecretPassword: st.Config.BelvoSecretPassword})
	if err != nil {
		return "", err
	}
	tok, err := bc.CreateWidgetToken(ctx, belvo.WidgetTokenRequest{ExternalID: externalID, FetchHistorical: true, FetchResources: demoResources})
	if err != nil {
		return "", fmt.Errorf("widget token: %w", err)
	}
	link, err := st.Control().WidgetLink(ctx, tok.Access, "erebor_mx_retail")
	if err != nil {
		return "", err
	}
	// Let the webhooks go first, as they do when the app is slow to react.
	time.Sleep(time.Second)
	return link, nil
}

// summary prints, per link and resource, the rows in the store next to the
// sandbox's own count, and fails on any difference.
func summary(ctx context.Context, st *stack.Stack, s starter.Starter, runs []demoRun) error {
	db, err := store.Open(ctx, st.Config.StoreDSN)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Println("\n=== result ===")
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FLOW\tRESOURCE\tSTORED\tIN BELVO (SANDBOX)\tOK")
	bad := 0
	for _, r := range runs {
		want, err := st.Control().Expected(ctx, r.linkID)
		if err != nil {
			return err
		}
		for _, res := range demoResources {
			got, err := db.Count(ctx, res, r.linkID)
			if err != nil {
				return err
			}
			ok := "yes"
			if got != want[res] {
				ok, bad = "NO", bad+1
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", r.flow, res, got, want[res], ok)
		}
	}
	tw.Flush()
	fmt.Println()
	for _, r := range runs {
		id := workflows.HistoricalFetchWorkflowID(r.linkID)
		runID, _ := s.LatestRunID(ctx, id)
		fmt.Printf("%-17s workflow %s\n%-17s %s\n", r.flow, id, "", starter.UIURL(st.Config.TemporalUIURL, st.Config.TemporalNamespace, id, runID))
	}
	fmt.Printf("store: %s\n", strings.TrimPrefix(st.Config.StoreDSN, "sqlite:"))
	if bad > 0 {
		return fmt.Errorf("%d resource counts differ between the store and the sandbox", bad)
	}
	fmt.Println("DEMO PASSED: every resource stored with exact counts")
	return nil
}
