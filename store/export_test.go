package store

import (
	"context"
	"fmt"
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
