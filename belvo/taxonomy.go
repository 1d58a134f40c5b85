package belvo

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"time"
)

// Class says how a failed Belvo call is retried. The table is in Classify
// and in docs/failure-semantics.md; activities turn it into the engine's retry decision.
type Class struct {
	// Name is the class, shown as the error type in the web UI.
	Name string
	// Retryable: repeating the same call may succeed.
	Retryable bool
	// Delay, when set, replaces the retry policy's next interval (Belvo's
	// Retry-After, or the slower schedule of an institution that is down).
	Delay time.Duration
	// AskForLess: the call timed out at Belvo; retry asking for less data
	// (a smaller page, a shorter date range).
	AskForLess bool
}

// The classes.
const (
	ClassServerError     = "BelvoServerError"
	ClassTooManySessions = "BelvoTooManySessions"
	ClassRateLimited     = "BelvoRateLimited"
	ClassNetwork         = "BelvoNetworkError"
	ClassRequestTimeout  = "BelvoRequestTimeout"
	ClassInstitutionDown = "BelvoInstitutionUnavailable"
	ClassAuthentication  = "BelvoAuthenticationFailed"
	ClassTokenRequired   = "BelvoTokenRequired"
	ClassValidation      = "BelvoValidationError"
	ClassForbidden       = "BelvoForbidden"
	ClassNotFound        = "BelvoNotFound"
	ClassClientError     = "BelvoClientError"
	// ClassRefreshCooldown is 409 link_refreshed: the link was refreshed in
	// the last 10 minutes. Not retried by the engine (the request was
	// refused, nothing happened); Delay says when Belvo will take it.
	ClassRefreshCooldown = "BelvoLinkRefreshCooldown"
)

// InstitutionRetryBase is the step of the slower schedule for an institution
// that is down: attempt n waits n × this, up to InstitutionRetryMax.
const (
	InstitutionRetryBase = time.Minute
	InstitutionRetryMax  = 30 * time.Minute
)

// Classify is the error taxonomy:
//
//	5xx                                   server error          retry, policy backoff (3 s × 2)
//	too_many_sessions                     too many sessions     retry, policy backoff
//	429                                   rate limited          retry after Retry-After (policy if absent)
//	connection errors, client timeouts    network               retry, policy backoff
//	408, request_timeout                  request timeout       retry asking for less (smaller page)
//	institution_down/_unavailable         institution down      retry on a slower schedule (1 min × attempt, ≤ 30 min)
//	401                                   authentication        no retry
//	428 token_required                    token required        no retry: the MFA flow takes over
//	400 (invalid, invalid_period, …)      validation            no retry
//	403                                   forbidden             no retry
//	404                                   not found             no retry
//	409 link_refreshed                    refresh cooldown      no retry; Delay says when Belvo takes it
//	other 4xx                             client error          no retry
//
// attempt is the activity's attempt number (1 for the first).
func Classify(err error, attempt int) Class {
	var api *APIError
	if !errors.As(err, &api) {
		return Class{Name: ClassNetwork, Retryable: true}
	}
	switch api.Code() {
	case "too_many_sessions":
		return Class{Name: ClassTooManySessions, Retryable: true}
	case "institution_down", "institution_unavailable":
		return Class{Name: ClassInstitutionDown, Retryable: true, Delay: min(time.Duration(max(attempt, 1))*InstitutionRetryBase, InstitutionRetryMax)}
	case "request_timeout":
		return Class{Name: ClassRequestTimeout, Retryable: true, AskForLess: true}
	case "token_required":
		return Class{Name: ClassTokenRequired}
	case "link_refreshed":
		return Class{Name: ClassRefreshCooldown, Delay: RefreshCooldownLeft(api)}
	}
	switch s := api.StatusCode; {
	case s >= 500:
		return Class{Name: ClassServerError, Retryable: true}
	case s == http.StatusTooManyRequests:
		return Class{Name: ClassRateLimited, Retryable: true, Delay: retryAfter(api.RetryAfter)}
	case s == http.StatusRequestTimeout:
		return Class{Name: ClassRequestTimeout, Retryable: true, AskForLess: true}
	case s == http.StatusUnauthorized:
		return Class{Name: ClassAuthentication}
	case s == http.StatusPreconditionRequired:
		return Class{Name: ClassTokenRequired}
	case s == http.StatusForbidden:
		return Class{Name: ClassForbidden}
	case s == http.StatusNotFound:
		return Class{Name: ClassNotFound}
	case s == http.StatusBadRequest:
		return Class{Name: ClassValidation}
	}
	return Class{Name: ClassClientError}
}

// retryAfter reads Retry-After as seconds or an HTTP date; 0 when absent or
// unreadable (the retry policy then decides), capped at 10 minutes.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return min(time.Duration(n)*time.Second, 10*time.Minute)
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(time.Until(t), 0), 10*time.Minute)
	}
	return 0
}

// RefreshCooldown is Belvo's cooldown between two refreshes of one link
// (POST /api/links/{id}/refresh/ answers 409 link_refreshed within it).
const RefreshCooldown = 10 * time.Minute

// cooldownMinutes reads the wait out of Belvo's documented message "The
// link has already been refreshed. Please wait X minutes before trying
// again."
var cooldownMinutes = regexp.MustCompile(`(?i)wait\s+(\d+)\s+minute`)

// RefreshCooldownLeft is how long until a refused refresh can be sent
// again: Retry-After when Belvo sends it, else the minutes its message
// names, else the whole documented cooldown.
func RefreshCooldownLeft(api *APIError) time.Duration {
	if d := retryAfter(api.RetryAfter); d > 0 {
		return d
	}
	for _, d := range api.Details {
		if m := cooldownMinutes.FindStringSubmatch(d.Message); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil && n >= 0 {
				return time.Duration(n) * time.Minute
			}
		}
	}
	return RefreshCooldown
}
