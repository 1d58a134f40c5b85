// Package activities holds every side effect of the product: the HTTP calls
// to Belvo, the writes to the store and the start of executions from inside
// another. Activities return small summaries (ids and counts), never rows, so
// workflow histories stay small and free of financial data.
package activities

import (
	"errors"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/store"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// Activities carries the dependencies; its methods are the registered
// activities (the method name is the activity type shown in the web UI).
type Activities struct {
	Belvo    *belvo.Client
	Store    store.Store
	Temporal client.Client
}

// ErrorDetails is what a failed Belvo call leaves in the activity failure, so
// the web UI shows the status, Belvo code and request id.
type ErrorDetails struct {
	StatusCode int    `json:"status_code"`
	Code       string `json:"code"`
	RequestID  string `json:"request_id"`
}

// classify turns a Belvo error into the engine's retry decision: retryable
// answers stay plain errors (the RetryPolicy retries them); the others become
// non-retryable application errors typed "BelvoError" with the details.
func classify(err error) error {
	var api *belvo.APIError
	if !errors.As(err, &api) {
		return err // network errors, timeouts, store errors: retry
	}
	d := ErrorDetails{StatusCode: api.StatusCode, Code: api.Code(), RequestID: api.RequestID()}
	if api.Retryable() {
		return temporal.NewApplicationErrorWithCause(api.Error(), "BelvoRetryable", api, d)
	}
	return temporal.NewNonRetryableApplicationError(api.Error(), "BelvoError", api, d)
}
