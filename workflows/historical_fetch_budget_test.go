package workflows_test

import (
	"context"
	"errors"
	"maps"
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
)

// commands counts what an execution asked the engine for, by kind: what
// its history is made of, apart from workflow-task bookkeeping.
type commands struct {
	mu                         sync.Mutex
	local, remote              map[string]int // activity type → runs
	timers, cancelled, upserts int
}

// record counts env's commands from now on.
func record(env *testsuite.TestWorkflowEnvironment) *commands {
	c := &commands{local: map[string]int{}, remote: map[string]int{}}
	env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, _ []any) {
		c.add(func() { c.local[info.ActivityType.Name]++ })
	})
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		c.add(func() { c.remote[info.ActivityType.Name]++ })
	})
	env.SetOnTimerScheduledListener(func(string, time.Duration) { c.add(func() { c.timers++ }) })
	env.SetOnTimerCanceledListener(func(string) { c.add(func() { c.cancelled++ }) })
	env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(mock.Arguments) { c.add(func() { c.upserts++ }) }).Return(nil)
	return c
}

// add counts under the lock: activities run on their own goroutines.
func (c *commands) add(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f()
}

// The history-budget version reads the stored state and the link as local
// activities, waits on one timer, and does not upsert search attributes the
// starter set; executions started before it keep their commands. The
// webhooks come a minute after the request, each in its own task.
func TestHistoricalFetchCommands(t *testing.T) {
	fetches := map[string]int{"FetchResource": 3}
	with := func(m map[string]int, extra ...string) map[string]int {
		out := maps.Clone(m)
		for _, name := range extra {
			out[name]++
		}
		return out
	}
	cases := []struct {
		name                    string
		version                 int // index in versions
		webhookFirst            bool
		wantLocal, wantRemote   map[string]int
		wantTimers, wantUpserts int
	}{
		{name: "before/request first", version: 0,
			wantLocal: map[string]int{}, wantRemote: with(fetches, "StoredState"), wantTimers: 2, wantUpserts: 2},
		{name: "budget/request first", version: 1,
			wantLocal: map[string]int{"StoredState": 1}, wantRemote: fetches, wantTimers: 1, wantUpserts: 1},
		{name: "before/webhooks first", version: 0, webhookFirst: true,
			wantLocal: map[string]int{}, wantRemote: with(fetches, "StoredState", "GetLink"), wantTimers: 2, wantUpserts: 2},
		{name: "budget/webhooks first", version: 1, webhookFirst: true,
			wantLocal: map[string]int{"StoredState": 1, "GetLink": 1}, wantRemote: fetches, wantTimers: 1, wantUpserts: 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := newEnvAt(t, versions[c.version].version)
			var a *activities.Activities
			env.RegisterActivity(a)
			env.OnActivity(a.StoredState, mock.Anything, linkID).Return(activities.LinkState{}, nil)
			env.OnActivity(a.GetLink, mock.Anything, linkID).Return(
				activities.LinkInfo{LinkID: linkID, ExternalID: "ext-1", Institution: "erebor_mx_retail", FetchResources: three}, nil)
			env.OnActivity(a.FetchResource, mock.Anything, mock.Anything).Return(activities.FetchResourceResult{Stored: 5, Pages: 1}, nil)
			// What the starter sets at start (workflows.FetchStart): with a
			// request, everything it knows; from a webhook, the link alone.
			sa := []temporal.SearchAttributeUpdate{
				workflows.LinkIDAttr.ValueSet(linkID), workflows.StatusAttr.ValueSet(workflows.StatusWaiting)}
			if !c.webhookFirst {
				sa = append(sa, workflows.ExternalIDAttr.ValueSet("ext-1"), workflows.InstitutionAttr.ValueSet("erebor_mx_retail"),
					workflows.ResourcesAttr.ValueSet(belvo.Names(three)))
				env.RegisterDelayedCallback(func() {
					env.SignalWorkflow(workflows.FetchRequestSignal,
						workflows.FetchRequest{Resources: three, ExternalID: "ext-1", Institution: "erebor_mx_retail"})
				}, 0)
			}
			if err := env.SetTypedSearchAttributesOnStart(temporal.NewSearchAttributes(sa...)); err != nil {
				t.Fatal(err)
			}
			for i, r := range three {
				env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.WebhookSignal, hook("w"+string(r), r)) },
					time.Duration(i+1)*time.Minute)
			}
			got := record(env)
			env.ExecuteWorkflow(workflows.HistoricalFetch, workflows.HistoricalFetchInput{LinkID: linkID})
			if err := env.GetWorkflowError(); err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got.local, c.wantLocal) || !maps.Equal(got.remote, c.wantRemote) {
				t.Errorf("local activities %v, activities %v; want %v and %v", got.local, got.remote, c.wantLocal, c.wantRemote)
			}
			if got.timers != c.wantTimers || got.cancelled != 0 || got.upserts != c.wantUpserts {
				t.Errorf("%d timers (%d cancelled), %d upserts; want %d timers, none cancelled, %d upserts",
					got.timers, got.cancelled, got.upserts, c.wantTimers, c.wantUpserts)
			}
		})
	}
}

// With one timer, each resource's grace counts from when it became
// expected: a resource a later request adds gets its full grace, and the
// timer moves earlier for it (the longer one is cancelled, not left to
// fire). Owners, with nothing at Belvo, end the fetch at its deadline.
func TestHistoricalFetchGraceFromExpectation(t *testing.T) {
	env := newEnvAt(t, versions[1].version)
	var a *activities.Activities
	env.RegisterActivity(a)
	env.OnActivity(a.StoredState, mock.Anything, linkID).Return(activities.LinkState{}, nil)
	env.OnActivity(a.FetchResource, mock.Anything, mock.Anything).Return(activities.FetchResourceResult{Stored: 1, Pages: 1}, nil)
	start := env.Now()
	var mu sync.Mutex
	peeked := map[belvo.Resource]time.Duration{}
	env.OnActivity(a.PeekResource, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.FetchResourceInput) (int, error) {
			mu.Lock()
			peeked[in.Resource] = env.Now().Sub(start)
			mu.Unlock()
			if in.Resource == belvo.Owners {
				return 0, nil // nothing at Belvo yet: the fetch keeps waiting
			}
			return 1, nil // Belvo has the rows: fetched without the webhook
		})
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.FetchRequestSignal, workflows.FetchRequest{Resources: []belvo.Resource{belvo.Accounts, belvo.Owners}})
	}, 0)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.WebhookSignal, hook("w1", belvo.Accounts)) }, time.Minute)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.FetchRequestSignal, workflows.FetchRequest{Resources: []belvo.Resource{belvo.Transactions}})
	}, time.Hour)
	got := record(env)
	env.ExecuteWorkflow(workflows.HistoricalFetch, workflows.HistoricalFetchInput{LinkID: linkID, Timeout: 3 * time.Hour,
		WebhookGrace: 30 * time.Minute})
	var appErr *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != "HistoricalFetchTimedOut" {
		t.Fatalf("error %v, want the timeout naming OWNERS", err)
	}
	want := map[belvo.Resource]time.Duration{belvo.Owners: 30 * time.Minute, belvo.Transactions: 90 * time.Minute}
	if !maps.Equal(peeked, want) {
		t.Errorf("peeked at %v, want %v", peeked, want)
	}
	// 30 min (Owners); the 3 h deadline, replaced at 1 h by 90 min
	// (Transactions); the deadline again.
	if got.timers != 4 || got.cancelled != 1 {
		t.Errorf("%d timers, %d cancelled; want 4 and 1", got.timers, got.cancelled)
	}
}
