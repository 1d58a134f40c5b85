package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/belvo-temporal/backbone/belvo"
)

// sqliteSchemaVersion is the version of the SQLite store's resource tables,
// kept in the file's user_version. A file written before versions were
// kept reads 0: its tables were keyed by Belvo's id alone, with a second
// index on link_id. Version 1 keys them by (link_id, id), one index.
const sqliteSchemaVersion = 1

// createResourceTableSQLite creates a resource's table under name. Rows
// keep SQLite's rowid, so they are appended in the order they arrive; the
// one index is the key, (link_id, id): see createResourceKeySQLite.
func createResourceTableSQLite(name string) string {
	return fmt.Sprintf(`CREATE TABLE %s (
		id TEXT NOT NULL, link_id TEXT NOT NULL, data TEXT NOT NULL, updated_at TEXT NOT NULL)`, name)
}

// createResourceKeySQLite creates the key of a resource's table, on table
// (the table itself, or the new table of a rebuild that will take its
// name: the index keeps its name through the rename). A link's rows sit
// together in it: a page of 1,000 rows with random UUIDs dirties the few
// leaves of its own link, where the key on id alone of version 0 spread
// them over the whole table (hundreds of leaves per page, each written to
// the WAL and copied back at the checkpoint) and needed a second index on
// link_id beside it. Every read names the link, so this index serves them
// all.
func createResourceKeySQLite(name, table string) string {
	return fmt.Sprintf(`CREATE UNIQUE INDEX %s_key ON %s (link_id, id)`, name, table)
}

// migrateResourceTables brings the resource tables to sqliteSchemaVersion.
// A file at that version is only read (no write lock on every open). A
// migration runs in one immediate transaction: the first process to open a
// file migrates it, and one opening it at the same time waits for the lock
// and then finds nothing to do. Tables of version 0 are rebuilt (SQLite
// cannot change a table's primary key in place), so the first start of
// this release on a large file takes time proportional to its rows; the
// rebuild passes through the WAL, which is emptied afterwards.
func (s *SQLite) migrateResourceTables(ctx context.Context) error {
	if current, err := s.schemaVersion(ctx, s.db); err != nil || current {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migrate %s: %w", s.path, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if current, err := s.schemaVersion(ctx, tx); err != nil || current {
		return err // another process migrated it meanwhile
	}
	rebuilt := false
	for _, r := range belvo.AllResources() {
		was, err := keyByLink(ctx, tx, r.Table())
		if err != nil {
			return fmt.Errorf("store: migrate %s of %s to schema version %d: %w", r.Table(), s.path, sqliteSchemaVersion, err)
		}
		rebuilt = rebuilt || was
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, sqliteSchemaVersion)); err != nil {
		return fmt.Errorf("store: record the schema version of %s: %w", s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit the migration of %s: %w", s.path, err)
	}
	if rebuilt {
		// Copy the rebuilt tables into the file and empty the WAL, which
		// otherwise keeps their size until the last connection closes.
		if _, err := s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return fmt.Errorf("store: checkpoint %s after its migration: %w", s.path, err)
		}
	}
	return nil
}

// schemaVersion reports whether the file's resource tables are at
// sqliteSchemaVersion, and refuses a file of a newer release.
func (s *SQLite) schemaVersion(ctx context.Context, q querier) (current bool, err error) {
	var version int
	if err := q.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return false, fmt.Errorf("store: read the schema version of %s: %w", s.path, err)
	}
	if version > sqliteSchemaVersion {
		return false, fmt.Errorf("store: %s has schema version %d, written by a newer release (this one knows %d); it cannot be opened by this one",
			s.path, version, sqliteSchemaVersion)
	}
	return version == sqliteSchemaVersion, nil
}

// keyByLink creates a resource's table, or rebuilds one of version 0 under
// the new key and reports that it did: a new table with the key takes the
// rows, then the old one's name (the old table goes with its indexes).
// The rows are read in link order, which the old link index gives without
// a sort, into a table whose key exists already, so each link's keys go
// into it side by side; no step sorts the table or its keys, which with
// temp_store(MEMORY) would hold them all in memory.
// Version 0 kept at most one row per id, so no two rows can collide in
// the new key.
func keyByLink(ctx context.Context, tx *sql.Tx, table string) (rebuilt bool, err error) {
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`, table).Scan(&one)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("look the table up: %w", err)
	}
	exists := err == nil
	stmts := []string{createResourceTableSQLite(table), createResourceKeySQLite(table, table)}
	if exists {
		next := table + "_v1"
		stmts = []string{
			createResourceTableSQLite(next),
			createResourceKeySQLite(table, next),
			fmt.Sprintf(`INSERT INTO %s (id, link_id, data, updated_at)
				SELECT id, link_id, data, updated_at FROM %s ORDER BY link_id`, next, table),
			fmt.Sprintf(`DROP TABLE %s`, table),
			fmt.Sprintf(`ALTER TABLE %s RENAME TO %s`, next, table),
		}
	}
	for _, st := range stmts {
		if _, err := tx.ExecContext(ctx, st); err != nil {
			return false, err
		}
	}
	return exists, nil
}
