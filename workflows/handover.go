package workflows

import (
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// localHandOverVersion makes a flow's hand-overs — SignalWithStart of
// another execution: a registration starting its link's fetch, a sender
// announcing its request to the link's LinkRequests, handing it to its
// AsyncRequest, resolving the announcement — local activities. Each was an
// activity: a workflow task to schedule it, an activity task through the
// matching service, another workflow task for its result, all in the flow's
// critical path (the end-to-end benchmark found the async sender's four
// steps the largest share of its gap to the plain-SDK baseline). A local
// activity runs inside the workflow task and leaves one marker. The call is
// safe to repeat — a SignalWithStart that a crash makes run again delivers
// a signal its receiver already deduplicates, and Once covers a start whose
// answer was lost — so the local activity's at-least-once is enough.
// Executions started before this version replay their activities.
const localHandOverVersion = "local-hand-overs"

// handOverWindow bounds a local hand-over with its retries. An activity
// hand-over retried without end; a local one needs a window (it defaults to
// one attempt), and a day outlasts any outage in which the worker could
// still run the workflow task that waits for it: the hand-over and the
// workflow task reach the same Temporal frontend.
const handOverWindow = 24 * time.Hour

// handOverRetry is every hand-over's retry policy: quick at first (a
// frontend restarting), then once a minute.
var handOverRetry = &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute}

// signalWithStart runs one hand-over, as a local activity when local (see
// localHandOverVersion), otherwise as the activity older executions
// recorded.
func signalWithStart(ctx workflow.Context, local bool, summary string, in activities.SignalWithStartInput) (activities.SignalWithStartResult, error) {
	var a *activities.Activities
	var res activities.SignalWithStartResult
	if local {
		lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
			StartToCloseTimeout: 30 * time.Second, ScheduleToCloseTimeout: handOverWindow, RetryPolicy: handOverRetry, Summary: summary,
		})
		err := workflow.ExecuteLocalActivity(lctx, a.SignalWithStart, in).Get(ctx, &res)
		return res, err
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second, RetryPolicy: handOverRetry, Summary: summary,
	})
	err := workflow.ExecuteActivity(actx, a.SignalWithStart, in).Get(ctx, &res)
	return res, err
}
