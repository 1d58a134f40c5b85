package measure

import (
	"context"
	"errors"
	"sync"
	"time"
)

// OpenLoop starts f(i) for i in [0, n) at start + i/rate, each in its own
// goroutine, whatever the earlier ones are doing: an open loop, as Belvo
// sends webhooks whether or not the product keeps up (a closed loop would
// slow down with the product and hide its queueing). It waits for every
// f and returns their errors joined, and how far behind its schedule a
// start fell at most (a generator that cannot keep its rate says so).
func OpenLoop(ctx context.Context, rate float64, n int, f func(i int) error) (lag time.Duration, err error) {
	if rate <= 0 || n <= 0 {
		return 0, nil
	}
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		at := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		select {
		case <-ctx.Done():
			wg.Wait()
			return lag, errors.Join(append(errs, ctx.Err())...)
		case <-time.After(time.Until(at)):
		}
		lag = max(lag, time.Since(at))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(i); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return lag, errors.Join(errs...)
}
