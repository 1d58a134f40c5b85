package procs

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
)

// Build compiles the product's commands (./cmd/<name>) into outDir, one
// binary per name, from the module at root: the stacks, benchmarks and tests
// run them as separate processes, as in production. The compiler's output
// goes to out.
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
