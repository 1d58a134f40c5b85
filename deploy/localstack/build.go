package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/belvo-temporal/backbone/internal/procs"
	"time"
)

// ensureTemporalCLI installs the pinned Temporal CLI into bin/ unless it is
// there already, and returns its path.
func ensureTemporalCLI(ctx context.Context, root string) (string, error) {
	bin := filepath.Join(root, "bin")
	path := filepath.Join(bin, "temporal")
	if _, err := os.Stat(path); err == nil {
		fmt.Printf("✓ Temporal CLI present: %s\n", path)
		return path, nil
	}
	fmt.Printf("→ installing Temporal CLI %s into %s (about 5 minutes on a cold module cache)…\n", TemporalCLIVersion, bin)
	cmd := exec.CommandContext(ctx, "go", "install", "github.com/temporalio/cli/cmd/temporal@"+TemporalCLIVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+bin)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	done := make(chan struct{})
	go procs.Elapsed("building the Temporal CLI", 20*time.Second, done)
	err := cmd.Run()
	close(done)
	if err != nil {
		return "", fmt.Errorf("install Temporal CLI %s: %w", TemporalCLIVersion, err)
	}
	fmt.Printf("✓ Temporal CLI installed: %s\n", path)
	return path, nil
}

// buildBinaries builds the product's commands into bin/, so each runs as its
// own process like in production.
func buildBinaries(ctx context.Context, root string) error {
	fmt.Println("→ building worker, bridge, sandbox, codec server and starter…")
	if err := procs.Build(ctx, root, filepath.Join(root, "bin"), os.Stdout, "worker", "bridge", "sandbox", "codec-server", "starter"); err != nil {
		return err
	}
	fmt.Println("✓ binaries built in bin/")
	return nil
}
