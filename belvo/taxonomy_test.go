package belvo

import (
	"errors"
	"testing"
	"time"
)

func apiErr(status int, code, retryAfter string) error {
	return &APIError{Method: "GET", Path: "/api/x/", StatusCode: status, RetryAfter: retryAfter,
		Details: []ErrorDetail{{Code: code, Message: "m", RequestID: "r"}}}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		name       string
		err        error
		attempt    int
		class      string
		retryable  bool
		delay      time.Duration
		askForLess bool
	}{
		{"500", apiErr(500, "unexpected_error", ""), 1, ClassServerError, true, 0, false},
		{"503 without body code", apiErr(503, "", ""), 1, ClassServerError, true, 0, false},
		{"too_many_sessions", apiErr(400, "too_many_sessions", ""), 1, ClassTooManySessions, true, 0, false},
		{"429 with Retry-After seconds", apiErr(429, "", "7"), 1, ClassRateLimited, true, 7 * time.Second, false},
		{"429 with an absurd Retry-After is capped", apiErr(429, "", "86400"), 1, ClassRateLimited, true, 10 * time.Minute, false},
		{"429 without Retry-After", apiErr(429, "", ""), 1, ClassRateLimited, true, 0, false},
		{"network error", errors.New("dial tcp: connection refused"), 1, ClassNetwork, true, 0, false},
		{"408", apiErr(408, "request_timeout", ""), 1, ClassRequestTimeout, true, 0, true},
		{"institution_down, attempt 3", apiErr(400, "institution_down", ""), 3, ClassInstitutionDown, true, 3 * time.Minute, false},
		{"institution_unavailable, attempt 90", apiErr(400, "institution_unavailable", ""), 90, ClassInstitutionDown, true, 30 * time.Minute, false},
		{"401", apiErr(401, "authentication_failed", ""), 1, ClassAuthentication, false, 0, false},
		{"428", apiErr(428, "token_required", ""), 1, ClassTokenRequired, false, 0, false},
		{"400 invalid", apiErr(400, "invalid", ""), 1, ClassValidation, false, 0, false},
		{"400 invalid_period", apiErr(400, "invalid_period", ""), 1, ClassValidation, false, 0, false},
		{"400 invalid_link", apiErr(400, "invalid_link", ""), 1, ClassValidation, false, 0, false},
		{"400 unconfirmed_link", apiErr(400, "unconfirmed_link", ""), 1, ClassValidation, false, 0, false},
		{"403", apiErr(403, "access_denied", ""), 1, ClassForbidden, false, 0, false},
		{"404", apiErr(404, "not_found", ""), 1, ClassNotFound, false, 0, false},
		{"409", apiErr(409, "conflict", ""), 1, ClassClientError, false, 0, false},
		{"409 link_refreshed names the minutes left", &APIError{StatusCode: 409, Details: []ErrorDetail{{Code: "link_refreshed",
			Message: "The link has already been refreshed. Please wait 7 minutes before trying again."}}}, 1, ClassRefreshCooldown, false, 7 * time.Minute, false},
		{"409 link_refreshed with Retry-After", apiErr(409, "link_refreshed", "90"), 1, ClassRefreshCooldown, false, 90 * time.Second, false},
		{"409 link_refreshed, message unreadable: the whole cooldown", apiErr(409, "link_refreshed", ""), 1, ClassRefreshCooldown, false, 10 * time.Minute, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Classify(c.err, c.attempt)
			if got.Name != c.class || got.Retryable != c.retryable || got.Delay != c.delay || got.AskForLess != c.askForLess {
				t.Errorf("Classify = %+v, want %s retryable=%v delay=%s askForLess=%v", got, c.class, c.retryable, c.delay, c.askForLess)
			}
		})
	}
}
