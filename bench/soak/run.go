package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/belvo-temporal/backbone/bench/internal/measure"
)

// units is the work offered and what came of it.
type units struct {
	mu                  sync.Mutex
	linkIDs, requestIDs []string
	errs                []error
	started, links      atomic.Int64
	asyncDone           atomic.Int64
	expected, stored    atomic.Int64
	asyncLost           atomic.Int64
}

func (u *units) fail(err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.errs = append(u.errs, err)
}

// unit registers a link, checks its rows, then sends an async request on
// it.
func (s *soakStack) unit(ctx context.Context, u *units, key string) error {
	u.started.Add(1)
	id, err := s.Load.Link(ctx, key)
	if err != nil {
		u.fail(err)
		return nil // counted; the run goes on, the end reports it as loss
	}
	u.mu.Lock()
	u.linkIDs = append(u.linkIDs, id)
	u.mu.Unlock()
	want, got, _, err := s.Load.Check(ctx, []string{id})
	if err != nil {
		u.fail(err)
		return nil
	}
	u.expected.Add(int64(want))
	u.stored.Add(int64(got))
	u.links.Add(1)
	req, lost, err := s.Load.Async(ctx, key+"-async", id)
	if err != nil {
		u.fail(err)
		return nil
	}
	u.mu.Lock()
	u.requestIDs = append(u.requestIDs, req)
	u.mu.Unlock()
	u.asyncLost.Add(int64(lost))
	u.asyncDone.Add(1)
	return nil
}

// calibrate measures the sustainable rate: units in a closed loop, as
// many at once as -concurrency, units per second over the run.
func (s *soakStack) calibrate(ctx context.Context, o options) (float64, error) {
	fmt.Fprintf(os.Stderr, "calibrating: %d units (a link and an async request each), %d at once…\n", o.calibrate, o.concurrency)
	var u units
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
	sem := make(chan struct{}, o.concurrency)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := range o.calibrate {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_ = s.unit(ctx, &u, fmt.Sprintf("soak-cal-%s-%d", stamp, i))
		}()
	}
	wg.Wait()
	if len(u.errs) > 0 {
		return 0, fmt.Errorf("calibration: %w", errors.Join(u.errs...))
	}
	return float64(o.calibrate) / time.Since(t0).Seconds(), nil
}

// minute is one row of the table.
type minute struct {
	at                    time.Duration
	started, links, async int64
	rss                   map[string]int64
	samples               int
	p99                   float64
	shed                  float64
	stored, expected      int64
	// drain: the last row, from the last tick to the end of the drain
	// (shorter than a minute, left out of the fits).
	drain bool
}

// offer starts units at rate for the duration, printing a row every
// minute, then waits for the last ones.
func (s *soakStack) offer(ctx context.Context, o options, rate float64, u *units) ([]minute, error) {
	tail := measure.LogTail{Path: s.LogPath("worker")}
	if err := tail.Skip(); err != nil {
		return nil, err
	}
	shed0, err := measure.Counter(ctx, s.bridgeMetrics, "belvo_bridge_requests_total", `status="503"`)
	if err != nil {
		return nil, err
	}
	n := int(rate * o.duration.Seconds())
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
	done := make(chan error, 1)
	t0 := time.Now()
	go func() {
		_, err := measure.OpenLoop(ctx, rate, n, func(i int) error {
			return s.unit(ctx, u, fmt.Sprintf("soak-%s-%d", stamp, i))
		})
		done <- err
	}()
	printHeader(rate, n)
	var rows []minute
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	row := func(drain bool) error {
		smp, err := tail.Read()
		if err != nil {
			return err
		}
		xs := make([]float64, len(smp))
		for i, x := range smp {
			xs[i] = x.Seconds
		}
		shed, err := measure.Counter(ctx, s.bridgeMetrics, "belvo_bridge_requests_total", `status="503"`)
		if err != nil {
			return err
		}
		m := minute{at: time.Since(t0), started: u.started.Load(), links: u.links.Load(), async: u.asyncDone.Load(),
			rss: measure.RSS(s.Stack), samples: len(xs), p99: measure.Percentiles(xs, 99)[0], shed: shed - shed0,
			stored: u.stored.Load(), expected: u.expected.Load(), drain: drain}
		shed0 = shed
		rows = append(rows, m)
		printRow(m)
		return nil
	}
	for {
		select {
		case err := <-done:
			// The drain after the last start: a last, shorter row.
			if rerr := row(true); rerr != nil {
				return rows, rerr
			}
			return rows, err
		case <-tick.C:
			if err := row(false); err != nil {
				return rows, err
			}
		}
	}
}

func printHeader(rate float64, n int) {
	fmt.Printf("\nOffering %d units at %.2f/s (a link by the API, then an async invoices request on it; open loop).\n\n", n, rate)
	fmt.Println("| time | units started | links fetched | async done | worker RSS | bridge RSS | server RSS | samples | p99 webhook→data | shed (503) | rows stored / expected |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
}

func printRow(m minute) {
	p99 := "–"
	if m.p99 == m.p99 { // not NaN
		p99 = fmt.Sprintf("%.3f s", m.p99)
	}
	fmt.Printf("| %s | %d | %d | %d | %s | %s | %s | %d | %s | %.0f | %d / %d |\n", m.at.Round(time.Second), m.started, m.links, m.async,
		mib(m.rss["worker"]), mib(m.rss["bridge"]), mib(m.rss["Temporal server"]), m.samples, p99, m.shed, m.stored, m.expected)
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
