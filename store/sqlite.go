package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	_ "modernc.org/sqlite" // pure-Go SQLite driver, registered as "sqlite"
)

// SQLite is the embedded store.
type SQLite struct {
	db *sql.DB
	// path is the database file, named by the errors of a full disk.
	path string
}

// sqliteCacheKiB is each connection's page cache (SQLite's default is 2 MB):
// chosen to hold the id and link indexes of a 100,000-row listing when
// tables had both (schema version 0), and it holds the (link_id, id) key
// of such a link (larger per row than the id index, in one index).
const sqliteCacheKiB = 16 << 10

// sqliteCheckpointPages is how many pages the WAL gathers before a commit
// copies them into the database file (SQLite's default is 1,000, about
// 4 MB). With the id index of schema version 0, each 1,000-row page of a
// listing dirtied hundreds of its leaves (a random key); a checkpoint
// every 10,000 pages (about 40 MB) copies a page changed by several
// commits once instead of once per commit: the worker spent 11 % less CPU
// in the end-to-end benchmark. The (link_id, id) key dirties far fewer,
// and SQLite's default measured within the noise of this interval (the
// worker 2.5 % more CPU, BENCHMARKS.md); it was kept.
const sqliteCheckpointPages = 10000

// sqliteConns is the connections a store keeps open: one. SQLite takes
// one writer at a time whatever the pool, and with a connection per
// concurrent listing each kept a page cache of its own (each reading the
// same index pages from disk again, each refreshing it after the others'
// commits) while writers waited for the lock in SQLite's busy handler,
// which sleeps in steps of up to 100 ms. One connection keeps one warm
// cache, and callers queue in database/sql, woken as soon as it is free:
// the end-to-end benchmark's worker used about 20 % less CPU. Every method uses
// one statement or one transaction and never a second connection while it
// holds the first, so a pool of one cannot deadlock.
const sqliteConns = 1

// OpenSQLite opens (creating when needed) a SQLite database file and its
// tables. WAL lets readers (the starter printing counts) run beside the
// worker's writes; immediate transactions and a busy timeout make concurrent
// writers queue instead of failing.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	if path == "" {
		return nil, fmt.Errorf("store: empty SQLite path")
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: create directory for %s: %w", path, err)
		}
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(30000)")
	if err := enableWAL(ctx, "file:"+path+"?"+q.Encode()); err != nil {
		return nil, diskFull(path, fmt.Errorf("store: open %s: %w", path, err))
	}
	// No journal_mode pragma here: the file is in WAL mode now and stays
	// so, and asking again on each new connection would be the racy
	// switch enableWAL exists to avoid.
	// FULL syncs the WAL at every commit, so a commit survives a power
	// loss or a kernel crash, not only a crash of the worker (NORMAL
	// syncs at checkpoints only). One sync per page of rows is cheap
	// next to the page's writes; with the checkpoint interval below it
	// costs less than NORMAL did with SQLite's default interval.
	q.Add("_pragma", "synchronous(FULL)")
	// A page is one transaction of batched upserts, each statement with
	// its own statement journal; with temp files on disk that journal,
	// and page reads from a 2 MB cache of B-trees keyed by random ids
	// (schema version 0), made half of a listing's time system calls.
	// Both settings are memory only (the WAL and the database stay as
	// durable as before): journals in memory, and a 16 MB page cache per
	// connection.
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_pragma", "cache_size("+strconv.Itoa(-sqliteCacheKiB)+")")
	q.Add("_pragma", "wal_autocheckpoint("+strconv.Itoa(sqliteCheckpointPages)+")")
	q.Add("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(sqliteConns)
	s := &SQLite{db: db, path: path}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *SQLite) migrate(ctx context.Context) (err error) {
	defer s.full(&err)
	stmts := []string{`CREATE TABLE IF NOT EXISTS fetch_state (
		link_id TEXT NOT NULL, resource TEXT NOT NULL, rows INTEGER NOT NULL,
		fetched_at TEXT NOT NULL, PRIMARY KEY (link_id, resource))`,
		`CREATE TABLE IF NOT EXISTS processed_webhooks (
		link_id TEXT NOT NULL, key TEXT NOT NULL, processed_at TEXT NOT NULL, PRIMARY KEY (link_id, key))`,
		`CREATE TABLE IF NOT EXISTS deleted_links (link_id TEXT PRIMARY KEY, deleted_at TEXT NOT NULL)`,
		cursorsTableSQLite}
	for _, st := range stmts {
		if _, err := s.db.ExecContext(ctx, st); err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
	}
	return s.migrateResourceTables(ctx)
}

// upsertBatch is the rows per INSERT statement: one statement per 250 rows
// instead of one per row cuts the SQL engine's per-statement work (the
// volume benchmark's profile), well under SQLite's 32,766 parameters.
const upsertBatch = 250

// UpsertRows implements Store: one transaction per page, multi-row
// statements inside it. SQLite applies a repeated id in one statement as an
// update, so the last version of a row wins, as on PostgreSQL. A row is
// the link's: the same id listed by another link is another row.
func (s *SQLite) UpsertRows(ctx context.Context, r belvo.Resource, linkID string, rows []Row) (err error) {
	defer s.full(&err)
	if !r.Valid() {
		return fmt.Errorf("store: unknown resource %q", r)
	}
	if len(rows) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin upsert of %s: %w", r, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	// The transaction holds SQLite's write lock (immediate), so a deletion
	// is either wholly before this check or wholly after this page.
	if deleted, err := linkDeletedIn(ctx, tx, linkID); err != nil {
		return err
	} else if deleted {
		return fmt.Errorf("upsert %s rows of link %s: %w", r, linkID, ErrLinkDeleted)
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	var full *sql.Stmt // the statement for a whole batch, prepared once
	for start := 0; start < len(rows); start += upsertBatch {
		batch := rows[start:min(start+upsertBatch, len(rows))]
		args := make([]any, 0, 4*len(batch))
		for _, row := range batch {
			args = append(args, row.ID, linkID, string(row.Data), now)
		}
		stmt := full
		if stmt == nil || len(batch) != upsertBatch {
			if stmt, err = tx.PrepareContext(ctx, upsertSQL(r, len(batch))); err != nil {
				return fmt.Errorf("store: prepare upsert of %s: %w", r, err)
			}
			defer stmt.Close()
			if len(batch) == upsertBatch {
				full = stmt
			}
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("store: upsert %d %s rows from %s: %w", len(batch), r, batch[0].ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit upsert of %d %s rows: %w", len(rows), r, err)
	}
	return nil
}

// upsertSQL is the multi-row upsert of n rows into a resource's table.
func upsertSQL(r belvo.Resource, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (id, link_id, data, updated_at) VALUES ", r.Table())
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?, ?, ?, ?)")
	}
	b.WriteString(" ON CONFLICT(link_id, id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at")
	return b.String()
}

// DeleteRows implements Store.
func (s *SQLite) DeleteRows(ctx context.Context, r belvo.Resource, linkID string, ids []string) (_ int, err error) {
	defer s.full(&err)
	if !r.Valid() {
		return 0, fmt.Errorf("store: unknown resource %q", r)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: begin delete of %s: %w", r, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	stmt, err := tx.PrepareContext(ctx, fmt.Sprintf(`DELETE FROM %s WHERE id = ? AND link_id = ?`, r.Table()))
	if err != nil {
		return 0, fmt.Errorf("store: prepare delete of %s: %w", r, err)
	}
	defer stmt.Close()
	n := 0
	for _, id := range ids {
		res, err := stmt.ExecContext(ctx, id, linkID)
		if err != nil {
			return 0, fmt.Errorf("store: delete %s %s: %w", r, id, err)
		}
		k, _ := res.RowsAffected()
		n += int(k)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: commit delete of %s: %w", r, err)
	}
	return n, nil
}

// Row implements Store.
func (s *SQLite) Row(ctx context.Context, r belvo.Resource, linkID, id string) ([]byte, error) {
	if !r.Valid() {
		return nil, fmt.Errorf("store: unknown resource %q", r)
	}
	var data string
	err := s.db.QueryRowContext(ctx, fmt.Sprintf(`SELECT data FROM %s WHERE link_id = ? AND id = ?`, r.Table()), linkID, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: read %s %s: %w", r, id, err)
	}
	return []byte(data), nil
}

// Count implements Store.
func (s *SQLite) Count(ctx context.Context, r belvo.Resource, linkID string) (int, error) {
	if !r.Valid() {
		return 0, fmt.Errorf("store: unknown resource %q", r)
	}
	var n int
	err := s.db.QueryRowContext(ctx, fmt.Sprintf(`SELECT COUNT(*) FROM %s WHERE link_id = ?`, r.Table()), linkID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count %s: %w", r, err)
	}
	return n, nil
}

// MarkFetched implements Store; nothing is recorded for a deleted link.
func (s *SQLite) MarkFetched(ctx context.Context, linkID string, r belvo.Resource, rows int) (err error) {
	defer s.full(&err)
	_, err = s.db.ExecContext(ctx,
		`INSERT INTO fetch_state (link_id, resource, rows, fetched_at)
		 SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM deleted_links WHERE link_id = ?)
		 ON CONFLICT(link_id, resource) DO UPDATE SET rows = excluded.rows, fetched_at = excluded.fetched_at`,
		linkID, string(r), rows, time.Now().UTC().Format(time.RFC3339Nano), linkID)
	if err != nil {
		return fmt.Errorf("store: mark %s fetched: %w", r, err)
	}
	return nil
}

// Fetched implements Store.
func (s *SQLite) Fetched(ctx context.Context, linkID string) (map[belvo.Resource]int, error) {
	rs, err := s.db.QueryContext(ctx, `SELECT resource, rows FROM fetch_state WHERE link_id = ?`, linkID)
	if err != nil {
		return nil, fmt.Errorf("store: read fetch state: %w", err)
	}
	defer rs.Close()
	out := map[belvo.Resource]int{}
	for rs.Next() {
		var r string
		var n int
		if err := rs.Scan(&r, &n); err != nil {
			return nil, fmt.Errorf("store: scan fetch state: %w", err)
		}
		out[belvo.Resource(r)] = n
	}
	return out, rs.Err()
}

// MarkWebhook implements Store; nothing is recorded for a deleted link.
func (s *SQLite) MarkWebhook(ctx context.Context, linkID, key string) (err error) {
	defer s.full(&err)
	_, err = s.db.ExecContext(ctx,
		`INSERT INTO processed_webhooks (link_id, key, processed_at)
		 SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM deleted_links WHERE link_id = ?) ON CONFLICT DO NOTHING`,
		linkID, key, time.Now().UTC().Format(time.RFC3339Nano), linkID)
	if err != nil {
		return fmt.Errorf("store: mark webhook processed: %w", err)
	}
	return nil
}

// Webhooks implements Store.
func (s *SQLite) Webhooks(ctx context.Context, linkID string) ([]string, error) {
	rs, err := s.db.QueryContext(ctx, `SELECT key FROM processed_webhooks WHERE link_id = ? ORDER BY key`, linkID)
	if err != nil {
		return nil, fmt.Errorf("store: read processed webhooks: %w", err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var k string
		if err := rs.Scan(&k); err != nil {
			return nil, fmt.Errorf("store: scan processed webhook: %w", err)
		}
		out = append(out, k)
	}
	return out, rs.Err()
}

// Close implements Store.
func (s *SQLite) Close() error { return s.db.Close() }

// DeleteLink implements Store.
func (s *SQLite) DeleteLink(ctx context.Context, linkID string) (_ int, err error) {
	defer s.full(&err)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: begin deletion of link %s: %w", linkID, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, `INSERT INTO deleted_links (link_id, deleted_at) VALUES (?, ?) ON CONFLICT DO NOTHING`,
		linkID, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		return 0, fmt.Errorf("store: record deletion of link %s: %w", linkID, err)
	}
	n := 0
	for _, st := range deleteLinkStatements() {
		res, err := tx.ExecContext(ctx, strings.ReplaceAll(st.sql, "$1", "?"), linkID)
		if err != nil {
			return 0, fmt.Errorf("store: delete %s of link %s: %w", st.what, linkID, err)
		}
		if st.rows {
			k, _ := res.RowsAffected()
			n += int(k)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: commit deletion of link %s: %w", linkID, err)
	}
	return n, nil
}

// LinkDeleted implements Store.
func (s *SQLite) LinkDeleted(ctx context.Context, linkID string) (bool, error) {
	return linkDeletedIn(ctx, s.db, linkID)
}

// querier is what linkDeletedIn needs: a database or a transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func linkDeletedIn(ctx context.Context, q querier, linkID string) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM deleted_links WHERE link_id = ?`, linkID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: read deletion of link %s: %w", linkID, err)
	}
	return true, nil
}
