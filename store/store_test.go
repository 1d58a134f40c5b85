package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/store"
)

// backend opens an empty store of one kind for a test.
type backend struct {
	name string
	open func(t *testing.T) store.Store
}

// backends are the stores every behavioural test runs against: SQLite in
// every test run, PostgreSQL too under the integration tag
// (postgres_test.go), where it is not optional: CI starts it, and a test
// that cannot reach it fails.
var backends = []backend{
	{"sqlite", func(t *testing.T) store.Store {
		return mustOpen(t, "sqlite:"+filepath.Join(t.TempDir(), "sub", "s.db"))
	}},
}

func mustOpen(t *testing.T, dsn string) store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// forEach runs a test once per backend.
func forEach(t *testing.T, test func(t *testing.T, s store.Store)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { test(t, b.open(t)) })
	}
}

func rows(n int, version string) []store.Row {
	out := make([]store.Row, n)
	for i := range out {
		out[i] = store.Row{ID: fmt.Sprintf("id-%d", i), Data: fmt.Appendf(nil, `{"id":"id-%d","v":%q}`, i, version)}
	}
	return out
}

func TestUpsertNeverDuplicates(t *testing.T) { forEach(t, testUpsertNeverDuplicates) }

func testUpsertNeverDuplicates(t *testing.T, s store.Store) {
	ctx := context.Background()
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
	if v := version(t, s, belvo.Transactions, "L1", "id-7"); v != "b" {
		t.Errorf("row id-7 has version %q; want the second version", v)
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

func TestFetchState(t *testing.T) { forEach(t, testFetchState) }

func testFetchState(t *testing.T, s store.Store) {
	ctx := context.Background()
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
	forEach(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		if err := s.UpsertRows(ctx, belvo.Resource("BANANAS"), "L1", rows(1, "a")); err == nil {
			t.Error("unknown resource accepted")
		}
		if _, err := s.Count(ctx, belvo.Resource("x; DROP TABLE accounts"), "L1"); err == nil {
			t.Error("unknown resource counted")
		}
	})
}

func TestOpenRefusesBadDSNsWithoutLeakingThem(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, dsn := range []string{"mysql://x", "", "postgres://user:hunter2@127.0.0.1:1/x?connect_timeout=2",
		"postgres://app:hunter2@127.0.0.1:5432/no_such_db_x?sslmode=disable", "postgres://%zz:hunter2@h/x"} {
		_, err := store.Open(ctx, dsn)
		if err == nil {
			t.Errorf("Open(%q) accepted", dsn)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error leaks the DSN password: %v", err)
		}
	}
}

// version reads the "v" field of a stored row: backends may print the JSON
// differently (jsonb reorders keys), so tests compare values, not bytes.
func version(t *testing.T, s store.Store, r belvo.Resource, link, id string) string {
	t.Helper()
	data, err := s.Row(context.Background(), r, link, id)
	if err != nil {
		t.Fatalf("Row(%s): %v", id, err)
	}
	if data == nil {
		return ""
	}
	var v struct{ V string }
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("row %s is not JSON: %s", id, data)
	}
	return v.V
}

func TestUpsertEdgeCases(t *testing.T) {
	forEach(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		cases := []struct {
			name     string
			rows     []store.Row
			wantN    int
			wantV    string // of id-0
			wantFail bool
		}{
			{name: "empty page", rows: nil, wantN: 0},
			{name: "the same id twice in a page keeps the last", rows: append(rows(2, "a"), rows(1, "z")...), wantN: 2, wantV: "z"},
			{name: "an identical retry changes nothing", rows: append(rows(2, "a"), rows(1, "z")...), wantN: 2, wantV: "z"},
			{name: "a newer version replaces", rows: rows(3, "n"), wantN: 3, wantV: "n"},
			{name: "unicode and escapes survive", rows: []store.Row{{ID: "id-0", Data: []byte(`{"v":"ñ \"q\" \\ 💸"}`)}}, wantN: 3, wantV: "ñ \"q\" \\ 💸"},
			{name: "a page longer than one statement, with a partial last batch", rows: rows(601, "p"), wantN: 601, wantV: "p"},
			{name: "a repeated id across batches keeps the last", rows: append(rows(300, "q"), store.Row{ID: "id-0", Data: []byte(`{"v":"last"}`)}), wantN: 601, wantV: "last"},
		}
		for _, c := range cases {
			err := s.UpsertRows(ctx, belvo.Owners, "L9", c.rows)
			if (err != nil) != c.wantFail {
				t.Fatalf("%s: err = %v", c.name, err)
			}
			if n, _ := s.Count(ctx, belvo.Owners, "L9"); n != c.wantN {
				t.Errorf("%s: %d rows, want %d", c.name, n, c.wantN)
			}
			if c.wantV != "" {
				if v := version(t, s, belvo.Owners, "L9", "id-0"); v != c.wantV {
					t.Errorf("%s: id-0 has %q, want %q", c.name, v, c.wantV)
				}
			}
		}
		if n, err := s.DeleteRows(ctx, belvo.Owners, "OTHER", []string{"id-0"}); err != nil || n != 0 {
			t.Errorf("another link's delete removed %d rows, %v", n, err)
		}
		if n, err := s.DeleteRows(ctx, belvo.Owners, "L9", nil); err != nil || n != 0 {
			t.Errorf("empty delete = %d, %v", n, err)
		}
	})
}

func TestProcessedWebhooks(t *testing.T) {
	forEach(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		for _, k := range []string{"b", "a", "b"} {
			if err := s.MarkWebhook(ctx, "L1", k); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := s.Webhooks(ctx, "L1"); err != nil || strings.Join(got, ",") != "a,b" {
			t.Errorf("Webhooks(L1) = %v, %v; want [a b]", got, err)
		}
		if got, _ := s.Webhooks(ctx, "L2"); len(got) != 0 {
			t.Errorf("Webhooks(L2) = %v", got)
		}
	})
}

// A NUL character in Belvo's JSON (which PostgreSQL's jsonb refuses) does
// not fail the page: the row is stored, and the rest of it is unchanged.
func TestRowsWithNULAreStored(t *testing.T) {
	forEach(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		raw := []byte(`{"id":"n1","v":"a\u0000b","w":"\\u0000","x":"ok"}`)
		if err := s.UpsertRows(ctx, belvo.Transactions, "L1", []store.Row{{ID: "n1", Data: raw}}); err != nil {
			t.Fatalf("row with NUL refused: %v", err)
		}
		data, err := s.Row(ctx, belvo.Transactions, "L1", "n1")
		if err != nil || data == nil {
			t.Fatalf("Row = %s, %v", data, err)
		}
		var v struct{ V, W, X string }
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("stored row is not JSON: %s", data)
		}
		if (v.V != "a\x00b" && v.V != `a\u0000b`) || v.W != `\u0000` || v.X != "ok" {
			t.Errorf("stored %+v", v)
		}
	})
}

func TestDeleteLinkRemovesEverythingAndStaysDeleted(t *testing.T) {
	forEach(t, testDeleteLink)
}

func testDeleteLink(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, link := range []string{"L1", "L2"} {
		if err := s.UpsertRows(ctx, belvo.Transactions, link, rows(300, "a")); err != nil {
			t.Fatal(err)
		}
		if err := s.UpsertRows(ctx, belvo.Owners, link, rows(2, "a")); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkFetched(ctx, link, belvo.Transactions, 300); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkWebhook(ctx, link, "w|TRANSACTIONS|historical_update|"+link+"|r"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.UpsertRows(ctx, belvo.Accounts, "L2", []store.Row{{ID: "acc-L2", Data: []byte(`{"id":"acc-L2"}`)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpsertRows(ctx, belvo.Accounts, "L1", []store.Row{{ID: "acc-L1", Data: []byte(`{"id":"acc-L1"}`)}}); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteLink(ctx, "L1")
	if err != nil {
		t.Fatal(err)
	}
	// rows(…) gives both links the same ids: each link's are its own rows,
	// so L1's all go and L2's all stay.
	if n != 300+2+1 {
		t.Errorf("DeleteLink removed %d rows, want %d", n, 300+2+1)
	}
	for _, r := range []belvo.Resource{belvo.Transactions, belvo.Owners, belvo.Accounts} {
		if got, _ := s.Count(ctx, r, "L1"); got != 0 {
			t.Errorf("%s: %d rows left for the deleted link", r, got)
		}
	}
	for r, want := range map[belvo.Resource]int{belvo.Transactions: 300, belvo.Owners: 2, belvo.Accounts: 1} {
		if got, _ := s.Count(ctx, r, "L2"); got != want {
			t.Errorf("the other link has %d %s rows, want %d", got, r, want)
		}
	}
	assertNoLinkState(t, s, "L1")
	if f, _ := s.Fetched(ctx, "L2"); f[belvo.Transactions] != 300 {
		t.Errorf("the other link's fetch state: %v", f)
	}
	if d, err := s.LinkDeleted(ctx, "L1"); err != nil || !d {
		t.Errorf("LinkDeleted(L1) = %v, %v", d, err)
	}
	if d, err := s.LinkDeleted(ctx, "L2"); err != nil || d {
		t.Errorf("LinkDeleted(L2) = %v, %v", d, err)
	}
	// A listing still running writes nothing back, and says why.
	err = s.UpsertRows(ctx, belvo.Invoices, "L1", []store.Row{{ID: "inv-1", Data: []byte(`{"id":"inv-1"}`)}})
	if !errors.Is(err, store.ErrLinkDeleted) {
		t.Errorf("upsert after deletion: %v, want ErrLinkDeleted", err)
	}
	if got, _ := s.Count(ctx, belvo.Invoices, "L1"); got != 0 {
		t.Errorf("%d invoices written after the deletion", got)
	}
	_ = s.MarkFetched(ctx, "L1", belvo.Invoices, 1)
	_ = s.MarkWebhook(ctx, "L1", "late")
	if f, _ := s.Fetched(ctx, "L1"); len(f) != 0 {
		t.Errorf("fetch state recorded after the deletion: %v", f)
	}
	if w, _ := s.Webhooks(ctx, "L1"); len(w) != 0 {
		t.Errorf("dedupe key recorded after the deletion: %v", w)
	}
	if n, err := s.DeleteLink(ctx, "L1"); err != nil || n != 0 {
		t.Errorf("deleting again = %d, %v; want 0, nil", n, err)
	}
}

// A deletion racing listings that are still writing pages and marking
// them fetched: once both are done, none of the link's rows, fetch states
// or processed webhooks is left, whatever the interleaving.
func TestDeleteLinkRacingUpserts(t *testing.T) { forEach(t, testDeleteLinkRacingUpserts) }

func testDeleteLinkRacingUpserts(t *testing.T, s store.Store) {
	ctx := context.Background()
	const writers, pages = 4, 15
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range pages {
				page := make([]store.Row, 50)
				for i := range page {
					id := fmt.Sprintf("race-%d-%d-%d", w, p, i)
					page[i] = store.Row{ID: id, Data: fmt.Appendf(nil, `{"id":%q}`, id)}
				}
				if err := s.UpsertRows(ctx, belvo.Transactions, "LR", page); err != nil {
					if !errors.Is(err, store.ErrLinkDeleted) {
						t.Errorf("upsert: %v", err)
					}
					return
				}
				if err := s.MarkFetched(ctx, "LR", belvo.Transactions, (p+1)*50); err != nil {
					t.Errorf("mark fetched: %v", err)
				}
				if err := s.MarkWebhook(ctx, "LR", fmt.Sprintf("w%d-%d", w, p)); err != nil {
					t.Errorf("mark webhook: %v", err)
				}
			}
		}()
	}
	time.Sleep(5 * time.Millisecond)
	if _, err := s.DeleteLink(ctx, "LR"); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if got, _ := s.Count(ctx, belvo.Transactions, "LR"); got != 0 {
		t.Errorf("%d rows of the deleted link survived the race", got)
	}
	assertNoLinkState(t, s, "LR")
}

// assertNoLinkState fails when a deleted link still has fetch states or
// processed webhook keys.
func assertNoLinkState(t *testing.T, s store.Store, linkID string) {
	t.Helper()
	ctx := context.Background()
	if f, _ := s.Fetched(ctx, linkID); len(f) != 0 {
		t.Errorf("fetch states of the deleted link %s left: %v", linkID, f)
	}
	if w, _ := s.Webhooks(ctx, linkID); len(w) != 0 {
		t.Errorf("processed webhook keys of the deleted link %s left: %v", linkID, w)
	}
}
