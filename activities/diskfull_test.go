//go:build integration

package activities

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/internal/tmpfs"
	"github.com/belvo-temporal/backbone/store"
	"go.temporal.io/sdk/temporal"
)

// diskPage is one listing page of n transactions of about 2 KB each, with
// ids unique to page p.
func diskPage(p, n int) []store.Row {
	rows := make([]store.Row, n)
	pad := strings.Repeat("x", 2000)
	for i := range rows {
		id := fmt.Sprintf("txn-%d-%d", p, i)
		rows[i] = store.Row{ID: id, Data: fmt.Appendf(nil, `{"id":%q,"description":%q}`, id, pad)}
	}
	return rows
}

// A listing's page written to SQLite on a real tmpfs that fills (in the
// integration loop: mounting needs root, which the quick loop must not): the
// failure names the disk and stays retryable, the page is not half-stored,
// the same write succeeds once space is freed, and the file is sound.
func TestFullDiskUnderSQLiteIsRetriedAndHarmless(t *testing.T) {
	ctx := context.Background()
	disk, err := tmpfs.Mount(filepath.Join(t.TempDir(), "disk"), 2<<20)
	if err != nil {
		t.Fatalf("this test needs a real tmpfs (run it as root): %v", err)
	}
	t.Cleanup(func() {
		if err := disk.Unmount(); err != nil {
			t.Error(err)
		}
	})
	path := filepath.Join(disk.Dir, "belvo.db")
	st, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const link, perPage = "link-full", 100
	// Store pages until the disk refuses one: 2 MiB holds a few.
	var failed []store.Row
	var werr error
	committed := 0
	for p := 0; p < 100 && werr == nil; p++ {
		failed = diskPage(p, perPage)
		if werr = st.UpsertRows(ctx, belvo.Transactions, link, failed); werr == nil {
			committed += perPage
		}
	}
	if werr == nil {
		t.Fatalf("100 pages of %d rows fitted on a 2 MiB disk", perPage)
	}
	if committed == 0 {
		t.Fatalf("the disk was full before the first page: %v", werr)
	}
	t.Logf("after %d rows: %v", committed, werr)
	if !errors.Is(werr, store.ErrDiskFull) {
		t.Fatalf("the write failed for another reason than a full disk: %v", werr)
	}
	want := "store: the disk holding " + path + " is full ("
	if !strings.Contains(werr.Error(), want) || !strings.Contains(werr.Error(), "free space; the write will be retried") {
		t.Errorf("error %q does not say %q and what happens next", werr, want)
	}
	classified := storeError(werr)
	var app *temporal.ApplicationError
	if !errors.As(classified, &app) || app.NonRetryable() || app.Type() != ErrTypeStoreDiskFull {
		t.Fatalf("activity error %#v: want a retryable %s application error", classified, ErrTypeStoreDiskFull)
	}
	if app.Message() != werr.Error() {
		t.Errorf("activity error %q hides the store's %q", app.Message(), werr)
	}
	// Nothing of the refused page was committed.
	if n, err := st.Count(ctx, belvo.Transactions, link); err != nil || n != committed {
		t.Fatalf("after the refused page: %d rows stored (err %v), want the %d committed before it", n, err, committed)
	}
	// Free space: the same write, on the same store (its connections
	// survived the error), succeeds.
	if err := disk.Resize(8 << 20); err != nil {
		t.Fatal(err)
	}
	if err := st.UpsertRows(ctx, belvo.Transactions, link, failed); err != nil {
		t.Fatalf("the write after freeing space: %v", err)
	}
	if err := st.MarkFetched(ctx, link, belvo.Transactions, committed+perPage); err != nil {
		t.Fatalf("a second write after freeing space: %v", err)
	}
	if n, err := st.Count(ctx, belvo.Transactions, link); err != nil || n != committed+perPage {
		t.Fatalf("after the retry: %d rows stored (err %v), want %d", n, err, committed+perPage)
	}
	if got, err := store.CheckSQLite(ctx, path); err != nil || got != "ok" {
		t.Errorf("PRAGMA integrity_check: %q (err %v)", got, err)
	}
}
