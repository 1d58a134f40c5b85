//go:build integration

package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/internal/testenv"
	"github.com/belvo-temporal/backbone/store"
	"github.com/jackc/pgx/v5"
)

// The staging table is the session's, reused by every page the pooled
// connection writes: after a committed page and after a page that fails
// in COPY or in the insert that follows it, it holds nothing, and the next
// page (of another link) stores exactly its own rows.
func TestPostgresStagingTableIsEmptyBetweenPages(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.PostgresSchema(t)
	// One connection: every call below is the same session, whose
	// staging table StagedRows can see.
	s := mustOpen(t, dsn+"&pool_max_conns=1")
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// A row flagged "fail" passes COPY (it is JSON) and fails the insert
	// into owners: a rollback after the stage was filled. A row flagged
	// "slow" holds the insert until the page's context ends. Each failing
	// page also carries ids link A stored, which sort first: the COPY
	// straight into owners meets them and the page takes the staged path.
	if _, err := conn.Exec(ctx, `
		CREATE FUNCTION refuse_flagged() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.data->>'fail' = 'yes' THEN RAISE EXCEPTION 'flagged row %', NEW.id; END IF;
			IF NEW.data->>'slow' = 'yes' THEN PERFORM pg_sleep(30); END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER refuse_flagged BEFORE INSERT OR UPDATE ON owners FOR EACH ROW EXECUTE FUNCTION refuse_flagged();`); err != nil {
		t.Fatal(err)
	}
	flagged := append(page(0, 500, "x"), store.Row{ID: "zz-f", Data: []byte(`{"fail":"yes"}`)})
	notJSON := append(page(0, 500, "y"), store.Row{ID: "zz-j", Data: []byte(`{"v":`)})
	slow := append(page(0, 500, "z"), store.Row{ID: "zz-s", Data: []byte(`{"slow":"yes"}`)})
	steps := []struct {
		name    string
		link    string
		rows    []store.Row
		timeout time.Duration // of the page's context; 0: none
		wantErr bool
		want    map[string]int // rows per link afterwards
	}{
		{"a committed page", "A", page(0, 300, "a"), 0, false, map[string]int{"A": 300}},
		{"a page rolled back by its insert", "B", flagged, 0, true, map[string]int{"A": 300, "B": 0}},
		{"a page rolled back by its COPY into the stage", "B", notJSON, 0, true, map[string]int{"A": 300, "B": 0}},
		{"a page whose context ends during its insert", "B", slow, time.Second, true, map[string]int{"A": 300, "B": 0}},
		{"the next page of another link", "B", page(1000, 1010, "b"), 0, false, map[string]int{"A": 300, "B": 10}},
		{"a page of a deleted link", "D", page(2000, 2005, "d"), 0, true, map[string]int{"A": 300, "B": 10, "D": 0}},
		{"a page of new rows that is not JSON", "E", append(page(3000, 3005, "e"), store.Row{ID: "zz-j", Data: []byte(`[`)}), 0, true, map[string]int{"E": 0}},
	}
	if _, err := s.DeleteLink(ctx, "D"); err != nil {
		t.Fatal(err)
	}
	for _, st := range steps {
		pctx, cancel := ctx, context.CancelFunc(func() {})
		if st.timeout > 0 {
			pctx, cancel = context.WithTimeout(ctx, st.timeout)
		}
		err := s.UpsertRows(pctx, belvo.Owners, st.link, st.rows)
		cancel()
		if (err != nil) != st.wantErr {
			t.Fatalf("%s: err = %v", st.name, err)
		}
		exists, n, err := store.StagedRows(ctx, s)
		if err != nil {
			t.Fatalf("%s: read the stage: %v", st.name, err)
		}
		if n != 0 {
			t.Errorf("%s: the staging table keeps %d rows", st.name, n)
		}
		if !exists && !st.wantErr {
			t.Errorf("%s: the session has no staging table after a committed page", st.name)
		}
		for link, want := range st.want {
			if got, _ := s.Count(ctx, belvo.Owners, link); got != want {
				t.Errorf("%s: link %s has %d rows, want %d", st.name, link, got, want)
			}
		}
	}
}

// A retried page (the staged path, since its rows are stored) rewrites
// only the rows that changed: the others keep their row version (xmin)
// and updated_at.
func TestPostgresRetriedPageRewritesOnlyChanges(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.PostgresSchema(t)
	s := mustOpen(t, dsn)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	versions := func() map[string]string {
		rows, err := conn.Query(ctx, `SELECT id, xmin::text || '/' || updated_at::text FROM accounts`)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for rows.Next() {
			var id, v string
			if err := rows.Scan(&id, &v); err != nil {
				t.Fatal(err)
			}
			out[id] = v
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := page(0, 100, "a")
	if err := s.UpsertRows(ctx, belvo.Accounts, "L1", first); err != nil {
		t.Fatal(err)
	}
	before := versions()
	retry := page(0, 100, "a")
	retry[7] = page(7, 8, "changed")[0]
	if err := s.UpsertRows(ctx, belvo.Accounts, "L1", retry); err != nil {
		t.Fatal(err)
	}
	after := versions()
	for id, v := range before {
		if changed := after[id] != v; changed != (id == "id-7") {
			t.Errorf("%s: rewritten = %v (%s → %s)", id, changed, v, after[id])
		}
	}
}
