package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/belvo-temporal/backbone/belvo"
)

// writeVersion0 makes a SQLite file as the releases before schema versions
// wrote it (resource tables keyed by id alone, a second index on link_id,
// user_version 0), with rows of two links in transactions and one row in
// accounts.
func writeVersion0(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, r := range belvo.AllResources() {
		for _, st := range []string{
			fmt.Sprintf(`CREATE TABLE %s (
				id TEXT PRIMARY KEY, link_id TEXT NOT NULL, data TEXT NOT NULL, updated_at TEXT NOT NULL)`, r.Table()),
			fmt.Sprintf(`CREATE INDEX %s_link ON %s (link_id)`, r.Table(), r.Table()),
		} {
			if _, err := db.Exec(st); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range 30 {
		link := []string{"L1", "L2"}[i%2]
		if _, err := db.Exec(`INSERT INTO transactions VALUES (?, ?, ?, '2026-01-01T00:00:00Z')`,
			fmt.Sprintf("tx-%02d", i), link, fmt.Sprintf(`{"n":%d}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`INSERT INTO accounts VALUES ('acc-1', 'L1', '{"a":1}', '2026-01-01T00:00:00Z')`); err != nil {
		t.Fatal(err)
	}
}

// A file of an earlier release is rebuilt under the (link_id, id) key when
// this release opens it: every row kept with its data, the old indexes
// gone, the version recorded, the WAL the rebuild filled emptied; from
// then on the same id of another link is another row, and opening the file
// again changes nothing.
func TestSQLiteMigratesVersion0Files(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v0.db")
	writeVersion0(t, path)
	for open := range 2 { // the second open finds nothing to do
		s, err := OpenSQLite(ctx, path)
		if err != nil {
			t.Fatalf("open %d: %v", open, err)
		}
		var version int
		if err := s.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil || version != sqliteSchemaVersion {
			t.Errorf("open %d: user_version = %d (%v), want %d", open, version, err, sqliteSchemaVersion)
		}
		for link, want := range map[string]int{"L1": 15, "L2": 15} {
			if n, err := s.Count(ctx, belvo.Transactions, link); err != nil || n != want {
				t.Errorf("open %d: %s has %d transactions (%v), want %d", open, link, n, err, want)
			}
		}
		if data, err := s.Row(ctx, belvo.Transactions, "L2", "tx-07"); err != nil || string(data) != `{"n":7}` {
			t.Errorf("open %d: tx-07 of L2 = %s (%v)", open, data, err)
		}
		if data, err := s.Row(ctx, belvo.Accounts, "L1", "acc-1"); err != nil || string(data) != `{"a":1}` {
			t.Errorf("open %d: acc-1 of L1 = %s (%v)", open, data, err)
		}
		if open == 0 {
			wal, err := os.Stat(path + "-wal")
			if err != nil {
				t.Fatal(err)
			}
			if wal.Size() != 0 {
				t.Errorf("the WAL holds %d bytes after the rebuild, want it emptied", wal.Size())
			}
		}
		indexes := sqliteIndexes(t, s.db, "transactions")
		if indexes != "transactions_key(link_id,id,unique)" {
			t.Errorf("open %d: transactions' indexes are %s, want the key alone", open, indexes)
		}
		s.Close()
	}
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.UpsertRows(ctx, belvo.Transactions, "L1", []Row{{ID: "tx-01", Data: []byte(`{"n":"L1's"}`)}}); err != nil {
		t.Fatal(err)
	}
	if data, _ := s.Row(ctx, belvo.Transactions, "L2", "tx-01"); string(data) != `{"n":1}` {
		t.Errorf("L2's tx-01 = %s after L1 stored the same id, want it unchanged", data)
	}
	if n, _ := s.Count(ctx, belvo.Transactions, "L1"); n != 16 {
		t.Errorf("L1 has %d transactions, want 16", n)
	}
}

// A new file gets the key directly, and a file a newer release wrote is
// refused with a message that says so rather than used with a schema this
// release does not know.
func TestSQLiteSchemaVersions(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "new.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range belvo.AllResources() {
		want := r.Table() + "_key(link_id,id,unique)"
		if got := sqliteIndexes(t, s.db, r.Table()); got != want {
			t.Errorf("%s: indexes %s, want %s", r.Table(), got, want)
		}
	}
	if _, err := s.db.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, sqliteSchemaVersion+1)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = OpenSQLite(ctx, path)
	if err == nil || !strings.Contains(err.Error(), "newer release") {
		t.Errorf("opening a file of a newer schema: err = %v, want one naming a newer release", err)
	}
}

// sqliteIndexes describes a table's indexes as name(columns,unique), sorted
// by name and joined by spaces.
func sqliteIndexes(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	rows, err := db.Query(`SELECT il.name, il."unique",
		(SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(il.name) ORDER BY seqno))
		FROM pragma_index_list(?) AS il ORDER BY il.name`, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name, cols string
		var unique bool
		if err := rows.Scan(&name, &unique, &cols); err != nil {
			t.Fatal(err)
		}
		if unique {
			cols += ",unique"
		}
		out = append(out, name+"("+cols+")")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, " ")
}

// A conversion that fails part way leaves the file as it was: version 0,
// every table with its old indexes and rows, so the next start can try
// again. A table in the rebuild's way makes it fail at transactions, after
// tables before it were rebuilt.
func TestSQLiteFailedMigrationChangesNothing(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v0.db")
	writeVersion0(t, path)
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE transactions_v1 (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSQLite(ctx, path); err == nil || !strings.Contains(err.Error(), "migrate transactions") {
		t.Fatalf("open = %v, want the failed migration of transactions", err)
	}
	var version, n int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil || version != 0 {
		t.Errorf("user_version = %d (%v), want 0", version, err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM transactions`).Scan(&n); err != nil || n != 30 {
		t.Errorf("transactions holds %d rows (%v), want 30", n, err)
	}
	for _, r := range belvo.AllResources() {
		old := []string{r.Table() + "_link(link_id)", "sqlite_autoindex_" + r.Table() + "_1(id,unique)"}
		slices.Sort(old) // sqliteIndexes sorts by name
		if want, got := strings.Join(old, " "), sqliteIndexes(t, db, r.Table()); got != want {
			t.Errorf("%s: indexes %s, want the old ones, %s", r.Table(), got, want)
		}
	}
}
