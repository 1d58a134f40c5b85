package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/bench/internal/measure"
)

// recurrentNew is how many new transactions each recurrent event brings:
// the "12 new transactions" of a daily update, rounded up.
const recurrentNew = 20

// recurrent plays Belvo's recurrent update on each of a phase's links at
// the phase's link rate (open loop): the sandbox collects recurrentNew new
// transactions and sends new_transactions_available through the bridge;
// the product reads from its cursor. It returns when every link's
// transactions in the store equal Belvo's again.
func (s *benchStack) recurrent(ctx context.Context, r *latencyRun) error {
	fmt.Fprintf(os.Stderr, "latency at %.0f%%: new_transactions_available (+%d) on %d links at %.2f/s (open loop)…\n",
		100*r.load, recurrentNew, len(r.linkIDs), r.linkRate)
	ctl := s.Load.Ctl
	t0 := time.Now()
	var err error
	r.recurrentLag, err = measure.OpenLoop(ctx, r.linkRate, len(r.linkIDs), func(i int) error {
		_, err := ctl.Event(ctx, r.linkIDs[i], "new_transactions_available", recurrentNew)
		return err
	})
	if err != nil {
		return err
	}
	// The product has no completion to wait on (LinkUpdates lives on): the
	// store catching up with Belvo is the end.
	deadline := time.Now().Add(2 * time.Minute)
	for _, id := range r.linkIDs {
		for {
			want, err := ctl.Expected(ctx, id)
			if err != nil {
				return err
			}
			got, err := s.DB.Count(ctx, belvo.Transactions, id)
			if err != nil {
				return err
			}
			if got >= want[belvo.Transactions] {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("recurrent update of %s: %d of %d transactions stored after 2 minutes", id, got, want[belvo.Transactions])
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	r.recurrent = time.Since(t0)
	return nil
}
