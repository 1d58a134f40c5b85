//go:build integration

package stack_test

import (
	"context"
	"testing"

	"github.com/belvo-temporal/backbone/internal/stack"
	"github.com/belvo-temporal/backbone/internal/testenv"
	"go.temporal.io/sdk/client"
)

// startDevServer starts a dev server with the pinned CLI (o.CLI is set
// here) and stops it when the test ends.
func startDevServer(ctx context.Context, t *testing.T, o stack.DevServerOptions) *stack.DevServer {
	t.Helper()
	o.CLI = testenv.TemporalCLI(t)
	d, err := stack.StartDevServer(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Stop() })
	return d
}

// dial connects a client to d, closed when the test ends.
func dial(ctx context.Context, t *testing.T, d *stack.DevServer) client.Client {
	t.Helper()
	c, err := client.DialContext(ctx, client.Options{HostPort: d.Address()})
	if err != nil {
		t.Fatalf("dial the dev server at %s: %v", d.Address(), err)
	}
	t.Cleanup(c.Close)
	return c
}

// freePort is a port for a server to bind (stack.FreePort).
func freePort(t *testing.T) int {
	t.Helper()
	port, err := stack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}
