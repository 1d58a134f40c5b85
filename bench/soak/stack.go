package main

import (
	"context"

	"github.com/belvo-temporal/backbone/bench/internal/load"
)

const taskQueue = "soak"

// soakStack is the benchmarks' local stack (load.StartLocal, on
// internal/stack, the one stack builder) and the clients that offer it
// work.
type soakStack struct {
	*load.Local
	// bridgeMetrics is the bridge's /metrics URL.
	bridgeMetrics string
}

func newStack(ctx context.Context, o options) (*soakStack, error) {
	l, err := load.StartLocal(ctx, load.LocalOptions{CLI: o.cli, DirPrefix: "soak-", TaskQueue: taskQueue, Transactions: o.transactions})
	if err != nil {
		return nil, err
	}
	return &soakStack{Local: l, bridgeMetrics: "http://" + l.BridgeAddrs[0] + "/metrics"}, nil
}
