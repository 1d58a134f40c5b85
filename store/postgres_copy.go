package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// stageTable is the session's staging table for UpsertRows. It is
// temporary, so each pooled connection has its own and no other session can
// see or lock it; ON COMMIT DELETE ROWS empties it at the end of every
// transaction that used it, and a rolled-back page takes its rows with it,
// so nothing passes from one page (or link) to the next. pg_temp names the
// session's temporary schema explicitly: a table of the same name in the
// search_path can never be picked instead.
var stageTable = pgx.Identifier{"pg_temp", "belvo_stage"}

// stageColumns are the columns COPY fills. data is jsonb already in the
// stage, so PostgreSQL parses each row's JSON once, during COPY, and refuses
// a page that is not JSON there, before anything is written.
var stageColumns = []string{"id", "data"}

// createStage makes the staging table if this session has none yet (its
// first page, or a page after one whose transaction created it and rolled
// back). It is sent with every page, in the same round trip as the lock,
// rather than once per connection, so that it holds whatever happened to the
// session; when the table exists it costs one catalog lookup.
const createStage = `CREATE TEMP TABLE IF NOT EXISTS belvo_stage (
	id   text  NOT NULL,
	data jsonb NOT NULL
) ON COMMIT DELETE ROWS`

// upsertFromStage moves the staged page into a resource's table (%s) in one
// statement. ORDER BY id makes every writer lock rows in the same order, so
// concurrent upserts of overlapping pages wait for each other instead of
// deadlocking; COLLATE "C" makes that order bytewise, cheap and the same
// whatever the database's collation. The key is (link_id, id): a row is
// the link's. A row whose data did not change is not rewritten, so a
// retried page costs reads, not writes.
const upsertFromStage = `INSERT INTO %s AS t (id, link_id, data, updated_at)
	SELECT id, $1, data, now() FROM pg_temp.belvo_stage ORDER BY id COLLATE "C"
	ON CONFLICT (link_id, id) DO UPDATE SET data = EXCLUDED.data, updated_at = EXCLUDED.updated_at
	WHERE t.data IS DISTINCT FROM EXCLUDED.data`

// UpsertRows implements Store. A page is one transaction. The first round
// trip opens it, takes the link's shared lock, checks the tombstone and sets
// a savepoint. A page of new rows, the whole of a first listing, then goes
// straight into the resource's table by one binary COPY and commits: three
// round trips, and PostgreSQL does no conflict checks and no staging. A page
// that meets a row the link already stored (a retry, an overlap) goes back
// to the savepoint and takes the general path: COPY into the session's
// staging table, then one INSERT … SELECT … ON CONFLICT
// with COMMIT. Either way the rows travel as they are, where the text
// arrays COPY replaced had to be quoted by the client and parsed back by the
// server.
func (p *Postgres) UpsertRows(ctx context.Context, r belvo.Resource, linkID string, rows []Row) error {
	if !r.Valid() {
		return fmt.Errorf("store: unknown resource %q", r)
	}
	// ON CONFLICT cannot touch a row twice in one statement, and the stage
	// has no key to enforce it: duplicates go here, the last one winning as
	// in SQLite. lastByID returns a new slice, so sorting it leaves the
	// caller's alone.
	rows = lastByID(rows)
	if len(rows) == 0 {
		return nil
	}
	// Both paths write in bytewise id order (ORDER BY id COLLATE "C" in
	// the upsert), so concurrent pages that overlap lock their common rows
	// in the same order and wait for each other instead of deadlocking.
	slices.SortFunc(rows, func(a, b Row) int { return strings.Compare(a.ID, b.ID) })
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("store: upsert %d %s rows: %w", len(rows), r, err)
	}
	// A connection given back inside a transaction (a failed ROLLBACK) is
	// closed by the pool, never reused.
	defer conn.Release()
	deleted, err := upsertPage(ctx, conn.Conn(), r, linkID, rows)
	if err != nil {
		rollback(conn.Conn())
		return fmt.Errorf("store: upsert %d %s rows: %w", len(rows), r, err)
	}
	if deleted {
		return fmt.Errorf("upsert %s rows of link %s: %w", r, linkID, ErrLinkDeleted)
	}
	return nil
}

// upsertPage writes one page on conn and commits it, or reports that the
// link was deleted (after ending the transaction, having written nothing).
// On an error the transaction may still be open: the caller rolls back.
func upsertPage(ctx context.Context, conn *pgx.Conn, r belvo.Resource, linkID string, rows []Row) (deleted bool, err error) {
	now, deleted, err := beginLive(ctx, conn, linkID)
	if err != nil {
		return false, err
	}
	if deleted {
		if _, err := conn.Exec(ctx, "COMMIT"); err != nil {
			return false, fmt.Errorf("end the transaction: %w", err)
		}
		return true, nil
	}
	table := pgx.Identifier{r.Table()}
	src := pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
		return []any{rows[i].ID, linkID, escapeNUL(rows[i].Data), now}, nil
	})
	_, err = conn.CopyFrom(ctx, table, tableColumns, src)
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		if _, err := conn.Exec(ctx, "COMMIT"); err != nil {
			return false, fmt.Errorf("commit: %w", err)
		}
		return false, nil
	case !errors.As(err, &pgErr) || pgErr.Code != uniqueViolation:
		return false, fmt.Errorf("copy into %s: %w", r.Table(), err)
	}
	if _, err := conn.Exec(ctx, "ROLLBACK TO SAVEPOINT page"); err != nil {
		return false, fmt.Errorf("back to the savepoint: %w", err)
	}
	src = pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
		return []any{rows[i].ID, escapeNUL(rows[i].Data)}, nil
	})
	if _, err := conn.CopyFrom(ctx, stageTable, stageColumns, src); err != nil {
		return false, fmt.Errorf("copy into the staging table: %w", err)
	}
	b := &pgx.Batch{}
	b.Queue(fmt.Sprintf(upsertFromStage, table.Sanitize()), linkID)
	b.Queue("COMMIT")
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return false, fmt.Errorf("insert from the staging table: %w", err)
	}
	return false, nil
}

// uniqueViolation is the SQLSTATE of a duplicate key: the page meets a
// stored row.
const uniqueViolation = "23505"

// tableColumns are the columns of a resource's table that a page of new
// rows fills by COPY.
var tableColumns = []string{"id", "link_id", "data", "updated_at"}

// beginLive opens the page's transaction and takes the link's shared lock
// for the rest of it, so a deletion (which takes it exclusively) is wholly
// before or wholly after the page; makes sure the session has its staging
// table; reports whether the link was deleted, read with a snapshot taken
// after the lock, and the transaction's now() (what the upsert writes as
// updated_at, for the COPY to write the same); and sets the savepoint the
// page returns to when it meets a stored row. One round trip: the
// transaction BEGIN opens outlives the batch.
func beginLive(ctx context.Context, conn *pgx.Conn, linkID string) (now time.Time, deleted bool, err error) {
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(`SELECT pg_advisory_xact_lock_shared($1, hashtext($2))`, linkLockClass, linkID)
	b.Queue(createStage)
	b.Queue(`SELECT EXISTS (SELECT 1 FROM deleted_links WHERE link_id = $1), now()`, linkID)
	b.Queue("SAVEPOINT page")
	br := conn.SendBatch(ctx, b)
	for range 3 {
		if err == nil {
			_, err = br.Exec()
		}
	}
	if err == nil {
		err = br.QueryRow().Scan(&deleted, &now)
	}
	if err == nil {
		_, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("lock the link: %w", err)
	}
	return now, deleted, nil
}

// rollback ends a failed page's transaction, if the connection is still
// in one. It runs even when the page's context is done (that may be why
// the page failed), bounded by its own timeout; if it fails, the pool
// closes the connection on release instead of reusing it mid-transaction.
func rollback(conn *pgx.Conn) {
	if conn.IsClosed() || conn.PgConn().TxStatus() == 'I' {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), rollbackTimeout)
	defer cancel()
	_, _ = conn.Exec(ctx, "ROLLBACK")
}

// rollbackTimeout bounds the ROLLBACK of a failed page.
const rollbackTimeout = 5 * time.Second
