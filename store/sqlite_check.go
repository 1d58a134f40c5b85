package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
)

// CheckSQLite runs SQLite's own consistency check (PRAGMA integrity_check)
// on a database file, on a connection of its own, and returns its verdict:
// "ok", or the problems it found joined by "; ". After a crash or a full
// disk it tells whether the file is sound, which a row count cannot.
func CheckSQLite(ctx context.Context, path string) (string, error) {
	// Opening would create a missing file, and an empty database passes.
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("store: integrity check: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(30000)")
	if err != nil {
		return "", fmt.Errorf("store: open %s for its integrity check: %w", path, err)
	}
	defer db.Close()
	rs, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return "", fmt.Errorf("store: integrity check of %s: %w", path, err)
	}
	defer rs.Close()
	var lines []string
	for rs.Next() {
		var l string
		if err := rs.Scan(&l); err != nil {
			return "", fmt.Errorf("store: integrity check of %s: %w", path, err)
		}
		lines = append(lines, l)
	}
	if err := rs.Err(); err != nil {
		return "", fmt.Errorf("store: integrity check of %s: %w", path, err)
	}
	return strings.Join(lines, "; "), nil
}
