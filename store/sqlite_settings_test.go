package store

import (
	"context"
	"path/filepath"
	"testing"
)

// The store's one connection gets the memory-only settings that keep a
// page's statement journals and B-tree reads off the disk, and the
// durability ones: a connection opened without them would fall back to
// SQLite's defaults silently.
func TestSQLiteConnectionSettings(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "settings.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.db.Stats().MaxOpenConnections; got != sqliteConns {
		t.Errorf("pool allows %d connections, want %d", got, sqliteConns)
	}
	c, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tc := range []struct {
		pragma string
		want   int
	}{
		{"temp_store", 2}, // MEMORY
		{"cache_size", -sqliteCacheKiB},
		{"synchronous", 2}, // FULL: a commit survives a power loss
		{"wal_autocheckpoint", sqliteCheckpointPages},
		{"busy_timeout", 30000},
	} {
		var got int
		if err := c.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tc.pragma, err)
		}
		if got != tc.want {
			t.Errorf("PRAGMA %s = %d, want %d", tc.pragma, got, tc.want)
		}
	}
}
