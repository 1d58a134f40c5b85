package measure

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/belvo-temporal/backbone/internal/promtext"
)

// Persistence is what a Temporal server asked of its databases, read from
// its /metrics page (the dev server's --metrics-port): requests by
// operation, history and visibility stores alike. A flow's cost to the
// engine is mostly these requests; on the dev server, whose SQLite file
// takes one writer at a time, the writes are what queue.
type Persistence map[string]float64

// readPrefixes start the names of the operations that only read.
var readPrefixes = []string{"Get", "List", "Read", "Scan", "Count", "Is"}

// ReadPersistence scrapes the server's persistence request counters.
func ReadPersistence(ctx context.Context, url string) (Persistence, error) {
	m, err := promtext.Scrape(ctx, url)
	if err != nil {
		return nil, err
	}
	return persistenceOf(m), nil
}

// persistenceOf adds up persistence_requests and
// visibility_persistence_requests by operation (visibility's prefixed
// "visibility:"), whatever the service and namespace.
func persistenceOf(m promtext.Metrics) Persistence {
	p := Persistence{}
	for _, line := range m {
		prefix := ""
		rest, ok := strings.CutPrefix(line, "persistence_requests{")
		if !ok {
			if rest, ok = strings.CutPrefix(line, "visibility_persistence_requests{"); !ok {
				continue
			}
			prefix = "visibility:"
		}
		_, op, ok := strings.Cut(rest, `operation="`)
		if !ok {
			continue
		}
		op, _, _ = strings.Cut(op, `"`)
		f := strings.Fields(rest)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			continue
		}
		p[prefix+op] += v
	}
	return p
}

// Sub is what happened between an earlier reading o and p.
func (p Persistence) Sub(o Persistence) Persistence {
	out := Persistence{}
	for op, v := range p {
		if d := v - o[op]; d != 0 {
			out[op] = d
		}
	}
	return out
}

// IsWrite says whether an operation changes the database (anything not
// named as a read).
func IsWrite(op string) bool {
	name := strings.TrimPrefix(op, "visibility:")
	for _, r := range readPrefixes {
		if strings.HasPrefix(name, r) {
			return false
		}
	}
	return true
}

// Totals are all requests and the writes among them.
func (p Persistence) Totals() (requests, writes float64) {
	for op, v := range p {
		requests += v
		if IsWrite(op) {
			writes += v
		}
	}
	return requests, writes
}

// Ops are the operations of p and of o, the most requested in both
// together first, so that two runs print side by side.
func Ops(p, o Persistence) []string {
	seen := map[string]bool{}
	var ops []string
	for _, m := range []Persistence{p, o} {
		for op := range m {
			if !seen[op] {
				seen[op] = true
				ops = append(ops, op)
			}
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		a, b := ops[i], ops[j]
		if p[a]+o[a] != p[b]+o[b] {
			return p[a]+o[a] > p[b]+o[b]
		}
		return a < b
	})
	return ops
}
