package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// postgresMigrations are the PostgreSQL schema's versioned steps, applied in
// file-name order. A file, once released, never changes: a new step is a new
// file, so every database walks the same path.
//
//go:embed migrations/postgres/*.sql
var postgresMigrations embed.FS

// migrationLockID is the advisory lock that serializes migrations, so that
// replicas starting together do not race to create the same tables.
const migrationLockID = 0x62656c766f // "belvo"

// Migration is one versioned schema step.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// PostgresMigrations lists the embedded migrations in order.
func PostgresMigrations() ([]Migration, error) {
	entries, err := fs.ReadDir(postgresMigrations, "migrations/postgres")
	if err != nil {
		return nil, fmt.Errorf("store: read migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration %s: name must start with a positive version, as 0002_add_x.sql", e.Name())
		}
		body, err := postgresMigrations.ReadFile(path.Join("migrations/postgres", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("store: read migration %s: %w", e.Name(), err)
		}
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("store: migrations %s and %s share version %d", out[i-1].Name, out[i].Name, out[i].Version)
		}
	}
	return out, nil
}

// migratePostgres applies the migrations the database has not seen yet, each
// in its own transaction together with its bookkeeping row, under an
// advisory lock. It returns the names it applied.
func migratePostgres(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	return migratePostgresTo(ctx, pool, math.MaxInt)
}

// migratePostgresTo is migratePostgres stopping after version last: a
// database as the release that ended there left it, for the tests of the
// steps after it.
func migratePostgresTo(ctx context.Context, pool *pgxpool.Pool, last int) ([]string, error) {
	ms, err := PostgresMigrations()
	if err != nil {
		return nil, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: connect for migrations: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLockID)); err != nil {
		return nil, fmt.Errorf("store: take the migration lock: %w", err)
	}
	// Unlock on a fresh context: the caller's may be the reason we stop.
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrationLockID)) //nolint:errcheck // released with the session anyway
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS store_schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("store: create the migrations table: %w", err)
	}
	applied := map[int]bool{}
	rows, err := conn.Query(ctx, `SELECT version FROM store_schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("store: read applied migrations: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("store: read applied migrations: %w", err)
	}
	for _, v := range versions {
		applied[int(v)] = true
	}
	var done []string
	for _, m := range ms {
		if applied[m.Version] || m.Version > last {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO store_schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
			return err
		})
		if err != nil {
			return done, fmt.Errorf("store: apply migration %s: %w", m.Name, err)
		}
		done = append(done, m.Name)
	}
	return done, nil
}
