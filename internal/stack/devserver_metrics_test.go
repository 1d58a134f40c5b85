//go:build integration

package stack_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/internal/promtext"
	"github.com/belvo-temporal/backbone/internal/stack"
	"github.com/belvo-temporal/backbone/workflows"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// The dev servers the stacks start keep their search-attribute cache (the
// CLI turns it off): executions carrying the product's attributes start
// without rereading them from the database each time, and the attributes
// still work — set at start, found by a visibility query.
func TestDevServerCachesSearchAttributes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d := startDevServer(ctx, t, stack.DevServerOptions{MetricsPort: freePort(t)})
	c := dial(ctx, t, d)

	link := "cache-test-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	start := func(i int) {
		t.Helper()
		_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: fmt.Sprintf("%s-%d", link, i), TaskQueue: "no-worker",
			TypedSearchAttributes: temporal.NewSearchAttributes(workflows.LinkIDAttr.ValueSet(link)),
		}, "NoSuchWorkflow")
		if err != nil {
			t.Fatalf("start %d with %s: %v", i, workflows.LinkIDAttr.GetName(), err)
		}
	}
	query := fmt.Sprintf("%s = %q", workflows.LinkIDAttr.GetName(), link)
	// settled waits until visibility has recorded want executions (the
	// server reads search attributes there too), then for the metrics to
	// be flushed, and returns the cluster-metadata reads so far.
	settled := func(want int64) float64 {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			res, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: query})
			if err != nil {
				t.Fatalf("count %s: %v", query, err)
			}
			if res.GetCount() == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("visibility found %d executions for %s, want %d", res.GetCount(), query, want)
			}
			time.Sleep(200 * time.Millisecond)
		}
		time.Sleep(3 * time.Second)
		return metadataReads(t, d.MetricsURL())
	}
	start(0) // the first use may fill a cold cache
	before := settled(1)
	const n = 10
	for i := 1; i <= n; i++ {
		start(i)
	}
	if reads := settled(n+1) - before; reads >= n {
		t.Errorf("%d starts carrying a search attribute read the cluster metadata %g times: the search-attribute cache is off", n, reads)
	}
}

// metadataReads is how often the server has read its cluster metadata
// (where search attributes live) from its database.
func metadataReads(t *testing.T, url string) float64 {
	t.Helper()
	if url == "" {
		t.Fatal("no metrics URL: MetricsPort was not passed on")
	}
	m, err := promtext.Scrape(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	return m.Sum("persistence_requests", `operation="GetCurrentClusterMetadata"`)
}
