package tmpfs

import (
	"fmt"
	"os"
	"syscall"
)

// Mount mounts a tmpfs of size bytes on dir, creating dir when needed.
func Mount(dir string, size int64) (*Disk, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tmpfs: create mount point %s: %w", dir, err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, options(size)); err != nil {
		return nil, fmt.Errorf("tmpfs: mount a %d-byte tmpfs on %s (needs root, CAP_SYS_ADMIN): %w", size, dir, err)
	}
	return &Disk{Dir: dir}, nil
}

// Resize changes the disk's size in place; what it holds stays. It cannot
// shrink below what is in use.
func (d *Disk) Resize(size int64) error {
	if err := syscall.Mount("tmpfs", d.Dir, "tmpfs", syscall.MS_REMOUNT|syscall.MS_NOSUID|syscall.MS_NODEV, options(size)); err != nil {
		return fmt.Errorf("tmpfs: resize %s to %d bytes: %w", d.Dir, size, err)
	}
	return nil
}

// Free is the bytes an unprivileged write may still use.
func (d *Disk) Free() (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(d.Dir, &st); err != nil {
		return 0, fmt.Errorf("tmpfs: statfs %s: %w", d.Dir, err)
	}
	return int64(st.Bavail) * st.Bsize, nil //nolint:gosec // block counts of a small tmpfs fit an int64
}

// Unmount unmounts the disk (lazily, so a process still holding a file
// there cannot keep it mounted) and removes the mount point.
func (d *Disk) Unmount() error {
	if err := syscall.Unmount(d.Dir, syscall.MNT_DETACH); err != nil {
		return fmt.Errorf("tmpfs: unmount %s: %w", d.Dir, err)
	}
	return os.Remove(d.Dir)
}
