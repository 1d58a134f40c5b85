package main

import (
	"context"
	"time"
)

// sizes of the work each scenario runs through its fault.
func (o opts) work() work {
	if o.short {
		return work{links: 6, burst: 10}
	}
	return work{links: 20, burst: 30}
}

// baseline runs the work with no fault: the control row, so that a
// scenario's figures can be read against the same work undisturbed.
func baseline(ctx context.Context, o opts) (row, error) {
	s, err := startProd(ctx, o, prodOptions{name: "baseline"})
	defer s.close()
	if err != nil {
		return row{}, err
	}
	f, err := s.offer(ctx, o.work())
	if err != nil {
		return row{}, err
	}
	return s.tally(ctx, f, time.Time{})
}
