package workflows_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/workflows"
)

// new_*_available reads incrementally; an operator's relist reads whole, in
// order with the webhooks; a repeated relist request is one relist, and one
// for an unknown resource is ignored, not failed.
func TestLinkUpdatesReadsNewRowsIncrementallyAndRelistsOnRequest(t *testing.T) {
	relist := func(id string, r belvo.Resource) workflows.WebhookEvent {
		return workflows.WebhookEvent{WebhookID: "relist-" + id, Type: string(r), Code: workflows.RelistCode, LinkID: linkID}
	}
	c := &calls{}
	env := newEnv(t)
	mockLinkActivities(env, c)
	env.RegisterDelayedCallback(func() {
		for _, ev := range []workflows.WebhookEvent{
			recurrent("w1", "TRANSACTIONS", "new_transactions_available"),
			relist("r1", belvo.Transactions),
			relist("r1", belvo.Transactions), // the same request again
			relist("r2", belvo.Resource("BANANAS")),
			recurrent("w2", "OWNERS", "new_owners_available"),
			recurrent("w9", "LINK", "link_deleted"),
		} {
			env.SignalWorkflow(workflows.WebhookSignal, ev)
		}
	}, 0)
	env.ExecuteWorkflow(workflows.LinkUpdates, workflows.LinkUpdatesInput{LinkID: linkID})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var p workflows.LinkUpdatesProgress
	_ = env.GetWorkflowResult(&p)
	if got, want := strings.Join(c.fetched, ","), "TRANSACTIONS?,TRANSACTIONS?,OWNERS?"; got != want {
		t.Errorf("listed %s, want %s", got, want)
	}
	if got, want := strings.Join(c.modes, ","), "incremental,whole,incremental"; got != want {
		t.Errorf("listing modes %s, want %s", got, want)
	}
	if p.Duplicates != 1 || p.Ignored != 1 || p.Handled != 5 || len(p.Failed) != 0 {
		t.Errorf("progress %+v: want 1 duplicate, 1 ignored, 5 handled", p)
	}
}

func TestRelistStart(t *testing.T) {
	tests := []struct {
		name, link, req string
		r               belvo.Resource
		wantErr         string
	}{
		{"ok", "L1", "q1", belvo.Transactions, ""},
		{"no link", "", "q1", belvo.Transactions, "link id"},
		{"unknown resource", "L1", "q1", belvo.Resource("BANANAS"), "known resource"},
		{"no request id", "L1", "", belvo.Transactions, "request id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := workflows.RelistStart(tt.link, tt.r, tt.req, "tq", workflows.RouteDefaults{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one about %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ev workflows.WebhookEvent
			if err := json.Unmarshal(in.Signal, &ev); err != nil {
				t.Fatal(err)
			}
			if in.WorkflowID != workflows.LinkUpdatesWorkflowID(tt.link) || in.WorkflowType != workflows.LinkUpdatesType ||
				in.SignalName != workflows.WebhookSignal || in.TaskQueue != "tq" || in.Once {
				t.Errorf("start %+v", in)
			}
			if ev.Code != workflows.RelistCode || ev.Type != string(tt.r) || ev.LinkID != tt.link || !strings.Contains(ev.WebhookID, tt.req) {
				t.Errorf("signal %+v", ev)
			}
			if workflows.RouteOf(ev) == workflows.RouteLinkUpdates {
				t.Error("a webhook carrying the relist code would reach LinkUpdates through the bridge")
			}
		})
	}
}
