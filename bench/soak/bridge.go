package main

import (
	"context"

	"github.com/belvo-temporal/backbone/bench/internal/measure"
)

// bridgeCounts are the bridge's counters that account for its 202s.
type bridgeCounts struct {
	accepted, signals, duplicates, unrouted float64
}

func (s *soakStack) bridgeCounts(ctx context.Context) (bridgeCounts, error) {
	var c bridgeCounts
	for _, m := range []struct {
		name, match string
		into        *float64
	}{
		{"belvo_bridge_requests_total", `status="202"`, &c.accepted},
		{"belvo_bridge_signals_total", "", &c.signals},
		{"belvo_bridge_duplicates_total", "", &c.duplicates},
		{"belvo_bridge_unrouted_total", "", &c.unrouted},
	} {
		v, err := measure.Counter(ctx, s.bridgeMetrics, m.name, m.match)
		if err != nil {
			return c, err
		}
		*m.into = v
	}
	return c, nil
}

func (c bridgeCounts) sub(o bridgeCounts) bridgeCounts {
	return bridgeCounts{c.accepted - o.accepted, c.signals - o.signals, c.duplicates - o.duplicates, c.unrouted - o.unrouted}
}

// unaccounted is the 202s not backed by an execution: every 202 must be a
// signal Temporal accepted into a routed execution (the units' executions
// then all completed) or a copy of a webhook a completed request had
// processed; a webhook parked as unrouted has no execution that acts on it.
func (c bridgeCounts) unaccounted() float64 {
	return max(c.accepted-(c.signals-c.unrouted)-c.duplicates, 0)
}
