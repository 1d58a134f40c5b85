package stack

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Build compiles the product's commands (./cmd/<name>) into outDir, one
// binary per name, from the module at root: stacks run them as separate
// processes, as in production. The compiler's output goes to out.
func Build(ctx context.Context, root, outDir string, out io.Writer, names ...string) error {
	args := []string{"build", "-o", outDir + string(os.PathSeparator)}
	for _, n := range names {
		args = append(args, "./cmd/"+n)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build %v into %s: %w", names, outDir, err)
	}
	return nil
}

// TemporalCLIVersion is the pinned Temporal CLI (its dev server runs every
// stack but the production-like one). scripts/test.sh installs the same
// version; a test keeps the two equal.
const TemporalCLIVersion = "v1.5.1"

// EnsureCLI installs the pinned Temporal CLI into root/bin unless it is
// there already, printing progress to out, and returns its path.
func EnsureCLI(ctx context.Context, root string, out io.Writer) (string, error) {
	bin := filepath.Join(root, "bin")
	path := filepath.Join(bin, "temporal")
	if _, err := os.Stat(path); err == nil {
		fmt.Fprintf(out, "✓ Temporal CLI present: %s\n", path)
		return path, nil
	}
	fmt.Fprintf(out, "→ installing Temporal CLI %s into %s (about 5 minutes on a cold module cache)…\n", TemporalCLIVersion, bin)
	cmd := exec.CommandContext(ctx, "go", "install", "github.com/temporalio/cli/cmd/temporal@"+TemporalCLIVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+bin)
	cmd.Stdout, cmd.Stderr = out, out
	done := make(chan struct{})
	go Elapsed(out, "building the Temporal CLI", 20*time.Second, done)
	err := cmd.Run()
	close(done)
	if err != nil {
		return "", fmt.Errorf("install Temporal CLI %s: %w", TemporalCLIVersion, err)
	}
	fmt.Fprintf(out, "✓ Temporal CLI installed: %s\n", path)
	return path, nil
}
