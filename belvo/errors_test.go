package belvo

import "testing"

func TestParseAPIError(t *testing.T) {
	cases := []struct {
		name, body string
		status     int
		code, rid  string
		retryable  bool
	}{
		{"Belvo list", `[{"code":"invalid_link","message":"Invalid link","request_id":"r1","field":"link"}]`, 400, "invalid_link", "r1", false},
		{"too many sessions", `[{"code":"too_many_sessions","message":"x","request_id":"r2"}]`, 400, "too_many_sessions", "r2", true},
		{"single object", `{"code":"unexpected_error","message":"x","request_id":"r3"}`, 500, "unexpected_error", "r3", true},
		{"proxy HTML", `<html>bad gateway</html>`, 502, "unparsed_error", "", true},
		{"rate limited", ``, 429, "unparsed_error", "", true},
		{"request timeout", `[{"code":"request_timeout","message":"x","request_id":"r4"}]`, 408, "request_timeout", "r4", true},
	}
	for _, c := range cases {
		e := parseAPIError("GET", "/api/x/", c.status, []byte(c.body), "")
		if e.Code() != c.code || e.RequestID() != c.rid || e.Retryable() != c.retryable || e.StatusCode != c.status {
			t.Errorf("%s: code %q rid %q retryable %v", c.name, e.Code(), e.RequestID(), e.Retryable())
		}
	}
}
