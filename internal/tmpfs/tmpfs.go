// Package tmpfs mounts small RAM filesystems, so that tests and the
// reliability suite can fill a real disk under a real database and free
// it again. Mounting needs root (CAP_SYS_ADMIN); where it is refused the
// error says so, and callers fail with it rather than skip.
package tmpfs

import "fmt"

// Disk is a mounted tmpfs.
type Disk struct {
	// Dir is where it is mounted.
	Dir string
}

// options is the mount data for a size in bytes (tmpfs rounds it up to
// whole pages).
func options(size int64) string { return fmt.Sprintf("size=%d,mode=0700", size) }
