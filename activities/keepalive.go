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

// heartbeater heartbeats an activity's latest details on a ticker, so that
// a call slower than the heartbeat timeout (but within its own HTTP
// timeout) does not get the attempt killed, and a retry resumes from the
// latest details the server took.
//
// The first heartbeat waits for the first tick (a quarter of the heartbeat
// timeout, 5 s for a listing): an activity that ends sooner, as most
// listings of an async request or of a link's smaller resources do, sends
// none, and its engine records no heartbeat write. What that gives up is
// small: a retry after a crash in those first seconds starts from the
// beginning instead of from the last page stored, redoing at most one tick
// of work, which upserts make harmless. An attempt that fails hands its
// latest details to the SDK as it ends (stop), so the failure carries
// them: otherwise a failure that recurs within every attempt's first
// seconds (Belvo failing every third page, say) would restart each retry
// from page 1 and never get past it. Later details are handed
// to the SDK as they come; it batches them (one send per 0.8 of the
// timeout) and sends the batched ones when an attempt fails.
type heartbeater struct {
	// mu guards latest and sent, and is held while the SDK takes a
	// heartbeat, so that details reach it in the order they were recorded.
	mu     sync.Mutex
	ctx    context.Context
	latest any
	// sent: a heartbeat has been handed to the SDK; from then on every
	// record is too.
	sent bool
	done chan struct{}
	once sync.Once
}

// KeepAliveFraction is how often, as a fraction of the heartbeat timeout,
// a waiting activity heartbeats: four times per timeout leaves room for a
// late tick and for the SDK's throttling (0.8 of the timeout).
const KeepAliveFraction = 4

// keepAlive makes details the latest heartbeat and heartbeats it (or what
// record made the latest since) every heartbeat timeout / KeepAliveFraction
// until stop, the first time after one tick. Without a heartbeat timeout
// nothing would ever tick: every record goes to the SDK at once, so that a
// retry can still resume.
func keepAlive(ctx context.Context, details any) *heartbeater {
	h := &heartbeater{ctx: ctx, latest: details, done: make(chan struct{})}
	every := activity.GetInfo(ctx).HeartbeatTimeout / KeepAliveFraction
	if every <= 0 {
		h.beat()
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
				h.beat()
			}
		}
	}()
	return h
}

// beat hands the latest details to the SDK.
func (h *heartbeater) beat() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sent = true
	activity.RecordHeartbeat(h.ctx, h.latest)
}

// record makes details the latest heartbeat, handed to the SDK at once
// when a heartbeat has already been sent, else by the next tick.
func (h *heartbeater) record(details any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.latest = details
	if h.sent {
		activity.RecordHeartbeat(h.ctx, details)
	}
}

// stop ends the ticker; an attempt ending with err hands its latest
// details to the SDK first, which sends them with the failure.
func (h *heartbeater) stop(err error) {
	if err != nil {
		h.beat()
	}
	h.once.Do(func() { close(h.done) })
}

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
