// Package testenv finds what tests need outside the module (the Temporal CLI,
// Belvo's OpenAPI specs, PostgreSQL, Chromium) and fails loudly when it is
// missing: CI must never pass by skipping. Tests that need any of them carry
// the integration build tag.
package testenv

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// RepoRoot is the module root (the directory holding go.mod).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// SpecDir is the directory of Belvo's OpenAPI specs: $BELVO_OPENAPI_DIR, or
// ../shared/reference/belvo-openapi beside the repository.
func SpecDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("BELVO_OPENAPI_DIR")
	if dir == "" {
		dir = filepath.Join(RepoRoot(), "..", "shared", "reference", "belvo-openapi")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("Belvo OpenAPI specs not found at %s (set BELVO_OPENAPI_DIR): %v", dir, err)
	}
	return dir
}

// TemporalCLI is the path of the pinned Temporal CLI: $TEMPORAL_CLI, or
// bin/temporal in the repository (scripts/test.sh installs it there).
func TemporalCLI(t testing.TB) string {
	t.Helper()
	p := os.Getenv("TEMPORAL_CLI")
	if p == "" {
		p = filepath.Join(RepoRoot(), "bin", "temporal")
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("Temporal CLI not found at %s: run scripts/test.sh (it installs v1.5.1) or set TEMPORAL_CLI: %v", p, err)
	}
	return p
}
