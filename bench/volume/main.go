// Command volumebench measures one link's data volume end to end through the
// real listing activity (FetchResource: Belvo pages → store), with the
// sandbox as its own process: rows/s and the worker's peak RSS growth into
// SQLite and into PostgreSQL, next to a baseline measured in the same run
// that downloads and parses the same pages without storing them, so the
// store's share is visible. Each mode runs in a fresh child process, so one
// mode's heap never counts against the next. Rounds run the modes in turn;
// besides each mode's best, each store's ratio to the download-only run of
// the same round is printed, with its median (rounds.go).
//
//	go run ./bench/volume                          # 100,000 transactions (BENCHMARKS.md)
//	go run ./bench/volume -transactions 10000      # short form (CI)
//	go run ./bench/volume -cpuprofile-dir /tmp/p   # one CPU profile per mode
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/internal/stack"
	"github.com/belvo-temporal/backbone/internal/testenv"
	"github.com/belvo-temporal/backbone/sandbox"
)

// result is what a child reports for one mode.
type result struct {
	Mode      string  `json:"mode"`
	Rows      int     `json:"rows"`
	Pages     int     `json:"pages"`
	Seconds   float64 `json:"seconds"`
	RSSStart  int64   `json:"rss_start_kb"`
	RSSPeak   int64   `json:"rss_peak_kb"`
	HeapAlloc uint64  `json:"total_alloc_bytes"`
	CPU       float64 `json:"cpu_seconds"`        // the listing process's
	ServerCPU float64 `json:"server_cpu_seconds"` // PostgreSQL's backends'
	// SandboxCPU is the sandbox's CPU during the run (measured by the
	// parent): Belvo's side of the listing, on the same cores here.
	SandboxCPU float64 `json:"sandbox_cpu_seconds"`
	// UpsertSeconds is the time spent inside UpsertRows: when it is well
	// under Seconds - (the download's time), writing overlaps downloading.
	UpsertSeconds float64 `json:"upsert_seconds"`
}

func main() {
	child := flag.String("child", "", "internal: run one mode (download, sqlite, postgres) and print its result")
	link := flag.String("link", "", "internal: the sandbox link to list")
	sbURL := flag.String("sandbox", "", "internal: the sandbox's base URL")
	transactions := flag.Int("transactions", 100_000, "transactions of the link")
	modes := flag.String("modes", "download,sqlite,postgres", "modes to measure, in order")
	rounds := flag.Int("rounds", 3, "runs of each mode (the table shows the best)")
	pg := flag.String("postgres", testenv.PostgresDSN(), "PostgreSQL for the postgres mode (a schema is created and dropped)")
	profDir := flag.String("cpuprofile-dir", "", "write a CPU profile per mode into this directory")
	latency := flag.Duration("list-latency", 0, "the sandbox answers every page this much later (SANDBOX_LIST_LATENCY): Belvo across a network rather than a process on loopback")
	flag.Parse()
	var err error
	if *child != "" {
		err = runChild(*child, *link, *sbURL, *pg, *profDir)
	} else {
		err = runParent(parentOptions{transactions: *transactions, modes: strings.Split(*modes, ","), rounds: *rounds,
			pg: *pg, profDir: *profDir, latency: *latency})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "volumebench:", err)
		os.Exit(1)
	}
}

// parentOptions are the run's flags.
type parentOptions struct {
	transactions, rounds int
	modes                []string
	pg, profDir          string
	latency              time.Duration
}

func runParent(o parentOptions) error {
	if o.latency < 0 {
		return fmt.Errorf("-list-latency %s must not be negative", o.latency)
	}
	root, err := stack.RepoRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "volumebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintln(os.Stderr, "building the sandbox…")
	if err := stack.Build(context.Background(), root, filepath.Join(tmp, "bin"), os.Stderr, "sandbox"); err != nil {
		return err
	}
	// Webhooks go to a receiver that accepts them: this benchmark lists
	// directly, without the bridge.
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	defer hooks.Close()
	ctx := context.Background()
	sb, err := stack.Start(ctx, stack.Options{Root: root, Bin: filepath.Join(tmp, "bin"), Dir: tmp, Sandbox: true,
		Env: []string{"SANDBOX_TRANSACTIONS=" + strconv.Itoa(o.transactions), "SANDBOX_WEBHOOK_URL=" + hooks.URL, "LOG_LEVEL=warn",
			"SANDBOX_LIST_LATENCY=" + o.latency.String()}})
	if err != nil {
		return err
	}
	defer sb.Stop()
	sbURL := sb.Config.BelvoBaseURL
	link, err := newLink(ctx, sbURL)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "link %s with %d transactions; modes %v, %d rounds each; list latency %s\n", link, o.transactions, o.modes, o.rounds, o.latency)
	best := map[string]result{}
	perRound := map[string][]result{} // by mode, in round order
	for r := range o.rounds {
		for _, m := range o.modes {
			sbBefore := stack.CPUOf(sb.Sandbox.PID())
			res, err := child(m, link, sbURL, o.pg, o.profDir)
			if err != nil {
				return fmt.Errorf("mode %s: %w", m, err)
			}
			res.SandboxCPU = (stack.CPUOf(sb.Sandbox.PID()) - sbBefore).Seconds()
			if res.Rows != o.transactions {
				return fmt.Errorf("mode %s listed %d rows, the link has %d", m, res.Rows, o.transactions)
			}
			fmt.Fprintf(os.Stderr, "  round %d %-8s %6.2fs %8.0f rows/s, RSS +%d MB, CPU %.2fs (PostgreSQL %.2fs, sandbox %.2fs), in UpsertRows %.2fs\n", r+1, m,
				res.Seconds, float64(res.Rows)/res.Seconds, (res.RSSPeak-res.RSSStart)/1024, res.CPU, res.ServerCPU, res.SandboxCPU, res.UpsertSeconds)
			if b, ok := best[m]; !ok || res.Seconds < b.Seconds {
				best[m] = res
			}
			perRound[m] = append(perRound[m], res)
		}
	}
	report(o.transactions, o.latency, o.modes, best)
	reportRounds(o.modes, perRound)
	return nil
}

func newLink(ctx context.Context, sbURL string) (string, error) {
	d := sandbox.Config{}.WithDefaults()
	bc, err := belvo.New(belvo.Options{BaseURL: sbURL, SecretID: d.SecretID, SecretPassword: d.SecretPassword})
	if err != nil {
		return "", err
	}
	info, err := bc.RegisterLink(ctx, belvo.RegisterLinkRequest{Institution: "erebor_mx_retail", Username: d.BankUsername,
		Password: d.BankPassword, AccessMode: "single", FetchResources: []belvo.Resource{belvo.Transactions}})
	if err != nil {
		return "", fmt.Errorf("register the link: %w", err)
	}
	return info.ID, nil
}

// child runs one mode in a fresh process of this binary.
func child(mode, link, sbURL, pg, profDir string) (result, error) {
	// The DSN goes by the environment, not the command line, where ps
	// would show its password.
	cmd := exec.Command(os.Args[0], "-child", mode, "-link", link, "-sandbox", sbURL, "-cpuprofile-dir", profDir)
	cmd.Env = append(os.Environ(), "TEST_POSTGRES_DSN="+pg)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, err
	}
	var r result
	if err := json.Unmarshal(out, &r); err != nil {
		return result{}, fmt.Errorf("child answer %q: %w", out, err)
	}
	return r, nil
}

func report(transactions int, latency time.Duration, modes []string, best map[string]result) {
	host, _ := os.Hostname()
	base := best["download"]
	served := "the sandbox answering at once"
	if latency > 0 {
		served = fmt.Sprintf("the sandbox answering each page %s later", latency)
	}
	fmt.Printf("\n### Volume: one link, %d transactions (%d pages of 1,000), %s — %s, %s, %d CPUs, %s\n\n", transactions,
		base.Pages, served, time.Now().UTC().Format("2006-01-02"), host, runtime.NumCPU(), runtime.Version())
	fmt.Println("| mode | seconds | rows/s | vs download-only | store's share of the time | peak RSS growth | allocated |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- |")
	for _, m := range modes {
		r := best[m]
		ratio, share := "1.00", "—"
		if base.Seconds > 0 && m != "download" {
			ratio = fmt.Sprintf("%.2f", base.Seconds/r.Seconds)
			share = fmt.Sprintf("%.0f %%", 100*(r.Seconds-base.Seconds)/r.Seconds)
		}
		fmt.Printf("| %s | %.2f | %.0f | %s | %s | %d MB | %d MB |\n", m, r.Seconds, float64(r.Rows)/r.Seconds, ratio, share,
			(r.RSSPeak-r.RSSStart)/1024, r.HeapAlloc>>20)
	}
}
