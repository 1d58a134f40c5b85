//go:build integration

package specval_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/belvo-temporal/backbone/internal/specval"
	"github.com/belvo-temporal/backbone/internal/testenv"
)

const (
	linkID = "3c6b4f4e-6d1f-4a59-9f51-0c1f7d4c9a10"
	// A transactions list needs its link; every list below names one.
	listTransactions = "/api/transactions/?link=" + linkID
)

// request builds a server-side request as the middleware sees it.
func request(method, target, body string, header map[string]string) *http.Request {
	var rdr io.Reader
	if body != "" {
		rdr = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rdr)
	r.SetBasicAuth("secret-id", "secret-password")
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		r.Header[k] = []string{v}
	}
	return r
}

func TestCheck(t *testing.T) {
	v := specval.New(t, testenv.SpecDir(t))
	async := map[string]string{"X-Belvo-Request-Mode": "async"}
	noAuth := func(r *http.Request) *http.Request { r.Header.Del("Authorization"); return r }
	cases := []struct {
		name string
		req  *http.Request
		// op is the operationId the request matches ("" when none).
		op string
		// want is nil for a valid request; otherwise a sentinel the error
		// wraps, or errAny with text the error must contain.
		want error
		text string
	}{
		{name: "documented list", req: request("GET", "/api/links/?page_size=100&page=1&external_id=abc-1&institution=erebor_mx_retail&created_at__gte=2026-01-31", "", nil), op: "ListLinks"},
		{name: "documented list filter (comma-separated range)", req: request("GET", listTransactions+"&value_date__range=2026-10-01,2026-10-31&type=INFLOW", "", nil), op: "ListTransactions"},
		{name: "timestamp filter documented as date or full timestamp (date)", req: request("GET", listTransactions+"&collected_at__gte=2026-11-29", "", nil), op: "ListTransactions"},
		{name: "timestamp filter documented as date or full timestamp (timestamp)", req: request("GET", listTransactions+"&collected_at__gte=2026-11-29T09:30:00.5Z", "", nil), op: "ListTransactions"},
		{name: "timestamp filter with a zone", req: request("GET", "/api/bills/?link="+linkID+"&collected_at__gte=2026-11-29T09:30:00%2B05:00", "", nil), op: "ListBills"},
		// Bills: only v1.223.0 documents them (v1.35.0's looser transactions
		// list would accept these).
		{name: "date-only filter given a timestamp", req: request("GET", "/api/bills/?link="+linkID+"&created_at__gte=2026-11-29T09:30:00Z", "", nil), op: "ListBills",
			want: errAny, text: `parameter "created_at__gte"`},
		{name: "timestamp filter given neither", req: request("GET", "/api/bills/?link="+linkID+"&collected_at__gte=yesterday", "", nil), op: "ListBills",
			want: errAny, text: `parameter "collected_at__gte"`},
		{name: "documented async POST", req: request("POST", "/api/transactions/", `{"link":"`+linkID+`","date_from":"2026-10-01","date_to":"2026-10-31"}`, async), op: "RetrieveTransactions"},
		{name: "documented only by v1.35.0 (Mexico banking registration)", req: request("POST", "/api/links/",
			`{"institution":"erebor_mx_retail","username":"bnk100","password":"full","fetch_historical":true}`, nil), op: "RegisterLink"},
		{name: "documented DELETE in async mode", req: request("DELETE", "/api/links/"+linkID+"/", "", async), op: "DestroyLink"},
		{name: "undocumented path", req: request("GET", "/api/nowhere/", "", nil), want: specval.ErrUndocumented},
		{name: "undocumented method", req: request("PUT", "/api/token/", `{}`, nil), want: specval.ErrUndocumented},
		{name: "undeclared query parameter", req: request("GET", listTransactions+"&id__in="+linkID, "", nil), op: "ListTransactions", want: specval.ErrUndeclaredQuery, text: `"id__in"`},
		{name: "missing required query parameter", req: request("GET", "/api/transactions/?page_size=10", "", nil), op: "ListTransactions", want: errAny, text: `parameter "link" in query has an error: value is required`},
		{name: "query parameter of the wrong type", req: request("GET", listTransactions+"&page_size=many", "", nil), op: "ListTransactions", want: errAny, text: `parameter "page_size"`},
		{name: "bad enum header value", req: request("POST", "/api/transactions/", `{"link":"`+linkID+`","date_from":"2026-10-01","date_to":"2026-10-31"}`,
			map[string]string{"X-Belvo-Request-Mode": "ASYNC"}), op: "RetrieveTransactions", want: errAny, text: `parameter "X-Belvo-Request-Mode" in header`},
		{name: "undeclared Belvo header", req: request("POST", "/api/links/"+linkID+"/refresh/", `{"fetch_resources":["ACCOUNTS"]}`, async),
			op: "RefreshHistoricalDataForLink", want: specval.ErrUndeclaredHeader, text: "X-Belvo-Request-Mode"},
		{name: "undeclared body property", req: request("POST", "/api/transactions/", `{"link":"`+linkID+`","date_from":"2026-10-01","date_to":"2026-10-31","resources":["ACCOUNTS"]}`, async),
			op: "RetrieveTransactions", want: specval.ErrUndeclaredProperty, text: `"resources"`},
		{name: "wrongly typed body property", req: request("POST", "/api/links/"+linkID+"/refresh/", `{"fetch_resources":"ACCOUNTS"}`, nil),
			op: "RefreshHistoricalDataForLink", want: errAny, text: `value must be an array`},
		{name: "missing required body property", req: request("PATCH", "/api/links/", `{"session":"0123456789abcdef0123456789abcdef","token":"123456"}`, nil),
			op: "PatchLinks", want: errAny, text: `property "link" is missing`},
		{name: "malformed path parameter", req: request("GET", "/api/links/not-a-uuid/", "", nil), op: "DetailLink", want: errAny, text: `parameter "id" in path`},
		{name: "body where none is documented", req: request("DELETE", "/api/links/"+linkID+"/", `{"link":"`+linkID+`"}`, nil), op: "DestroyLink", want: errAny, text: "request body not allowed"},
		{name: "no credentials", req: noAuth(request("GET", "/api/links/"+linkID+"/", "", nil)), op: "DetailLink", want: errAny, text: "no Authorization header"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			op, err := v.Check(c.req)
			if op != c.op {
				t.Errorf("operation %q, want %q", op, c.op)
			}
			switch {
			case c.want == nil && err != nil:
				t.Fatalf("refused a documented request: %v", err)
			case c.want == nil:
			case err == nil:
				t.Fatalf("accepted an undocumented request")
			case c.want != errAny && !errors.Is(err, c.want):
				t.Errorf("error %v does not wrap %v", err, c.want)
			}
			if c.want != nil && err != nil && !strings.Contains(err.Error(), c.text) {
				t.Errorf("error %q does not say %q", err, c.text)
			}
		})
	}
}

// errAny marks a case refused by kin-openapi itself (no sentinel to match).
var errAny = errors.New("any error")

func TestWrapRecordsAndForwards(t *testing.T) {
	v := specval.New(t, testenv.SpecDir(t))
	var got []string
	h := v.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.Path+" "+string(b))
		w.WriteHeader(http.StatusTeapot)
	}))
	body := `{"link":"` + linkID + `","date_from":"2026-10-01","date_to":"2026-10-31","bogus":1}`
	for _, r := range []*http.Request{
		request("POST", "/api/transactions/", body, map[string]string{"X-Belvo-Request-Mode": "async"}),
		request("GET", listTransactions, "", nil),
		request("GET", "/_sandbox/stats", "", nil),
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusTeapot {
			t.Errorf("%s %s was not forwarded (HTTP %d)", r.Method, r.URL.Path, rec.Code)
		}
	}
	if len(got) != 3 || got[0] != "POST /api/transactions/ "+body {
		t.Errorf("forwarded %q; the POST must reach the handler with its body intact", got)
	}
	vs := v.Violations()
	if len(vs) != 1 || vs[0].Method != "POST" || vs[0].Path != "/api/transactions/" || vs[0].OperationID != "RetrieveTransactions" ||
		!errors.Is(vs[0].Err, specval.ErrUndeclaredProperty) || !strings.Contains(vs[0].String(), `"bogus"`) {
		t.Errorf("violations %v; want the POST's undeclared property only", vs)
	}
	ops := v.Operations()
	if ops["RetrieveTransactions"] != 1 || ops["ListTransactions"] != 1 || len(ops) != 2 {
		t.Errorf("operations %v", ops)
	}
}
