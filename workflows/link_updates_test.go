package workflows_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/workflows"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

func recurrent(id, typ, code string, ids ...string) workflows.WebhookEvent {
	return workflows.WebhookEvent{WebhookID: id, Type: typ, ProcessType: "recurrent_update", Code: code, LinkID: linkID, IDs: ids}
}

// calls records what LinkUpdates asked of the activities.
type calls struct {
	mu      sync.Mutex
	fetched []string
	deleted []string
}

func mockLinkActivities(env *testsuite.TestWorkflowEnvironment, c *calls) {
	var a *activities.Activities
	env.RegisterActivity(a)
	env.OnActivity(a.FetchResource, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.FetchResourceInput) (activities.FetchResourceResult, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.fetched = append(c.fetched, string(in.Resource)+"?"+in.Filters["id__in"])
			return activities.FetchResourceResult{Resource: in.Resource}, nil
		})
	env.OnActivity(a.DeleteRows, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.DeleteRowsInput) (int, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.deleted = append(c.deleted, in.IDs...)
			return len(in.IDs), nil
		})
}

// Six webhooks land in one task while the run may handle only two: the run
// continues as new carrying the other four, and the next run handles them;
// nothing is lost across the switch and the duplicate is recognised.
func TestLinkUpdatesContinueAsNewLosesNothing(t *testing.T) {
	events := []workflows.WebhookEvent{
		recurrent("w1", "ACCOUNTS", "new_accounts_available"),
		recurrent("w2", "TRANSACTIONS", "transactions_updated", "t1", "t2"),
		recurrent("w3", "TRANSACTIONS", "transactions_deleted", "t3", "t4", "t5"),
		recurrent("w1", "ACCOUNTS", "new_accounts_available"), // Belvo's retry
		recurrent("w4", "LINK", "invalid_credentials"),
		recurrent("w5", "LINK", "link_deleted"),
	}
	c := &calls{}
	env := newEnv(t)
	mockLinkActivities(env, c)
	env.RegisterDelayedCallback(func() {
		for _, ev := range events {
			env.SignalWorkflow(workflows.WebhookSignal, ev)
		}
	}, 0)
	env.ExecuteWorkflow(workflows.LinkUpdates, workflows.LinkUpdatesInput{LinkID: linkID, EventsPerRun: 2})
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("first run ended with %v, want continue-as-new", err)
	}
	var next workflows.LinkUpdatesInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if len(next.Pending) != 4 || next.Carried.Handled != 2 || len(next.Seen) != 2 {
		t.Fatalf("carried %d pending, %d handled, %d keys; want 4, 2, 2", len(next.Pending), next.Carried.Handled, len(next.Seen))
	}

	env2 := newEnv(t)
	mockLinkActivities(env2, c)
	next.EventsPerRun = 100 // let this run end on link_deleted, not switch again
	env2.ExecuteWorkflow(workflows.LinkUpdates, next)
	if err := env2.GetWorkflowError(); err != nil {
		t.Fatalf("second run: %v", err)
	}
	var p workflows.LinkUpdatesProgress
	_ = env2.GetWorkflowResult(&p)
	if p.Status != "deleted" || p.Handled != 5 || p.Duplicates != 1 || p.Runs != 2 {
		t.Errorf("final progress %+v", p)
	}
	wantFetched := []string{string(belvo.Accounts) + "?", string(belvo.Transactions) + "?t1,t2"}
	if len(c.fetched) != 2 || c.fetched[0] != wantFetched[0] || c.fetched[1] != wantFetched[1] {
		t.Errorf("fetched %v, want %v", c.fetched, wantFetched)
	}
	if len(c.deleted) != 3 {
		t.Errorf("deleted %v, want t3 t4 t5", c.deleted)
	}
}
