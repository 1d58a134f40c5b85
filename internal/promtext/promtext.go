// Package promtext reads Prometheus' text exposition format: the sample
// lines of a /metrics page, summed by name and label. The benchmarks and
// the tests that check a process by its own counters share it.
package promtext

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Metrics is one scrape of a /metrics page: its sample lines, so that
// several series are read from one request.
type Metrics []string

// Scrape reads a /metrics page once.
func Scrape(ctx context.Context, url string) (Metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: HTTP %d", url, resp.StatusCode)
	}
	var m Metrics
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if line := sc.Text(); line != "" && line[0] != '#' {
			m = append(m, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	return m, nil
}

// Sum adds up the series named name (every label set, or those whose
// labels contain match).
func (m Metrics) Sum(name, match string) float64 {
	var sum float64
	m.each(name, func(labels string, v float64) {
		if strings.Contains(labels, match) {
			sum += v
		}
	})
	return sum
}

// SumBy adds up the series named name by the value of one of its labels;
// samples without that label are left out.
func (m Metrics) SumBy(name, label string) map[string]float64 {
	out := map[string]float64{}
	m.each(name, func(labels string, v float64) {
		if val, ok := labelValue(labels, label); ok {
			out[val] += v
		}
	})
	return out
}

// each calls f with the label part and the value of every sample of the
// series named name (not of longer names it is a prefix of).
func (m Metrics) each(name string, f func(labels string, v float64)) {
	for _, line := range m {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		fields := strings.Fields(rest)
		if v, err := strconv.ParseFloat(fields[len(fields)-1], 64); err == nil {
			f(rest, v)
		}
	}
}

// labelValue finds label="value" in a sample's label part.
func labelValue(labels, label string) (string, bool) {
	for _, sep := range []string{"{", ","} {
		if _, rest, ok := strings.Cut(labels, sep+label+`="`); ok {
			val, _, _ := strings.Cut(rest, `"`)
			return val, true
		}
	}
	return "", false
}
