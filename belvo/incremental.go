package belvo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Incremental is how a resource's list can be read from a point in time on:
// the list filter Belvo documents for it and the timestamp of the rows that
// the filter compares. A cursor taken from Belvo's own timestamps on stored
// rows (never from this product's clock) says where the next read starts.
type Incremental struct {
	// Filter is the list query parameter, e.g. collected_at__gte.
	Filter string
	// Field is the row's timestamp the filter compares, e.g. collected_at.
	Field string
	// DateOnly: the filter takes YYYY-MM-DD only (Belvo's created_at__gte
	// on every list), in a timezone Belvo does not document.
	DateOnly bool
}

// TimestampOverlap is how far before the cursor an incremental read starts
// for a filter that takes a full timestamp. Belvo does not document when a
// row's collected_at is set relative to when the row becomes listable; an
// hour covers a collection that commits its rows late, and upserts make
// the rows read twice harmless.
const TimestampOverlap = time.Hour

// The two documented shapes of an incremental filter (spec v1.223.0):
// collected_at__gte takes "YYYY-MM-DD or full ISO-8601 timestamp"; every
// list's created_at__gte takes YYYY-MM-DD only ("last updated in Belvo's
// database after or on this date").
var (
	byCollectedAt = Incremental{Filter: "collected_at__gte", Field: "collected_at"}
	byCreatedAt   = Incremental{Filter: "created_at__gte", Field: "created_at", DateOnly: true}
)

// incremental maps each resource whose list documents a usable filter and
// whose row schema carries the timestamp it compares. Resources absent here
// are always listed whole: incomes, recurring expenses, risk insights and
// employment metrics document no such filter, and the investment row
// carries no created_at although its list filters on it.
var incremental = map[Resource]Incremental{
	Transactions:           byCollectedAt,
	Bills:                  byCollectedAt,
	Exchanges:              byCollectedAt,
	EmploymentRecords:      byCollectedAt,
	CurrentEmployments:     byCollectedAt,
	Accounts:               byCreatedAt,
	Owners:                 byCreatedAt,
	InvestmentTransactions: byCreatedAt,
	Employments:            byCreatedAt,
	FinancialStatements:    byCreatedAt,
	Invoices:               byCreatedAt,
	TaxComplianceStatus:    byCreatedAt,
	TaxRetentions:          byCreatedAt,
	TaxReturns:             byCreatedAt,
	TaxStatus:              byCreatedAt,
	CLInvoices:             byCreatedAt,
	CLDebtReports:          byCreatedAt,
}

// Incremental returns how the resource's list can be read incrementally,
// and false when it can only be listed whole.
func (r Resource) Incremental() (Incremental, bool) {
	inc, ok := incremental[r]
	return inc, ok
}

// Since is the filter that selects every row whose timestamp may be at or
// after cursor, with a margin: TimestampOverlap before it for a full
// timestamp; for a date-only filter, the day before the one TimestampOverlap
// before it (in UTC), because the date's timezone is not documented and no
// timezone is more than a day away from UTC.
func (inc Incremental) Since(cursor time.Time) map[string]string {
	from := cursor.Add(-TimestampOverlap).UTC()
	if inc.DateOnly {
		return map[string]string{inc.Filter: from.AddDate(0, 0, -1).Format(time.DateOnly)}
	}
	return map[string]string{inc.Filter: from.Format(time.RFC3339Nano)}
}

// ParseStamp reads one of Belvo's row timestamps (ISO-8601 with a zone, as
// the spec's examples: 2022-02-09T08:45:50.406032Z). A timestamp without a
// zone is refused rather than guessed: a wrong guess could move a cursor
// past rows not yet read.
func ParseStamp(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("belvo: timestamp %q is not ISO-8601 with a zone: %w", s, err)
	}
	return t, nil
}

// RowKeys reads, in one pass, a raw row's id and (when field is not empty)
// its timestamp field; stamp is the zero time, with why, when the row has
// no usable timestamp. A row without an id is an error (ErrRowWithoutID).
func RowKeys(raw json.RawMessage, field string) (id string, stamp time.Time, why string, err error) {
	if field == "" || field == "collected_at" || field == "created_at" {
		if v1, v2, ok := scanTopLevel(raw, "id", field); ok {
			if id, ok := plainStringValue(v1); ok && (field == "" || v2 == nil || v2[0] == '"' || bytes.Equal(v2, []byte("null"))) {
				// The fast path read what encoding/json would: a plain
				// string id and a string or null (or absent) stamp.
				return rowKeysFrom(id, v2, field)
			}
		}
	}
	return rowKeysDecode(raw, field)
}

// rowKeysDecode is RowKeys by encoding/json: every row the scan hands
// back, and the reference the scan is fuzzed against.
func rowKeysDecode(raw json.RawMessage, field string) (id string, stamp time.Time, why string, err error) {
	var s json.RawMessage
	switch field {
	case "":
		id, err = RowID(raw)
		return id, time.Time{}, "", err
	case "collected_at":
		var v struct {
			ID    string          `json:"id"`
			Stamp json.RawMessage `json:"collected_at"`
		}
		err = json.Unmarshal(raw, &v)
		id, s = v.ID, v.Stamp
	case "created_at":
		var v struct {
			ID    string          `json:"id"`
			Stamp json.RawMessage `json:"created_at"`
		}
		err = json.Unmarshal(raw, &v)
		id, s = v.ID, v.Stamp
	default:
		id, err = RowID(raw)
		return id, time.Time{}, "no timestamp field " + field + " is read", err
	}
	if err != nil {
		return "", time.Time{}, "", fmt.Errorf("%w: not a JSON object: %v", ErrRowWithoutID, err)
	}
	return rowKeysFrom(id, s, field)
}

// rowKeysFrom judges a row's id and the raw value of its timestamp field.
func rowKeysFrom(id string, s json.RawMessage, field string) (string, time.Time, string, error) {
	if id == "" {
		return "", time.Time{}, "", ErrRowWithoutID
	}
	if field == "" {
		return id, time.Time{}, "", nil
	}
	str, ok := plainString(s)
	switch {
	case len(s) == 0 || bytes.Equal(s, []byte("null")):
		return id, time.Time{}, field + " is missing", nil
	case !ok:
		return id, time.Time{}, field + " is not a string", nil
	}
	t, err := ParseStamp(str)
	if err != nil {
		return id, time.Time{}, err.Error(), nil
	}
	return id, t, "", nil
}

// plainString reads a JSON string; an escaped one (never a timestamp's
// form) is decoded the slow way.
func plainString(s json.RawMessage) (string, bool) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", false
	}
	if bytes.IndexByte(s, '\\') < 0 {
		return string(s[1 : len(s)-1]), true
	}
	var str string
	return str, json.Unmarshal(s, &str) == nil
}
