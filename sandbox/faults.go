package sandbox

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault is one misbehaviour of a list request; the zero Fault ("ok" in a
// script) is a request served normally.
type Fault struct {
	// Status answers with this HTTP status and a Belvo error (500, 503,
	// 429, 408, …); RetryAfter is sent with it when set.
	Status     int
	RetryAfter time.Duration
	// Slow delays the (otherwise correct) answer, e.g. past the client's
	// timeout.
	Slow time.Duration
	// Truncated cuts the JSON page in half; Malformed sends non-JSON.
	Truncated, Malformed bool
}

// ParseFaults reads a fault script such as "500,503,429:1s,408,slow:3s,
// truncated,malformed": one fault per list request, in order. "ok" is a
// list request served normally, so a script can aim at a later request:
// "ok,slow:25s" makes exactly the second one slow.
func ParseFaults(s string) ([]Fault, error) {
	var out []Fault
	for _, part := range strings.Split(s, ",") {
		name, arg, _ := strings.Cut(strings.TrimSpace(part), ":")
		var f Fault
		switch name {
		case "ok":
			// The zero Fault: serveFault neither delays nor answers it.
			if arg != "" {
				return nil, fmt.Errorf("%q: ok takes no argument", part)
			}
		case "truncated":
			f.Truncated = true
		case "malformed":
			f.Malformed = true
		case "slow":
			d, err := time.ParseDuration(arg)
			if err != nil {
				return nil, fmt.Errorf("%q: slow needs a duration, e.g. slow:3s", part)
			}
			f.Slow = d
		default:
			code, err := strconv.Atoi(name)
			if err != nil || code < 400 || code > 599 {
				return nil, fmt.Errorf("%q is not a fault (ok, an HTTP status 4xx/5xx, slow:D, truncated, malformed)", part)
			}
			f.Status = code
			if arg != "" {
				if f.RetryAfter, err = time.ParseDuration(arg); err != nil {
					return nil, fmt.Errorf("%q: bad Retry-After duration", part)
				}
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// nextFault takes the next scripted fault, if any.
func (s *Server) nextFault() (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 {
		return Fault{}, false
	}
	f := s.faults[0]
	s.faults = s.faults[1:]
	return f, true
}

// FaultsLeft is how many scripted faults were not served yet.
func (s *Server) FaultsLeft() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.faults)
}

// serveFault answers with a status fault and reports true, or applies a
// delay and reports false so the handler answers normally afterwards.
func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, f Fault) bool {
	if !delay(r, f.Slow) {
		return true // the client gave up waiting
	}
	if f.Status == 0 {
		return false
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(f.RetryAfter.Seconds())))
	}
	code := map[int]string{429: "too_many_requests", 408: "request_timeout"}[f.Status]
	if code == "" {
		code = "unexpected_error"
	}
	writeErrors(w, f.Status, code, "The sandbox answers this on purpose (ListFaults).", "")
	return true
}
