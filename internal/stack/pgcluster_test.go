//go:build integration

package stack

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestPGClusterSurvivesKill: a row committed before an immediate shutdown
// (a crash: no checkpoint) is there after Start replays the WAL, on the
// same address; a fast Restart keeps it too.
func TestPGClusterSurvivesKill(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := NewPGCluster(ctx, PGClusterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	exec := func(sql string) {
		t.Helper()
		conn, err := pgx.Connect(ctx, c.AdminDSN())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int {
		t.Helper()
		conn, err := pgx.Connect(ctx, c.AdminDSN())
		if err != nil {
			t.Fatalf("connect after restart: %v", err)
		}
		defer conn.Close(ctx)
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM kept").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	exec("CREATE TABLE kept (id int primary key)")
	exec("INSERT INTO kept SELECT generate_series(1, 1000)")
	addr := c.Addr
	if err := c.Kill(); err != nil {
		t.Fatal(err)
	}
	if c.Running() {
		t.Fatal("the cluster still runs after Kill")
	}
	if _, err := pgx.Connect(ctx, c.AdminDSN()); err == nil {
		t.Fatal("a connection succeeded while the cluster was down")
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if c.Addr != addr {
		t.Fatalf("restarted on %s, want %s", c.Addr, addr)
	}
	if n := count(); n != 1000 {
		t.Fatalf("after Kill and Start: %d rows, want 1000", n)
	}
	exec("INSERT INTO kept VALUES (1001)")
	if err := c.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1001 {
		t.Fatalf("after Restart: %d rows, want 1001", n)
	}
}
