package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/bench/internal/measure"
	"github.com/belvo-temporal/backbone/workflows"
)

// loads are the fractions of the sustainable rate the latency phases
// offer: a comfortable and a busy steady state.
var loads = []float64{0.5, 0.8}

// latencyRun is one load's open-loop phases: links registered at a fixed
// rate, then async requests at a fixed rate, whatever the product does.
type latencyRun struct {
	load                            float64
	linkRate, asyncRate             float64
	linkLag, asyncLag, recurrentLag time.Duration
	links, async, recurrent         time.Duration
	linkIDs, requestIDs             []string
	expected, lost                  int
	samples                         []measure.Sample
	// missing and extra count webhooks without a sample and samples
	// beyond one per webhook.
	missing, extra int
}

// latency runs the open-loop phases at each load, sustainable rates being
// what the product's closed-loop run just reached, and reads the worker's
// webhook-to-data samples of the phase's own links and requests.
func (s *benchStack) latency(ctx context.Context, o options, prod timing) ([]latencyRun, error) {
	linkRate := float64(o.links) / prod.links.Seconds()
	asyncRate := float64(o.async) / max(prod.async.Seconds(), 1e-9)
	tail := measure.LogTail{Path: s.LogPath("worker")}
	var out []latencyRun
	for _, load := range loads {
		r := latencyRun{load: load, linkRate: load * linkRate, asyncRate: load * asyncRate,
			linkIDs: make([]string, o.latencyLinks), requestIDs: make([]string, o.latencyAsync)}
		if err := tail.Skip(); err != nil {
			return out, err
		}
		stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
		fmt.Fprintf(os.Stderr, "latency at %.0f%%: %d links at %.2f/s, then %d async requests at %.2f/s (open loop)…\n",
			100*load, o.latencyLinks, r.linkRate, o.latencyAsync, r.asyncRate)
		t0 := time.Now()
		var err error
		r.linkLag, err = measure.OpenLoop(ctx, r.linkRate, o.latencyLinks, func(i int) error {
			id, err := s.link(ctx, fmt.Sprintf("e2e-lat-%s-%d", stamp, i))
			r.linkIDs[i] = id
			return err
		})
		if err != nil {
			return out, err
		}
		r.links = time.Since(t0)
		var asyncLost atomic.Int64
		t1 := time.Now()
		r.asyncLag, err = measure.OpenLoop(ctx, r.asyncRate, o.latencyAsync, func(i int) error {
			id, lost, err := s.async(ctx, fmt.Sprintf("e2e-lat-async-%s-%d", stamp, i), r.linkIDs[i%len(r.linkIDs)])
			r.requestIDs[i] = id
			asyncLost.Add(int64(lost))
			return err
		})
		if err != nil {
			return out, err
		}
		r.async = time.Since(t1)
		if r.expected, _, r.lost, err = s.check(ctx, r.linkIDs); err != nil {
			return out, err
		}
		r.lost += int(asyncLost.Load())
		if err := s.recurrent(ctx, &r); err != nil {
			return out, err
		}
		// One sample per webhook: each link's 3 resources, each request's
		// invoices, each link's recurrent update.
		want := map[string]int{}
		for _, id := range r.linkIDs {
			for _, res := range three {
				want[sampleKey(workflows.FlowHistorical, id, res)] = 1
			}
			want[sampleKey(workflows.FlowRecurrent, id, belvo.Transactions)] = 1
		}
		for _, id := range r.requestIDs {
			want[sampleKey(workflows.FlowAsync, id, belvo.Invoices)] = 1
		}
		all, err := readSamples(ctx, &tail, len(want))
		if err != nil {
			return out, err
		}
		for _, smp := range all {
			k := sampleKey(smp.Flow, smp.ID, belvo.Resource(smp.Resource))
			if _, ok := want[k]; !ok {
				continue
			}
			want[k]--
			r.samples = append(r.samples, smp)
		}
		for _, n := range want {
			r.missing += max(n, 0)
			r.extra += max(-n, 0)
		}
		out = append(out, r)
	}
	return out, nil
}

func sampleKey(flow, id string, r belvo.Resource) string { return flow + "/" + id + "/" + string(r) }

// readSamples reads the worker's samples until there are at least n or a
// few seconds pass: the workflow logs a sample after its activity
// committed, so the store can be caught up a moment before the log is.
func readSamples(ctx context.Context, tail *measure.LogTail, n int) ([]measure.Sample, error) {
	var all []measure.Sample
	for wait := 0; ; wait++ {
		more, err := tail.Read()
		if err != nil {
			return all, err
		}
		all = append(all, more...)
		if len(all) >= n || wait == 50 {
			return all, nil
		}
		select {
		case <-ctx.Done():
			return all, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// reportLatency prints the percentiles per load, flow and resource.
func reportLatency(runs []latencyRun) {
	if len(runs) == 0 {
		return
	}
	fmt.Println("\n**Webhook-to-data latency** (bridge receipt → rows committed; exact nearest-rank percentiles of the worker's samples)," +
		" open loop at a fraction of the sustainable rates the closed-loop product run reached:")
	fmt.Println("\n| load | offered rate | flow | resource | samples | p50 | p95 | p99 | max |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range runs {
		groups := []struct {
			flow     string
			resource belvo.Resource
			rate     string
		}{
			{workflows.FlowHistorical, belvo.Accounts, fmt.Sprintf("%.2f links/s", r.linkRate)},
			{workflows.FlowHistorical, belvo.Transactions, ""},
			{workflows.FlowHistorical, belvo.Owners, ""},
			{workflows.FlowAsync, belvo.Invoices, fmt.Sprintf("%.2f requests/s", r.asyncRate)},
			{workflows.FlowRecurrent, belvo.Transactions, fmt.Sprintf("%.2f updates/s (+%d each)", r.linkRate, recurrentNew)},
		}
		for _, g := range groups {
			var xs []float64
			for _, smp := range r.samples {
				if smp.Flow == g.flow && smp.Resource == string(g.resource) {
					xs = append(xs, smp.Seconds)
				}
			}
			p := measure.Percentiles(xs, 50, 95, 99, 100)
			fmt.Printf("| %.0f %% | %s | %s | %s | %d | %s | %s | %s | %s |\n", 100*r.load, g.rate, g.flow, g.resource, len(xs),
				secs(p[0]), secs(p[1]), secs(p[2]), secs(p[3]))
		}
	}
	for _, r := range runs {
		fmt.Printf("\nAt %.0f %%: %d links in %s, %d async requests in %s, %d recurrent updates in %s; the generator's largest delay behind its schedule %s / %s / %s; %d rows expected, %d lost; %d samples missing, %d extra.\n",
			100*r.load, len(r.linkIDs), r.links.Round(time.Second), len(r.requestIDs), r.async.Round(time.Second),
			len(r.linkIDs), r.recurrent.Round(time.Second),
			r.linkLag.Round(time.Millisecond), r.asyncLag.Round(time.Millisecond), r.recurrentLag.Round(time.Millisecond),
			r.expected, r.lost, r.missing, r.extra)
	}
}

func secs(x float64) string {
	if x != x { // NaN: no samples
		return "–"
	}
	return fmt.Sprintf("%.3f s", x)
}
