package main

import (
	"context"
	"time"

	"go.temporal.io/sdk/workflow"
)

// The baseline: workflows with the product's shape — the same starts,
// signals and activities per link and per async request — whose activities
// do nothing. Run by the benchmark's own in-process worker through the plain
// SDK, they measure what the engine alone allows on this machine, so the
// product's time can be read as a ratio to it.

const (
	baselineTaskQueue = "e2e-baseline"
	baselineSignal    = "event"
)

// baseSteps stands for a registration or an async sender: two activities in
// a row (the Belvo call, then the hand-over).
func baseSteps(ctx workflow.Context, n int) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	for range n {
		if err := workflow.ExecuteActivity(ctx, noop).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// baseWaiter stands for a historical fetch (3 webhooks, 3 listings) or an
// async request's waiter (details and webhook signals, 1 listing): it runs
// one activity per signal that asks for work.
func baseWaiter(ctx workflow.Context, signals, activities int) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	ch := workflow.GetSignalChannel(ctx, baselineSignal)
	var futures []workflow.Future
	for i := range signals {
		ch.Receive(ctx, nil)
		if i >= signals-activities {
			futures = append(futures, workflow.ExecuteActivity(ctx, noop))
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
