package stack_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/internal/stack"
	"github.com/belvo-temporal/backbone/internal/testenv"
)

// scripts/test.sh installs the Temporal CLI in bash, before any Go runs:
// its version must stay the one the stacks install.
func TestScriptInstallsTheSameTemporalCLI(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "scripts", "test.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^TEMPORAL_CLI_VERSION=(\S+)$`).FindSubmatch(b)
	if m == nil || string(m[1]) != stack.TemporalCLIVersion {
		t.Fatalf("scripts/test.sh pins %q, internal/stack %s", m, stack.TemporalCLIVersion)
	}
}

// A stack of the sandbox alone, as a process: it serves, survives a
// kill -9 and restart on the same address, and stops.
func TestSandboxProcessRestartsOnItsAddress(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := t.TempDir()
	if err := stack.Build(ctx, testenv.RepoRoot(), bin, os.Stderr, "sandbox"); err != nil {
		t.Fatal(err)
	}
	st, err := stack.Start(ctx, stack.Options{Root: testenv.RepoRoot(), Bin: bin, Dir: t.TempDir(), Sandbox: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	if _, err := st.Control().Stats(ctx); err != nil {
		t.Fatalf("sandbox not serving: %v", err)
	}
	old := st.Sandbox
	np, err := st.Restart(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	if old.Running() || !np.Running() || st.Sandbox != np {
		t.Fatalf("restart: old running %v, new running %v, stack points at the new one %v", old.Running(), np.Running(), st.Sandbox == np)
	}
	if _, err := st.Control().Stats(ctx); err != nil {
		t.Fatalf("sandbox not serving after the restart: %v", err)
	}
	if _, err := os.Stat(st.LogPath("sandbox")); err != nil {
		t.Errorf("no log file: %v", err)
	}
}

// Workers and bridges need Temporal: a stack that names none is refused
// with a clear error before anything starts.
func TestWorkersNeedTemporal(t *testing.T) {
	_, err := stack.Start(context.Background(), stack.Options{Root: testenv.RepoRoot(), Dir: t.TempDir(), Workers: 1})
	if err == nil || !regexp.MustCompile(`need Temporal`).MatchString(err.Error()) {
		t.Fatalf("error %v, want one saying workers need Temporal", err)
	}
}
