package testenv

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/config"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// DefaultPostgresDSN is the machine's PostgreSQL (trust auth, database test).
const DefaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresDSN is the database tests use: $TEST_POSTGRES_DSN or the default.
func PostgresDSN() string {
	if v := os.Getenv("TEST_POSTGRES_DSN"); v != "" {
		return v
	}
	return DefaultPostgresDSN
}

// PostgresSchema creates an empty schema for one test and returns a DSN whose
// search_path selects it, so tests never see each other's tables; the schema
// is dropped when the test ends. An unreachable server fails the test:
// scripts/test.sh starts PostgreSQL, and CI must not pass by skipping.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, PostgresDSN())
	if err != nil {
		t.Fatalf("PostgreSQL is not reachable at %s (scripts/test.sh starts it; or set TEST_POSTGRES_DSN): %v", config.MaskDSN(PostgresDSN()), err)
	}
	defer conn.Close(ctx)
	schema := "t_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:16]
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, PostgresDSN()); err == nil {
			c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE") //nolint:errcheck // best effort
			c.Close(ctx)
		}
	})
	return WithSearchPath(PostgresDSN(), schema)
}

// WithSearchPath adds search_path=schema to a postgres:// DSN.
func WithSearchPath(dsn, schema string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		panic(fmt.Sprintf("testenv: bad DSN: %v", err))
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
