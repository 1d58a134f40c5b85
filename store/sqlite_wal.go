package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// walWait bounds how long OpenSQLite keeps asking for WAL mode while other
// processes hold the file: as long as the busy timeout every other
// statement waits.
const walWait = 30 * time.Second

// enableWAL puts the database file at dsn in WAL mode, once, before the
// connection pool exists. Switching a file into WAL needs an exclusive
// lock that SQLite takes without calling the busy handler: two processes
// opening a new file together (two workers starting beside each other)
// made one of them fail at once with SQLITE_BUSY, busy timeout or not,
// and the worker exited. So the switch is tried again until walWait.
// WAL mode is stored in the file: once it is set, opening the file again
// needs no exclusive lock.
func enableWAL(ctx context.Context, dsn string) error {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer db.Close()
	deadline := time.Now().Add(walWait)
	for pause := 5 * time.Millisecond; ; pause = min(2*pause, 500*time.Millisecond) {
		var mode string
		err := db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode)
		switch {
		case err == nil && strings.EqualFold(mode, "wal"):
			return nil
		case err == nil:
			return fmt.Errorf("the file stays in journal mode %q: WAL needs a filesystem with shared memory (a local disk, not a network share)", mode)
		case !isBusy(err) || time.Now().After(deadline):
			return fmt.Errorf("switch to WAL mode: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("switch to WAL mode: %w", ctx.Err())
		case <-time.After(pause):
		}
	}
}

// isBusy reports whether err is SQLite's "database is locked".
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}
