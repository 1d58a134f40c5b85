package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Postgres is the production store: the same tables as SQLite, with jsonb
// rows, written a page at a time by COPY: straight into the table when the
// page's rows are all new, else into a staging table and then one upsert
// (postgres_copy.go).
type Postgres struct {
	pool *pgxpool.Pool
}

// OpenPostgres connects to the database a postgres:// DSN names and applies
// the migrations it has not seen (see migrations/postgres). Pool size and the
// like come from the DSN (pool_max_conns, …); search_path selects a schema.
func OpenPostgres(ctx context.Context, dsn string) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: STORE_DSN is not a valid PostgreSQL URL: %s", redact(err.Error(), dsn))
	}
	// A span per statement, batch and connection acquisition, child of the
	// caller's (the activity's), from the global provider (tracing.Setup).
	// Spans carry the SQL text, which holds placeholders, never values:
	// otelpgx records arguments only when asked (WithIncludeQueryParameters),
	// and its connection details are host, port, user and database, never
	// the password.
	cfg.ConnConfig.Tracer = otelpgx.NewTracer()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect to PostgreSQL: %s", redact(err.Error(), dsn))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect to PostgreSQL at %s: %s", cfg.ConnConfig.Host, redact(err.Error(), dsn))
	}
	if _, err := migratePostgres(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return &Postgres{pool: pool}, nil
}

// redact removes a DSN's password from a driver message, in case the driver
// ever quotes it.
func redact(msg, dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "****")
		}
	}
	if u, err := url.Parse(dsn); err == nil {
		if pw := u.Query().Get("password"); pw != "" {
			msg = strings.ReplaceAll(msg, pw, "****")
		}
	}
	return msg
}

// linkLockClass namespaces the per-link advisory locks (the first key of
// the two-key form; the second is the hash of the link id).
const linkLockClass = 0x62656c76 // "belv"

// lastByID keeps the last version of each id: PostgreSQL refuses to update
// one row twice in a statement, and the last version is what SQLite keeps.
func lastByID(rows []Row) []Row {
	seen := make(map[string]int, len(rows))
	out := make([]Row, 0, len(rows))
	for _, row := range rows {
		if i, ok := seen[row.ID]; ok {
			out[i] = row
			continue
		}
		seen[row.ID] = len(out)
		out = append(out, row)
	}
	return out
}

// DeleteRows implements Store.
func (p *Postgres) DeleteRows(ctx context.Context, r belvo.Resource, linkID string, ids []string) (int, error) {
	if !r.Valid() {
		return 0, fmt.Errorf("store: unknown resource %q", r)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	tag, err := p.pool.Exec(ctx, fmt.Sprintf(`DELETE FROM %s WHERE link_id = $1 AND id = ANY($2::text[])`,
		pgx.Identifier{r.Table()}.Sanitize()), linkID, ids)
	if err != nil {
		return 0, fmt.Errorf("store: delete %d %s rows: %w", len(ids), r, err)
	}
	return int(tag.RowsAffected()), nil
}

// Row implements Store. The data comes back as PostgreSQL prints jsonb: the
// same JSON value, with its keys in jsonb's order.
func (p *Postgres) Row(ctx context.Context, r belvo.Resource, linkID, id string) ([]byte, error) {
	if !r.Valid() {
		return nil, fmt.Errorf("store: unknown resource %q", r)
	}
	var data string
	err := p.pool.QueryRow(ctx, fmt.Sprintf(`SELECT data::text FROM %s WHERE id = $1 AND link_id = $2`,
		pgx.Identifier{r.Table()}.Sanitize()), id, linkID).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: read %s %s: %w", r, id, err)
	}
	return []byte(data), nil
}

// Count implements Store.
func (p *Postgres) Count(ctx context.Context, r belvo.Resource, linkID string) (int, error) {
	if !r.Valid() {
		return 0, fmt.Errorf("store: unknown resource %q", r)
	}
	var n int
	err := p.pool.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM %s WHERE link_id = $1`,
		pgx.Identifier{r.Table()}.Sanitize()), linkID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count %s: %w", r, err)
	}
	return n, nil
}

// MarkFetched implements Store; nothing is recorded for a deleted link.
func (p *Postgres) MarkFetched(ctx context.Context, linkID string, r belvo.Resource, rows int) error {
	err := p.execShared(ctx, linkID,
		`INSERT INTO fetch_state (link_id, resource, rows, fetched_at)
		 SELECT $1, $2, $3, now() WHERE NOT EXISTS (SELECT 1 FROM deleted_links WHERE link_id = $1)
		 ON CONFLICT (link_id, resource) DO UPDATE SET rows = EXCLUDED.rows, fetched_at = EXCLUDED.fetched_at`,
		linkID, string(r), rows)
	if err != nil {
		return fmt.Errorf("store: mark %s fetched: %w", r, err)
	}
	return nil
}

// execShared runs one statement under the link's shared lock, in one round
// trip and one implicit transaction: a deletion is
// wholly before it, so its tombstone check sees the deletion, or wholly
// after it, so the deletion removes what it wrote.
func (p *Postgres) execShared(ctx context.Context, linkID, sql string, args ...any) error {
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_advisory_xact_lock_shared($1, hashtext($2))`, linkLockClass, linkID)
	b.Queue(sql, args...)
	br := p.pool.SendBatch(ctx, b)
	_, err := br.Exec()
	if err == nil {
		_, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// Fetched implements Store.
func (p *Postgres) Fetched(ctx context.Context, linkID string) (map[belvo.Resource]int, error) {
	rs, err := p.pool.Query(ctx, `SELECT resource, rows FROM fetch_state WHERE link_id = $1`, linkID)
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
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("store: read fetch state: %w", err)
	}
	return out, nil
}

// MarkWebhook implements Store; nothing is recorded for a deleted link.
func (p *Postgres) MarkWebhook(ctx context.Context, linkID, key string) error {
	err := p.execShared(ctx, linkID,
		`INSERT INTO processed_webhooks (link_id, key, processed_at)
		 SELECT $1, $2, now() WHERE NOT EXISTS (SELECT 1 FROM deleted_links WHERE link_id = $1) ON CONFLICT DO NOTHING`,
		linkID, key)
	if err != nil {
		return fmt.Errorf("store: mark webhook processed: %w", err)
	}
	return nil
}

// Webhooks implements Store.
func (p *Postgres) Webhooks(ctx context.Context, linkID string) ([]string, error) {
	rs, err := p.pool.Query(ctx, `SELECT key FROM processed_webhooks WHERE link_id = $1 ORDER BY key`, linkID)
	if err != nil {
		return nil, fmt.Errorf("store: read processed webhooks: %w", err)
	}
	keys, err := pgx.CollectRows(rs, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: read processed webhooks: %w", err)
	}
	return keys, nil
}

// DeleteLink implements Store, under the link's exclusive lock (see
// UpsertRows).
func (p *Postgres) DeleteLink(ctx context.Context, linkID string) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, linkLockClass, linkID); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO deleted_links (link_id, deleted_at) VALUES ($1, now()) ON CONFLICT DO NOTHING`, linkID); err != nil {
			return fmt.Errorf("record the deletion: %w", err)
		}
		for _, st := range deleteLinkStatements() {
			tag, err := tx.Exec(ctx, st.sql, linkID)
			if err != nil {
				return fmt.Errorf("delete %s: %w", st.what, err)
			}
			if st.rows {
				n += int(tag.RowsAffected())
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete link %s: %w", linkID, err)
	}
	return n, nil
}

// LinkDeleted implements Store.
func (p *Postgres) LinkDeleted(ctx context.Context, linkID string) (bool, error) {
	var deleted bool
	if err := p.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM deleted_links WHERE link_id = $1)`, linkID).Scan(&deleted); err != nil {
		return false, fmt.Errorf("store: read deletion of link %s: %w", linkID, err)
	}
	return deleted, nil
}

// Close implements Store.
func (p *Postgres) Close() error {
	p.pool.Close()
	return nil
}

// nulEscape is how JSON writes the NUL character, which jsonb cannot hold.
var nulEscape = []byte(`\u0000`)

// escapeNUL rewrites each JSON escape of the NUL character (\u0000), the one
// character jsonb refuses (SQLSTATE 22P05), as an escaped backslash followed
// by "u0000": the value keeps the six visible characters instead of an
// invisible NUL, and a row carrying one, as a bank's free text might, is
// stored instead of failing its page for ever. An escaped backslash already
// followed by "u0000" is not a NUL and is left as it is.
func escapeNUL(raw []byte) []byte {
	if !bytes.Contains(raw, nulEscape) {
		return raw
	}
	out := make([]byte, 0, len(raw)+8)
	for i := 0; i < len(raw); {
		if bytes.HasPrefix(raw[i:], nulEscape) && precedingBackslashes(raw, i)%2 == 0 {
			out = append(out, `\\u0000`...)
			i += len(nulEscape)
			continue
		}
		out = append(out, raw[i])
		i++
	}
	return out
}

// precedingBackslashes counts the backslashes right before raw[i].
func precedingBackslashes(raw []byte, i int) int {
	n := 0
	for i > 0 && raw[i-1] == '\\' {
		n++
		i--
	}
	return n
}
