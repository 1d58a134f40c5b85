// Command chaos is the failure suite: on the real local stack (a file-backed
// Temporal dev server and the sandbox, worker and bridge as processes) it
// kills and stops parts mid-flight and makes Belvo misbehave, then checks
// that the store holds exactly what Belvo has: nothing lost, nothing twice.
//
//	go run ./chaos          # full run (100k transactions, 30 s outage)
//	go run ./chaos -short   # CI form (20k transactions, 10 s outage)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/belvo-temporal/backbone/internal/stack"
)

// result is one row of the summary table.
type result struct {
	scenario         string
	workflows        int
	expected, stored int
	err              error
	elapsed          time.Duration
}

func (r result) ok() bool { return r.err == nil && r.expected == r.stored && r.expected > 0 }

// scenario runs one misbehaviour against its own stack.
type scenario struct {
	name string
	env  []string
	run  func(ctx context.Context, s *scenarioStack, o opts) (workflows int, links []string, err error)
}

type opts struct {
	transactions int
	outage       time.Duration
	burstLinks   int
}

func main() {
	short := flag.Bool("short", false, "CI form: 20k transactions, 10 s outage, 10 links in the burst")
	cli := flag.String("temporal-cli", filepath.Join("bin", "temporal"), "pinned Temporal CLI (scripts/test.sh installs it)")
	only := flag.String("run", "", "run only the scenario with this name")
	flag.Parse()
	o := opts{transactions: 100_000, outage: 30 * time.Second, burstLinks: 30}
	if *short {
		o = opts{transactions: 20_000, outage: 10 * time.Second, burstLinks: 10}
	}
	if err := run(o, *cli, *only); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
}

func run(o opts, cli, only string) error {
	if _, err := os.Stat(cli); err != nil {
		return fmt.Errorf("the Temporal CLI is not at %s (run scripts/test.sh once): %w", cli, err)
	}
	cli, _ = filepath.Abs(cli)
	root, err := stack.RepoRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "chaos-")
	if err != nil {
		return err
	}
	bin := filepath.Join(tmp, "bin")
	fmt.Fprintln(os.Stderr, "building worker, bridge and sandbox…")
	if err := stack.Build(context.Background(), root, bin, os.Stderr, "worker", "bridge", "sandbox"); err != nil {
		return err
	}
	var results []result
	for i, sc := range scenarios() {
		if only != "" && sc.name != only {
			continue
		}
		fmt.Fprintf(os.Stderr, "\n== %s\n", sc.name)
		dir := filepath.Join(tmp, fmt.Sprintf("s%d", i))
		_ = os.MkdirAll(dir, 0o700)
		results = append(results, runOne(sc, o, root, bin, cli, dir))
		r := results[len(results)-1]
		fmt.Fprintf(os.Stderr, "   %s: expected %d, stored %d, %v (logs in %s)\n", verdict(r), r.expected, r.stored, r.err, dir)
	}
	host, _ := os.Hostname()
	fmt.Printf("\n### Chaos suite (%s, %s, %d CPUs)\n\n", time.Now().UTC().Format("2006-01-02"), host, runtime.NumCPU())
	fmt.Println("| scenario | workflows | rows expected | rows stored | duplicates | lost | time | result |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- |")
	failed := 0
	for _, r := range results {
		if !r.ok() {
			failed++
		}
		fmt.Printf("| %s | %d | %d | %d | %d | %d | %s | %s |\n", r.scenario, r.workflows, r.expected, r.stored,
			max(r.stored-r.expected, 0), max(r.expected-r.stored, 0), r.elapsed.Round(time.Second), verdict(r))
	}
	fmt.Printf("\nchaos: %d passed, %d failed\n", len(results)-failed, failed)
	if failed > 0 {
		return fmt.Errorf("%d scenarios failed (logs under %s)", failed, tmp)
	}
	_ = os.RemoveAll(tmp)
	return nil
}

func verdict(r result) string {
	if r.ok() {
		return "pass"
	}
	return "FAIL"
}

func runOne(sc scenario, o opts, root, bin, cli, dir string) result {
	start := time.Now()
	r := result{scenario: sc.name}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	s, err := newStack(ctx, root, bin, cli, dir, sc.env)
	if err != nil {
		r.err = err
		return r
	}
	defer s.close()
	var links []string
	r.workflows, links, r.err = sc.run(ctx, s, o)
	if r.err == nil {
		r.expected, r.stored, r.err = s.tally(ctx, links)
	}
	r.elapsed = time.Since(start)
	return r
}
