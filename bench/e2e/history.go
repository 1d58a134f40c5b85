package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/workflows"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/history/v1"
)

// flowCost is the history cost of one flow over the executions read.
type flowCost struct {
	flow                  string
	n                     int
	events, actions       int
	maxEvents, maxActions int
	// byEvents counts executions per history length; maxWork is how many
	// events of the longest are not workflow-task bookkeeping.
	byEvents map[int]int
	maxWork  int
}

// distribution is "length ×executions" for each history length, shortest
// first.
func (c flowCost) distribution() string {
	var parts []string
	for _, ev := range slices.Sorted(maps.Keys(c.byEvents)) {
		parts = append(parts, fmt.Sprintf("%d ×%d", ev, c.byEvents[ev]))
	}
	return strings.Join(parts, ", ")
}

func (c flowCost) meanEvents() float64  { return float64(c.events) / float64(max(c.n, 1)) }
func (c flowCost) meanActions() float64 { return float64(c.actions) / float64(max(c.n, 1)) }

// sizeCost is one link's historical fetch, by link size.
type sizeCost struct {
	transactions, events, actions, pages int
	// work is the events that are not workflow-task bookkeeping: it does
	// not depend on how webhooks and completions happened to batch, so it
	// must be equal for every link size.
	work int
}

// billable are the history events Temporal Cloud bills as actions (its
// published list): starts, signals, activities (each attempt: a retry shows
// as a started attempt > 1), timers, search-attribute upserts, markers
// (local activities, side effects, versions), child workflows, external
// signals, continue-as-new. Heartbeats and queries are billed too but leave
// no event; the listing heartbeats once per page.
func billable(e *history.HistoryEvent) int {
	switch e.GetEventType() {
	case enums.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, enums.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
		enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, enums.EVENT_TYPE_TIMER_STARTED,
		enums.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, enums.EVENT_TYPE_MARKER_RECORDED,
		enums.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED, enums.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
		enums.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, enums.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
		return 1
	case enums.EVENT_TYPE_ACTIVITY_TASK_STARTED:
		if e.GetActivityTaskStartedEventAttributes().GetAttempt() > 1 {
			return 1
		}
	}
	return 0
}

// count reads one execution's history and counts its events and actions.
func (s *benchStack) count(ctx context.Context, id string) (events, actions, work int, err error) {
	it := s.Client.GetWorkflowHistory(ctx, id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return 0, 0, 0, fmt.Errorf("history of %s: %w", id, err)
		}
		events++
		actions += billable(e)
		switch e.GetEventType() {
		case enums.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, enums.EVENT_TYPE_WORKFLOW_TASK_STARTED,
			enums.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, enums.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
		default:
			work++
		}
	}
	return events, actions, work, nil
}

// historyCosts reads up to n executions of each flow (0: every one).
func (s *benchStack) historyCosts(ctx context.Context, prod timing, n int) ([]flowCost, error) {
	if n <= 0 {
		n = max(len(prod.linkIDs), len(prod.requests))
	}
	ids := flowIDs(prod, n)
	var out []flowCost
	for _, flow := range []string{workflows.LinkRegistrationType, workflows.HistoricalFetchType, workflows.AsyncPostType, workflows.LinkRequestsType, workflows.AsyncRequestType} {
		c := flowCost{flow: flow, byEvents: map[int]int{}}
		for _, id := range ids[flow] {
			ev, ac, work, err := s.count(ctx, id)
			if err != nil {
				return nil, err
			}
			c.n++
			c.events += ev
			c.actions += ac
			c.byEvents[ev]++
			if ev > c.maxEvents {
				c.maxWork = work
			}
			c.maxEvents, c.maxActions = max(c.maxEvents, ev), max(c.maxActions, ac)
		}
		out = append(out, c)
	}
	return out, nil
}

// sizeIndependence fetches one link of the main run's size and one large
// link, and compares their fetch histories: pages must not add events.
func (s *benchStack) sizeIndependence(ctx context.Context, o options) ([]sizeCost, error) {
	var out []sizeCost
	for _, n := range []int{o.transactions, o.large} {
		fmt.Fprintf(os.Stderr, "history of a %d-transaction link…\n", n)
		// Webhooks a second after the registration: both links take the
		// same path (request first), so only their size differs. (When
		// webhooks win the race the fetch also reads the link: 3 events.)
		if err := s.startSandbox(ctx, []string{"SANDBOX_TRANSACTIONS=" + strconv.Itoa(n), "SANDBOX_WEBHOOK_DELAY=1s"}); err != nil {
			return nil, err
		}
		d := sandbox.Config{}.WithDefaults()
		reg, err := s.Load.Starter.RegisterLink(ctx, "e2e-size-"+strconv.Itoa(n), activities.RegisterLinkInput{Institution: "erebor_mx_retail",
			Username: d.BankUsername, Password: d.BankPassword, AccessMode: "single", FetchResources: three})
		if err != nil {
			return nil, err
		}
		p, err := s.Load.Starter.WaitFetch(ctx, reg.LinkID)
		if err != nil {
			return nil, err
		}
		ev, ac, work, err := s.count(ctx, workflows.HistoricalFetchWorkflowID(reg.LinkID))
		if err != nil {
			return nil, err
		}
		pages := 0
		for _, r := range p.Resources {
			pages += r.Pages
		}
		out = append(out, sizeCost{transactions: n, events: ev, actions: ac, pages: pages, work: work})
	}
	return out, nil
}
