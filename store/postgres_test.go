//go:build integration

package store_test

import (
	"testing"

	"github.com/belvo-temporal/backbone/internal/testenv"
	"github.com/belvo-temporal/backbone/store"
)

// With the integration tag every behavioural test runs on PostgreSQL too
// (TEST_POSTGRES_DSN, default the machine's cluster; scripts/test.sh starts
// it).
func init() {
	backends = append(backends, backend{"postgres", func(t *testing.T) store.Store { return mustOpen(t, testenv.PostgresSchema(t)) }})
}
