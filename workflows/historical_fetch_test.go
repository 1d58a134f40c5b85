package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/logging"
	"github.com/belvo-temporal/backbone/workflows"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

const linkID = "9a1b5c3e-1111-4222-8333-444455556666"

var three = []belvo.Resource{belvo.Accounts, belvo.Transactions, belvo.Owners}

func hook(id string, r belvo.Resource) workflows.WebhookEvent {
	return workflows.WebhookEvent{WebhookID: id, Type: string(r), Code: "historical_update", LinkID: linkID}
}

// step is something that happens to the execution at a time after its start.
type step struct {
	at      time.Duration
	request *workflows.FetchRequest
	webhook *workflows.WebhookEvent
}

func req(at time.Duration, rs ...belvo.Resource) step {
	return step{at: at, request: &workflows.FetchRequest{Resources: rs, ExternalID: "ext-1", Institution: "erebor_mx_retail"}}
}

func wh(at time.Duration, id string, r belvo.Resource) step {
	h := hook(id, r)
	return step{at: at, webhook: &h}
}

// newEnv is a test environment whose SDK logging goes to the test log, at
// warn level so the output stays readable.
func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(logging.NewTemporal(zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))))
	return s.NewTestWorkflowEnvironment()
}

// versions are both sides of the fetch's history-budget gate: executions
// started before it still run the old commands, so both must behave alike.
var versions = []struct {
	name    string
	version workflow.Version
}{
	{"before-history-budget", workflow.DefaultVersion},
	{"history-budget", 1},
}

// newEnvAt is newEnv with the fetch's history-budget gate at version v.
func newEnvAt(t *testing.T, v workflow.Version) *testsuite.TestWorkflowEnvironment {
	env := newEnv(t)
	env.OnGetVersion(workflows.HistoryBudgetVersion, workflow.DefaultVersion, 1).Return(v)
	return env
}

func TestHistoricalFetch(t *testing.T) {
	cases := []struct {
		name        string
		linkKnown   bool // GetLink answers with the three resources
		stored      map[belvo.Resource]int
		processed   []string // dedupe keys an earlier execution processed
		steps       []step
		fetchFails  belvo.Resource
		wantErrType string
		wantFetches map[belvo.Resource]int
		wantDupes   int
	}{
		{
			name:        "request first, then one webhook per resource",
			steps:       []step{req(0, three...), wh(time.Minute, "w1", belvo.Accounts), wh(2*time.Minute, "w2", belvo.Transactions), wh(3*time.Minute, "w3", belvo.Owners)},
			wantFetches: map[belvo.Resource]int{belvo.Accounts: 1, belvo.Transactions: 1, belvo.Owners: 1},
		},
		{
			name:        "webhooks before the request (widget flow), link unreadable",
			steps:       []step{wh(0, "w1", belvo.Accounts), wh(0, "w2", belvo.Transactions), wh(time.Minute, "w3", belvo.Owners), req(time.Hour, three...)},
			wantFetches: map[belvo.Resource]int{belvo.Accounts: 1, belvo.Transactions: 1, belvo.Owners: 1},
		},
		{
			name:        "webhooks only: expected resources come from the link",
			linkKnown:   true,
			steps:       []step{wh(0, "w1", belvo.Accounts), wh(time.Minute, "w2", belvo.Transactions), wh(time.Minute, "w3", belvo.Owners)},
			wantFetches: map[belvo.Resource]int{belvo.Accounts: 1, belvo.Transactions: 1, belvo.Owners: 1},
		},
		{
			name: "every webhook delivered twice is processed once",
			steps: []step{req(0, three...), wh(time.Minute, "w1", belvo.Accounts), wh(time.Minute, "w1", belvo.Accounts),
				wh(2*time.Minute, "w2", belvo.Transactions), wh(3*time.Minute, "w2", belvo.Transactions),
				wh(4*time.Minute, "w3", belvo.Owners), wh(4*time.Minute, "w3", belvo.Owners)},
			wantFetches: map[belvo.Resource]int{belvo.Accounts: 1, belvo.Transactions: 1, belvo.Owners: 1},
			wantDupes:   3,
		},
		{
			name:        "a second, different webhook for a resource lists it again",
			steps:       []step{req(0, belvo.Transactions), wh(time.Minute, "w1", belvo.Transactions), wh(time.Minute, "w2", belvo.Transactions)},
			wantFetches: map[belvo.Resource]int{belvo.Transactions: 2},
		},
		{
			name:        "history stored by an earlier execution: a late request completes without webhooks",
			stored:      map[belvo.Resource]int{belvo.Accounts: 1500, belvo.Transactions: 1500, belvo.Owners: 1500},
			steps:       []step{req(time.Minute, three...)},
			wantFetches: map[belvo.Resource]int{belvo.Accounts: 0, belvo.Transactions: 0, belvo.Owners: 0},
		},
		{
			name:        "a copy of a webhook an earlier execution processed is not processed again",
			linkKnown:   true,
			stored:      map[belvo.Resource]int{belvo.Accounts: 1500, belvo.Transactions: 1500, belvo.Owners: 1500},
			processed:   []string{hook("w2", belvo.Transactions).DedupeKey()},
			steps:       []step{wh(0, "w2", belvo.Transactions)},
			wantDupes:   1,
			wantFetches: map[belvo.Resource]int{belvo.Accounts: 0, belvo.Transactions: 0, belvo.Owners: 0},
		},
		{
			name:        "a missing webhook ends in a visible timeout",
			steps:       []step{req(0, three...), wh(time.Minute, "w1", belvo.Accounts), wh(time.Minute, "w2", belvo.Transactions)},
			wantErrType: "HistoricalFetchTimedOut",
			wantFetches: map[belvo.Resource]int{belvo.Accounts: 1, belvo.Transactions: 1},
		},
		{
			name: "a failed resource does not end the fetch while others still wait",
			steps: []step{req(0, three...), wh(time.Minute, "w1", belvo.Owners),
				wh(30*time.Minute, "w2", belvo.Accounts), wh(40*time.Minute, "w3", belvo.Transactions)},
			fetchFails:  belvo.Owners,
			wantErrType: "HistoricalFetchFailed",
			wantFetches: map[belvo.Resource]int{belvo.Accounts: 1, belvo.Owners: 1, belvo.Transactions: 1},
		},
		{
			name:        "a non-retryable Belvo error ends the fetch as failed",
			steps:       []step{req(0, belvo.Accounts, belvo.Owners), wh(time.Minute, "w1", belvo.Accounts), wh(time.Minute, "w2", belvo.Owners)},
			fetchFails:  belvo.Owners,
			wantErrType: "HistoricalFetchFailed",
			wantFetches: map[belvo.Resource]int{belvo.Accounts: 1, belvo.Owners: 1},
		},
	}
	for _, v := range versions {
		for _, c := range cases {
			t.Run(v.name+"/"+c.name, func(t *testing.T) {
				env := newEnvAt(t, v.version)
				var a *activities.Activities
				env.RegisterActivity(a)
				env.OnActivity(a.StoredState, mock.Anything, linkID).Return(activities.LinkState{Stored: c.stored, Webhooks: c.processed}, nil)
				if c.linkKnown {
					env.OnActivity(a.GetLink, mock.Anything, linkID).Return(activities.LinkInfo{LinkID: linkID, Institution: "erebor_mx_retail", FetchResources: three}, nil)
				} else {
					env.OnActivity(a.GetLink, mock.Anything, linkID).Return(activities.LinkInfo{},
						temporal.NewNonRetryableApplicationError("not found", "BelvoError", nil))
				}
				// Cases with long gaps between webhooks wake the missing-webhook
				// watcher; Belvo has nothing yet, so it keeps waiting.
				env.OnActivity(a.PeekResource, mock.Anything, mock.Anything).Return(0, nil).Maybe()
				fetches := map[belvo.Resource]int{}
				var mu sync.Mutex
				env.OnActivity(a.FetchResource, mock.Anything, mock.Anything).Return(
					func(_ context.Context, in activities.FetchResourceInput) (activities.FetchResourceResult, error) {
						mu.Lock()
						fetches[in.Resource]++
						mu.Unlock()
						if in.Resource == c.fetchFails {
							return activities.FetchResourceResult{}, temporal.NewNonRetryableApplicationError("belvo GET: HTTP 404; not_found", "BelvoError", nil)
						}
						return activities.FetchResourceResult{Resource: in.Resource, Pages: 2, Stored: 1500}, nil
					})
				for _, st := range c.steps {
					env.RegisterDelayedCallback(func() {
						if st.request != nil {
							env.SignalWorkflow(workflows.FetchRequestSignal, *st.request)
						} else {
							env.SignalWorkflow(workflows.WebhookSignal, *st.webhook)
						}
					}, st.at)
				}
				env.ExecuteWorkflow(workflows.HistoricalFetch, workflows.HistoricalFetchInput{LinkID: linkID, Timeout: 2 * time.Hour})
				if !env.IsWorkflowCompleted() {
					t.Fatal("workflow did not complete")
				}
				err := env.GetWorkflowError()
				if c.wantErrType == "" {
					if err != nil {
						t.Fatalf("unexpected error: %v", err)
					}
					var p workflows.Progress
					if err := env.GetWorkflowResult(&p); err != nil {
						t.Fatal(err)
					}
					if p.Status != workflows.StatusCompleted || p.DuplicateWebhooks != c.wantDupes {
						t.Errorf("status %q duplicates %d, want completed and %d", p.Status, p.DuplicateWebhooks, c.wantDupes)
					}
					for r, n := range c.wantFetches {
						if rp := p.Resources[r]; rp == nil || rp.State != workflows.StateStored || rp.Stored != 1500 || rp.Fetches != n {
							t.Errorf("%s progress %+v, want stored 1500 after %d fetches", r, rp, n)
						}
					}
				} else {
					var appErr *temporal.ApplicationError
					if !errors.As(err, &appErr) || appErr.Type() != c.wantErrType {
						t.Fatalf("error %v, want type %s", err, c.wantErrType)
					}
				}
				wantKinds := 0
				for r, n := range c.wantFetches {
					if n > 0 {
						wantKinds++
					}
					if fetches[r] != n {
						t.Errorf("%s fetched %d times, want %d", r, fetches[r], n)
					}
				}
				if len(fetches) != wantKinds {
					t.Errorf("fetched %v, want %v", fetches, c.wantFetches)
				}
			})
		}
	}
}

func TestHistoricalFetchProgressQuery(t *testing.T) {
	env := newEnv(t)
	var a *activities.Activities
	env.RegisterActivity(a)
	env.OnActivity(a.StoredState, mock.Anything, linkID).Return(activities.LinkState{}, nil)
	env.OnActivity(a.GetLink, mock.Anything, linkID).Return(activities.LinkInfo{LinkID: linkID, FetchResources: three}, nil)
	env.OnActivity(a.FetchResource, mock.Anything, mock.Anything).Return(activities.FetchResourceResult{Stored: 7, Pages: 1}, nil)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.WebhookSignal, hook("w1", belvo.Accounts)) }, time.Minute)
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(workflows.ProgressQuery)
		if err != nil {
			t.Fatal(err)
		}
		var p workflows.Progress
		if err := v.Get(&p); err != nil {
			t.Fatal(err)
		}
		if p.Status != workflows.StatusWaiting || p.Resources[belvo.Accounts].State != workflows.StateStored ||
			p.Resources[belvo.Transactions].State != workflows.StateWaiting || len(p.Expected) != 3 {
			t.Errorf("progress mid-way: %+v", p)
		}
		env.SignalWorkflow(workflows.WebhookSignal, hook("w2", belvo.Transactions))
		env.SignalWorkflow(workflows.WebhookSignal, hook("w3", belvo.Owners))
	}, 2*time.Minute)
	env.ExecuteWorkflow(workflows.HistoricalFetch, workflows.HistoricalFetchInput{LinkID: linkID})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
}

// A webhook that never comes: after the grace period the execution asks
// Belvo; data there is fetched without the webhook, no data leaves the
// resource "webhook missing" and the timeout says so.
func TestHistoricalFetchMissingWebhook(t *testing.T) {
	for _, v := range versions {
		for _, belvoCount := range []int{1, 0} {
			t.Run(fmt.Sprintf("%s/belvo-has-%d", v.name, belvoCount), func(t *testing.T) {
				env := newEnvAt(t, v.version)
				var a *activities.Activities
				env.RegisterActivity(a)
				env.OnActivity(a.StoredState, mock.Anything, linkID).Return(activities.LinkState{}, nil)
				env.OnActivity(a.PeekResource, mock.Anything, mock.Anything).Return(belvoCount, nil)
				env.OnActivity(a.FetchResource, mock.Anything, mock.Anything).Return(activities.FetchResourceResult{Stored: 1, Pages: 1}, nil)
				env.RegisterDelayedCallback(func() {
					env.SignalWorkflow(workflows.FetchRequestSignal, workflows.FetchRequest{Resources: three})
					env.SignalWorkflow(workflows.WebhookSignal, hook("w1", belvo.Accounts))
					env.SignalWorkflow(workflows.WebhookSignal, hook("w2", belvo.Transactions))
				}, 0)
				env.ExecuteWorkflow(workflows.HistoricalFetch, workflows.HistoricalFetchInput{LinkID: linkID, Timeout: 2 * time.Hour,
					WebhookGraceByResource: map[belvo.Resource]time.Duration{belvo.Owners: 30 * time.Minute}})
				err := env.GetWorkflowError()
				if belvoCount > 0 {
					var p workflows.Progress
					if err != nil || env.GetWorkflowResult(&p) != nil || !p.Resources[belvo.Owners].WithoutWebhook || p.Resources[belvo.Owners].State != workflows.StateStored {
						t.Errorf("data at Belvo: %v %+v", err, p.Resources[belvo.Owners])
					}
					return
				}
				var appErr *temporal.ApplicationError
				if !errors.As(err, &appErr) || appErr.Type() != "HistoricalFetchTimedOut" || !strings.Contains(appErr.Error(), "webhook missing") {
					t.Errorf("no data at Belvo: error %v, want a timeout naming the missing webhook", err)
				}
			})
		}
	}
}
