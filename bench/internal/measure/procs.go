package measure

import (
	"context"
	"syscall"
	"time"

	"github.com/belvo-temporal/backbone/internal/promtext"
	"github.com/belvo-temporal/backbone/internal/stack"
)

// Processes are the names CPU and RSS report, in report order: the
// product's processes, what they run on, and this benchmark (its load
// generator and clients, and any in-process worker it runs).
var Processes = []string{"worker", "bridge", "Temporal server", "sandbox", "bench client"}

// pids are the stack's processes by name (0: not running or not found).
func pids(s *stack.Stack) map[string]int {
	out := map[string]int{}
	if len(s.Workers) > 0 {
		out["worker"] = s.Workers[0].PID()
	}
	if len(s.Bridges) > 0 {
		out["bridge"] = s.Bridges[0].PID()
	}
	if s.Sandbox != nil {
		out["sandbox"] = s.Sandbox.PID()
	}
	switch {
	case s.Dev != nil:
		out["Temporal server"] = s.Dev.PID()
	case s.Server != nil:
		out["Temporal server"] = s.Server.PID()
	}
	return out
}

// CPU is each process's processor time so far (user + system); subtract
// two readings for a phase's.
func CPU(s *stack.Stack) map[string]time.Duration {
	out := map[string]time.Duration{}
	for k, pid := range pids(s) {
		out[k] = stack.CPUOf(pid)
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	out["bench client"] = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return out
}

// Sub is a phase's processor time: after − before, per process.
func Sub(after, before map[string]time.Duration) map[string]time.Duration {
	out := map[string]time.Duration{}
	for k, v := range after {
		out[k] = v - before[k]
	}
	return out
}

// RSS is each of the stack's processes' resident memory in bytes.
func RSS(s *stack.Stack) map[string]int64 {
	out := map[string]int64{}
	for k, pid := range pids(s) {
		out[k] = stack.RSSOf(pid)
	}
	return out
}

// Counter sums a Prometheus counter's series (every label set, or those
// whose labels contain match) on a /metrics page.
func Counter(ctx context.Context, url, name, match string) (float64, error) {
	m, err := promtext.Scrape(ctx, url)
	if err != nil {
		return 0, err
	}
	return m.Sum(name, match), nil
}
