package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/belvo-temporal/backbone/internal/netfault"
	"github.com/belvo-temporal/backbone/internal/stack"
	"go.temporal.io/api/enums/v1"
)

// The four hops a network fault is put on, each through its own proxy.
// The harness (starter, store reads, sandbox control) connects directly:
// only the product's own traffic crosses a fault.
const (
	belvoHop          = "worker→Belvo"
	storeHop          = "worker→store"
	workerTemporalHop = "worker→Temporal"
	bridgeTemporalHop = "bridge→Temporal"
)

var hops = []string{belvoHop, storeHop, workerTemporalHop, bridgeTemporalHop}

// netFault is one of the network faults.
type netFault struct {
	// key names its scenarios (net-<hop>-<key>); what describes it.
	key, what string
	fault     netfault.Fault
	// partition faults last a fixed time (partitionFor) and then heal; the
	// others stay on for the whole work.
	partition bool
}

var netFaults = []netFault{
	{key: "latency", what: "latency 200 ms ± 100 ms", fault: netfault.Latency(200*time.Millisecond, 100*time.Millisecond)},
	{key: "bandwidth", what: "bandwidth 256 KB/s", fault: netfault.Bandwidth(256)},
	// Every 2 s half the open connections are picked to be reset after
	// another 32 KB of response: resets keep coming, and responses longer
	// than 32 KB (a page of transactions) still get through on the
	// connections not picked.
	{key: "resets", what: "connections reset mid-response (half of them, after 32 KB, redrawn every 2 s)",
		fault: netfault.Resets(32<<10, 0.5, 2*time.Second)},
	// A partition stalls every connection of the hop, open and new, and
	// on healing delivers what TCP would have retransmitted (see
	// netfault.Partition and, for why not toxiproxy's timeout toxic,
	// netfault.Blackhole).
	{key: "partition", what: "full partition (nothing passes either way)", fault: netfault.Partition(), partition: true},
}

// partitionFor is how long a partition lasts; wholeWorkCap bounds the
// faults that last for the whole work, should the work not finish under
// them (the row's recovery then counts from the cap).
func (o opts) partitionFor() time.Duration {
	if o.short {
		return 10 * time.Second
	}
	return 30 * time.Second
}

func (o opts) wholeWorkCap() time.Duration {
	if o.short {
		return 2 * time.Minute
	}
	return 5 * time.Minute
}

// netScenarios are each fault on each hop alone in the full form (16
// rows), each fault on all four hops at once in the short form (4 rows).
func netScenarios() []scenario {
	var out []scenario
	for _, nf := range netFaults {
		out = append(out, scenario{name: "net-all-" + nf.key, form: "short",
			fault: nf.describe(opts{short: true}) + " on all four hops", run: netRun(nf, hops...)})
	}
	for _, h := range hops {
		for _, nf := range netFaults {
			out = append(out, scenario{name: "net-" + hopKey(h) + "-" + nf.key, form: "full",
				fault: nf.describe(opts{}) + " on " + h, run: netRun(nf, h)})
		}
	}
	return out
}

// describe is the fault with its duration in a form.
func (nf netFault) describe(o opts) string {
	if nf.partition {
		return fmt.Sprintf("%s for %s, then healed", nf.what, o.partitionFor())
	}
	return fmt.Sprintf("%s for the whole work (at most %s)", nf.what, o.wholeWorkCap())
}

// hopKey is a hop in a scenario's name: "worker→Belvo" is "worker-belvo".
func hopKey(h string) string { return strings.ToLower(strings.ReplaceAll(h, "→", "-")) }

// netRun starts the production-like stack with its four hops through
// proxies, offers the work, puts the fault on the given hops while it
// runs and tallies once the fault is lifted.
func netRun(nf netFault, on ...string) func(ctx context.Context, o opts) (row, error) {
	return func(ctx context.Context, o opts) (row, error) {
		name := "net-" + nf.key
		if len(on) == 1 {
			name = "net-" + hopKey(on[0]) + "-" + nf.key
		}
		srv := netfault.New()
		defer srv.Close()
		proxies, po, err := proxiedProd(o, name, srv)
		if err != nil {
			return row{}, err
		}
		s, err := startProd(ctx, o, po)
		defer s.close()
		if err != nil {
			return row{}, err
		}
		// A product process that dies under a fault fails the row at once
		// rather than leaving its work to wait forever.
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		go func() {
			select {
			case <-s.dead:
				cancel(s.processDied())
			case <-ctx.Done():
			}
		}()
		f, err := s.offer(ctx, o.work())
		if err != nil {
			return row{}, err
		}
		for _, h := range on {
			if err := proxies[h].Add(nf.fault); err != nil {
				return row{}, err
			}
		}
		start := time.Now()
		workDone := make(chan struct{})
		go func() { f.wg.Wait(); close(workDone) }()
		until, hold := o.partitionFor(), "healed after"
		if !nf.partition {
			until, hold = o.wholeWorkCap(), "lifted after"
		}
		select {
		case <-ctx.Done():
		case <-time.After(until):
			if !nf.partition {
				hold = "work unfinished at the cap; lifted after"
			}
		case <-workDone:
			if nf.partition {
				// The work finished during the partition: let it run its
				// full length all the same, the row's fault says so.
				select {
				case <-ctx.Done():
				case <-time.After(time.Until(start.Add(until))):
				}
			} else {
				hold = "on for the whole work,"
			}
		}
		for _, h := range on {
			if err := proxies[h].Remove(nf.fault); err != nil {
				return row{}, err
			}
		}
		end := time.Now()
		r, err := s.tally(ctx, f, end)
		r.notes = append(r.notes, fmt.Sprintf("fault %s %s", hold, end.Sub(start).Round(time.Second)))
		if cause := context.Cause(ctx); cause != nil && err == nil {
			err = cause
		}
		return r, err
	}
}

// proxiedProd starts a proxy per hop and the prodOptions that route the
// product's processes through them: the workers' Belvo, store and Temporal
// addresses, the bridges' Temporal address. The sandbox gets a fixed
// address so its proxy knows its upstream before the stack starts.
//
// Temporal's frontend speaks mTLS; through a proxy on another port the
// server's certificate still verifies, since the client names the server
// explicitly (stack.ClientTLS sets the ServerName the certificate carries,
// certs' "temporal.local") rather than taking it from the address.
func proxiedProd(o opts, name string, srv *netfault.Server) (map[string]*netfault.Proxy, prodOptions, error) {
	po := prodOptions{name: name}
	var err error
	if po.sandboxAddr, err = stack.FreeAddr(); err != nil {
		return nil, po, err
	}
	admin, err := url.Parse(o.postgres)
	if err != nil {
		return nil, po, fmt.Errorf("PostgreSQL admin URL: %w", err)
	}
	pgAddr := admin.Host
	if admin.Port() == "" {
		pgAddr = net.JoinHostPort(admin.Hostname(), "5432")
	}
	upstreams := map[string]string{
		belvoHop:          po.sandboxAddr,
		storeHop:          pgAddr,
		workerTemporalHop: "127.0.0.1:" + strconv.Itoa(o.temporalPort),
		bridgeTemporalHop: "127.0.0.1:" + strconv.Itoa(o.temporalPort),
	}
	proxies := map[string]*netfault.Proxy{}
	for _, h := range hops {
		if proxies[h], err = srv.Proxy(hopKey(h), upstreams[h]); err != nil {
			return nil, po, err
		}
	}
	// The workers' store DSN is the one startProd creates, at the proxy.
	pg, err := stack.NewPostgres(o.postgres, dbPrefix(name))
	if err != nil {
		return nil, po, err
	}
	storeDSN, err := url.Parse(pg.DSN(pg.StoreDB))
	if err != nil {
		return nil, po, fmt.Errorf("store DSN: %w", err)
	}
	storeDSN.Host = proxies[storeHop].Addr()
	po.workerEnv = []string{"BELVO_BASE_URL=http://" + proxies[belvoHop].Addr(), "STORE_DSN=" + storeDSN.String(),
		"TEMPORAL_ADDRESS=" + proxies[workerTemporalHop].Addr()}
	po.bridgeEnv = []string{"TEMPORAL_ADDRESS=" + proxies[bridgeTemporalHop].Addr()}
	return proxies, po, nil
}

// waitPolling waits until n workers poll the task queue for both workflow
// and activity tasks (n distinct poller identities each), within a minute;
// a process that dies meanwhile ends the wait.
func (s *prodStack) waitPolling(ctx context.Context, n int) error {
	deadline := time.Now().Add(time.Minute)
	for {
		ready, err := s.polling(ctx, n)
		if ready {
			return nil
		}
		if died := s.processDied(); died != nil {
			return died
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d workers not all polling %s after a minute (last error: %v)", n, taskQueue, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (s *prodStack) polling(ctx context.Context, n int) (bool, error) {
	for _, tt := range []enums.TaskQueueType{enums.TASK_QUEUE_TYPE_WORKFLOW, enums.TASK_QUEUE_TYPE_ACTIVITY} {
		resp, err := s.client.DescribeTaskQueue(ctx, taskQueue, tt)
		if err != nil {
			return false, fmt.Errorf("describe task queue %s: %w", taskQueue, err)
		}
		ids := map[string]bool{}
		for _, p := range resp.GetPollers() {
			ids[p.GetIdentity()] = true
		}
		if len(ids) < n {
			return false, nil
		}
	}
	return true, nil
}
