// Package activities holds every side effect of the product: the HTTP calls
// to Belvo, the writes to the store and the start of executions from inside
// another. Activities return small summaries (ids and counts), never rows, so
// workflow histories stay small and free of financial data.
package activities

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/store"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// Activities carries the dependencies; its methods are the registered
// activities (the method name is the activity type shown in the web UI).
type Activities struct {
	Belvo    *belvo.Client
	Store    store.Store
	Temporal client.Client
	// SendRecordTimeout bounds how long a request Belvo does not make
	// idempotent waits for Temporal to record that it is leaving before
	// the attempt gives up without sending it (0: DefaultSendRecordTimeout).
	SendRecordTimeout time.Duration
}

// DefaultSendRecordTimeout rides out a frontend restart and stays short
// beside the send timeouts (workflows.SendTimeout).
const DefaultSendRecordTimeout = 30 * time.Second

// ErrorDetails is what a failed Belvo call leaves in the activity failure, so
// the web UI shows the status, Belvo code and request id.
type ErrorDetails struct {
	StatusCode int    `json:"status_code"`
	Code       string `json:"code"`
	RequestID  string `json:"request_id"`
}

// classify turns a failed call into the engine's retry decision, by the
// taxonomy of belvo.Classify: retryable classes stay retryable (with Belvo's
// Retry-After or the slower institution schedule as the next delay); the
// others become non-retryable application errors. The error type is the
// class, and the details carry the HTTP status, Belvo code and request id,
// so the web UI shows why a step ended.
func classify(ctx context.Context, err error) error {
	var bad inputError
	if errors.As(err, &bad) {
		return temporal.NewNonRetryableApplicationError(err.Error(), "InvalidInput", nil)
	}
	if errors.Is(err, belvo.ErrForeignPageURL) || errors.Is(err, belvo.ErrRowWithoutID) {
		return temporal.NewNonRetryableApplicationError(err.Error(), "BelvoInvalidData", nil)
	}
	var api *belvo.APIError
	if !errors.As(err, &api) {
		return err // network errors, timeouts, store errors: the retry policy retries them
	}
	attempt := 1
	if activity.IsActivity(ctx) {
		attempt = int(activity.GetInfo(ctx).Attempt)
	}
	c := belvo.Classify(api, attempt)
	d := ErrorDetails{StatusCode: api.StatusCode, Code: api.Code(), RequestID: api.RequestID()}
	return temporal.NewApplicationErrorWithOptions(err.Error(), c.Name, temporal.ApplicationErrorOptions{
		NonRetryable: !c.Retryable, Cause: api, Details: []any{d}, NextRetryDelay: c.Delay,
	})
}

// inputError marks a request this product refuses before calling Belvo.
type inputError struct{ error }

func (e inputError) Unwrap() error { return e.error }

func invalidInput(err error) error { return inputError{err} }

// classifyOnce is classify for calls Belvo does not make idempotent
// (POST /api/links/, async POSTs, refresh): a retry after Belvo may have
// acted would act twice, so only failures that prove nothing happened stay
// retryable (refused reports which); any other retryable failure becomes
// BelvoUncertain.
func classifyOnce(ctx context.Context, err error) error {
	if !outcomeUnknown(ctx, err) {
		return classify(ctx, err)
	}
	return temporal.NewNonRetryableApplicationError(
		err.Error()+" (not retried: Belvo may already have acted on it; check before sending again)", "BelvoUncertain", err)
}

// outcomeUnknown reports whether a failed non-idempotent call may have
// been acted on by Belvo: the failure neither proves Belvo did nothing
// (refused) nor is an answer that ends the call for good (a 4xx).
func outcomeUnknown(ctx context.Context, err error) bool {
	if refused(err) {
		return false
	}
	var appErr *temporal.ApplicationError
	return !errors.As(classify(ctx, err), &appErr) || !appErr.NonRetryable()
}

// refused reports whether a failed call proves Belvo did nothing: the
// connection was never made, or Belvo refused to take the request (429,
// too_many_sessions) before acting on it.
func refused(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var api *belvo.APIError
	return errors.As(err, &api) && (api.StatusCode == 429 || api.Code() == "too_many_sessions")
}
