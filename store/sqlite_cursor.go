package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
)

// cursorsTableSQLite keeps the cursors as integer microseconds since the
// Unix epoch: integers compare as times do, where text of varying
// fractional digits would not.
const cursorsTableSQLite = `CREATE TABLE IF NOT EXISTS fetch_cursors (
	link_id TEXT NOT NULL, resource TEXT NOT NULL, newest INTEGER NOT NULL,
	updated_at TEXT NOT NULL, PRIMARY KEY (link_id, resource))`

// Cursor implements Store.
func (s *SQLite) Cursor(ctx context.Context, linkID string, r belvo.Resource) (time.Time, bool, error) {
	var us int64
	err := s.db.QueryRowContext(ctx, `SELECT newest FROM fetch_cursors WHERE link_id = ? AND resource = ?`, linkID, string(r)).Scan(&us)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: read %s cursor of link %s: %w", r, linkID, err)
	}
	return time.UnixMicro(us).UTC(), true, nil
}

// AdvanceCursor implements Store.
func (s *SQLite) AdvanceCursor(ctx context.Context, linkID string, r belvo.Resource, t time.Time) (err error) {
	defer s.full(&err)
	if !r.Valid() {
		return fmt.Errorf("store: unknown resource %q", r)
	}
	if t.IsZero() {
		return fmt.Errorf("store: a zero %s cursor for link %s", r, linkID)
	}
	_, err = s.db.ExecContext(ctx,
		`INSERT INTO fetch_cursors (link_id, resource, newest, updated_at)
		 SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM deleted_links WHERE link_id = ?)
		 ON CONFLICT(link_id, resource) DO UPDATE SET newest = max(newest, excluded.newest), updated_at = excluded.updated_at`,
		linkID, string(r), t.UnixMicro(), time.Now().UTC().Format(time.RFC3339Nano), linkID)
	if err != nil {
		return fmt.Errorf("store: advance %s cursor of link %s: %w", r, linkID, err)
	}
	return nil
}

// DropCursor implements Store.
func (s *SQLite) DropCursor(ctx context.Context, linkID string, r belvo.Resource) (err error) {
	defer s.full(&err)
	if _, err := s.db.ExecContext(ctx, `DELETE FROM fetch_cursors WHERE link_id = ? AND resource = ?`, linkID, string(r)); err != nil {
		return fmt.Errorf("store: drop %s cursor of link %s: %w", r, linkID, err)
	}
	return nil
}
