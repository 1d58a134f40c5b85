package workflows

import (
	"fmt"
	"time"
)

// Activity timeouts, in one place. Each call to Belvo is bounded by the
// client's own HTTP timeout (BELVO_HTTP_TIMEOUT, default 60 s), which must
// end well inside the activity's timeout: otherwise the engine would start
// a retry while the first call may still be in flight (CheckTimeouts).
const (
	// CallTimeout bounds an activity making one call to Belvo (GET a link,
	// peek at a list).
	CallTimeout = 2 * time.Minute
	// SendTimeout bounds an activity sending a request Belvo does not make
	// idempotent (POST /api/links/, async POSTs, a refresh).
	SendTimeout = 3 * time.Minute
	// ListTimeout bounds one attempt at listing a resource, every page.
	ListTimeout = time.Hour
	// ListHeartbeat is how long a listing may go without a heartbeat before
	// the engine retries it elsewhere: short, so a crashed worker's listing
	// resumes from its last page within seconds. A page slower than this
	// does not kill the attempt: the activity heartbeats while it waits.
	ListHeartbeat = 20 * time.Second
)

// timeoutMargin is how much earlier than its activity's timeout a call to
// Belvo must give up.
const timeoutMargin = 10 * time.Second

// CheckTimeouts tells whether the Belvo client's HTTP timeout fits the
// activities' timeouts; the worker refuses to start when it does not.
func CheckTimeouts(belvoHTTP time.Duration) error {
	if belvoHTTP <= 0 {
		return fmt.Errorf("BELVO_HTTP_TIMEOUT=%s must be positive", belvoHTTP)
	}
	for _, t := range []struct {
		what string
		d    time.Duration
	}{{"an activity making one Belvo call", CallTimeout}, {"an activity sending a POST", SendTimeout}, {"a listing attempt", ListTimeout}} {
		if belvoHTTP+timeoutMargin > t.d {
			return fmt.Errorf("BELVO_HTTP_TIMEOUT=%s must end at least %s before the timeout of %s (%s): "+
				"otherwise the engine retries a call that may still be in flight; set it to %s or less",
				belvoHTTP, timeoutMargin, t.what, t.d, t.d-timeoutMargin)
		}
	}
	return nil
}
