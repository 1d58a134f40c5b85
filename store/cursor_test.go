package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/store"
)

func TestCursor(t *testing.T) { forEach(t, testCursor) }

func testCursor(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if _, ok, err := s.Cursor(ctx, "L1", belvo.Transactions); err != nil || ok {
		t.Fatalf("a fresh store has a cursor (ok %v, err %v)", ok, err)
	}
	steps := []struct {
		name    string
		advance string
		want    string
	}{
		{"first", "2026-11-29T10:00:00.123456Z", "2026-11-29T10:00:00.123456Z"},
		{"later moves it", "2026-11-29T11:00:00Z", "2026-11-29T11:00:00Z"},
		{"earlier never moves it back", "2026-11-29T09:00:00Z", "2026-11-29T11:00:00Z"},
		{"another zone, same instant plus 1µs", "2026-11-29T06:00:00.000001-05:00", "2026-11-29T11:00:00.000001Z"},
		{"nanoseconds are truncated, never rounded up", "2026-11-29T11:00:00.0000019Z", "2026-11-29T11:00:00.000001Z"},
	}
	for _, st := range steps {
		if err := s.AdvanceCursor(ctx, "L1", belvo.Transactions, at(st.advance)); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got, ok, err := s.Cursor(ctx, "L1", belvo.Transactions)
		if err != nil || !ok || !got.Equal(at(st.want)) {
			t.Fatalf("%s: Cursor = %s, %v, %v; want %s", st.name, got, ok, err, st.want)
		}
	}
	if _, ok, _ := s.Cursor(ctx, "L1", belvo.Accounts); ok {
		t.Error("another resource sees the cursor")
	}
	if _, ok, _ := s.Cursor(ctx, "L2", belvo.Transactions); ok {
		t.Error("another link sees the cursor")
	}
	if err := s.AdvanceCursor(ctx, "L1", belvo.Transactions, time.Time{}); err == nil {
		t.Error("a zero cursor accepted")
	}
	if err := s.AdvanceCursor(ctx, "L1", belvo.Resource("BANANAS"), time.Now()); err == nil {
		t.Error("an unknown resource accepted")
	}
	if err := s.DropCursor(ctx, "L1", belvo.Transactions); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Cursor(ctx, "L1", belvo.Transactions); ok {
		t.Error("DropCursor kept the cursor")
	}
}

func TestDeleteLinkRemovesCursors(t *testing.T) {
	forEach(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
		for _, l := range []string{"L1", "L2"} {
			if err := s.AdvanceCursor(ctx, l, belvo.Transactions, now); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.DeleteLink(ctx, "L1"); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := s.Cursor(ctx, "L1", belvo.Transactions); ok {
			t.Error("the deleted link's cursor survived")
		}
		if err := s.AdvanceCursor(ctx, "L1", belvo.Transactions, now.Add(time.Hour)); err != nil {
			t.Fatalf("advancing a deleted link's cursor must be a no-op, not an error: %v", err)
		}
		if _, ok, _ := s.Cursor(ctx, "L1", belvo.Transactions); ok {
			t.Error("a listing still running brought the deleted link's cursor back")
		}
		if _, ok, _ := s.Cursor(ctx, "L2", belvo.Transactions); !ok {
			t.Error("another link's cursor went too")
		}
	})
}
