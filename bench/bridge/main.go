// Command bridgebench measures the webhook bridge against a real Temporal dev
// server, over real HTTP on loopback, next to two baselines measured in the
// same run: the bridge's Temporal calls made directly with the SDK (the two
// lookups that correlate a webhook with this product's requests, then the
// SignalWithStart), and the SignalWithStart alone. It reports webhooks/s,
// ack latency (p50/p99), the bridge's ratio to each baseline,
// latency at 80 % of the sustainable rate, and overload behaviour at 3× that
// rate (share shed, slowest 202, and lost webhooks, counted by looking up
// every acknowledged webhook's signal in Temporal).
//
//	go run ./bench/bridge                  # full run (BENCHMARKS.md)
//	go run ./bench/bridge -n 300 -seconds 2  # short form (CI)
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/belvo-temporal/backbone/codec"
	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/internal/stack"
	"github.com/belvo-temporal/backbone/webhookbridge"
	"go.uber.org/zap"
)

const auth = "Bearer bench"

func main() {
	n := flag.Int("n", 2000, "webhooks per closed-loop phase (and direct SignalWithStart calls)")
	conc := flag.Int("concurrency", 32, "concurrent senders in the closed-loop phases")
	seconds := flag.Float64("seconds", 5, "length of each open-loop phase (80 % and 3× rate)")
	cli := flag.String("temporal-cli", filepath.Join("bin", "temporal"), "pinned Temporal CLI (scripts/test.sh installs it)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of this process (bridge, load generator, SDK client) to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bridgebench:", err)
			os.Exit(2)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "bridgebench:", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*n, *conc, time.Duration(*seconds*float64(time.Second)), *cli); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "bridgebench:", err)
		os.Exit(1)
	}
}

func run(n, conc int, phase time.Duration, cli string) error {
	if _, err := os.Stat(cli); err != nil {
		return fmt.Errorf("the Temporal CLI is not at %s (run scripts/test.sh once, or pass -temporal-cli): %w", cli, err)
	}
	// Each phase gets a fresh dev server: its SQLite database grows by
	// thousands of executions per phase and slows down, which would
	// otherwise be charged to whichever phase runs last.
	b, stop, err := newBench(cli)
	if err != nil {
		return err
	}
	// Alternate the three in rounds on the same server so none runs on a
	// fuller database than the others.
	const rounds = 4
	direct := &result{name: "direct SDK: SignalWithStart only"}
	same := &result{name: "direct SDK: the bridge's calls"}
	bridge := &result{name: "bridge"}
	for i := range rounds {
		fmt.Fprintf(os.Stderr, "round %d/%d: %d deliveries each way (SignalWithStart only, the bridge's calls, over HTTP), %d concurrent…\n", i+1, rounds, n/rounds, conc)
		direct.merge(b.closedLoop("direct", n/rounds, conc, b.direct))
		same.merge(b.closedLoop("same", n/rounds, conc, b.sameCalls))
		bridge.merge(b.closedLoop("bridge", n/rounds, conc, b.viaBridge))
	}
	lost := b.lost(bridge)
	stop()
	sustainable := bridge.rate()

	openPhase := func(name string, rate float64) (*result, error) {
		b, stop, err := newBench(cli)
		if err != nil {
			return nil, err
		}
		defer stop()
		fmt.Fprintf(os.Stderr, "open loop at %.0f/s for %s on a fresh server…\n", rate, phase)
		r := b.openLoop(name, rate, phase)
		lost += b.lost(r)
		return r, nil
	}
	at80, err := openPhase("at80", 0.8*sustainable)
	if err != nil {
		return err
	}
	over, err := openPhase("over", 3*sustainable)
	if err != nil {
		return err
	}

	host, _ := os.Hostname()
	fmt.Printf("\n### Webhook bridge (%s, %s, %d CPUs, %s)\n\n", time.Now().UTC().Format("2006-01-02"), host, runtime.NumCPU(), runtime.Version())
	fmt.Printf("Command: `go run ./bench/bridge -n %d -concurrency %d -seconds %g`\n\n", n, conc, phase.Seconds())
	fmt.Println("| phase | sent | 202 | 503 (shed or Temporal slow) | other | rate (/s) | p50 ack | p99 ack | slowest 202 |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range []*result{direct, same, bridge, at80, over} {
		fmt.Println(r.row())
	}
	fmt.Printf("\nbridge / its calls made directly: **%.2f** (target ≥ 0.9: the bridge's own cost)  \n", bridge.rate()/same.rate())
	fmt.Printf("bridge / SignalWithStart alone: **%.2f** (the price of correlating by request_id)  \n", bridge.rate()/direct.rate())
	fmt.Printf("p99 ack at 80 %% of the sustainable rate: **%s** (target ≤ 1 s)  \n", at80.pct(99).Round(time.Millisecond))
	fmt.Printf("3× overload: %.0f%% shed, slowest 202 **%s** (target ≤ 5 s), lost **%d** (target 0)\n",
		100*float64(over.shed)/float64(max(over.sent, 1)), over.slowest202.Round(time.Millisecond), lost)
	if lost > 0 {
		return fmt.Errorf("%d acknowledged webhooks are missing in Temporal", lost)
	}
	return nil
}

// newBench starts a fresh dev server, a client that encrypts payloads as in
// production, and a bridge on loopback (internal/stack), and warms every
// path.
func newBench(cli string) (*bench, func(), error) {
	ctx := context.Background()
	fmt.Fprintln(os.Stderr, "starting a Temporal dev server…")
	srv, err := stack.StartDevServer(ctx, stack.DevServerOptions{CLI: cli, Log: os.Stderr}) // stdout carries only the report
	if err != nil {
		return nil, nil, err
	}
	k, err := codec.NewKey()
	if err != nil {
		return nil, nil, err
	}
	// The product's own client, as the bridge builds it.
	cfg := config.Config{TemporalAddress: srv.Address(), TemporalNamespace: config.DefaultNamespace, PayloadKeys: codec.FormatKeys(k)}
	c, err := cfg.DialTemporal(nil)
	if err != nil {
		_ = srv.Stop()
		return nil, nil, err
	}
	p, err := stack.StartInProcess(ctx, stack.InProcessOptions{Client: c, TaskQueue: "bench",
		Bridge: &webhookbridge.Options{Authorization: auth, Logger: zap.NewNop()}})
	if err != nil {
		c.Close()
		_ = srv.Stop()
		return nil, nil, err
	}
	b := &bench{c: c, url: p.BridgeURL + "/webhooks/belvo",
		http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4096}, Timeout: 30 * time.Second}}
	// Warm every path so none pays the first connection.
	b.closedLoop("warm-direct", 50, 8, b.direct)
	b.closedLoop("warm-same", 50, 8, b.sameCalls)
	b.closedLoop("warm-bridge", 50, 8, b.viaBridge)
	return b, func() { p.Close(); c.Close(); _ = srv.Stop() }, nil
}
