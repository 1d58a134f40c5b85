package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// StagedRows reports whether the PostgreSQL store's session has its staging
// table and how many rows it holds. It is meaningful with a pool of one
// connection (pool_max_conns=1), where every call is the same session.
func StagedRows(ctx context.Context, s Store) (exists bool, n int, err error) {
	p, ok := s.(*Postgres)
	if !ok {
		return false, 0, fmt.Errorf("store %T is not PostgreSQL", s)
	}
	if err := p.pool.QueryRow(ctx, `SELECT to_regclass('pg_temp.belvo_stage') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return false, 0, err
	}
	err = p.pool.QueryRow(ctx, `SELECT count(*) FROM pg_temp.belvo_stage`).Scan(&n)
	return true, n, err
}

// MigratePostgresTo applies the PostgreSQL migrations up to version last
// only, leaving the database as the release that ended there did.
func MigratePostgresTo(ctx context.Context, dsn string, last int) error {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return err
	}
	defer pool.Close()
	_, err = migratePostgresTo(ctx, pool, last)
	return err
}
