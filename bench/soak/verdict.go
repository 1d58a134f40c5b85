package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/belvo-temporal/backbone/bench/internal/measure"
)

// The drift rule: over the fitted minutes, the line's rise (slope ×
// minutes) must stay within noiseK residual standard deviations of the
// points around it, or within noisePct % of the series' mean; a falling
// series passes (measure.Fit.WithinNoise). The first minute (caches, pools
// and the dev server's database warming up) is left out, and a verdict
// needs minFit minutes after it: fewer points make the residual itself
// noise.
const (
	noiseK   = 2
	noisePct = 5
	fitFrom  = 1
	minFit   = 5
)

func run(ctx context.Context, o options) (lost bool, err error) {
	s, err := newStack(ctx, o)
	if err != nil {
		return false, err
	}
	defer s.Close()
	rate := o.rate
	if rate == 0 {
		sustainable, err := s.calibrate(ctx, o)
		if err != nil {
			return false, err
		}
		rate = o.load * sustainable
		fmt.Fprintf(os.Stderr, "sustainable: %.2f units/s; offering %.0f %% of it\n", sustainable, 100*o.load)
	}
	var u units
	t0 := time.Now()
	b0, err := measure.ReadBridgeCounts(ctx, s.bridgeMetrics)
	if err != nil {
		return false, err
	}
	rows, err := s.offer(ctx, o, rate, &u)
	if err != nil {
		return false, err
	}
	b1, err := measure.ReadBridgeCounts(ctx, s.bridgeMetrics)
	if err != nil {
		return false, err
	}
	lost, err = s.verdict(ctx, o, &u, time.Since(t0), b1.Sub(b0))
	fit(rows)
	return lost, err
}

// verdict checks that nothing was lost: every unit completed, every
// link's rows in the store, every async request completed with its rows,
// and no 202 without an execution behind it.
func (s *soakStack) verdict(ctx context.Context, o options, u *units, took time.Duration, b measure.BridgeCounts) (bool, error) {
	expected, stored, missing, err := s.Load.Check(ctx, u.linkIDs)
	if err != nil {
		return false, err
	}
	started := u.started.Load()
	fmt.Printf("\n%s offered, %s with the drain: %d units started, %d links fetched, %d async requests completed, %d failed.\n",
		o.duration, took.Round(time.Second), started, len(u.linkIDs), u.asyncDone.Load(), len(u.errs))
	fmt.Printf("Rows: %d expected, %d stored, %d missing; async rows missing: %d.\n", expected, stored, missing, u.asyncLost.Load())
	fmt.Printf("Bridge: %.0f webhooks answered 202, %.0f signalled to executions (%.0f of them parked as unrouted), %.0f copies of processed ones; %.0f 202s without an execution.\n",
		b.Accepted, b.Signals, b.Unrouted, b.Duplicates, b.Unaccounted())
	lost := b.Unaccounted() > 0 || missing > 0 || u.asyncLost.Load() > 0 || len(u.errs) > 0 || int64(len(u.linkIDs)) != started || u.asyncDone.Load() != started
	if len(u.errs) > 0 {
		fmt.Fprintln(os.Stderr, "failed units:", errors.Join(u.errs[:min(len(u.errs), 5)]...))
	}
	if lost {
		fmt.Println("**LOST**: see above.")
	} else {
		fmt.Println("Nothing lost: every link's rows are in the store and every async request completed.")
	}
	return lost, nil
}

// fit judges drift of memory and p99 over the minutes.
func fit(rows []minute) {
	full := rows
	if len(full) > 0 && full[len(full)-1].drain {
		full = full[:len(full)-1]
	}
	if len(full) > fitFrom {
		full = full[fitFrom:]
	}
	if len(full) < 3 {
		fmt.Printf("\nDrift: %d full minutes after the first, too few to fit a line.\n", len(full))
		return
	}
	series := []struct {
		name, unit string
		scale      float64
		get        func(minute) float64
	}{
		{"worker RSS", "MiB", 1 << 20, func(m minute) float64 { return float64(m.rss["worker"]) }},
		{"bridge RSS", "MiB", 1 << 20, func(m minute) float64 { return float64(m.rss["bridge"]) }},
		{"server RSS", "MiB", 1 << 20, func(m minute) float64 { return float64(m.rss["Temporal server"]) }},
		{"p99 webhook→data", "s", 1, func(m minute) float64 { return m.p99 }},
	}
	fmt.Printf("\nDrift over minutes 2–%d (least squares; within noise when slope × minutes ≤ %d × residual std or ≤ %d %% of the mean;"+
		" a verdict needs %d minutes):\n\n", len(full)+fitFrom, noiseK, noisePct, minFit)
	fmt.Println("| series | mean | slope per minute | slope × minutes | residual std | within noise |")
	fmt.Println("| --- | --- | --- | --- | --- | --- |")
	for _, sr := range series {
		ys := make([]float64, 0, len(full))
		for _, m := range full {
			if y := sr.get(m); y == y { // a minute without samples has no p99
				ys = append(ys, y/sr.scale)
			}
		}
		if len(ys) < 3 {
			fmt.Printf("| %s | – | – | – | – | too few minutes with samples |\n", sr.name)
			continue
		}
		f := measure.LinearFit(ys)
		verdict := "yes"
		switch {
		case len(ys) < minFit:
			verdict = fmt.Sprintf("– (%d minutes: too few to judge)", len(ys))
		case !f.WithinNoise(len(ys), noiseK, noisePct):
			verdict = "**no: grows**"
		}
		fmt.Printf("| %s | %.3f %s | %+.4f %s | %+.3f %s | %.3f %s | %s |\n", sr.name, f.Mean, sr.unit, f.Slope, sr.unit,
			f.Slope*float64(len(ys)), sr.unit, f.Residual, sr.unit, verdict)
	}
}
