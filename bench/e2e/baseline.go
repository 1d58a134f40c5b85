package main

import (
	"context"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"
)

// The baseline: a twin of every execution the product's flows run, with
// the same starts, signals and activities — activities where the product
// runs activities, local activities where it runs local activities — but
// whose activities do nothing. Run by the benchmark's own in-process worker
// through the plain SDK, the twins measure what the engine alone allows for
// the product's shape on this machine, so the product's time can be read as
// a ratio to it. What the twins leave out is the product's own cost:
// timers, search attributes, version markers, heartbeats, queries, the
// bridge's lookups, payload encryption and the work itself.
//
// The shapes mirrored (workflows/; a link's webhooks come from the bridge,
// an async request's from Belvo through the bridge):
//
//	LinkRegistration  activity (POST the link), local activity (hand over:
//	                  SignalWithStart of the fetch)
//	HistoricalFetch   4 signals (3 webhooks, the hand-over), 2 local
//	                  activities (stored state, the link), 3 listings
//	AsyncPost         local activity (announce: SignalWithStart of
//	                  LinkRequests), activity (POST), local activity (hand
//	                  over: SignalWithStart of AsyncRequest), local activity
//	                  (resolve: SignalWithStart of LinkRequests)
//	LinkRequests      2 signals (announcement, resolution)
//	AsyncRequest      2 signals (the hand-over, the webhook), 1 listing
//
// Each twin takes the path a flow takes when nothing races: the link's
// registration hands over before the webhooks come, yet the fetch twin
// reads the link as a fetch started by a webhook does (the product's path
// in this benchmark, whose sandbox sends them 10 ms after creating the
// link); an async request's webhook comes after its hand-over, straight to
// the waiter. The product's registries mostly hold that webhook instead
// (Belvo's, 10 ms after the 202, wins the race): one signal and one local
// forward more per request than the twin, and a webhook that overlaps the
// hand-over where the twin's waits for its sender to end.

const (
	baselineTaskQueue = "e2e-baseline"
	baselineSignal    = "event"
	baseStepsType     = "BaselineSteps"
	baseWaiterType    = "BaselineWaiter"
)

// waiterShape is what a waiter twin does: it takes signals, runs locals
// local activities when it starts and one activity per signal that asks
// for work (the last acts of them).
type waiterShape struct {
	ID      string `json:"id"`
	Signals int    `json:"signals"`
	Acts    int    `json:"acts"`
	Locals  int    `json:"locals"`
}

// step is one step of a sender twin: a no-op activity, or a local activity
// that signals (with start) the waiter twin To.
type step struct {
	To *waiterShape `json:"to,omitempty"`
}

// baseSteps stands for a registration or an async sender: its steps in a
// row.
func baseSteps(ctx workflow.Context, steps []step) error {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: time.Minute})
	var b *baseActivities
	for _, s := range steps {
		var f workflow.Future
		if s.To == nil {
			f = workflow.ExecuteActivity(actx, noop)
		} else {
			f = workflow.ExecuteLocalActivity(lctx, b.SignalWithStart, *s.To)
		}
		if err := f.Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// baseWaiter stands for a historical fetch, a link's request registry or an
// async request's waiter: it runs its local activities, then one activity
// per signal that asks for work.
func baseWaiter(ctx workflow.Context, w waiterShape) error {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: time.Minute})
	ch := workflow.GetSignalChannel(ctx, baselineSignal)
	for range w.Locals {
		if err := workflow.ExecuteLocalActivity(lctx, noop).Get(ctx, nil); err != nil {
			return err
		}
	}
	var futures []workflow.Future
	for i := range w.Signals {
		ch.Receive(ctx, nil)
		if i >= w.Signals-w.Acts {
			futures = append(futures, workflow.ExecuteActivity(actx, noop))
		}
	}
	for _, f := range futures {
		if err := f.Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

func noop(context.Context) error { return nil }

// baseActivities hold the client the twins' hand-overs use.
type baseActivities struct{ c client.Client }

// SignalWithStart signals the waiter twin w, starting it if it does not run:
// the product's hand-overs and notices.
func (b *baseActivities) SignalWithStart(ctx context.Context, w waiterShape) error {
	return signalWaiter(ctx, b.c, w)
}

// signalWaiter is one SignalWithStart of a waiter twin, by a hand-over or by
// a webhook.
func signalWaiter(ctx context.Context, c client.Client, w waiterShape) error {
	_, err := c.SignalWithStartWorkflow(ctx, w.ID, baselineSignal, nil,
		client.StartWorkflowOptions{ID: w.ID, TaskQueue: baselineTaskQueue}, baseWaiterType, w)
	return err
}
