package activities

import (
	"errors"
	"net/url"
	"testing"

	"github.com/belvo-temporal/backbone/belvo"
)

func TestAskForLessWalksDownThePageSizes(t *testing.T) {
	timeout := &belvo.APIError{StatusCode: 408, Details: []belvo.ErrorDetail{{Code: "request_timeout"}}}
	cases := []struct {
		name, in       string
		err            error
		wantPage, size string
		ok             bool
	}{
		{"page 3 of 1000 → page 5 of 500", "http://b/api/transactions/?link=L&page=3&page_size=1000", timeout, "5", "500", true},
		{"page 1 of 500 → page 1 of 250", "http://b/api/transactions/?link=L&page=1&page_size=500", timeout, "1", "250", true},
		{"page 2 of 250 → page 3 of 125", "http://b/api/transactions/?link=L&page=2&page_size=250", timeout, "3", "125", true},
		{"bottom of the ladder", "http://b/api/transactions/?link=L&page=2&page_size=125", timeout, "", "", false},
		{"not a timeout", "http://b/api/transactions/?link=L&page=1&page_size=1000", errors.New("boom"), "", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := askForLess(c.err, c.in)
			if ok != c.ok {
				t.Fatalf("ok %v, want %v", ok, c.ok)
			}
			if !ok {
				return
			}
			u, _ := url.Parse(got)
			if q := u.Query(); q.Get("page") != c.wantPage || q.Get("page_size") != c.size || q.Get("link") != "L" {
				t.Errorf("%s → %s", c.in, got)
			}
		})
	}
}
