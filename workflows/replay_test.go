package workflows_test

import (
	"testing"

	"github.com/belvo-temporal/backbone/workflows"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// TestReplayHistoricalFetch replays a real history recorded on a dev server
// (refresh it with UPDATE_REPLAY_HISTORY=1 go test ./integration/ after an
// intended change): a change to workflow code that would break running
// executions fails here.
func TestReplayHistoricalFetch(t *testing.T) {
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(workflows.HistoricalFetch, workflow.RegisterOptions{Name: workflows.HistoricalFetchType})
	if err := r.ReplayWorkflowHistoryFromJSONFile(nil, "testdata/historical_fetch_history.json"); err != nil {
		t.Fatalf("replay: %v", err)
	}
}
