package main

import (
	"context"
	"syscall"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/internal/stack"
	"github.com/belvo-temporal/backbone/store"
	"github.com/jackc/pgx/v5"
)

// benchApp is the application_name of the PostgreSQL store's connections in
// the postgres mode, which finds their server processes.
const benchApp = "volumebench"

// selfCPU is this process's user and system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverCPU sums the CPU time of the PostgreSQL backends serving the
// store (by application_name), by pid. It reads /proc, so it counts only
// when the server runs on this machine (loopback, as in BENCHMARKS.md);
// otherwise it returns nothing.
func serverCPU(ctx context.Context, conn *pgx.Conn) map[int]time.Duration {
	rows, err := conn.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, benchApp)
	if err != nil {
		return nil
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil
	}
	out := map[int]time.Duration{}
	for _, pid := range pids {
		// 0: the backend exited meanwhile (a live one has used some
		// CPU by now), so it is left out as if never seen.
		if d := stack.CPUOf(int(pid)); d > 0 {
			out[int(pid)] = d
		}
	}
	return out
}

// serverCPUSince is how much CPU the backends used between two samples; a
// backend started in between counts whole.
func serverCPUSince(before, after map[int]time.Duration) time.Duration {
	var d time.Duration
	for pid, t := range after {
		d += t - before[pid]
	}
	return d
}

// timedStore adds up the time the listing spends in UpsertRows (the
// writer's side of the pipeline: the listing downloads the next page
// meanwhile).
type timedStore struct {
	store.Store
	spent time.Duration
}

// UpsertRows implements store.Store. The activity calls it from one
// goroutine at a time, so spent needs no lock.
func (t *timedStore) UpsertRows(ctx context.Context, r belvo.Resource, linkID string, rows []store.Row) error {
	t0 := time.Now()
	err := t.Store.UpsertRows(ctx, r, linkID, rows)
	t.spent += time.Since(t0)
	return err
}
