package measure

import (
	"context"
	"sort"
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
	for op, v := range m.SumBy("persistence_requests", "operation") {
		p[op] += v
	}
	for op, v := range m.SumBy("visibility_persistence_requests", "operation") {
		p["visibility:"+op] += v
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

// Ops are p's operations, the most requested first.
func (p Persistence) Ops() []string {
	ops := make([]string, 0, len(p))
	for op := range p {
		ops = append(ops, op)
	}
	sort.Slice(ops, func(i, j int) bool {
		if p[ops[i]] != p[ops[j]] {
			return p[ops[i]] > p[ops[j]]
		}
		return ops[i] < ops[j]
	})
	return ops
}
