package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/belvo-temporal/backbone/bench/internal/load"
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
// The shapes mirrored (workflows/; every webhook comes from Belvo through
// the bridge):
//
//	LinkRegistration  activity (POST the link), local activity (hand over:
//	                  SignalWithStart of the fetch)
//	HistoricalFetch   4 signals (3 webhooks, the hand-over), 2 local
//	                  activities (stored state, the link), 3 listings
//	AsyncPost         local activity (announce: SignalWithStart of
//	                  LinkRequests), activity (POST), local activity (hand
//	                  over: SignalWithStart of AsyncRequest), local activity
//	                  (resolve: SignalWithStart of LinkRequests)
//	LinkRequests      3 signals (announcement, webhook, resolution), local
//	                  activity (forward the webhook to AsyncRequest)
//	AsyncRequest      2 signals (the hand-over, the forwarded webhook), 1
//	                  listing
//
// Belvo is stood in for as the local stack's sandbox behaves: a twin's
// POST activity, once it returns, sends Belvo's webhooks load.WebhookDelay
// later by SignalWithStart, as the bridge delivers them. So the twins race
// as the product does: a link's webhooks start its fetch while the
// registration hands over, and a request's webhook mostly reaches its
// link's registry before the request is handed over and resolved; the
// registry holds it and, once resolved, forwards it by local activity. The
// product's registry forwards only what came early; the twin's always does
// (the product's registries held 84–98 % of the webhooks in the runs of
// BENCHMARKS.md), so the twin is the product's common path.
const (
	baselineTaskQueue = "e2e-baseline"
	baselineSignal    = "event"
	baseStepsType     = "BaselineSteps"
	baseWaiterType    = "BaselineWaiter"
)

// waiterShape is what a waiter twin does: it takes signals, runs locals
// local activities when it starts and one activity per signal that asks
// for work (the last acts of them), and once every signal came signals the
// execution Forward by local activity (a registry's forward).
type waiterShape struct {
	ID      string `json:"id"`
	Signals int    `json:"signals"`
	Acts    int    `json:"acts"`
	Locals  int    `json:"locals"`
	Forward string `json:"forward,omitempty"`
}

// belvoSends is what Belvo sends once a POST twin is answered: Webhooks
// webhooks for the waiter To.
type belvoSends struct {
	To       waiterShape `json:"to"`
	Webhooks int         `json:"webhooks"`
}

// step is one step of a sender twin: an activity that stands for a POST to
// Belvo (with what Belvo then sends, if anything), or a local activity that
// signals (with start) the waiter twin To.
type step struct {
	To    *waiterShape `json:"to,omitempty"`
	Belvo *belvoSends  `json:"belvo,omitempty"`
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
			f = workflow.ExecuteActivity(actx, b.Post, s.Belvo)
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
	if w.Forward != "" {
		var b *baseActivities
		if err := workflow.ExecuteLocalActivity(lctx, b.Signal, w.Forward).Get(ctx, nil); err != nil {
			return err
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

// baseActivities hold the client the twins' hand-overs and Belvo's stand-in
// use.
type baseActivities struct {
	c client.Client
	// failed ends the running baseline when Belvo's stand-in cannot
	// deliver a webhook: its waiter would otherwise wait for ever.
	mu     sync.Mutex
	failed func(error)
}

// onFailure sets what a failed delivery calls (the run's cancel).
func (b *baseActivities) onFailure(f func(error)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failed = f
}

// SignalWithStart signals the waiter twin w, starting it if it does not run:
// the product's hand-overs and notices.
func (b *baseActivities) SignalWithStart(ctx context.Context, w waiterShape) error {
	return signalWaiter(ctx, b.c, w)
}

// Signal signals the running execution id: a registry's forward.
func (b *baseActivities) Signal(ctx context.Context, id string) error {
	return b.c.SignalWorkflow(ctx, id, "", baselineSignal, nil)
}

// Post stands for a POST to Belvo: it does nothing, and when Belvo has
// webhooks to send (d), they go load.WebhookDelay after the answer.
func (b *baseActivities) Post(ctx context.Context, d *belvoSends) error {
	if d != nil {
		// Belvo sends after answering: the delivery outlives the attempt.
		go b.belvo(context.WithoutCancel(ctx), *d)
	}
	return nil
}

// belvo delivers Belvo's webhooks as the bridge would, each tried again
// for up to a minute as Belvo retries one that gets no 2xx.
func (b *baseActivities) belvo(ctx context.Context, d belvoSends) {
	time.Sleep(load.WebhookDelay)
	for range d.Webhooks {
		err := load.Again(ctx, time.Minute, nil, func() error { return signalWaiter(ctx, b.c, d.To) })
		if err != nil {
			b.fail(fmt.Errorf("the stand-in for Belvo: a webhook for %s: %w", d.To.ID, err))
			return
		}
	}
}

// fail ends the running baseline with err, if onFailure set how.
func (b *baseActivities) fail(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failed != nil {
		b.failed(err)
	}
}

// signalWaiter is one SignalWithStart of a waiter twin, by a hand-over or by
// a webhook.
func signalWaiter(ctx context.Context, c client.Client, w waiterShape) error {
	_, err := c.SignalWithStartWorkflow(ctx, w.ID, baselineSignal, nil,
		client.StartWorkflowOptions{ID: w.ID, TaskQueue: baselineTaskQueue}, baseWaiterType, w)
	return err
}
