//go:build integration

package stack_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/internal/stack"
	"go.temporal.io/sdk/client"
	_ "modernc.org/sqlite" // reads the server's database file
)

// A dev server that keeps its cluster in a file writes it in WAL mode (one
// log append and sync per commit instead of a journal file created, synced
// and deleted), and the file still holds the cluster across a restart: an
// execution started before it is found after it.
func TestDevServerFileIsInWALMode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	db := filepath.Join(t.TempDir(), "temporal.db")
	d := startDevServer(ctx, t, stack.DevServerOptions{Port: freePort(t), DBFile: db})
	run, err := dial(ctx, t, d).ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "journal-test", TaskQueue: "no-worker"}, "NoSuchWorkflow")
	if err != nil {
		t.Fatal(err)
	}

	f, err := sql.Open("sqlite", "file:"+db+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var mode string
	if err := f.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatalf("read the journal mode of %s: %v", db, err)
	}
	if mode != "wal" {
		t.Errorf("journal mode of the dev server's file is %q, want wal", mode)
	}

	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx); err != nil {
		t.Fatalf("restart on the same file: %v", err)
	}
	desc, err := dial(ctx, t, d).DescribeWorkflow(ctx, "journal-test", run.GetRunID())
	if err != nil {
		t.Fatalf("the execution started before the restart: %v", err)
	}
	if got := desc.WorkflowExecution.RunID; got != run.GetRunID() {
		t.Errorf("run after the restart %s, want %s", got, run.GetRunID())
	}
}
