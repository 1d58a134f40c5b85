package webhookbridge

import (
	"context"
	"fmt"
	"sync"

	"go.temporal.io/sdk/client"
)

// serialStarts passes a bridge's SignalWithStart calls to Temporal one at a
// time per workflow id (calls for different ids still run in parallel).
//
// Why: Belvo sends a link's historical_update webhooks close together, one
// per resource, and each starts-or-signals the same HistoricalFetch. Sent
// at once, they all find no execution, all try to create it, and all but
// one fail on the server's current-run condition; the server then retries
// each as a signal. Nothing is lost that way, but every failed create is a
// persistence transaction, a rebuilt mutable state and more reads in
// Temporal's database. One after the other, the first creates and the
// others signal the running execution. Another bridge replica may still
// race this one; that costs the same retries as before, never correctness.
type serialStarts struct {
	Signaler
	mu    sync.Mutex
	turns map[string]*turn
}

// turn is one workflow id's lock: a one-slot channel, so that a waiter can
// give up when its delivery deadline passes, and the number of calls
// holding or waiting for it, so that the entry goes when the last leaves.
type turn struct {
	slot  chan struct{}
	users int
}

func newSerialStarts(s Signaler) *serialStarts {
	return &serialStarts{Signaler: s, turns: map[string]*turn{}}
}

// SignalWithStartWorkflow waits for the calls to the same workflow id ahead
// of it (at most until ctx ends), then makes its own.
func (s *serialStarts) SignalWithStartWorkflow(ctx context.Context, workflowID, signalName string, signalArg any,
	options client.StartWorkflowOptions, workflow any, workflowArgs ...any) (client.WorkflowRun, error) {
	release, err := s.acquire(ctx, workflowID)
	if err != nil {
		return nil, err
	}
	defer release()
	return s.Signaler.SignalWithStartWorkflow(ctx, workflowID, signalName, signalArg, options, workflow, workflowArgs...)
}

// acquire takes id's turn, or fails when ctx ends first.
func (s *serialStarts) acquire(ctx context.Context, id string) (release func(), err error) {
	s.mu.Lock()
	t := s.turns[id]
	if t == nil {
		t = &turn{slot: make(chan struct{}, 1)}
		s.turns[id] = t
	}
	t.users++
	s.mu.Unlock()
	leave := func() {
		s.mu.Lock()
		if t.users--; t.users == 0 {
			delete(s.turns, id)
		}
		s.mu.Unlock()
	}
	select {
	case t.slot <- struct{}{}:
		return func() { <-t.slot; leave() }, nil
	case <-ctx.Done():
		leave()
		return nil, fmt.Errorf("waiting for an earlier delivery to %s: %w", id, context.Cause(ctx))
	}
}
