package store

import (
	"context"
	"fmt"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/jackc/pgx/v5"
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
// whatever the database's collation. A row whose link and data did not
// change is not rewritten, so a retried page costs reads, not writes.
const upsertFromStage = `INSERT INTO %s AS t (id, link_id, data, updated_at)
	SELECT id, $1, data, now() FROM pg_temp.belvo_stage ORDER BY id COLLATE "C"
	ON CONFLICT (id) DO UPDATE SET link_id = EXCLUDED.link_id, data = EXCLUDED.data, updated_at = EXCLUDED.updated_at
	WHERE t.link_id IS DISTINCT FROM EXCLUDED.link_id OR t.data IS DISTINCT FROM EXCLUDED.data`

// UpsertRows implements Store. A page is one transaction: the link's shared
// lock and its tombstone check, a binary COPY of the rows into the session's
// staging table, then one INSERT … SELECT … ON CONFLICT into the resource's
// table. COPY streams the rows as they are, where the text arrays it
// replaces had to be quoted by the client and parsed back by the server.
func (p *Postgres) UpsertRows(ctx context.Context, r belvo.Resource, linkID string, rows []Row) error {
	if !r.Valid() {
		return fmt.Errorf("store: unknown resource %q", r)
	}
	// ON CONFLICT cannot touch a row twice in one statement, and the stage
	// has no key to enforce it: duplicates go here, the last one winning as
	// in SQLite.
	rows = lastByID(rows)
	if len(rows) == 0 {
		return nil
	}
	insert := fmt.Sprintf(upsertFromStage, pgx.Identifier{r.Table()}.Sanitize())
	deleted := false
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		var err error
		if deleted, err = lockLive(ctx, tx, linkID); err != nil || deleted {
			return err
		}
		src := pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			return []any{rows[i].ID, escapeNUL(rows[i].Data)}, nil
		})
		if _, err := tx.CopyFrom(ctx, stageTable, stageColumns, src); err != nil {
			return fmt.Errorf("copy into the staging table: %w", err)
		}
		if _, err := tx.Exec(ctx, insert, linkID); err != nil {
			return fmt.Errorf("insert from the staging table: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: upsert %d %s rows: %w", len(rows), r, err)
	}
	if deleted {
		return fmt.Errorf("upsert %s rows of link %s: %w", r, linkID, ErrLinkDeleted)
	}
	return nil
}

// lockLive takes the link's shared lock for the rest of tx, so a deletion
// (which takes it exclusively) is wholly before or wholly after the page,
// makes sure the session has its staging table, and reports whether the
// link was deleted, read with a snapshot taken after the lock. One round
// trip.
func lockLive(ctx context.Context, tx pgx.Tx, linkID string) (deleted bool, err error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_advisory_xact_lock_shared($1, hashtext($2))`, linkLockClass, linkID)
	b.Queue(createStage)
	b.Queue(`SELECT EXISTS (SELECT 1 FROM deleted_links WHERE link_id = $1)`, linkID)
	br := tx.SendBatch(ctx, b)
	_, err = br.Exec()
	if err == nil {
		_, err = br.Exec()
	}
	if err == nil {
		err = br.QueryRow().Scan(&deleted)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("lock the link: %w", err)
	}
	return deleted, nil
}
