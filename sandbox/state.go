package sandbox

import (
	"net/url"
	"strings"

	"github.com/belvo-temporal/backbone/belvo"
)

// visibleLocked lists, in order, the row indexes of a resource of a link that
// a list request with query q returns: rows that exist, are not deleted and
// match q's filters. Like Belvo's (Django) filters, a query parameter it does
// not know is ignored: the emulator once took an undocumented id__in, which
// let the product depend on a filter Belvo does not offer. The caller holds
// s.mu.
func (s *Server) visibleLocked(l *link, r belvo.Resource, q url.Values) []int {
	n := l.counts[r]
	del := l.deleted[r]
	from, to, ranged := dateRange(r, q)
	stamped, _ := parseStampFilters(r, q) // the list handler refused bad ones
	typ := q.Get("type")
	account := q.Get("account")
	out := make([]int, 0, n)
	for i := range n {
		if del[i] {
			continue
		}
		if ranged {
			d, _ := rowDate(r, i)
			if d < from || d > to {
				continue
			}
		}
		if len(stamped) > 0 && !matchStamps(stamped, stampLocked(l, r, i)) {
			continue
		}
		if typ != "" && rowType(s.cfg.Seed, l, r, i) != typ {
			continue
		}
		if account != "" && (r != belvo.Transactions || rowID(l.ID, belvo.Accounts, i%l.Accounts) != account) {
			continue
		}
		out = append(out, i)
	}
	return out
}

// dateRange reads the date filter Belvo offers for a dated resource
// (value_date__range for transactions, invoice_date__range for invoices).
func dateRange(r belvo.Resource, q url.Values) (from, to string, ok bool) {
	key := "invoice_date__range"
	if r == belvo.Transactions {
		key = "value_date__range"
	}
	v := q.Get(key)
	if v == "" {
		return "", "", false
	}
	parts := strings.SplitN(v, ",", 2)
	if len(parts) != 2 {
		return "", "", false
	}
	if _, dated := rowDate(r, 0); !dated {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// addRows appends n new rows to a resource of a link (new_*_available),
// collected now by the emulator's clock.
func (s *Server) addRows(l *link, r belvo.Resource, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.batches == nil { // a link built another way (tests)
		l.batches = map[belvo.Resource][]batch{}
	}
	l.batches[r] = append(l.batches[r], batch{from: l.counts[r], at: s.clock()})
	l.counts[r] += n
}

// touchRows marks the first n visible rows updated (transactions_updated)
// or deleted (transactions_deleted) and returns their ids, remembering where
// each is so a detail request for it needs no scan.
func (s *Server) touchRows(l *link, r belvo.Resource, n int, remove bool) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	vis := s.visibleLocked(l, r, nil)
	if n > len(vis) {
		n = len(vis)
	}
	ids := make([]string, 0, n)
	for _, i := range vis[:n] {
		if remove {
			if l.deleted[r] == nil {
				l.deleted[r] = map[int]bool{}
			}
			l.deleted[r][i] = true
		} else {
			if l.version[r] == nil {
				l.version[r] = map[int]int{}
			}
			l.version[r][i]++
		}
		id := rowID(l.ID, r, i)
		s.rowIndex[id] = rowRef{l.ID, r, i}
		ids = append(ids, id)
	}
	return ids
}

func (s *Server) setStatus(l *link, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l.Status = status
}
