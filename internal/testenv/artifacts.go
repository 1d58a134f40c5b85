package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// ArtifactPath is where a test keeps a file for people to look at after the
// run (a screenshot, a metrics scrape): $ARTIFACTS_DIR or artifacts/ in the
// repository (git-ignored), created when missing.
func ArtifactPath(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv("ARTIFACTS_DIR")
	if dir == "" {
		dir = filepath.Join(RepoRoot(), "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts directory %s: %v", dir, err)
	}
	return filepath.Join(dir, name)
}
