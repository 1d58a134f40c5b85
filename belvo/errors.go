package belvo

import (
	"encoding/json"
	"fmt"
	"strings"
)

// ErrorDetail is one entry of Belvo's error body, which is a JSON list of
// {request_id, code, message, field}.
type ErrorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
	Field     string `json:"field,omitempty"`
	// Session, Link and Expiry are set on 428 token_required answers
	// (MFA): the session and the link to resume, and for how long.
	Session string `json:"session,omitempty"`
	Link    string `json:"link,omitempty"`
	Expiry  int    `json:"expiry,omitempty"`
}

// APIError is a non-2xx answer from Belvo. It keeps the HTTP status and the
// first error's code and request id so callers can classify and report it.
type APIError struct {
	Method     string
	Path       string
	StatusCode int
	Details    []ErrorDetail
	// RetryAfter is the raw Retry-After header, when Belvo sent one.
	RetryAfter string
}

// Code is the first error's Belvo code (for example "invalid_link"), or "".
func (e *APIError) Code() string {
	if len(e.Details) == 0 {
		return ""
	}
	return e.Details[0].Code
}

// RequestID is the first error's Belvo request id, or "".
func (e *APIError) RequestID() string {
	if len(e.Details) == 0 {
		return ""
	}
	return e.Details[0].RequestID
}

// Error renders status, code, message, field and request id; it never
// includes the request body, so credentials cannot leak through it.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "belvo %s %s: HTTP %d", e.Method, e.Path, e.StatusCode)
	for _, d := range e.Details {
		fmt.Fprintf(&b, "; %s", d.Code)
		if d.Message != "" {
			fmt.Fprintf(&b, ": %s", d.Message)
		}
		if d.Field != "" {
			fmt.Fprintf(&b, " (field %s)", d.Field)
		}
		if d.RequestID != "" {
			fmt.Fprintf(&b, " [request_id %s]", d.RequestID)
		}
	}
	return b.String()
}

// Retryable tells whether repeating the same call may succeed (see
// Classify for the whole taxonomy).
func (e *APIError) Retryable() bool { return Classify(e, 1).Retryable }

// parseAPIError builds an APIError from a non-2xx body. Belvo answers with a
// list, but a proxy in between may answer with anything: keep a short,
// printable excerpt as the message instead of failing to parse.
func parseAPIError(method, path string, status int, body []byte, retryAfter string) *APIError {
	e := &APIError{Method: method, Path: path, StatusCode: status, RetryAfter: retryAfter}
	if err := json.Unmarshal(body, &e.Details); err == nil && len(e.Details) > 0 {
		return e
	}
	var single ErrorDetail
	if err := json.Unmarshal(body, &single); err == nil && single.Code != "" {
		e.Details = []ErrorDetail{single}
		return e
	}
	excerpt := strings.TrimSpace(string(body))
	if len(excerpt) > 200 {
		excerpt = excerpt[:200] + "…"
	}
	e.Details = []ErrorDetail{{Code: "unparsed_error", Message: excerpt}}
	return e
}
