package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/store"
)

func open(t *testing.T) store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "sub", "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func rows(n int, version string) []store.Row {
	out := make([]store.Row, n)
	for i := range out {
		out[i] = store.Row{ID: fmt.Sprintf("id-%d", i), Data: fmt.Appendf(nil, `{"id":"id-%d","v":%q}`, i, version)}
	}
	return out
}

func TestUpsertNeverDuplicates(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	if err := s.UpsertRows(ctx, belvo.Transactions, "L1", rows(1000, "a")); err != nil {
		t.Fatal(err)
	}
	// A retried activity writes the same page again, and more.
	if err := s.UpsertRows(ctx, belvo.Transactions, "L1", rows(1500, "b")); err != nil {
		t.Fatal(err)
	}
	if err := s.UpsertRows(ctx, belvo.Accounts, "L2", rows(3, "a")); err != nil {
		t.Fatal(err)
	}
	if data, err := s.Row(ctx, belvo.Transactions, "L1", "id-7"); err != nil || !strings.Contains(string(data), `"v":"b"`) {
		t.Errorf("row id-7 = %s, %v; want the second version", data, err)
	}
	if n, err := s.DeleteRows(ctx, belvo.Transactions, "L1", []string{"id-1", "id-2", "missing"}); err != nil || n != 2 {
		t.Errorf("DeleteRows = %d, %v; want 2", n, err)
	}
	if data, _ := s.Row(ctx, belvo.Transactions, "L1", "id-1"); data != nil {
		t.Errorf("deleted row still there: %s", data)
	}
	cases := []struct {
		r    belvo.Resource
		link string
		want int
	}{
		{belvo.Transactions, "L1", 1498},
		{belvo.Transactions, "L2", 0},
		{belvo.Accounts, "L2", 3},
		{belvo.Owners, "L1", 0},
	}
	for _, c := range cases {
		n, err := s.Count(ctx, c.r, c.link)
		if err != nil || n != c.want {
			t.Errorf("Count(%s, %s) = %d, %v; want %d", c.r, c.link, n, err, c.want)
		}
	}
}

func TestFetchState(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	for _, m := range []struct {
		r belvo.Resource
		n int
	}{{belvo.Accounts, 3}, {belvo.Transactions, 10}, {belvo.Accounts, 4}} {
		if err := s.MarkFetched(ctx, "L1", m.r, m.n); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Fetched(ctx, "L1")
	if err != nil || len(got) != 2 || got[belvo.Accounts] != 4 || got[belvo.Transactions] != 10 {
		t.Fatalf("Fetched = %v, %v", got, err)
	}
	if other, _ := s.Fetched(ctx, "L2"); len(other) != 0 {
		t.Errorf("another link sees %v", other)
	}
}

func TestRejectsBadInput(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	if err := s.UpsertRows(ctx, belvo.Resource("BANANAS"), "L1", rows(1, "a")); err == nil {
		t.Error("unknown resource accepted")
	}
	for _, dsn := range []string{"mysql://x", "", "postgres://user:hunter2@db/x"} {
		_, err := store.Open(ctx, dsn)
		if err == nil {
			t.Errorf("Open(%q) accepted", dsn)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error leaks the DSN password: %v", err)
		}
	}
}
