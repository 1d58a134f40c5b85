package sandbox

import (
	"github.com/belvo-temporal/backbone/belvo"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// BenchmarkListPage is one 1,000-row transactions page, as the volume
// benchmark asks for them (go test -bench ListPage ./sandbox).
func BenchmarkListPage(b *testing.B) {
	s := New(Config{Transactions: 100_000})
	defer s.Close()
	l := s.newLink("", "erebor_mx_retail", "", "single", []belvo.Resource{belvo.Transactions}, 100_000).ID
	h := s.Handler()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		req := httptest.NewRequest(http.MethodGet, "/api/transactions/?link="+l+"&page_size=1000&page="+strconv.Itoa(1+i%100), nil)
		req.SetBasicAuth(s.cfg.SecretID, s.cfg.SecretPassword)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("HTTP %d: %s", w.Code, w.Body)
		}
		_, _ = io.Copy(io.Discard, w.Body)
	}
}
