package stack

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// BuildCommit builds the product's commands (./cmd/<name>) as they were at
// commit of the git repository at root, into outDir: an earlier release, for
// a test that upgrades from it. The commit's tree is extracted with
// `git archive` into a temporary directory, so neither the repository nor
// its worktrees change, and built there as Build does, from the module cache
// or the module proxy. It needs the commit in the repository's history (a
// shallow clone may lack it).
func BuildCommit(ctx context.Context, root, commit, outDir string, out io.Writer, names ...string) error {
	src, err := os.MkdirTemp("", "backbone-at-"+commit[:min(len(commit), 12)]+"-")
	if err != nil {
		return fmt.Errorf("build at %s: %w", commit, err)
	}
	defer os.RemoveAll(src)
	if err := extractCommit(ctx, root, commit, src); err != nil {
		return err
	}
	return Build(ctx, src, outDir, out, names...)
}

// extractCommit writes the tree of commit into dir.
func extractCommit(ctx context.Context, root, commit, dir string) error {
	cmd := exec.CommandContext(ctx, "git", "-C", root, "archive", "--format=tar", commit)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	archive, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("git archive %s: %w", commit, err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("git archive %s (is git installed?): %w", commit, err)
	}
	untarErr := untar(archive, dir)
	// Drain what untar left, so git is not blocked writing when it failed.
	_, _ = io.Copy(io.Discard, archive)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git archive %s in %s: %w: %s (a shallow clone lacks older commits: git fetch --unshallow)",
			commit, root, err, strings.TrimSpace(stderr.String()))
	}
	if untarErr != nil {
		return fmt.Errorf("extract %s into %s: %w", commit, dir, untarErr)
	}
	return nil
}

// untar writes a tar stream's directories and regular files under dir
// (through os.Root, so no entry can land outside it); git archive makes
// nothing else but its comment header (the commit id).
func untar(r io.Reader, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeXGlobalHeader:
		case tar.TypeDir:
			if err := root.MkdirAll(h.Name, 0o750); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := writeFile(root, tr, h); err != nil {
				return err
			}
		default:
			return fmt.Errorf("entry %q is of a type git archive does not make here (%c)", h.Name, h.Typeflag)
		}
	}
}

// writeFile writes one regular file of the archive with its mode.
func writeFile(root *os.Root, r io.Reader, h *tar.Header) error {
	if err := root.MkdirAll(filepath.Dir(h.Name), 0o750); err != nil {
		return err
	}
	f, err := root.OpenFile(h.Name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, h.FileInfo().Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.CopyN(f, r, h.Size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
