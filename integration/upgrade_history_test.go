//go:build integration

package integration

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/proto"

	"github.com/belvo-temporal/backbone/codec"
	wf "github.com/belvo-temporal/backbone/worker"
)

type workflowCountRequest = workflowservice.CountWorkflowExecutionsRequest

// budgetChangeVersion is how visibility names HistoricalFetch's
// history-budget gate at version 1 (workflows.historyBudgetVersion): the
// value GetVersion adds to the TemporalChangeVersion search attribute.
const budgetChangeVersion = "historical-fetch-history-budget-1"

// runFacts is what one run's history says about an upgrade.
type runFacts struct {
	id, runID, workflowType string
	status                  enums.WorkflowExecutionStatus
	// workers are the identities (pid@host) of the workers that completed
	// its workflow tasks: two when it ran on both sides of the upgrade.
	workers []string
	// taskFailures are its failed workflow tasks, by cause and message.
	taskFailures []string
	// budget: it recorded the history-budget version.
	budget bool
	hist   *historypb.History
}

// runsOn lists every run (closed, continued-as-new and running) of every
// execution on a task queue.
func runsOn(t *testing.T, c client.Client, taskQueue string) []*workflowpb.WorkflowExecutionInfo {
	t.Helper()
	var out []*workflowpb.WorkflowExecutionInfo
	var token []byte
	for {
		resp, err := c.ListWorkflow(context.Background(), &workflowListRequest{
			Query: fmt.Sprintf("TaskQueue = '%s'", taskQueue), NextPageToken: token})
		if err != nil {
			t.Fatalf("list executions on %s: %v", taskQueue, err)
		}
		out = append(out, resp.Executions...)
		if token = resp.NextPageToken; len(token) == 0 {
			return out
		}
	}
}

// readRun reads one run's history and what it says; ring decodes its
// failures (the product encrypts them).
func readRun(t *testing.T, c client.Client, ring *codec.KeyRing, e *workflowpb.WorkflowExecutionInfo) runFacts {
	t.Helper()
	f := runFacts{id: e.GetExecution().GetWorkflowId(), runID: e.GetExecution().GetRunId(),
		workflowType: e.GetType().GetName(), status: e.GetStatus(), hist: &historypb.History{}}
	it := c.GetWorkflowHistory(context.Background(), f.id, f.runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s/%s: %v", f.id, f.runID, err)
		}
		f.hist.Events = append(f.hist.Events, ev)
		switch ev.GetEventType() {
		case enums.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			if w := ev.GetWorkflowTaskCompletedEventAttributes().GetIdentity(); !slices.Contains(f.workers, w) {
				f.workers = append(f.workers, w)
			}
		case enums.EVENT_TYPE_WORKFLOW_TASK_FAILED:
			a := ev.GetWorkflowTaskFailedEventAttributes()
			msg := a.GetFailure().GetMessage()
			if err := codec.FailureConverter(ring).FailureToError(a.GetFailure()); err != nil {
				msg = err.Error()
			}
			f.taskFailures = append(f.taskFailures, fmt.Sprintf("event %d: %s: %s", ev.GetEventId(), a.GetCause(), msg))
		case enums.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
			sa := ev.GetUpsertWorkflowSearchAttributesEventAttributes().GetSearchAttributes()
			var versions []string
			if p := sa.GetIndexedFields()["TemporalChangeVersion"]; p != nil &&
				converter.GetDefaultDataConverter().FromPayload(p, &versions) == nil {
				f.budget = f.budget || slices.Contains(versions, budgetChangeVersion)
			}
		}
	}
	return f
}

// replays replays a history against the current workflow code, as a new
// worker does for an execution an older one started.
func replays(ring *codec.KeyRing, h *historypb.History) error {
	r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
		DataConverter: codec.DataConverter(ring), FailureConverter: codec.FailureConverter(ring)})
	if err != nil {
		return err
	}
	wf.RegisterWorkflows(r)
	// A copy: the replayer writes upserts into the started event.
	return r.ReplayWorkflowHistory(nil, proto.Clone(h).(*historypb.History))
}
