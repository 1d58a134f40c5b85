package main

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/belvo-temporal/backbone/internal/promtext"
)

// slowCost is what the slowloris row reads besides the legitimate
// webhooks' times, to tell where a slow 202 spent its time: in the
// bridges' durable accept by Temporal (their delivery histogram), or
// waiting for a core (the CPU the bridges and this harness, which plays
// the slow clients, used over the row).
type slowCost struct {
	// over are the bridges' deliveries (every webhook, the work's too)
	// slower than each of deliveryBounds, and all of them.
	over  [len(deliveryBounds)]float64
	total float64
	// bridgesCPU and harnessCPU are CPU time over the row.
	bridgesCPU, harnessCPU time.Duration
	at                     time.Time
}

// deliveryBounds are bucket bounds of belvo_bridge_delivery_seconds.
var deliveryBounds = [...]string{"0.5", "1"}

// readSlowCost reads the counters and clocks that slowCost differences.
func (s *prodStack) readSlowCost(ctx context.Context) (slowCost, error) {
	var c slowCost
	for _, url := range s.bridgeMetrics {
		m, err := promtext.Scrape(ctx, url)
		if err != nil {
			return c, err
		}
		n := m.Sum("belvo_bridge_delivery_seconds_count", "")
		c.total += n
		for i, le := range deliveryBounds {
			c.over[i] += n - m.Sum("belvo_bridge_delivery_seconds_bucket", `le="`+le+`"`)
		}
	}
	for _, b := range s.Bridges {
		c.bridgesCPU += b.CPU()
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		c.harnessCPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	c.at = time.Now()
	return c, nil
}

// note says what rose between c0 and c.
func (c slowCost) note(c0 slowCost) string {
	wall := c.at.Sub(c0.at).Seconds()
	var over []string
	for i, le := range deliveryBounds {
		over = append(over, fmt.Sprintf("%.0f over %s s", c.over[i]-c0.over[i], le))
	}
	return fmt.Sprintf("bridges' durable accepts by Temporal (every webhook): %.0f, %s; CPU over the row's %.0f s: bridges %.1f s, this harness (the slow clients and the legitimate sender) %.1f s",
		c.total-c0.total, strings.Join(over, ", "), wall, (c.bridgesCPU - c0.bridgesCPU).Seconds(), (c.harnessCPU - c0.harnessCPU).Seconds())
}
