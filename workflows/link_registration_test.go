package workflows_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/workflows"
	"github.com/stretchr/testify/mock"
)

// The hand-over to the fetch must be Once: if its first attempt started the
// fetch and its worker died before reporting, the retry finds the fetch
// completed and must not start a second one (seen in the multi-replica run).
func TestLinkRegistrationHandsOverOnce(t *testing.T) {
	cases := []struct {
		name      string
		handover  activities.SignalWithStartResult
		wantFetch string
	}{
		{name: "fetch started by the hand-over", handover: activities.SignalWithStartResult{RunID: "r1"},
			wantFetch: workflows.HistoricalFetchWorkflowID(linkID)},
		{name: "retry finds the fetch already completed", handover: activities.SignalWithStartResult{ClosedResult: json.RawMessage(`{"status":"completed"}`)},
			wantFetch: workflows.HistoricalFetchWorkflowID(linkID)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := newEnv(t)
			var a *activities.Activities
			env.RegisterActivity(a)
			env.OnActivity(a.RegisterLink, mock.Anything, mock.Anything).Return(
				activities.LinkInfo{LinkID: linkID, Institution: "erebor_mx_retail"}, nil)
			var got activities.SignalWithStartInput
			env.OnActivity(a.SignalWithStart, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in activities.SignalWithStartInput) (activities.SignalWithStartResult, error) {
					got = in
					return c.handover, nil
				})
			env.ExecuteWorkflow(workflows.LinkRegistration, workflows.LinkRegistrationInput{Link: activities.RegisterLinkInput{
				Institution: "erebor_mx_retail", Username: "bnk100", Password: "full", FetchResources: []belvo.Resource{belvo.Accounts}}})
			if err := env.GetWorkflowError(); err != nil {
				t.Fatal(err)
			}
			var res workflows.LinkRegistrationResult
			if err := env.GetWorkflowResult(&res); err != nil || res.FetchWorkflowID != c.wantFetch {
				t.Errorf("result %+v, %v; want fetch %s", res, err, c.wantFetch)
			}
			if !got.Once || got.WorkflowID != c.wantFetch || got.SignalName != workflows.FetchRequestSignal {
				t.Errorf("hand-over %+v: want Once to %s with %s", got, c.wantFetch, workflows.FetchRequestSignal)
			}
		})
	}
}
