package belvo

import (
	"encoding/json"
	"testing"
	"time"
)

func TestIncrementalSince(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name   string
		inc    Incremental
		cursor time.Time
		want   string
	}{
		{"full timestamp: one hour before", byCollectedAt, at("2026-11-29T10:30:00.5Z"), "2026-11-29T09:30:00.5Z"},
		{"full timestamp: written in UTC", byCollectedAt, at("2026-11-29T10:30:00-05:00"), "2026-11-29T14:30:00Z"},
		{"full timestamp: overlap crosses midnight", byCollectedAt, at("2026-11-29T00:10:00Z"), "2026-11-28T23:10:00Z"},
		{"date only: the day before", byCreatedAt, at("2026-11-29T10:30:00Z"), "2026-11-28"},
		{"date only: overlap crosses midnight, then a day more", byCreatedAt, at("2026-11-29T00:30:00Z"), "2026-11-27"},
		{"date only: a zone ahead of UTC is read in UTC", byCreatedAt, at("2026-11-29T03:00:00+05:00"), "2026-11-27"},
		{"date only: month boundary", byCreatedAt, at("2026-12-01T12:00:00Z"), "2026-11-30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.inc.Since(tt.cursor)
			if len(got) != 1 || got[tt.inc.Filter] != tt.want {
				t.Fatalf("Since(%s) = %v, want %s=%s", tt.cursor, got, tt.inc.Filter, tt.want)
			}
		})
	}
}

// TestIncrementalNeverMissesAcrossZones: whatever zone Belvo reads a date
// filter in (UTC-12 to UTC+14), a row stamped at or after the cursor falls
// on or after the filter's date in that zone.
func TestIncrementalNeverMissesAcrossZones(t *testing.T) {
	cursor := time.Date(2026, 11, 29, 0, 20, 0, 0, time.UTC)
	from, err := time.Parse(time.DateOnly, byCreatedAt.Since(cursor)[byCreatedAt.Filter])
	if err != nil {
		t.Fatal(err)
	}
	for off := -12; off <= 14; off++ {
		zone := time.FixedZone("z", off*3600)
		for _, d := range []time.Duration{-TimestampOverlap, 0, time.Minute, 23 * time.Hour} {
			row := cursor.Add(d).In(zone)
			local := time.Date(row.Year(), row.Month(), row.Day(), 0, 0, 0, 0, time.UTC)
			if local.Before(from) {
				t.Errorf("UTC%+d: row at %s (local date %s) is before the filter date %s", off, row, local.Format(time.DateOnly), from.Format(time.DateOnly))
			}
		}
	}
}

func TestResourcesIncremental(t *testing.T) {
	tests := []struct {
		r      Resource
		ok     bool
		filter string
	}{
		{Transactions, true, "collected_at__gte"},
		{Bills, true, "collected_at__gte"},
		{Accounts, true, "created_at__gte"},
		{Owners, true, "created_at__gte"},
		{Invoices, true, "created_at__gte"},
		{Investments, false, ""},
		{Incomes, false, ""},
		{RiskInsights, false, ""},
		{EmploymentMetrics, false, ""},
	}
	for _, tt := range tests {
		inc, ok := tt.r.Incremental()
		if ok != tt.ok || inc.Filter != tt.filter {
			t.Errorf("%s: Incremental() = %+v, %v; want filter %q, %v", tt.r, inc, ok, tt.filter, tt.ok)
		}
	}
	for r := range incremental {
		if !r.Valid() {
			t.Errorf("incremental lists unknown resource %s", r)
		}
	}
}

func TestRowKeys(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		field   string
		wantID  string
		stamped bool
		wantErr bool
	}{
		{"collected_at", `{"id":"a","collected_at":"2026-11-29T10:00:00.123Z"}`, "collected_at", "a", true, false},
		{"created_at", `{"id":"a","created_at":"2026-11-29T10:00:00+00:00"}`, "created_at", "a", true, false},
		{"no field asked", `{"id":"a","created_at":"x"}`, "", "a", false, false},
		{"missing", `{"id":"a"}`, "collected_at", "a", false, false},
		{"null", `{"id":"a","collected_at":null}`, "collected_at", "a", false, false},
		{"a number", `{"id":"a","collected_at":17}`, "collected_at", "a", false, false},
		{"an array", `{"id":"a","collected_at":["2026-11-29T10:00:00Z"]}`, "collected_at", "a", false, false},
		{"escaped", `{"id":"a","collected_at":"2026-11-29T10:00:00\u002e5Z"}`, "collected_at", "a", true, false},
		{"unknown field", `{"id":"a","collected_at":"2026-11-29T10:00:00Z"}`, "value_date", "a", false, false},
		{"no zone", `{"id":"a","collected_at":"2026-11-29T10:00:00"}`, "collected_at", "a", false, false},
		{"date only", `{"id":"a","collected_at":"2026-11-29"}`, "collected_at", "a", false, false},
		{"no id", `{"collected_at":"2026-11-29T10:00:00Z"}`, "collected_at", "", false, true},
		{"not an object", `[1]`, "collected_at", "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, stamp, why, err := RowKeys(json.RawMessage(tt.raw), tt.field)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if id != tt.wantID {
				t.Errorf("id = %q, want %q", id, tt.wantID)
			}
			if !stamp.IsZero() != tt.stamped {
				t.Errorf("stamp = %v (why %q), want stamped %v", stamp, why, tt.stamped)
			}
			if !tt.wantErr && tt.field != "" && !tt.stamped && why == "" {
				t.Error("an unstamped row must say why")
			}
		})
	}
}
