//go:build !linux

package tmpfs

import (
	"errors"
	"fmt"
)

var errLinux = errors.New("tmpfs: mounting a tmpfs needs Linux")

// Mount fails: tmpfs is Linux's.
func Mount(dir string, size int64) (*Disk, error) {
	return nil, fmt.Errorf("mount %s: %w", dir, errLinux)
}

// Resize fails: tmpfs is Linux's.
func (d *Disk) Resize(size int64) error { return errLinux }

// Free fails: tmpfs is Linux's.
func (d *Disk) Free() (int64, error) { return 0, errLinux }

// Unmount fails: tmpfs is Linux's.
func (d *Disk) Unmount() error { return errLinux }
