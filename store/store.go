// Package store keeps the data fetched from Belvo: one table per resource,
// rows keyed by the link and Belvo's id so that a retried activity
// overwrites instead of duplicating. SQLite (pure Go, no cgo) is the
// embedded default; PostgreSQL (pgx) implements the same interface for
// production, its schema kept as versioned migrations in
// migrations/postgres.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
)

// Row is one Belvo object: its id and its JSON as Belvo sent it.
type Row struct {
	ID   string
	Data []byte
}

// Store is what activities and tools need from persistence.
type Store interface {
	// UpsertRows writes rows of one resource for one link in one transaction,
	// replacing the link's rows with the same id (a row is its link's: the
	// same id listed by another link is that link's row).
	UpsertRows(ctx context.Context, r belvo.Resource, linkID string, rows []Row) error
	// DeleteRows removes rows of a resource of a link by id and returns how
	// many existed.
	DeleteRows(ctx context.Context, r belvo.Resource, linkID string, ids []string) (int, error)
	// Row returns one stored row's data, or nil when it is not stored.
	Row(ctx context.Context, r belvo.Resource, linkID, id string) ([]byte, error)
	// Count is the number of rows of a resource stored for a link.
	Count(ctx context.Context, r belvo.Resource, linkID string) (int, error)
	// MarkFetched records that a resource's history was stored completely for
	// a link, with its row count.
	MarkFetched(ctx context.Context, linkID string, r belvo.Resource, rows int) error
	// Fetched lists the resources recorded by MarkFetched for a link.
	Fetched(ctx context.Context, linkID string) (map[belvo.Resource]int, error)
	// MarkWebhook records that a webhook (by its dedupe key) was processed
	// for a link; Webhooks lists those keys. They make duplicate detection
	// survive the end of an execution.
	MarkWebhook(ctx context.Context, linkID, key string) error
	Webhooks(ctx context.Context, linkID string) ([]string, error)
	// DeleteLink removes everything stored for a link deleted at Belvo (its
	// rows of every resource, fetch state, cursors and processed webhooks) and
	// records the deletion, in one transaction. From then on UpsertRows
	// for the link fails with ErrLinkDeleted, so a listing still running
	// cannot bring rows back. It returns how many rows went; deleting a
	// deleted link again removes nothing and is not an error.
	DeleteLink(ctx context.Context, linkID string) (int, error)
	// LinkDeleted reports whether DeleteLink recorded the link's deletion.
	LinkDeleted(ctx context.Context, linkID string) (bool, error)
	// Cursor is the newest of Belvo's own timestamps (collected_at or
	// created_at, see belvo.Incremental) seen on the stored rows of a
	// resource of a link, where the next incremental read starts; ok is
	// false when none is kept (the resource is then listed whole).
	Cursor(ctx context.Context, linkID string, r belvo.Resource) (t time.Time, ok bool, err error)
	// AdvanceCursor keeps the later of the kept cursor and t (at
	// microsecond precision, truncated), so a late or retried listing
	// never moves it back; nothing is kept for a deleted link. Callers
	// advance it only once the rows that carried t are stored.
	AdvanceCursor(ctx context.Context, linkID string, r belvo.Resource, t time.Time) error
	// DropCursor forgets a resource's cursor: its next update lists it
	// whole (rows without a usable timestamp were seen).
	DropCursor(ctx context.Context, linkID string, r belvo.Resource) error
	// Close releases the database.
	Close() error
}

// ErrLinkDeleted is returned when rows are written for a link that was
// deleted: retrying cannot help, and the rows must not come back.
var ErrLinkDeleted = errors.New("store: the link was deleted; its data is not kept")

// Open opens the store a DSN names: "sqlite:<path>" (the file is created) or
// "postgres://..." (migrations are applied).
func Open(ctx context.Context, dsn string) (Store, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		return OpenSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return OpenPostgres(ctx, dsn)
	default:
		return nil, fmt.Errorf("store: STORE_DSN must start with sqlite: or postgres:// (got a value starting %q)", prefix(dsn))
	}
}

// prefix shows the scheme-ish start of a DSN without its credentials.
func prefix(dsn string) string {
	if i := strings.IndexAny(dsn, ":@/"); i >= 0 {
		return dsn[:i+1]
	}
	if len(dsn) > 8 {
		return dsn[:8]
	}
	return dsn
}
