package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"syscall"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrDiskFull is matched (errors.Is) by every store error caused by a full
// disk. Such a write is undone whole, and it succeeds once space is freed,
// so callers retry it rather than give up.
var ErrDiskFull = errors.New("store: the disk is full")

// DiskFullError is a write that failed because the disk holding the
// database (its file, WAL or journal) is full. It names the file, so whoever
// reads the activity's failure knows which disk to free.
type DiskFullError struct {
	// Path is the database file.
	Path string
	// Code is how the disk's fullness was reported: "SQLITE_FULL", or the
	// I/O error an ENOSPC became (writing the WAL index, say).
	Code string
	// Err is the failed operation, with its context.
	Err error
}

// Error says what is wrong, where, and what happens next.
func (e *DiskFullError) Error() string {
	return fmt.Sprintf("store: the disk holding %s is full (%s): free space; the write will be retried: %v", e.Path, e.Code, e.Err)
}

// Unwrap makes the error match ErrDiskFull and still show its cause.
func (e *DiskFullError) Unwrap() []error { return []error{ErrDiskFull, e.Err} }

// diskFull turns err into a DiskFullError when SQLite says the disk is
// full: SQLITE_FULL (a write of the database, WAL or journal met ENOSPC), or
// an I/O error while the directory's filesystem has no space left (SQLite
// reports an ENOSPC growing its WAL index as SQLITE_IOERR_SHMSIZE, not as
// SQLITE_FULL). Other errors pass unchanged; so does nil.
func diskFull(path string, err error) error {
	var se *sqlite.Error
	if err == nil || !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff { // the primary code; extended codes add bits above
	case sqlite3.SQLITE_FULL:
		return &DiskFullError{Path: path, Code: "SQLITE_FULL", Err: err}
	case sqlite3.SQLITE_IOERR:
		if noSpaceLeft(filepath.Dir(path)) {
			return &DiskFullError{Path: path, Code: fmt.Sprintf("SQLITE_IOERR %d, no space left on the device", se.Code()), Err: err}
		}
	}
	return err
}

// noSpaceLeft reports whether the filesystem holding dir has no block left
// for an unprivileged write.
func noSpaceLeft(dir string) bool {
	var st syscall.Statfs_t
	return syscall.Statfs(dir, &st) == nil && st.Bavail == 0
}

// full, deferred by every SQLite write, names the database's disk in the
// write's error when that disk is full.
func (s *SQLite) full(err *error) { *err = diskFull(s.path, *err) }
