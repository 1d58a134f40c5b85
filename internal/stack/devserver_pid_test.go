//go:build integration

package stack_test

import (
	"context"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/internal/stack"
	"github.com/belvo-temporal/backbone/internal/testenv"
)

// The dev server's process is found (the SDK does not expose it), so the
// benchmarks can read its processor time and memory.
func TestDevServerPID(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d, err := stack.StartDevServer(ctx, stack.DevServerOptions{CLI: testenv.TemporalCLI(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = d.Stop() }()
	pid := d.PID()
	if pid <= 0 {
		t.Fatal("the dev server's process was not found")
	}
	if stack.CPUOf(pid) <= 0 || stack.RSSOf(pid) <= 0 {
		t.Errorf("pid %d: CPU %s, RSS %d: not the running server", pid, stack.CPUOf(pid), stack.RSSOf(pid))
	}
}
