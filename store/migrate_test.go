//go:build integration

package store_test

import (
	"context"
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
