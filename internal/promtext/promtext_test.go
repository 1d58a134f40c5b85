package promtext

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

const page = `# HELP requests_total Requests.
# TYPE requests_total counter
requests_total{status="202"} 5
requests_total{status="503"} 2
requests_total_bucket{le="1"} 100
requests 7
other_requests_total{status="202"} 50
`

func TestScrapeAndSum(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(page))
	}))
	defer srv.Close()
	m, err := Scrape(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, series, match string
		want                float64
	}{
		{"every label set of one name", "requests_total", "", 7},
		{"only the matching labels", "requests_total", `status="503"`, 2},
		{"a name is not a prefix of a longer one", "requests", "", 7},
		{"no such series", "absent_total", "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := m.Sum(c.series, c.match); got != c.want {
				t.Errorf("Sum(%q, %q) = %g, want %g", c.series, c.match, got, c.want)
			}
		})
	}
}

func TestScrapeRefusesAnErrorPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	if _, err := Scrape(context.Background(), srv.URL); err == nil {
		t.Fatal("a 503 page was read as metrics")
	}
}

func TestSumByLabel(t *testing.T) {
	m := Metrics{
		`ops{service="a",operation="Get"} 2`,
		`ops{operation="Get",service="b"} 3`,
		`ops{suboperation="Put",service="c"} 40`,
		`ops{service="d"} 50`,
		`ops_total{operation="Get"} 60`,
		`ops{operation="Put"} 1`,
	}
	got := m.SumBy("ops", "operation")
	want := map[string]float64{"Get": 5, "Put": 1}
	if len(got) != len(want) || got["Get"] != want["Get"] || got["Put"] != want["Put"] {
		t.Errorf("SumBy = %v, want %v (a label is matched whole, a name not as a prefix, samples without it left out)", got, want)
	}
}
