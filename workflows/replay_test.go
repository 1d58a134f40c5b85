package workflows_test

import (
	"testing"

	"github.com/belvo-temporal/backbone/codec"

	wf "github.com/belvo-temporal/backbone/worker"
	"go.temporal.io/sdk/worker"
)

// TestReplay replays real histories recorded on a dev server against the
// current workflow code: a change that would break running executions fails
// here. After an intended change, refresh them with
// UPDATE_REPLAY_HISTORY=1 go test ./integration/ and guard the change with
// workflow.GetVersion.
func TestReplay(t *testing.T) {
	// The histories' payloads are encrypted with the test-only key ring.
	ring, err := codec.Load("", "testdata/replay-keys")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{
		"testdata/historical_fetch_history.json",
		"testdata/async_request_history.json",
		"testdata/link_updates_history.json",
		"testdata/link_registration_history.json",
		"testdata/async_post_history.json",
		// Recorded after the request_id correlation (announce-requests,
		// request-webhooks-by-resource, link-updates-retries versions).
		"testdata/async_request_by_resource_history.json",
		"testdata/async_post_announced_history.json",
		"testdata/link_requests_history.json",
		"testdata/link_updates_retries_history.json",
		// Recorded after the review fixes (resolve-when-cancelled,
		// held-waits-for-its-announcements, link-updates-end-after-retries).
		"testdata/async_post_cancel_safe_history.json",
		"testdata/link_requests_wait_for_own_history.json",
		"testdata/link_updates_end_checks_history.json",
		// Recorded after the history-budget change of HistoricalFetch
		// (historical-fetch-history-budget): the API path, and the path
		// that reads the link (webhooks first).
		"testdata/historical_fetch_budget_history.json",
		"testdata/historical_fetch_widget_budget_history.json",
		// Started by the release before it (the link read by an activity,
		// two timers), finished by the current code after an upgrade
		// (TestUpgradeFromPreviousRelease).
		"testdata/historical_fetch_widget_across_upgrade_history.json",
		// Recorded after incremental updates (link-updates-full-relist):
		// new_*_available from the cursor, then an operator's relist.
		"testdata/link_updates_relist_history.json",
		// Recorded after the hand-overs became local activities
		// (local-hand-overs): a registration and an async sender.
		"testdata/link_registration_local_handover_history.json",
		"testdata/async_post_local_handover_history.json",
		// A registry that held a refresh's three webhooks (sent before the
		// 202) and forwarded them by activities, before local-forward.
		"testdata/link_requests_forward_activity_history.json",
		// The same after local-forward: the three forwards are local
		// activities, in one workflow task.
		"testdata/link_requests_local_forward_history.json",
	} {
		t.Run(file, func(t *testing.T) {
			r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
				DataConverter: codec.DataConverter(ring), FailureConverter: codec.FailureConverter(ring)})
			if err != nil {
				t.Fatal(err)
			}
			wf.RegisterWorkflows(r)
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, file); err != nil {
				t.Fatalf("replay: %v", err)
			}
		})
	}
}
