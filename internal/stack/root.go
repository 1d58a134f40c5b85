package stack

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// RepoRoot finds the module root (the directory holding go.mod) from the
// working directory, so stack commands work from any folder of the repository.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run this from inside the repository (no go.mod found above the working directory)")
		}
		dir = parent
	}
}

// Elapsed prints a progress line to out every interval until done is
// closed, so a long build does not look like a hang.
func Elapsed(out io.Writer, what string, interval time.Duration, done <-chan struct{}) {
	start := time.Now()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			fmt.Fprintf(out, "  … still %s (%s elapsed)\n", what, time.Since(start).Round(time.Second))
		}
	}
}
