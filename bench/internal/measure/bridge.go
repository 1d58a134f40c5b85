package measure

import (
	"context"

	"github.com/belvo-temporal/backbone/internal/promtext"
)

// BridgeCounts are the bridges' counters that account for their 202s,
// summed over replicas.
type BridgeCounts struct {
	Accepted, Signals, Duplicates, Unrouted float64
}

// ReadBridgeCounts scrapes each bridge's /metrics URL once and sums them.
func ReadBridgeCounts(ctx context.Context, urls ...string) (BridgeCounts, error) {
	var c BridgeCounts
	for _, url := range urls {
		m, err := promtext.Scrape(ctx, url)
		if err != nil {
			return c, err
		}
		c.Accepted += m.Sum("belvo_bridge_requests_total", `status="202"`)
		c.Signals += m.Sum("belvo_bridge_signals_total", "")
		c.Duplicates += m.Sum("belvo_bridge_duplicates_total", "")
		c.Unrouted += m.Sum("belvo_bridge_unrouted_total", "")
	}
	return c, nil
}

// Sub is what the counters rose by since o.
func (c BridgeCounts) Sub(o BridgeCounts) BridgeCounts {
	return BridgeCounts{c.Accepted - o.Accepted, c.Signals - o.Signals, c.Duplicates - o.Duplicates, c.Unrouted - o.Unrouted}
}

// Unaccounted is the 202s not backed by an execution: every 202 must be a
// signal Temporal accepted into a routed execution (the run's executions
// then all completed) or a copy of a webhook a completed request had
// processed; a webhook parked as unrouted has no execution that acts on it.
func (c BridgeCounts) Unaccounted() float64 {
	return max(c.Accepted-(c.Signals-c.Unrouted)-c.Duplicates, 0)
}
