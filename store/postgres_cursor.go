package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/jackc/pgx/v5"
)

// Cursor implements Store.
func (p *Postgres) Cursor(ctx context.Context, linkID string, r belvo.Resource) (time.Time, bool, error) {
	var t time.Time
	err := p.pool.QueryRow(ctx, `SELECT newest FROM fetch_cursors WHERE link_id = $1 AND resource = $2`, linkID, string(r)).Scan(&t)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: read %s cursor of link %s: %w", r, linkID, err)
	}
	return t.UTC(), true, nil
}

// AdvanceCursor implements Store, under the link's shared lock like
// MarkFetched, so a deletion removes it or it is not written. The time is
// truncated to microseconds here: timestamptz would round, and rounding up
// could move the cursor past a row.
func (p *Postgres) AdvanceCursor(ctx context.Context, linkID string, r belvo.Resource, t time.Time) error {
	if !r.Valid() {
		return fmt.Errorf("store: unknown resource %q", r)
	}
	if t.IsZero() {
		return fmt.Errorf("store: a zero %s cursor for link %s", r, linkID)
	}
	err := p.execShared(ctx, linkID,
		`INSERT INTO fetch_cursors (link_id, resource, newest, updated_at)
		 SELECT $1, $2, $3, now() WHERE NOT EXISTS (SELECT 1 FROM deleted_links WHERE link_id = $1)
		 ON CONFLICT (link_id, resource) DO UPDATE
		 SET newest = GREATEST(fetch_cursors.newest, EXCLUDED.newest), updated_at = EXCLUDED.updated_at`,
		linkID, string(r), t.Truncate(time.Microsecond).UTC())
	if err != nil {
		return fmt.Errorf("store: advance %s cursor of link %s: %w", r, linkID, err)
	}
	return nil
}

// DropCursor implements Store.
func (p *Postgres) DropCursor(ctx context.Context, linkID string, r belvo.Resource) error {
	if _, err := p.pool.Exec(ctx, `DELETE FROM fetch_cursors WHERE link_id = $1 AND resource = $2`, linkID, string(r)); err != nil {
		return fmt.Errorf("store: drop %s cursor of link %s: %w", r, linkID, err)
	}
	return nil
}
