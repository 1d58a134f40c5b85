package measure

import "context"

// BridgeCounts are the bridges' counters that account for their 202s,
// summed over replicas.
type BridgeCounts struct {
	Accepted, Signals, Duplicates, Unrouted float64
}

// ReadBridgeCounts scrapes each bridge's /metrics URL and sums them.
func ReadBridgeCounts(ctx context.Context, urls ...string) (BridgeCounts, error) {
	var c BridgeCounts
	for _, url := range urls {
		for _, m := range []struct {
			name, match string
			into        *float64
		}{
			{"belvo_bridge_requests_total", `status="202"`, &c.Accepted},
			{"belvo_bridge_signals_total", "", &c.Signals},
			{"belvo_bridge_duplicates_total", "", &c.Duplicates},
			{"belvo_bridge_unrouted_total", "", &c.Unrouted},
		} {
			v, err := Counter(ctx, url, m.name, m.match)
			if err != nil {
				return c, err
			}
			*m.into += v
		}
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
