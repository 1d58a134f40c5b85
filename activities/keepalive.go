package activities

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/belvo-temporal/backbone/store"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// heartbeater re-sends an activity's latest heartbeat details on a ticker,
// so that a call slower than the heartbeat timeout (but within its own HTTP
// timeout) does not get the attempt killed. Only record changes the details;
// the ticker repeats them.
type heartbeater struct {
	mu     sync.Mutex
	ctx    context.Context
	latest any
	done   chan struct{}
	once   sync.Once
}

// KeepAliveFraction is how often, as a fraction of the heartbeat timeout,
// a waiting activity heartbeats: four times per timeout leaves room for a
// late tick and for the SDK's throttling (0.8 of the timeout).
const KeepAliveFraction = 4

// keepAlive starts heartbeating details now and every heartbeat timeout /
// KeepAliveFraction until stop; without a heartbeat timeout it only records.
func keepAlive(ctx context.Context, details any) *heartbeater {
	h := &heartbeater{ctx: ctx, latest: details, done: make(chan struct{})}
	activity.RecordHeartbeat(ctx, details)
	every := activity.GetInfo(ctx).HeartbeatTimeout / KeepAliveFraction
	if every <= 0 {
		return h
	}
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-h.done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				h.mu.Lock()
				d := h.latest
				h.mu.Unlock()
				activity.RecordHeartbeat(ctx, d)
			}
		}
	}()
	return h
}

// record makes details the latest heartbeat, at once.
func (h *heartbeater) record(details any) {
	h.mu.Lock()
	h.latest = details
	h.mu.Unlock()
	activity.RecordHeartbeat(h.ctx, details)
}

// stop ends the ticker.
func (h *heartbeater) stop() { h.once.Do(func() { close(h.done) }) }

// storeError turns a store failure into the engine's decision: a deleted
// link's rows are refused for good (LinkDeleted, not retried); a full disk
// is retried under its own type (StoreDiskFull), so the web UI and alerts
// tell it from an outage; anything else (a database outage, say) stays
// retryable.
func storeError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrLinkDeleted):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeLinkDeleted, err)
	case errors.Is(err, store.ErrDiskFull):
		// Retryable: the failed page was rolled back whole, and the retry
		// resumes after the last page stored once space is freed.
		return temporal.NewApplicationError(err.Error(), ErrTypeStoreDiskFull, err)
	}
	return err
}

// ErrTypeStoreDiskFull is the error type of a step whose write met a full
// disk under the store; it is retried.
const ErrTypeStoreDiskFull = "StoreDiskFull"

// ErrTypeLinkDeleted is the error type of a step refused because its link
// was deleted: the workflows end the link's work instead of failing.
const ErrTypeLinkDeleted = "LinkDeleted"
