package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
)

// Belvo's paging defaults.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// listHandler serves GET /api/<resource>/?link=…&page=…&page_size=… with
// Belvo's envelope. Rows are generated per page, so a 100k-row link costs
// one page of memory.
func (s *Server) listHandler(res belvo.Resource) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !delay(r, s.cfg.ListLatency) {
			return // the client gave up waiting
		}
		fault, faulty := s.nextFault()
		if faulty && s.serveFault(w, r, fault) {
			return
		}
		if s.cfg.FailListsWith > 0 {
			writeErrors(w, s.cfg.FailListsWith, "access_denied", "The sandbox refuses this list on purpose (FailListsWith).", "")
			return
		}
		if n := s.cfg.FailEveryNthList; n > 0 && s.listCalls.Add(1)%int64(n) == 0 {
			writeErrors(w, http.StatusInternalServerError, "unexpected_error", "Belvo is unable to process the request due to an internal system issue or to an unsupported response from an institution", "")
			return
		}
		q := r.URL.Query()
		linkID := q.Get("link")
		if linkID == "" {
			writeErrors(w, http.StatusBadRequest, "required", "This field is required.", "link")
			return
		}
		l, ok := s.link(linkID)
		if !ok {
			// Belvo filters by link: an unknown link lists nothing.
			writeJSON(w, http.StatusOK, map[string]any{"count": 0, "next": nil, "previous": nil, "results": []any{}})
			return
		}
		size, err := intParam(q, "page_size", defaultPageSize)
		if err != nil || size < 1 || size > maxPageSize {
			writeErrors(w, http.StatusBadRequest, "invalid", "page_size must be an integer from 1 to 1000.", "page_size")
			return
		}
		if t := s.cfg.TimeoutAbovePageSize; t > 0 && size > t {
			writeErrors(w, http.StatusRequestTimeout, "request_timeout", "This request took too long; ask for less data.", "")
			return
		}
		if _, err := parseStampFilters(res, q); err != nil {
			var bad stampError
			_ = errors.As(err, &bad)
			writeErrors(w, http.StatusBadRequest, "invalid", err.Error(), bad.param)
			return
		}
		page, err := intParam(q, "page", 1)
		s.mu.Lock()
		l.lists++
		vis := s.visibleLocked(l, res, q)
		total := len(vis)
		last := max(1, (total+size-1)/size)
		if err != nil || page < 1 || page > last {
			s.mu.Unlock()
			writeErrors(w, http.StatusNotFound, "not_found", "Invalid page.", "")
			return
		}
		from, to := (page-1)*size, min(page*size, total)
		versions := make([]int, 0, to-from)
		for _, i := range vis[from:to] {
			versions = append(versions, l.version[res][i])
		}
		s.mu.Unlock()
		results := make([]json.RawMessage, 0, to-from)
		for k, i := range vis[from:to] {
			results = append(results, s.row(l, res, i, versions[k]))
		}
		if faulty && (fault.Truncated || fault.Malformed) {
			b, _ := json.Marshal(map[string]any{"count": total, "next": pageURL(r, page+1, page < last),
				"previous": pageURL(r, page-1, page > 1), "results": results})
			w.Header().Set("Content-Type", "application/json")
			if fault.Malformed {
				b = []byte("<html>502 Bad Gateway</html>")
			} else {
				b = b[:len(b)/2]
			}
			_, _ = w.Write(b)
			return
		}
		writePage(w, total, pageURL(r, page+1, page < last), pageURL(r, page-1, page > 1), results)
	})
}

// writePage writes Belvo's list envelope around rows that are already JSON:
// encoding them again through the envelope would re-validate every row,
// which made the emulator, not the product, the volume benchmark's limit.
func writePage(w http.ResponseWriter, count int, next, previous any, rows []json.RawMessage) {
	nb, _ := json.Marshal(next)
	pb, _ := json.Marshal(previous)
	size := 64 + len(nb) + len(pb)
	for _, r := range rows {
		size += len(r) + 1
	}
	b := make([]byte, 0, size)
	b = fmt.Appendf(b, `{"count":%d,"next":%s,"previous":%s,"results":[`, count, nb, pb)
	for i, r := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r...)
	}
	b = append(b, "]}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func intParam(q url.Values, name string, def int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	return strconv.Atoi(v)
}

// pageURL is the absolute URL of another page of the same query, or nil.
func pageURL(r *http.Request, page int, ok bool) any {
	if !ok {
		return nil
	}
	u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path}
	if r.TLS != nil {
		u.Scheme = "https"
	}
	q := r.URL.Query()
	q.Set("page", strconv.Itoa(page))
	u.RawQuery = q.Encode()
	return u.String()
}

// delay holds an answer back for d (Config.ListLatency, a slow fault);
// false when the client went away meanwhile, and nothing is to be written.
func delay(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}
