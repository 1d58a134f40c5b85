// Command incrementalbench measures what a recurrent update costs against a
// full relist of the same link, side by side in one run: one link with many
// transactions (the sandbox as its own process), listed whole into the
// store (the historical fetch, which sets the cursor), then day after day
// (by the emulator's clock) a batch of new transactions read from the
// cursor, each followed by a full relist. Both go through the real listing
// activity (FetchResource) into SQLite. It checks what must hold whatever
// the machine (pages of an update, rows read, rows stored) and reports the
// times, never asserting them.
//
//	go run ./bench/incremental                                   # 100,000 + 100 (BENCHMARKS.md)
//	go run ./bench/incremental -transactions 3000 -new 100 -rounds 1   # short form (CI)
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/internal/stack"
	"github.com/belvo-temporal/backbone/logging"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/store"
	"go.temporal.io/sdk/testsuite"
	"go.uber.org/zap"
)

// maxUpdatePages is the most pages an update of a few hundred new rows may
// read (issue #15): one page of new rows and overlap, or two when they
// straddle a page.
const maxUpdatePages = 2

func main() {
	transactions := flag.Int("transactions", 100_000, "transactions of the link's history")
	added := flag.Int("new", 100, "new transactions per update")
	rounds := flag.Int("rounds", 3, "updates (each followed by a full relist); the table shows the best of each")
	flag.Parse()
	if *transactions < 1 || *added < 1 || *rounds < 1 {
		fmt.Fprintln(os.Stderr, "incrementalbench: -transactions, -new and -rounds must be positive")
		os.Exit(2)
	}
	if err := run(*transactions, *added, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "incrementalbench:", err)
		os.Exit(1)
	}
}

// bench is one run's link, store and listing activity.
type bench struct {
	link string
	ctl  sandbox.Control
	st   store.Store
	a    *activities.Activities
	env  *testsuite.TestActivityEnvironment
}

// listing is one FetchResource's outcome.
type listing struct {
	pages, read int
	seconds     float64
}

func run(transactions, added, rounds int) error {
	ctx := context.Background()
	root, err := stack.RepoRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "incrementalbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintln(os.Stderr, "building the sandbox…")
	if err := stack.Build(ctx, root, filepath.Join(tmp, "bin"), os.Stderr, "sandbox"); err != nil {
		return err
	}
	// Webhooks go to a receiver that accepts them: this benchmark lists
	// directly, as LinkUpdates's activity would on each webhook.
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	defer hooks.Close()
	sb, err := stack.Start(ctx, stack.Options{Root: root, Bin: filepath.Join(tmp, "bin"), Dir: tmp, Sandbox: true,
		Env: []string{"SANDBOX_TRANSACTIONS=" + strconv.Itoa(transactions), "SANDBOX_WEBHOOK_URL=" + hooks.URL, "LOG_LEVEL=warn"}})
	if err != nil {
		return err
	}
	defer sb.Stop()
	b, err := newBench(ctx, sb.Config.BelvoBaseURL, filepath.Join(tmp, "belvo.db"))
	if err != nil {
		return err
	}
	defer b.st.Close()

	fmt.Fprintf(os.Stderr, "link %s: historical fetch of %d transactions…\n", b.link, transactions)
	hist, err := b.list(false, transactions)
	if err != nil {
		return fmt.Errorf("historical fetch: %w", err)
	}
	// The first update after the historical fetch reads the history again:
	// it was collected at one instant, the cursor, within the overlap.
	first, err := b.update(ctx, added, transactions+added)
	if err != nil {
		return fmt.Errorf("first update: %w", err)
	}
	fmt.Fprintf(os.Stderr, "  historical fetch %d pages %.2fs; first update (reads the history again) %d pages %.2fs\n",
		hist.pages, hist.seconds, first.pages, first.seconds)
	var bestUpd, bestFull listing
	prev := added
	for r := range rounds {
		// Another day: the update reads the new rows and the day before's
		// (the overlap).
		upd, err := b.update(ctx, added, prev+added)
		if err != nil {
			return fmt.Errorf("round %d update: %w", r+1, err)
		}
		if upd.pages > maxUpdatePages {
			return fmt.Errorf("round %d: the update of %d new transactions read %d pages, at most %d allowed", r+1, added, upd.pages, maxUpdatePages)
		}
		prev = added
		want, err := b.expected(ctx)
		if err != nil {
			return err
		}
		full, err := b.list(false, want)
		if err != nil {
			return fmt.Errorf("round %d full relist: %w", r+1, err)
		}
		fmt.Fprintf(os.Stderr, "  round %d: update %d rows %d pages %.3fs; full relist %d rows %d pages %.2fs\n",
			r+1, upd.read, upd.pages, upd.seconds, full.read, full.pages, full.seconds)
		if bestUpd.seconds == 0 || upd.seconds < bestUpd.seconds {
			bestUpd = upd
		}
		if bestFull.seconds == 0 || full.seconds < bestFull.seconds {
			bestFull = full
		}
	}
	report(transactions, added, bestUpd, bestFull)
	return nil
}

func newBench(ctx context.Context, sbURL, dbPath string) (*bench, error) {
	d := sandbox.Config{}.WithDefaults()
	bc, err := belvo.New(belvo.Options{BaseURL: sbURL, SecretID: d.SecretID, SecretPassword: d.SecretPassword})
	if err != nil {
		return nil, err
	}
	info, err := bc.RegisterLink(ctx, belvo.RegisterLinkRequest{Institution: "erebor_mx_retail", Username: d.BankUsername,
		Password: d.BankPassword, AccessMode: "recurrent", FetchResources: []belvo.Resource{belvo.Transactions}})
	if err != nil {
		return nil, fmt.Errorf("register the link: %w", err)
	}
	st, err := store.Open(ctx, "sqlite:"+dbPath)
	if err != nil {
		return nil, err
	}
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(logging.NewTemporal(zap.NewNop()))
	env := suite.NewTestActivityEnvironment()
	a := &activities.Activities{Belvo: bc, Store: st}
	env.RegisterActivity(a)
	return &bench{link: info.ID, ctl: sandbox.Control{BaseURL: sbURL}, st: st, a: a, env: env}, nil
}

// update ages the link a day (by the emulator's clock), adds n new
// transactions and reads from the cursor; it checks that wantRead rows
// were read (the new ones and the overlap) and the store holds exactly
// the link's rows.
func (b *bench) update(ctx context.Context, n, wantRead int) (listing, error) {
	if _, err := b.ctl.AdvanceClock(ctx, 24*time.Hour); err != nil {
		return listing{}, err
	}
	if _, err := b.ctl.Event(ctx, b.link, "new_transactions_available", n); err != nil {
		return listing{}, err
	}
	want, err := b.expected(ctx)
	if err != nil {
		return listing{}, err
	}
	l, err := b.list(true, want)
	if err != nil {
		return l, err
	}
	if l.read != wantRead {
		return l, fmt.Errorf("the update read %d rows, want %d (new and overlap)", l.read, wantRead)
	}
	return l, nil
}

// list runs one listing (incremental or whole) and checks the store then
// holds exactly stored rows of the link.
func (b *bench) list(incremental bool, stored int) (listing, error) {
	t0 := time.Now()
	val, err := b.env.ExecuteActivity(b.a.FetchResource, activities.FetchResourceInput{LinkID: b.link, Resource: belvo.Transactions, Incremental: incremental})
	elapsed := time.Since(t0)
	if err != nil {
		return listing{}, err
	}
	var res activities.FetchResourceResult
	if err := val.Get(&res); err != nil {
		return listing{}, err
	}
	if incremental && res.Since == "" {
		return listing{}, fmt.Errorf("the update listed whole: no cursor")
	}
	if res.Stored != stored {
		return listing{}, fmt.Errorf("the store holds %d transactions, Belvo %d", res.Stored, stored)
	}
	return listing{pages: res.Pages, read: res.BelvoCount, seconds: elapsed.Seconds()}, nil
}

func (b *bench) expected(ctx context.Context) (int, error) {
	m, err := b.ctl.Expected(ctx, b.link)
	if err != nil {
		return 0, err
	}
	return m[belvo.Transactions], nil
}

func report(transactions, added int, upd, full listing) {
	host, _ := os.Hostname()
	fmt.Printf("\n### Incremental update: one link, %d transactions, %d new — %s, %s, %d CPUs, %s\n\n", transactions, added,
		time.Now().UTC().Format("2006-01-02"), host, runtime.NumCPU(), runtime.Version())
	fmt.Println("| read | rows read | pages | seconds | vs full relist |")
	fmt.Println("| --- | --- | --- | --- | --- |")
	fmt.Printf("| full relist | %d | %d | %.3f | 100 %% |\n", full.read, full.pages, full.seconds)
	fmt.Printf("| recurrent update (from the cursor) | %d | %d | %.3f | %.2f %% |\n", upd.read, upd.pages, upd.seconds, 100*upd.seconds/full.seconds)
}
