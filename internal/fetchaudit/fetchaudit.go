// Package fetchaudit counts what links' historical-fetch executions did,
// through Temporal's visibility and each run's progress query, so that the
// harnesses that inject faults (the multi-replica run, the reliability
// suite) judge a second execution the same way.
//
// A second execution of a link's fetch is not always a duplicate. When a
// bridge answers 5xx for a webhook whose signal Temporal did record (its
// answer lost to a killed bridge or a database outage), Belvo sends the
// webhook again; if the copy arrives after the first execution completed,
// it opens a new one, which finds the webhook already processed in the
// store and lists nothing (HistoricalFetch's loadStored). Such a run is
// counted apart, as absorbed; one that listed something is a duplicate.
package fetchaudit

import (
	"context"
	"fmt"

	"github.com/belvo-temporal/backbone/workflows"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// Runs is what the fetch executions of a set of links did.
type Runs struct {
	// Twice counts executions beyond one per link that listed something.
	Twice int
	// Refetch counts listings of a resource beyond its first within one
	// execution.
	Refetch int
	// Absorbed counts executions that listed nothing: late webhook copies.
	Absorbed int
}

// Duplicates is every run or listing that did work twice.
func (r Runs) Duplicates() int { return r.Twice + r.Refetch }

// Count reads every run of each link's HistoricalFetch and what each
// listed. Closed runs answer the query through a worker, so one must be
// polling. A link without any run is an error: its fetch never started.
func Count(ctx context.Context, c client.Client, links []string) (Runs, error) {
	var out Runs
	byID, err := fetchRuns(ctx, c)
	if err != nil {
		return out, err
	}
	for _, l := range links {
		id := workflows.HistoricalFetchWorkflowID(l)
		runs := byID[id]
		if len(runs) == 0 {
			return out, fmt.Errorf("link %s: no historical-fetch execution in visibility", l)
		}
		progress := make([]workflows.Progress, 0, len(runs))
		for _, runID := range runs {
			v, err := c.QueryWorkflow(ctx, id, runID, workflows.ProgressQuery)
			if err != nil {
				return out, fmt.Errorf("progress of %s run %s: %w", id, runID, err)
			}
			var p workflows.Progress
			if err := v.Get(&p); err != nil {
				return out, fmt.Errorf("decode the progress of %s run %s: %w", id, runID, err)
			}
			progress = append(progress, p)
		}
		out = out.add(judge(progress))
	}
	return out, nil
}

// judge classifies the runs of one link's fetch: the first run that listed
// something is the fetch, any other that did is a duplicate, one that
// listed nothing is absorbed.
func judge(runs []workflows.Progress) Runs {
	var out Runs
	working := 0
	for _, p := range runs {
		fetches := 0
		for _, r := range p.Resources {
			fetches += r.Fetches
			out.Refetch += max(r.Fetches-1, 0)
		}
		if fetches > 0 {
			working++
		} else {
			out.Absorbed++
		}
	}
	out.Twice = max(working-1, 0)
	return out
}

func (r Runs) add(o Runs) Runs {
	return Runs{Twice: r.Twice + o.Twice, Refetch: r.Refetch + o.Refetch, Absorbed: r.Absorbed + o.Absorbed}
}

// fetchRuns lists the run ids of every HistoricalFetch by workflow id, in
// one listing (every page) rather than one per link.
func fetchRuns(ctx context.Context, c client.Client) (map[string][]string, error) {
	runs := map[string][]string{}
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("WorkflowType = '%s'", workflows.HistoricalFetchType), NextPageToken: token})
		if err != nil {
			return nil, fmt.Errorf("list the historical-fetch executions: %w", err)
		}
		for _, e := range resp.GetExecutions() {
			id := e.GetExecution().GetWorkflowId()
			runs[id] = append(runs[id], e.GetExecution().GetRunId())
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return runs, nil
		}
	}
}
