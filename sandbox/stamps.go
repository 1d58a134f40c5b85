package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
)

// batch is rows added to a resource of a link after its creation: rows
// from index from on were collected (and created in Belvo's database) at.
type batch struct {
	from int
	at   time.Time
}

// clock is the emulator's time, in Belvo's millisecond precision: the
// host's, moved by Config.ClockOffset and AdvanceClock.
func (s *Server) clock() time.Time {
	shift := s.cfg.ClockOffset + time.Duration(s.clockShift.Load())
	return s.now().Add(shift).UTC().Truncate(time.Millisecond)
}

// AdvanceClock moves the emulator's clock d forward, at once: rows added
// from then on are collected that much later, as if days passed between a
// link's creation and its next refresh. It never moves the clock back.
func (s *Server) AdvanceClock(d time.Duration) {
	if d > 0 {
		s.clockShift.Add(int64(d))
	}
}

// stampOf is when row i of a resource of a link was collected: at the
// link's creation for its history, later for rows added since.
func (s *Server) stampOf(l *link, r belvo.Resource, i int) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return stampLocked(l, r, i)
}

// stampLocked is stampOf for a caller holding s.mu.
func stampLocked(l *link, r belvo.Resource, i int) time.Time {
	bs := l.batches[r]
	for k := len(bs) - 1; k >= 0; k-- {
		if i >= bs[k].from {
			return bs[k].at
		}
	}
	return l.CreatedAt
}

// clockBody asks the emulator to move its clock: {"advance": "24h"}.
type clockBody struct {
	Advance string `json:"advance"`
}

// advanceClock serves POST /_sandbox/clock {"advance": "24h"}: AdvanceClock
// for a sandbox running as its own process. It answers the emulator's time.
func (s *Server) advanceClock(w http.ResponseWriter, r *http.Request) {
	var b clockBody
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<12)).Decode(&b); err != nil {
		writeErrors(w, http.StatusBadRequest, "invalid", "JSON parse error - "+err.Error(), "")
		return
	}
	d, err := time.ParseDuration(b.Advance)
	if err != nil || d < 0 {
		writeErrors(w, http.StatusBadRequest, "invalid", "advance must be a non-negative Go duration such as 24h", "advance")
		return
	}
	s.AdvanceClock(d)
	writeJSON(w, http.StatusOK, map[string]string{"now": ts(s.clock())})
}

// collectedAtFiltered are the resources whose list documents collected_at
// filters (spec v1.223.0); created_at filters are documented on every list
// but noCreatedAtFilter's. A filter a list does not document is ignored,
// as Belvo's (Django) filters ignore unknown parameters.
var (
	collectedAtFiltered = map[belvo.Resource]bool{belvo.Transactions: true, belvo.Bills: true, belvo.Exchanges: true,
		belvo.EmploymentRecords: true, belvo.CurrentEmployments: true}
	noCreatedAtFilter = map[belvo.Resource]bool{belvo.Incomes: true, belvo.RecurringExpenses: true,
		belvo.RiskInsights: true, belvo.EmploymentMetrics: true}
)

// stampLookups are the filter suffixes the spec documents for both fields.
var stampLookups = []string{"", "__gt", "__gte", "__lt", "__lte", "__range"}

// stampFilter is one created_at or collected_at filter of a list request.
type stampFilter struct {
	lookup string // one of stampLookups
	// date: compare the row's UTC date with YYYY-MM-DD values (Belvo
	// documents no timezone for them; the emulator takes UTC); otherwise
	// compare instants.
	date     bool
	from, to time.Time // to is set for __range only
}

// stampError is a filter value the spec's formats do not allow; Belvo
// answers 400 for those, as Django's date filters do.
type stampError struct{ param, msg string }

func (e stampError) Error() string { return e.msg }

// parseStampFilters reads the created_at and collected_at filters a list
// request carries for a resource. created_at takes YYYY-MM-DD only;
// collected_at also takes a full ISO-8601 timestamp, as documented.
func parseStampFilters(r belvo.Resource, q url.Values) ([]stampFilter, error) {
	var out []stampFilter
	for _, field := range []string{"created_at", "collected_at"} {
		if (field == "created_at" && noCreatedAtFilter[r]) || (field == "collected_at" && !collectedAtFiltered[r]) {
			continue
		}
		for _, lookup := range stampLookups {
			param := field + lookup
			v := q.Get(param)
			if v == "" {
				continue
			}
			f, err := parseStampFilter(param, lookup, v, field == "collected_at")
			if err != nil {
				return nil, err
			}
			out = append(out, f)
		}
	}
	return out, nil
}

func parseStampFilter(param, lookup, v string, timestamps bool) (stampFilter, error) {
	values := []string{v}
	if lookup == "__range" {
		values = strings.Split(v, ",")
		if len(values) != 2 {
			return stampFilter{}, stampError{param, param + ": give two values separated by a comma."}
		}
	}
	f := stampFilter{lookup: lookup}
	for k, s := range values {
		t, date, err := parseStampValue(s, timestamps)
		if err != nil || (k > 0 && date != f.date) {
			msg := "Enter a valid date."
			if timestamps {
				msg = "Enter a valid date or ISO-8601 timestamp."
			}
			return stampFilter{}, stampError{param, param + ": " + msg}
		}
		f.date = date
		if k == 0 {
			f.from = t
		} else {
			f.to = t
		}
	}
	return f, nil
}

// parseStampValue reads YYYY-MM-DD, or (when timestamps) an ISO-8601
// timestamp with a zone.
func parseStampValue(s string, timestamps bool) (time.Time, bool, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true, nil
	}
	if !timestamps {
		return time.Time{}, false, stampError{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, false, err
}

// matchStamps reports whether a row stamped at passes every filter.
func matchStamps(fs []stampFilter, at time.Time) bool {
	for _, f := range fs {
		v := at.UTC()
		if f.date {
			v = time.Date(v.Year(), v.Month(), v.Day(), 0, 0, 0, 0, time.UTC)
		}
		var ok bool
		switch f.lookup {
		case "":
			ok = v.Equal(f.from)
		case "__gt":
			ok = v.After(f.from)
		case "__gte":
			ok = !v.Before(f.from)
		case "__lt":
			ok = v.Before(f.from)
		case "__lte":
			ok = !v.After(f.from)
		case "__range":
			ok = !v.Before(f.from) && !v.After(f.to)
		}
		if !ok {
			return false
		}
	}
	return true
}
