//go:build integration

package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/internal/testenv"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

var (
	specsOnce sync.Once
	specs     map[string]*openapi3.T
	specsErr  error
)

// loadSpecs parses both of Belvo's specs once: v1.223.0 (links, token) and
// v1.35.0 (Mexico banking lists).
func loadSpecs(t *testing.T) map[string]*openapi3.T {
	dir := testenv.SpecDir(t)
	specsOnce.Do(func() {
		specs = map[string]*openapi3.T{}
		for v, f := range map[string]string{"v1.223.0": "belvo-openapi-v1.223.0.json", "v1.35.0": "belvo-openapi-v1.35.0.yaml"} {
			doc, err := openapi3.NewLoader().LoadFromFile(filepath.Join(dir, f))
			if err != nil {
				specsErr = err
				return
			}
			specs[v] = doc
		}
	})
	if specsErr != nil {
		t.Fatalf("load Belvo OpenAPI specs: %v", specsErr)
	}
	return specs
}

// validate checks one emulator answer against an operation of a spec, and
// fails when the status is not documented there.
func validate(t *testing.T, doc *openapi3.T, pathTmpl string, params map[string]string, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	item := doc.Paths.Value(pathTmpl)
	if item == nil {
		t.Fatalf("spec has no path %s", pathTmpl)
	}
	op := item.GetOperation(req.Method)
	if op == nil {
		t.Fatalf("spec has no %s %s", req.Method, pathTmpl)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params,
			Route: &routers.Route{Spec: doc, Path: pathTmpl, PathItem: item, Method: req.Method, Operation: op},
		},
		Status: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s → %d does not match the spec: %v\nbody: %.600s", req.Method, req.URL.Path, resp.StatusCode, err, body)
	}
}

func TestResponsesMatchBelvoOpenAPI(t *testing.T) {
	docs := loadSpecs(t)
	sb := sandbox.New(sandbox.Config{Transactions: 1500})
	defer sb.Close()
	srv := httptest.NewServer(sb.Handler())
	defer srv.Close()

	asyncHeader := false
	call := func(method, path string, body any, auth bool) (*http.Request, *http.Response, []byte) {
		t.Helper()
		var rdr io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rdr = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, srv.URL+path, rdr)
		req.Header.Set("Content-Type", "application/json")
		if asyncHeader {
			req.Header["X-Belvo-Request-Mode"] = []string{"async"}
		}
		if auth {
			req.SetBasicAuth("sandbox-secret-id", "sandbox-secret-password")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return req, resp, b
	}

	register := map[string]any{"institution": "erebor_mx_retail", "username": "bnk100", "password": "full",
		"external_id": "spec-check-1", "access_mode": "single", "fetch_resources": []string{"ACCOUNTS", "TRANSACTIONS", "OWNERS"}}
	req, resp, body := call("POST", "/api/links/", register, true)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("register link: HTTP %d: %s", resp.StatusCode, body)
	}
	validate(t, docs["v1.223.0"], "/api/links/", nil, req, resp, body)
	var link struct{ ID string }
	_ = json.Unmarshal(body, &link)
	// firstID is the id of a resource's first row of the link, for the
	// detail operations.
	firstID := func(path string) string {
		t.Helper()
		_, resp, body := call("GET", path+"?page_size=1&link="+link.ID, nil, true)
		var p struct{ Results []struct{ ID string } }
		if err := json.Unmarshal(body, &p); err != nil || resp.StatusCode != 200 || len(p.Results) == 0 {
			t.Fatalf("list %s: HTTP %d: %.300s", path, resp.StatusCode, body)
		}
		return p.Results[0].ID
	}
	txID, accountID, ownerID := firstID("/api/transactions/"), firstID("/api/accounts/"), firstID("/api/owners/")
	const unknownID = "00000000-0000-4000-8000-000000000000"

	type tc struct {
		name, spec, method, tmpl, path string
		params                         map[string]string
		body                           any
		auth                           bool
		status                         int
	}
	cases := []tc{
		{"link detail", "v1.223.0", "GET", "/api/links/{id}/", "/api/links/" + link.ID + "/", map[string]string{"id": link.ID}, nil, true, 200},
		{"links by external id", "v1.223.0", "GET", "/api/links/", "/api/links/?external_id=spec-check-1&institution=erebor_mx_retail&created_at__gte=" +
			time.Now().UTC().Format(time.DateOnly) + "&page_size=100", nil, nil, true, 200},
		{"link detail (v1.35.0)", "v1.35.0", "GET", "/api/links/{id}/", "/api/links/" + link.ID + "/", map[string]string{"id": link.ID}, nil, true, 200},
		{"unknown link", "v1.223.0", "GET", "/api/links/{id}/", "/api/links/00000000-0000-0000-0000-000000000000/", map[string]string{"id": "00000000-0000-0000-0000-000000000000"}, nil, true, 404},
		{"wrong bank password", "v1.223.0", "POST", "/api/links/", "/api/links/", nil,
			map[string]any{"institution": "erebor_mx_retail", "username": "bnk100", "password": "wrong"}, true, 400},
		{"wrong secret keys", "v1.223.0", "POST", "/api/links/", "/api/links/", nil, register, false, 401},
		{"widget token", "v1.223.0", "POST", "/api/token/", "/api/token/", nil,
			map[string]any{"id": "sandbox-secret-id", "password": "sandbox-secret-password", "scopes": "read_institutions,write_links",
				"fetch_historical": true, "fetch_resources": []string{"ACCOUNTS"}}, true, 200},
		{"widget token, bad keys", "v1.223.0", "POST", "/api/token/", "/api/token/", nil,
			map[string]any{"id": "x", "password": "y", "scopes": "read_institutions"}, true, 400},
		{"accounts", "v1.35.0", "GET", "/api/accounts/", "/api/accounts/?link=" + link.ID, nil, nil, true, 200},
		{"transactions page 1", "v1.35.0", "GET", "/api/transactions/", "/api/transactions/?page_size=1000&link=" + link.ID, nil, nil, true, 200},
		{"transactions last page", "v1.35.0", "GET", "/api/transactions/", "/api/transactions/?page_size=1000&page=2&link=" + link.ID, nil, nil, true, 200},
		{"transactions unauthorized", "v1.35.0", "GET", "/api/transactions/", "/api/transactions/?link=" + link.ID, nil, nil, false, 401},
		{"owners", "v1.35.0", "GET", "/api/owners/", "/api/owners/?link=" + link.ID, nil, nil, true, 200},
		{"transaction detail", "v1.35.0", "GET", "/api/transactions/{id}/", "/api/transactions/" + txID + "/", map[string]string{"id": txID}, nil, true, 200},
		{"unknown transaction", "v1.35.0", "GET", "/api/transactions/{id}/", "/api/transactions/" + unknownID + "/", map[string]string{"id": unknownID}, nil, true, 404},
		{"unknown transaction (v1.223.0)", "v1.223.0", "GET", "/api/transactions/{id}/", "/api/transactions/" + unknownID + "/", map[string]string{"id": unknownID}, nil, true, 404},
		{"account detail", "v1.35.0", "GET", "/api/accounts/{id}/", "/api/accounts/" + accountID + "/", map[string]string{"id": accountID}, nil, true, 200},
		{"owner detail", "v1.35.0", "GET", "/api/owners/{id}/", "/api/owners/" + ownerID + "/", map[string]string{"id": ownerID}, nil, true, 200},
	}
	refresh := "/api/links/" + link.ID + "/refresh/"
	refreshParams := map[string]string{"id": link.ID}
	cases = append(cases,
		tc{"refresh of an unknown link", "v1.223.0", "POST", "/api/links/{id}/refresh/", "/api/links/" + unknownID + "/refresh/", map[string]string{"id": unknownID},
			map[string]any{}, true, 404},
		tc{"refresh of an unknown resource", "v1.223.0", "POST", "/api/links/{id}/refresh/", refresh, refreshParams,
			map[string]any{"fetch_resources": []string{"NARNIA"}}, true, 400},
		tc{"refresh", "v1.223.0", "POST", "/api/links/{id}/refresh/", refresh, refreshParams,
			map[string]any{"fetch_resources": []string{"ACCOUNTS", "TRANSACTIONS"}}, true, 202},
		tc{"refresh again within the cooldown", "v1.223.0", "POST", "/api/links/{id}/refresh/", refresh, refreshParams, map[string]any{}, true, 409},
	)
	async := func(b map[string]any) map[string]any { b["link"] = link.ID; return b }
	cases = append(cases,
		tc{"async transactions (v1.223.0)", "v1.223.0", "POST", "/api/transactions/", "/api/transactions/", nil,
			async(map[string]any{"date_from": "2026-10-01", "date_to": "2026-10-31"}), true, 202},
		tc{"async transactions (v1.35.0)", "v1.35.0", "POST", "/api/transactions/", "/api/transactions/", nil,
			async(map[string]any{"date_from": "2026-10-01", "date_to": "2026-10-31"}), true, 202},
		tc{"async invoices", "v1.223.0", "POST", "/api/invoices/", "/api/invoices/", nil,
			async(map[string]any{"date_from": "2026-10-01", "date_to": "2026-10-31", "type": "INFLOW"}), true, 202},
		tc{"async employment records", "v1.223.0", "POST", "/api/employment-records/", "/api/employment-records/", nil, async(map[string]any{}), true, 202},
		tc{"async br employments", "v1.223.0", "POST", "/api/br/employments/", "/api/br/employments/", nil, async(map[string]any{}), true, 202},
		tc{"async cl invoices", "v1.223.0", "POST", "/api/cl/invoices/", "/api/cl/invoices/", nil,
			async(map[string]any{"date_from": "2026-10-01", "date_to": "2026-10-31"}), true, 202},
		tc{"async invoices without type", "v1.223.0", "POST", "/api/invoices/", "/api/invoices/", nil,
			async(map[string]any{"date_from": "2026-10-01", "date_to": "2026-10-31"}), true, 400},
		tc{"async link deletion", "v1.223.0", "DELETE", "/api/links/{id}/", "/api/links/" + link.ID + "/", map[string]string{"id": link.ID}, nil, true, 202},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.status == 202 || strings.HasPrefix(c.name, "async") {
				asyncHeader = true
				defer func() { asyncHeader = false }()
			}
			req, resp, body := call(c.method, c.path, c.body, c.auth)
			if resp.StatusCode != c.status {
				t.Fatalf("HTTP %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			validate(t, docs[c.spec], c.tmpl, c.params, req, resp, body)
		})
	}
}
