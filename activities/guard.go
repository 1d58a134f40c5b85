package activities

import (
	"cmp"
	"context"
	"encoding/json"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// A call Belvo does not make idempotent (POST /api/links/, async POSTs, a
// refresh) must not be sent twice by the engine's own retries. The guard
// records, as the attempt's heartbeat details, what happened to the call:
//
//	sending   the request may have left; a retry cannot know what Belvo did
//	refused   Belvo (or the network) proved it did nothing: a retry sends again
//	answered  Belvo answered; a retry returns the answer without sending
//
// "sending" is recorded through the client, which says whether the server
// took it, and the request leaves only once it has: activity.RecordHeartbeat
// drops a failed heartbeat with a log line, so while Temporal or its
// database is unreachable (a server without its database may even answer
// at once, "namespace not found") a request would leave unrecorded, and a
// retry would find nothing recorded and send it again.
// The later states go through activity.RecordHeartbeat, which sends an
// attempt's first heartbeat at once (no batch window is open, "sending"
// having gone through the client): Belvo's answer is recorded as soon as
// it arrives, one heartbeat more per guarded call than when "sending"
// opened the window and "answered" waited in it.
type sendState string

const (
	sendSending  sendState = "sending"
	sendRefused  sendState = "refused"
	sendAnswered sendState = "answered"
)

// sendRecord is the guard's heartbeat detail.
type sendRecord struct {
	State sendState `json:"state"`
	// Answer is Belvo's answer (the call's result, as JSON) once answered.
	Answer json.RawMessage `json:"answer,omitempty"`
}

// sendGuard is one attempt's view of the guarded call.
type sendGuard struct {
	ctx   context.Context
	what  string
	prior sendRecord
	// temporal records "sending" durably; nil only where no client is given
	// (the SDK's test environment), which falls back to
	// activity.RecordHeartbeat.
	temporal client.Client
	// recordTimeout bounds the wait for the server to take it.
	recordTimeout time.Duration
}

// guardSend reads what earlier attempts of this activity recorded; the
// guard records "sending" through a's Temporal client.
func (a *Activities) guardSend(ctx context.Context, what string) *sendGuard {
	g := &sendGuard{ctx: ctx, what: what, temporal: a.Temporal,
		recordTimeout: cmp.Or(a.SendRecordTimeout, DefaultSendRecordTimeout)}
	// Only a retried attempt has details: they are the earlier attempt's.
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &g.prior); err != nil || g.prior.State == "" {
			// Unreadable, or the bare "sending" string of earlier
			// releases: the request may have left.
			g.prior = sendRecord{State: sendSending}
		}
	}
	return g
}

// answered returns the answer an earlier attempt recorded, if it got one:
// the attempt died before returning it, and sending again would act twice.
func (g *sendGuard) answered(out any) bool {
	if g.prior.State != sendAnswered || len(g.prior.Answer) == 0 {
		return false
	}
	if err := json.Unmarshal(g.prior.Answer, out); err != nil {
		return false
	}
	activity.GetLogger(g.ctx).Info("an earlier attempt already got Belvo's answer: returning it without sending again", "call", g.what)
	return true
}

// uncertain reports whether an earlier attempt may have sent the request
// with its outcome unknown (timed out, or its worker died mid-call).
func (g *sendGuard) uncertain() bool { return g.prior.State == sendSending }

// uncertainError is the non-retryable failure of a call that may have left.
func (g *sendGuard) uncertainError() error {
	return temporal.NewNonRetryableApplicationError(
		g.what+": an earlier attempt sent it and its outcome is unknown; not sending again (check Belvo, then retry with a new idempotency key)",
		"BelvoUncertain", nil)
}

// sending records that the request is about to leave. An error means the
// server did not take the record, so the request must not leave: the error
// is retryable, and the retry sends it (nothing was sent).
func (g *sendGuard) sending() error {
	rec := sendRecord{State: sendSending}
	if g.temporal == nil {
		activity.RecordHeartbeat(g.ctx, rec)
		return nil
	}
	ctx, cancel := context.WithTimeout(g.ctx, g.recordTimeout)
	defer cancel()
	if err := g.temporal.RecordActivityHeartbeat(ctx, activity.GetInfo(g.ctx).TaskToken, rec); err != nil {
		return temporal.NewApplicationErrorWithCause(
			g.what+": not sent: Temporal did not record that it was leaving (a retry sends it)", "SendNotRecorded", err)
	}
	return nil
}

// result records how the call ended: refused when the error proves Belvo did
// nothing (the retry sends again), answered with the answer otherwise. A
// failure that does not prove it leaves "sending" in place.
func (g *sendGuard) result(answer any, err error) {
	switch {
	case err != nil && refused(err):
		activity.RecordHeartbeat(g.ctx, sendRecord{State: sendRefused})
	case err == nil:
		b, merr := json.Marshal(answer)
		if merr != nil {
			return
		}
		activity.RecordHeartbeat(g.ctx, sendRecord{State: sendAnswered, Answer: b})
	}
}
