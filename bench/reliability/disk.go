package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/belvo-temporal/backbone/internal/tmpfs"
	"github.com/belvo-temporal/backbone/store"
	"github.com/belvo-temporal/backbone/workflows"
	"github.com/google/uuid"
)

// diskPlan sizes the disk-full scenario: the big listing that the disk
// fills under, the tmpfs, and how long it stays full.
//
// The listing must still have more to write, once the disk is full, than
// the store's WAL holds: SQLite rewrites its WAL from the start after each
// checkpoint, so up to a WAL's worth of pages (10,000 pages, about 40 MB:
// some 13,000 transactions here) is written into space the file already
// has. With 20,000 transactions, a fill just after a checkpoint left the
// rest of the listing room enough, and it ended without meeting the full
// disk. At least 40,000 transactions remain after a fill at a third.
type diskPlan struct {
	transactions int
	size         int64
	full         time.Duration
}

func (o opts) diskPlan() diskPlan {
	if o.short {
		return diskPlan{transactions: 60_000, size: 384 << 20, full: 10 * time.Second}
	}
	return diskPlan{transactions: 100_000, size: 1 << 30, full: 30 * time.Second}
}

// diskSlack is the free space left when the disk is filled: about two
// listing pages, so the listing itself is what meets the full disk.
const diskSlack = 3 << 20

// diskFull puts the workers' store on SQLite on a small tmpfs and lets it
// fill part-way through a big listing, with the usual work in flight: the
// activity must fail naming the disk, be retried, and complete once space
// is freed, the file sound afterwards (PRAGMA integrity_check).
//
// Both workers write the one file, as two workers on one host would: the
// store opens it in WAL mode with immediate transactions and a 30 s busy
// timeout, so the processes' writes queue for SQLite's write lock rather
// than fail.
func diskFull(ctx context.Context, o opts) (r row, err error) {
	p := o.diskPlan()
	mnt, err := os.MkdirTemp("", "reliability-disk-")
	if err != nil {
		return row{}, fmt.Errorf("mount point: %w", err)
	}
	disk, err := tmpfs.Mount(mnt, p.size)
	if err != nil {
		return row{}, err
	}
	// Always unmount, whatever failed.
	defer func() {
		if uerr := disk.Unmount(); uerr != nil {
			err = errors.Join(err, uerr)
		}
	}()
	path := filepath.Join(disk.Dir, "belvo.db")
	r, err = fillDuringListing(ctx, o, p, disk, path)
	// The stack has stopped: the file is as the workers left it.
	check, cerr := store.CheckSQLite(ctx, path)
	if cerr != nil {
		return r, errors.Join(err, cerr)
	}
	r.notes = append(r.notes, "PRAGMA integrity_check afterwards: "+check)
	if check != "ok" {
		err = errors.Join(err, fmt.Errorf("the store's file is damaged: %s", check))
	}
	return r, err
}

// fillDuringListing runs the stack on the disk, fills the disk during the
// big listing, frees it once the failure shows, and tallies the work.
func fillDuringListing(ctx context.Context, o opts, p diskPlan, disk *tmpfs.Disk, path string) (row, error) {
	s, err := startProd(ctx, o, prodOptions{name: "disk-full", storeDSN: "sqlite:" + path})
	defer s.close()
	if err != nil {
		return row{}, err
	}
	// The big listing starts first. The usual work is offered once a third
	// of it is stored, just before the disk fills, so that all of it (its
	// listings, async requests, webhooks) runs through the fault too.
	link, err := s.widgetLinkSized(ctx, "rel-disk-big-"+uuid.NewString()[:8], p.transactions)
	if err != nil {
		return row{}, err
	}
	bigDone := make(chan error, 1)
	go func() { bigDone <- s.waitExecution(ctx, link) }()
	stored, err := s.waitStored(ctx, link, p.transactions/3, p.transactions, 5*time.Minute)
	if err != nil {
		return row{}, err
	}
	w := o.work()
	f, err := s.offer(ctx, w)
	if err != nil {
		return row{}, err
	}
	f.mu.Lock()
	f.linkIDs = append(f.linkIDs, link)
	f.mu.Unlock()
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		f.done(<-bigDone)
	}()
	notes, faultEnd, ferr := s.fillAndFree(ctx, p, disk, path, link, stored)
	r, err := s.tally(ctx, f, faultEnd)
	r.inFlight = fmt.Sprintf("a widget link of %d transactions (the listing the disk fills under) + %s", p.transactions, w)
	r.notes = append(notes, r.notes...)
	if n := workerLogLines(s, "is full (SQLITE_FULL)"); n >= 0 {
		r.notes = append(r.notes, fmt.Sprintf("mentions of the full disk in the workers' logs: %d", n))
	}
	return r, errors.Join(ferr, err)
}

// fillAndFree fills the disk but for diskSlack with a file, waits for the
// big listing's activity to fail on it, keeps the disk full for p.full
// (the engine retries meanwhile) and deletes the file. It returns the
// row's notes and when space was freed; storePath is the store's file,
// whose size (and its WAL's) at the fill it prints.
func (s *prodStack) fillAndFree(ctx context.Context, p diskPlan, disk *tmpfs.Disk, storePath, link string, stored int) ([]string, time.Time, error) {
	filler := filepath.Join(disk.Dir, "filler")
	size, err := fill(disk, filler, diskSlack)
	if err != nil {
		_ = os.Remove(filler)
		return nil, time.Time{}, err
	}
	full := time.Now()
	fmt.Printf("→ disk filled (a %d MiB file) with %d of %d transactions of %s stored; %s\n",
		size>>20, stored, p.transactions, link, storeFiles(storePath))
	failure, err := s.waitFullFailure(ctx, link)
	if err != nil {
		_ = os.Remove(filler)
		return nil, time.Now(), err
	}
	fmt.Printf("→ the listing failed: %s\n", failure)
	select {
	case <-time.After(p.full):
	case <-ctx.Done():
	}
	attempt := s.listingAttempt(ctx, link)
	if err := os.Remove(filler); err != nil {
		return nil, time.Now(), fmt.Errorf("free the disk: %w", err)
	}
	freed := time.Now()
	fmt.Printf("→ disk freed after %s full\n", freed.Sub(full).Round(time.Second))
	notes := []string{
		fmt.Sprintf("a %d MiB tmpfs filled (but %d MiB) with %d of %d transactions stored; freed %s later, the listing then on attempt %d",
			p.size>>20, diskSlack>>20, stored, p.transactions, freed.Sub(full).Round(time.Second), attempt),
		"the listing's activity failed with: " + failure,
	}
	return notes, freed, ctx.Err()
}

// fill grows a file at path until the disk has no more than slack bytes
// free. The store keeps writing meanwhile, so it allocates what is free
// less slack, and again when a writer took some of it first (ENOSPC).
func fill(disk *tmpfs.Disk, path string, slack int64) (int64, error) {
	f, err := os.Create(path) //nolint:gosec // a path the harness made
	if err != nil {
		return 0, fmt.Errorf("filler: %w", err)
	}
	defer f.Close()
	var size int64
	for range 100 {
		free, err := disk.Free()
		if err != nil {
			return size, err
		}
		if free <= slack {
			return size, nil
		}
		err = syscall.Fallocate(int(f.Fd()), 0, size, free-slack) //nolint:gosec // a descriptor fits an int
		switch {
		case err == nil:
			size += free - slack
		case !errors.Is(err, syscall.ENOSPC):
			return size, fmt.Errorf("filler of %d bytes: %w", size+free-slack, err)
		}
	}
	return size, fmt.Errorf("the disk kept %d bytes free after 100 allocations", slack)
}

// waitFullFailure waits until the link's fetch execution has an activity
// whose last failure is the full disk, and returns that failure's text.
func (s *prodStack) waitFullFailure(ctx context.Context, link string) (string, error) {
	id := workflows.HistoricalFetchWorkflowID(link)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		e, err := s.load.Starter.Describe(ctx, id)
		if err != nil {
			return "", err
		}
		for _, pa := range e.Pending {
			if strings.Contains(pa.LastFailure, "is full") {
				return fmt.Sprintf("%s attempt %d: %s", pa.Type, pa.Attempt-1, pa.LastFailure), nil
			}
		}
		if !e.Running {
			return "", fmt.Errorf("%s ended (%s) without meeting the full disk", id, e.Status)
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no activity of %s failed on the full disk within 3 minutes (pending: %+v)", id, e.Pending)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// listingAttempt is the attempt the big listing's FetchResource is on (0
// when none is pending).
func (s *prodStack) listingAttempt(ctx context.Context, link string) int32 {
	e, err := s.load.Starter.Describe(ctx, workflows.HistoricalFetchWorkflowID(link))
	if err != nil {
		return 0
	}
	for _, pa := range e.Pending {
		if pa.Type == "FetchResource" {
			return pa.Attempt
		}
	}
	return 0
}

// workerLogLines counts what in the workers' logs (-1 when a log cannot
// be read).
func workerLogLines(s *prodStack, what string) int {
	n := 0
	for _, w := range s.Workers {
		b, err := os.ReadFile(s.LogPath(w.Name))
		if err != nil {
			return -1
		}
		n += bytes.Count(b, []byte(what))
	}
	return n
}

// storeFiles says how large the SQLite file and its WAL are: the WAL's
// size is space the store rewrites after each checkpoint without asking
// the disk for more.
func storeFiles(path string) string {
	size := func(p string) string {
		fi, err := os.Stat(p)
		if err != nil {
			return "?"
		}
		return fmt.Sprintf("%.1f MiB", float64(fi.Size())/(1<<20))
	}
	return "the store's file " + size(path) + ", its WAL " + size(path+"-wal")
}
