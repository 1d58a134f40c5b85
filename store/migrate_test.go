//go:build integration

package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/internal/testenv"
	"github.com/belvo-temporal/backbone/store"
	"github.com/jackc/pgx/v5"
)

// Replicas start together: each applies the migrations under the advisory
// lock, exactly one of them does the work, and every resource gets its table.
func TestPostgresMigrationsConcurrentAndComplete(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.PostgresSchema(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := store.Open(ctx, dsn)
			if err != nil {
				errs <- err
				return
			}
			s.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent open: %v", err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	ms, err := store.PostgresMigrations()
	if err != nil {
		t.Fatal(err)
	}
	var applied int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM store_schema_migrations`).Scan(&applied); err != nil || applied != len(ms) {
		t.Errorf("%d migrations recorded (%v), want %d", applied, err, len(ms))
	}
	// A resource added to the Belvo client without a migration fails here,
	// not in production.
	for _, r := range belvo.AllResources() {
		var exists bool
		if err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, r.Table()).Scan(&exists); err != nil || !exists {
			t.Errorf("resource %s has no table %s after migrations (%v)", r, r.Table(), err)
		}
	}
}

// Migration 4 keys each resource's rows by (link_id, id): rows a database
// of version 3 holds keep their data, the key and the link index are
// replaced by one (link_id, id) primary key, and from then on the same id
// of another link is another row.
func TestPostgresMigration4KeysRowsByLink(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.PostgresSchema(t)
	if err := store.MigratePostgresTo(ctx, dsn, 3); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `INSERT INTO transactions (id, link_id, data, updated_at)
		SELECT 'tx-' || i, 'L' || (i % 2), jsonb_build_object('n', i), now() FROM generate_series(0, 29) AS i`); err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t, dsn) // applies migration 4 and any after it
	for link, want := range map[string]int{"L0": 15, "L1": 15} {
		if n, err := s.Count(ctx, belvo.Transactions, link); err != nil || n != want {
			t.Errorf("%s has %d transactions (%v), want %d", link, n, err, want)
		}
	}
	if data, err := s.Row(ctx, belvo.Transactions, "L1", "tx-7"); err != nil || string(data) != `{"n": 7}` {
		t.Errorf("tx-7 of L1 = %s (%v)", data, err)
	}
	for _, r := range belvo.AllResources() {
		var indexes string
		if err := conn.QueryRow(ctx, `SELECT string_agg(indexdef, '; ' ORDER BY indexname) FROM pg_indexes
			WHERE schemaname = current_schema() AND tablename = $1`, r.Table()).Scan(&indexes); err != nil {
			t.Fatal(err)
		}
		want := "CREATE UNIQUE INDEX " + r.Table() + "_pkey ON "
		if !strings.HasPrefix(indexes, want) || !strings.HasSuffix(indexes, " USING btree (link_id, id)") || strings.Contains(indexes, ";") {
			t.Errorf("%s's indexes: %s; want the (link_id, id) primary key alone", r.Table(), indexes)
		}
	}
	if err := s.UpsertRows(ctx, belvo.Transactions, "L0", []store.Row{{ID: "tx-1", Data: []byte(`{"n": "L0's"}`)}}); err != nil {
		t.Fatal(err)
	}
	if data, _ := s.Row(ctx, belvo.Transactions, "L1", "tx-1"); string(data) != `{"n": 1}` {
		t.Errorf("L1's tx-1 = %s after L0 stored the same id, want it unchanged", data)
	}
	if n, _ := s.Count(ctx, belvo.Transactions, "L0"); n != 16 {
		t.Errorf("L0 has %d transactions, want 16", n)
	}
}
