package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/store"
)

// CheckSQLite passes a sound file and catches a damaged one.
func TestCheckSQLiteTellsASoundFileFromADamagedOne(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UpsertRows(ctx, belvo.Transactions, "l", rows(2000, "v1")); err != nil {
		t.Fatal(err)
	}
	s.Close() // checkpoints the WAL into the file
	if got, err := store.CheckSQLite(ctx, path); err != nil || got != "ok" {
		t.Fatalf("sound file: %q (err %v)", got, err)
	}
	if got, err := store.CheckSQLite(ctx, path+".missing"); err == nil {
		t.Fatalf("a missing file passed the integrity check: %q", got)
	}
	if st, err := os.Stat(path); err != nil || st.Size() < 50*4096 {
		t.Fatalf("the file is too small to damage in its middle: %v, %v", st, err)
	}
	// Zero a stretch of pages past the schema: rows and index entries go.
	f, err := os.OpenFile(path, os.O_WRONLY, 0) //nolint:gosec // a file the test made
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(make([]byte, 3*4096), 40*4096); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got, err := store.CheckSQLite(ctx, path); err == nil && got == "ok" {
		t.Fatal("a file with zeroed pages passed the integrity check")
	} else {
		t.Logf("damaged file: %.200s (err %v)", got, err)
	}
}
