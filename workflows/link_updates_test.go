package workflows_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/workflows"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

func recurrent(id, typ, code string, ids ...string) workflows.WebhookEvent {
	return workflows.WebhookEvent{WebhookID: id, Type: typ, ProcessType: "recurrent_update", Code: code, LinkID: linkID, IDs: ids}
}

// calls records what LinkUpdates asked of the activities; failFetches
// and failLinkDeletes make that many listings or deletions of the link's
// data fail first (a store outage, say).
type calls struct {
	mu      sync.Mutex
	fetched []string
	// modes: for each listing, "incremental" or "whole".
	modes        []string
	reread       []string
	deleted      []string
	linksDeleted int
	failFetches  int
	linkDeleted  bool
	// failLinkDeletes: see above.
	failLinkDeletes int
}

func mockLinkActivities(env *testsuite.TestWorkflowEnvironment, c *calls) {
	var a *activities.Activities
	env.RegisterActivity(a)
	env.OnActivity(a.FetchResource, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.FetchResourceInput) (activities.FetchResourceResult, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.failFetches > 0 {
				c.failFetches--
				return activities.FetchResourceResult{}, temporal.NewNonRetryableApplicationError("store unreachable", "Test", nil)
			}
			c.fetched = append(c.fetched, string(in.Resource)+"?"+in.Filters["id__in"])
			c.modes = append(c.modes, map[bool]string{true: "incremental", false: "whole"}[in.Incremental])
			return activities.FetchResourceResult{Resource: in.Resource}, nil
		})
	env.OnActivity(a.RereadRows, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.DeleteRowsInput) (activities.RereadRowsResult, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.reread = append(c.reread, in.IDs...)
			return activities.RereadRowsResult{Stored: len(in.IDs)}, nil
		})
	env.OnActivity(a.DeleteRows, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.DeleteRowsInput) (int, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.deleted = append(c.deleted, in.IDs...)
			return len(in.IDs), nil
		})
	env.OnActivity(a.DeleteLinkData, mock.Anything, linkID).Return(
		func(context.Context, string) (int, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.failLinkDeletes > 0 {
				c.failLinkDeletes--
				return 0, temporal.NewNonRetryableApplicationError("store unreachable", "Test", nil)
			}
			c.linksDeleted++
			return 42, nil
		})
	env.OnActivity(a.LinkDeleted, mock.Anything, linkID).Return(
		func(context.Context, string) (bool, error) { return c.linkDeleted, nil })
	// No historical fetch runs for the link: telling it about a deletion
	// finds nobody, which is fine.
	env.OnSignalExternalWorkflow(mock.Anything, workflows.HistoricalFetchWorkflowID(linkID), "", workflows.WebhookSignal, mock.Anything).
		Return(errors.New("not found")).Maybe()
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
	// Updated transactions are read again one by one (Belvo's list has no
	// id filter), never with an undocumented id__in listing.
	if len(c.fetched) != 1 || c.fetched[0] != string(belvo.Accounts)+"?" || strings.Join(c.reread, ",") != "t1,t2" {
		t.Errorf("fetched %v and re-read %v, want ACCOUNTS listed and t1,t2 re-read", c.fetched, c.reread)
	}
	if len(c.deleted) != 3 {
		t.Errorf("deleted %v, want t3 t4 t5", c.deleted)
	}
	if c.linksDeleted != 1 {
		t.Errorf("the deleted link's data was removed %d times, want once", c.linksDeleted)
	}
}

// A step that fails after the engine's retries (a long store outage) is
// kept, visible, and tried again FailedRetryBase later, without another
// webhook; nothing is only recorded and forgotten.
func TestLinkUpdatesRetriesAFailedStepLater(t *testing.T) {
	c := &calls{failFetches: 2}
	env := newEnv(t)
	mockLinkActivities(env, c)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.WebhookSignal, recurrent("w1", "TRANSACTIONS", "new_transactions_available"))
	}, 0)
	var seen workflows.LinkUpdatesProgress
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(workflows.ProgressQuery)
		if err == nil {
			_ = v.Get(&seen)
		}
	}, time.Minute)
	// Ends the handler once the retries are done.
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.WebhookSignal, recurrent("w9", "LINK", "link_deleted"))
	}, 4*workflows.FailedRetryBase)
	env.ExecuteWorkflow(workflows.LinkUpdates, workflows.LinkUpdatesInput{LinkID: linkID})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if len(seen.Failed) != 1 || seen.Failed[0].Webhook.WebhookID != "w1" || seen.LastError == "" {
		t.Fatalf("after the first failure the step is not visible: %+v", seen)
	}
	var p workflows.LinkUpdatesProgress
	_ = env.GetWorkflowResult(&p)
	// First try, then 1 h later (fails again), then 2 h after that.
	if len(c.fetched) != 1 || len(p.Failed) != 0 || p.Handled != 2 || p.LastError != "" {
		t.Errorf("after the retries: fetched %v, progress %+v", c.fetched, p)
	}
}

// An operator retries the failed steps at once, with one signal (starter
// retry-failed).
func TestLinkUpdatesRetriesFailedStepsOnSignal(t *testing.T) {
	c := &calls{failFetches: 1}
	env := newEnv(t)
	mockLinkActivities(env, c)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.WebhookSignal, recurrent("w1", "OWNERS", "new_owners_available"))
	}, 0)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.RetryFailedSignal, nil) }, time.Minute)
	env.RegisterDelayedCallback(func() {
		if len(c.fetched) != 1 {
			t.Errorf("the operator's retry did not run at once: fetched %v", c.fetched)
		}
		env.SignalWorkflow(workflows.WebhookSignal, recurrent("w9", "LINK", "link_deleted"))
	}, 2*time.Minute)
	env.ExecuteWorkflow(workflows.LinkUpdates, workflows.LinkUpdatesInput{LinkID: linkID})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var p workflows.LinkUpdatesProgress
	_ = env.GetWorkflowResult(&p)
	if len(p.Failed) != 0 || p.Handled != 2 {
		t.Errorf("progress %+v", p)
	}
}

// A late webhook for a link deleted earlier starts a handler that ends at
// once instead of one that waits for ever.
func TestLinkUpdatesForADeletedLinkEndsAtOnce(t *testing.T) {
	c := &calls{linkDeleted: true}
	env := newEnv(t)
	mockLinkActivities(env, c)
	env.ExecuteWorkflow(workflows.LinkUpdates, workflows.LinkUpdatesInput{LinkID: linkID,
		Pending: []workflows.WebhookEvent{recurrent("w1", "TRANSACTIONS", "new_transactions_available")}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var p workflows.LinkUpdatesProgress
	_ = env.GetWorkflowResult(&p)
	if p.Status != "deleted" || p.Ignored != 1 || len(c.fetched) != 0 {
		t.Errorf("progress %+v, fetched %v", p, c.fetched)
	}
}

// A link_deleted whose data deletion failed ends the handler once its
// retry succeeds, instead of leaving a deleted link's handler waiting.
func TestLinkUpdatesEndsWhenARetriedDeletionSucceeds(t *testing.T) {
	c := &calls{failLinkDeletes: 1}
	env := newEnv(t)
	mockLinkActivities(env, c)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.WebhookSignal, recurrent("w9", "LINK", "link_deleted"))
	}, 0)
	env.ExecuteWorkflow(workflows.LinkUpdates, workflows.LinkUpdatesInput{LinkID: linkID})
	if !env.IsWorkflowCompleted() {
		t.Fatal("the handler of a deleted link still waits")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var p workflows.LinkUpdatesProgress
	_ = env.GetWorkflowResult(&p)
	if p.Status != "deleted" || c.linksDeleted != 1 || len(p.Failed) != 0 {
		t.Errorf("progress %+v, link data deleted %d times", p, c.linksDeleted)
	}
}

// An operator's retry that reaches a run as it continues as new is
// carried to the next run, which retries at once.
func TestLinkUpdatesCarriesARetryRequestAcrossContinueAsNew(t *testing.T) {
	c := &calls{failFetches: 1}
	env := newEnv(t)
	mockLinkActivities(env, c)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.WebhookSignal, recurrent("w1", "OWNERS", "new_owners_available"))
	}, 0)
	// The operator asks while the failing step runs: the run learns of it
	// only as it continues as new.
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		if info.ActivityType.Name == "FetchResource" {
			env.SignalWorkflow(workflows.RetryFailedSignal, nil)
		}
	})
	env.ExecuteWorkflow(workflows.LinkUpdates, workflows.LinkUpdatesInput{LinkID: linkID, EventsPerRun: 1})
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("first run ended with %v, want continue-as-new", err)
	}
	var next workflows.LinkUpdatesInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if !next.RetryNow || len(next.Carried.Failed) != 1 {
		t.Fatalf("carried retry %v with %d failed steps; want the retry and 1", next.RetryNow, len(next.Carried.Failed))
	}
	env2 := newEnv(t)
	mockLinkActivities(env2, c)
	env2.RegisterDelayedCallback(func() {
		if len(c.fetched) != 1 {
			t.Errorf("the carried retry did not run at once: fetched %v", c.fetched)
		}
		env2.SignalWorkflow(workflows.WebhookSignal, recurrent("w9", "LINK", "link_deleted"))
	}, time.Minute)
	env2.ExecuteWorkflow(workflows.LinkUpdates, next)
	if err := env2.GetWorkflowError(); err != nil {
		t.Fatalf("second run: %v", err)
	}
}
