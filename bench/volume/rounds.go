package main

import (
	"fmt"
	"slices"
	"strings"
)

// reportRounds prints, for each store, its ratio to the download-only run
// of the same round and the median of those ratios, then the PostgreSQL
// ingest targets of issue #15. On a shared machine the load drifts between
// rounds; a round's modes run back to back, so its ratio compares runs
// that saw about the same load, where the table's best-of-rounds may pair
// a quiet download with a busy store.
func reportRounds(modes []string, perRound map[string][]result) {
	base := perRound["download"]
	if len(base) == 0 {
		return
	}
	fmt.Println()
	for _, m := range modes {
		if m == "download" {
			continue
		}
		var ratios []float64
		var parts []string
		for i, r := range perRound[m] {
			if i < len(base) && r.Seconds > 0 {
				ratios = append(ratios, base[i].Seconds/r.Seconds)
				parts = append(parts, fmt.Sprintf("%.2f", ratios[len(ratios)-1]))
			}
		}
		if len(ratios) == 0 {
			continue
		}
		fmt.Printf("- %s vs download-only, round by round: %s (median %.2f)\n", m, strings.Join(parts, ", "), median(ratios))
	}
	// CPU time depends less on the machine's load than wall time does: it
	// says what each mode costs, where the ratios say what it waits for.
	var cpus []string
	for _, m := range modes {
		var c, srv []float64
		for _, r := range perRound[m] {
			c, srv = append(c, r.CPU), append(srv, r.ServerCPU)
		}
		if len(c) == 0 {
			continue
		}
		part := fmt.Sprintf("%s %.2f s", m, median(c))
		if m == "postgres" {
			part += fmt.Sprintf(" + PostgreSQL's backends %.2f s", median(srv))
		}
		cpus = append(cpus, part)
	}
	fmt.Printf("- CPU of a listing (median of the rounds): %s\n", strings.Join(cpus, "; "))
	var inStore []string
	for _, m := range modes {
		var w []float64
		for _, r := range perRound[m] {
			w = append(w, r.UpsertSeconds)
		}
		if m != "download" && len(w) > 0 {
			inStore = append(inStore, fmt.Sprintf("%s %.2f s", m, median(w)))
		}
	}
	if len(inStore) > 0 {
		// Pages download while the previous one is written: time in
		// UpsertRows is on the critical path only where it exceeds the
		// next page's download.
		fmt.Printf("- time in UpsertRows (median of the rounds): %s\n", strings.Join(inStore, "; "))
	}
	if pg := perRound["postgres"]; len(pg) > 0 {
		var growth int64
		for _, r := range pg {
			growth = max(growth, (r.RSSPeak-r.RSSStart)/1024)
		}
		fmt.Printf("- postgres targets (issue #15): ≥ 0.95× download-only, peak RSS growth < 50 MB (largest of the rounds: %d MB)\n", growth)
	}
}

// median of a non-empty slice (sorted in place).
func median(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
