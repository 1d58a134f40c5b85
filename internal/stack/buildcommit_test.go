//go:build integration

// Under the integration tag: it needs git and the repository's history,
// which the quick loop (Go alone) does not.

package stack_test

import (
	"context"
	"os"
	"regexp"
	"testing"

	"github.com/belvo-temporal/backbone/internal/stack"
	"github.com/belvo-temporal/backbone/internal/testenv"
)

// A commit the clone does not have (a shallow clone, say) is refused with
// the way to get it, before anything is built.
func TestBuildCommitNamesAMissingCommit(t *testing.T) {
	missing := "0000000000000000000000000000000000000001"
	err := stack.BuildCommit(context.Background(), testenv.RepoRoot(), missing, t.TempDir(), os.Stderr, "worker")
	if err == nil || !regexp.MustCompile(`git fetch --unshallow`).MatchString(err.Error()) {
		t.Fatalf("error %v, want one naming git fetch --unshallow", err)
	}
}
