package workflows_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/logging"
	"github.com/belvo-temporal/backbone/workflows"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// timers captures what workflows record on timers, by name and tags.
type timers struct {
	client.MetricsHandler // counters and gauges: discarded
	mu                    *sync.Mutex
	tags                  map[string]string
	samples               *[]sample
}

type sample struct {
	name string
	tags map[string]string
	d    time.Duration
}

func newTimers() timers {
	return timers{MetricsHandler: client.MetricsNopHandler, mu: &sync.Mutex{}, samples: &[]sample{}}
}

func (c timers) WithTags(tags map[string]string) client.MetricsHandler {
	all := map[string]string{}
	for k, v := range c.tags {
		all[k] = v
	}
	for k, v := range tags {
		all[k] = v
	}
	c.tags = all
	return c
}

func (c timers) Timer(name string) client.MetricsTimer {
	return timerFunc(func(d time.Duration) {
		c.mu.Lock()
		defer c.mu.Unlock()
		*c.samples = append(*c.samples, sample{name, c.tags, d})
	})
}

type timerFunc func(time.Duration)

func (f timerFunc) Record(d time.Duration) { f(d) }

// TestHistoricalFetchRecordsWebhookToData: one sample per webhook whose
// data was stored, from the bridge's stamp to the activity's commit; none
// for a duplicate or an unstamped webhook; clock skew recorded as 0.
func TestHistoricalFetchRecordsWebhookToData(t *testing.T) {
	at := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	committed := map[belvo.Resource]time.Time{
		belvo.Accounts:     at.Add(2 * time.Second),
		belvo.Transactions: at.Add(3 * time.Second),
		belvo.Owners:       at.Add(-time.Second), // the worker's clock behind the bridge's
	}
	var s testsuite.WorkflowTestSuite
	s.SetLogger(logging.NewTemporal(zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))))
	m := newTimers()
	s.SetMetricsHandler(m)
	env := s.NewTestWorkflowEnvironment()
	env.OnGetVersion(workflows.HistoryBudgetVersion, workflow.DefaultVersion, 1).Return(workflow.Version(1))
	var a *activities.Activities
	env.RegisterActivity(a)
	env.OnActivity(a.StoredState, mock.Anything, linkID).Return(activities.LinkState{}, nil)
	env.OnActivity(a.GetLink, mock.Anything, linkID).Return(activities.LinkInfo{LinkID: linkID, FetchResources: three}, nil)
	env.OnActivity(a.PeekResource, mock.Anything, mock.Anything).Return(0, nil).Maybe()
	env.OnActivity(a.FetchResource, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.FetchResourceInput) (activities.FetchResourceResult, error) {
			return activities.FetchResourceResult{Resource: in.Resource, Stored: 1, CommittedAt: committed[in.Resource]}, nil
		})
	stamped := func(r belvo.Resource, received time.Time) workflows.WebhookEvent {
		ev := hook("w-"+string(r), r)
		ev.ReceivedAt = received
		return ev
	}
	for i, ev := range []workflows.WebhookEvent{
		stamped(belvo.Accounts, at),
		stamped(belvo.Accounts, at.Add(time.Second)), // Belvo's retry of the same webhook
		stamped(belvo.Transactions, time.Time{}),     // delivered by a bridge that did not stamp
		stamped(belvo.Owners, at),
	} {
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.WebhookSignal, ev) }, time.Duration(i+1)*time.Minute)
	}
	env.ExecuteWorkflow(workflows.HistoricalFetch, workflows.HistoricalFetchInput{LinkID: linkID, Timeout: 2 * time.Hour})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Duration{string(belvo.Accounts): 2 * time.Second, string(belvo.Owners): 0}
	got := map[string]time.Duration{}
	for _, s := range *m.samples {
		if s.name != workflows.WebhookToDataMetric {
			continue
		}
		if s.tags["flow"] != workflows.FlowHistorical {
			t.Errorf("sample tagged %v, want flow %s", s.tags, workflows.FlowHistorical)
		}
		if _, twice := got[s.tags["resource"]]; twice {
			t.Errorf("%s recorded twice", s.tags["resource"])
		}
		got[s.tags["resource"]] = s.d
	}
	if len(got) != len(want) {
		t.Fatalf("samples %v, want %v", got, want)
	}
	for r, d := range want {
		if got[r] != d {
			t.Errorf("%s: %s, want %s", r, got[r], d)
		}
	}
}

// TestLinkUpdatesRecordsWebhookToData: a new_<resource>_available gives one
// recurrent sample once its listing is stored.
func TestLinkUpdatesRecordsWebhookToData(t *testing.T) {
	at := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	var s testsuite.WorkflowTestSuite
	s.SetLogger(logging.NewTemporal(zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))))
	m := newTimers()
	s.SetMetricsHandler(m)
	env := s.NewTestWorkflowEnvironment()
	var a *activities.Activities
	env.RegisterActivity(a)
	env.OnActivity(a.LinkDeleted, mock.Anything, linkID).Return(false, nil).Maybe()
	env.OnActivity(a.FetchResource, mock.Anything, mock.Anything).Return(
		activities.FetchResourceResult{Resource: belvo.Transactions, Stored: 12, CommittedAt: at.Add(750 * time.Millisecond)}, nil)
	ev := recurrent("w1", "TRANSACTIONS", "new_transactions_available")
	ev.ReceivedAt = at
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.WebhookSignal, ev) }, 0)
	// One event per run: the run continues as new once it is applied.
	env.ExecuteWorkflow(workflows.LinkUpdates, workflows.LinkUpdatesInput{LinkID: linkID, EventsPerRun: 1})
	var got []sample
	for _, s := range *m.samples {
		if s.name == workflows.WebhookToDataMetric {
			got = append(got, s)
		}
	}
	if len(got) != 1 || got[0].tags["flow"] != workflows.FlowRecurrent || got[0].tags["resource"] != string(belvo.Transactions) ||
		got[0].d != 750*time.Millisecond {
		t.Fatalf("samples %+v, want one recurrent TRANSACTIONS sample of 750ms", got)
	}
}
