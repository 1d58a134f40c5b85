package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/internal/testenv"
	"github.com/belvo-temporal/backbone/logging"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/store"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/testsuite"
	"go.uber.org/zap"
)

// runChild lists the link once through the real FetchResource activity (in
// the SDK's activity test environment: heartbeats and all) into the mode's
// store, and prints a result.
func runChild(mode, link, sbURL, pg, profDir string) error {
	ctx := context.Background()
	st, conn, cleanup, err := openStore(ctx, mode, pg)
	if err != nil {
		return err
	}
	defer cleanup()
	d := sandbox.Config{}.WithDefaults()
	bc, err := belvo.New(belvo.Options{BaseURL: sbURL, SecretID: d.SecretID, SecretPassword: d.SecretPassword})
	if err != nil {
		return err
	}
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(logging.NewTemporal(zap.NewNop()))
	env := suite.NewTestActivityEnvironment()
	timed := &timedStore{Store: st}
	a := &activities.Activities{Belvo: bc, Store: timed}
	env.RegisterActivity(a)
	// The environment's first activity pays one-time costs (the SDK hashes
	// its binary); a real worker pays them at start, not per listing.
	env.RegisterActivity(warm)
	if _, err := env.ExecuteActivity(warm); err != nil {
		return err
	}

	if profDir != "" {
		f, err := os.Create(filepath.Join(profDir, mode+".pprof"))
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	runtime.GC()
	// Reset the peak RSS to the current RSS (Linux): the growth measured is
	// the listing's alone.
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	rssStart := status("VmRSS")
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	var srv0 map[int]time.Duration
	if conn != nil {
		srv0 = serverCPU(ctx, conn)
	}
	cpu0, t0 := selfCPU(), time.Now()
	val, err := env.ExecuteActivity(a.FetchResource, activities.FetchResourceInput{LinkID: link, Resource: belvo.Transactions})
	elapsed, cpu := time.Since(t0), selfCPU()-cpu0
	var srv time.Duration
	if conn != nil {
		srv = serverCPUSince(srv0, serverCPU(ctx, conn))
	}
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	var res activities.FetchResourceResult
	if err := val.Get(&res); err != nil {
		return err
	}
	var ms1 runtime.MemStats
	runtime.ReadMemStats(&ms1)
	return json.NewEncoder(os.Stdout).Encode(result{Mode: mode, Rows: res.Stored, Pages: res.Pages, Seconds: elapsed.Seconds(),
		RSSStart: rssStart, RSSPeak: status("VmHWM"), HeapAlloc: ms1.TotalAlloc - ms0.TotalAlloc,
		CPU: cpu.Seconds(), ServerCPU: srv.Seconds(), UpsertSeconds: timed.spent.Seconds()})
}

// openStore opens the mode's store, empty; for PostgreSQL, with a
// connection of its own to the server, which finds the store's backends.
func openStore(ctx context.Context, mode, pg string) (store.Store, *pgx.Conn, func(), error) {
	switch mode {
	case "download":
		return &discard{}, nil, func() {}, nil
	case "sqlite":
		dir, err := os.MkdirTemp("", "volumebench-sqlite-")
		if err != nil {
			return nil, nil, nil, err
		}
		st, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "belvo.db"))
		return st, nil, func() { st.Close(); os.RemoveAll(dir) }, err
	case "postgres":
		schema := "vb_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
		conn, err := pgx.Connect(ctx, pg)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("PostgreSQL at %s: %w", config.MaskDSN(pg), err)
		}
		if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
			conn.Close(ctx)
			return nil, nil, nil, err
		}
		st, err := store.Open(ctx, withApp(testenv.WithSearchPath(pg, schema)))
		return st, conn, func() {
			if st != nil {
				st.Close()
			}
			_, _ = conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			conn.Close(ctx)
		}, err
	default:
		return nil, nil, nil, fmt.Errorf("unknown mode %q (download, sqlite, postgres)", mode)
	}
}

// withApp sets application_name on a postgres:// DSN (see benchApp).
func withApp(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	q.Set("application_name", benchApp)
	u.RawQuery = q.Encode()
	return u.String()
}

// status reads a kB value from /proc/self/status (VmRSS, VmHWM).
func status(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// discard is the download-only baseline: a store that keeps nothing but a
// count, so the activity does all its work except writing.
type discard struct{ rows int }

func (d *discard) UpsertRows(_ context.Context, _ belvo.Resource, _ string, rows []store.Row) error {
	d.rows += len(rows)
	return nil
}
func (d *discard) DeleteRows(context.Context, belvo.Resource, string, []string) (int, error) {
	return 0, nil
}
func (d *discard) Row(context.Context, belvo.Resource, string, string) ([]byte, error) {
	return nil, nil
}
func (d *discard) Count(context.Context, belvo.Resource, string) (int, error)      { return d.rows, nil }
func (d *discard) MarkFetched(context.Context, string, belvo.Resource, int) error  { return nil }
func (d *discard) Fetched(context.Context, string) (map[belvo.Resource]int, error) { return nil, nil }
func (d *discard) MarkWebhook(context.Context, string, string) error               { return nil }
func (d *discard) Webhooks(context.Context, string) ([]string, error)              { return nil, nil }
func (d *discard) DeleteLink(context.Context, string) (int, error)                 { return 0, nil }
func (d *discard) LinkDeleted(context.Context, string) (bool, error)               { return false, nil }
func (d *discard) Close() error                                                    { return nil }

// warm is a no-op activity run before the measurement.
func warm(context.Context) error { return nil }
