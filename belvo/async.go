package belvo

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// RequestModeHeader and RequestModeAsync make a Belvo POST (or a link
// DELETE) asynchronous: Belvo answers 202 {request_id} at once and sends a
// webhook carrying that request_id when the work is done. The value is
// case-sensitive.
const (
	RequestModeHeader = "X-Belvo-Request-Mode"
	RequestModeAsync  = "async"
)

// Operation names an async-capable Belvo endpoint.
type Operation string

// The async-capable operations of spec v1.223.0 (and v1.35.0 for Mexico
// banking transactions), in one table: asyncOps.
const (
	OpTransactions        Operation = "transactions"
	OpInvoices            Operation = "invoices"
	OpEmploymentRecords   Operation = "employment_records"
	OpBRemployments       Operation = "br_employments"
	OpFinancialStatements Operation = "financial_statements"
	OpCLInvoices          Operation = "cl_invoices"
	OpCLDebtReports       Operation = "cl_debt_reports"
	OpLinkDeletion        Operation = "link_deletion"
	// OpLinkRefresh is POST /api/links/{id}/refresh/: Belvo fetches the
	// history of the request's Resources again and sends one
	// historical_update per resource carrying the request_id of its 202.
	OpLinkRefresh Operation = "link_refresh"
)

// AsyncOp describes one async operation: where to send it, what it needs and
// which resource to list once Belvo's webhook says the data is ready.
type AsyncOp struct {
	Op Operation
	// Method and Path of the request; a {link} placeholder in Path is the
	// link id (link deletion and refresh).
	Method, Path string
	// Resource is listed after the webhook; "" when nothing is to be listed
	// or, for a refresh, when the request names its own Resources.
	Resource Resource
	// NeedsRange: date_from and date_to are required. NeedsType: type
	// (INFLOW or OUTFLOW) is required.
	NeedsRange, NeedsType bool
	// RangeFilter is the list filter that selects the request's date range
	// ("" when the data is not dated, or when its list documents no date
	// filter: Chile's invoices).
	RangeFilter string
	// WebhookType is the webhook_type Belvo's completion webhook carries
	// ("" for a refresh: one webhook per resource, typed by the resource).
	WebhookType string
}

var asyncOps = map[Operation]AsyncOp{
	OpTransactions:        {OpTransactions, http.MethodPost, "/api/transactions/", Transactions, true, false, "value_date__range", "TRANSACTIONS"},
	OpInvoices:            {OpInvoices, http.MethodPost, "/api/invoices/", Invoices, true, true, "invoice_date__range", "INVOICES"},
	OpEmploymentRecords:   {OpEmploymentRecords, http.MethodPost, "/api/employment-records/", EmploymentRecords, false, false, "", "EMPLOYMENT_RECORDS"},
	OpBRemployments:       {OpBRemployments, http.MethodPost, "/api/br/employments/", Employments, false, false, "", "EMPLOYMENTS"},
	OpFinancialStatements: {OpFinancialStatements, http.MethodPost, "/api/financial-statements/", FinancialStatements, false, false, "", "FINANCIAL_STATEMENTS"},
	OpCLInvoices:          {OpCLInvoices, http.MethodPost, "/api/cl/invoices/", CLInvoices, true, false, "", "CL_INVOICES"},
	OpCLDebtReports:       {OpCLDebtReports, http.MethodPost, "/api/cl/debt-reports/", CLDebtReports, false, false, "", "CL_DEBT_REPORTS"},
	OpLinkDeletion:        {OpLinkDeletion, http.MethodDelete, "/api/links/{link}/", "", false, false, "", "LINK"},
	OpLinkRefresh:         {OpLinkRefresh, http.MethodPost, "/api/links/{link}/refresh/", "", false, false, "", ""},
}

// documented says which optional AsyncRequest fields an operation's
// request body and its list endpoint declare in Belvo's specs (v1.223.0;
// v1.35.0 agrees where it has the operation). Validate refuses a field the
// body does not declare and ListFilters sends only the filters the list
// declares: Belvo's documents are the reference, and an undeclared field or
// filter is at best ignored, so the data listed would not be what the
// request asked for. Checked by belvo/spec_requests_test.go.
type documented struct {
	account, dates, typ   bool // in the request body
	listAccount, listType bool // as list filters
	// alwaysAsync: the operation is asynchronous by definition and
	// declares no X-Belvo-Request-Mode header (a link refresh).
	alwaysAsync bool
}

var documentedFields = map[Operation]documented{
	OpTransactions:  {account: true, dates: true, listAccount: true},
	OpInvoices:      {dates: true, typ: true, listType: true},
	OpBRemployments: {dates: true},
	// RetrieveInvoicesChile takes a type, but ListInvoicesChile has no type
	// nor date filter: the list reads every Chile invoice of the link.
	OpCLInvoices:  {dates: true, typ: true},
	OpLinkRefresh: {alwaysAsync: true},
}

// AsyncOps lists every async operation.
func AsyncOps() []AsyncOp {
	out := make([]AsyncOp, 0, len(asyncOps))
	for _, op := range []Operation{OpTransactions, OpInvoices, OpEmploymentRecords, OpBRemployments,
		OpFinancialStatements, OpCLInvoices, OpCLDebtReports, OpLinkDeletion, OpLinkRefresh} {
		out = append(out, asyncOps[op])
	}
	return out
}

// LookupAsyncOp returns the operation's description.
func LookupAsyncOp(op Operation) (AsyncOp, error) {
	o, ok := asyncOps[op]
	if !ok {
		names := make([]string, 0, len(asyncOps))
		for _, o := range AsyncOps() {
			names = append(names, string(o.Op))
		}
		return AsyncOp{}, fmt.Errorf("unknown async operation %q (known: %v)", op, names)
	}
	return o, nil
}

// AsyncRequest is what an async operation is asked for.
type AsyncRequest struct {
	Op       Operation `json:"op"`
	LinkID   string    `json:"link"`
	Account  string    `json:"account,omitempty"`
	DateFrom string    `json:"date_from,omitempty"`
	DateTo   string    `json:"date_to,omitempty"`
	Type     string    `json:"type,omitempty"`
	// Resources are what a refresh fetches again (its fetch_resources).
	// Belvo refreshes every resource the institution supports when none is
	// named, so this product always names them: AsyncPost fills them from
	// the link when they are empty.
	Resources []Resource `json:"resources,omitempty"`
}

// Validate checks the request against its operation before anything is sent.
func (r AsyncRequest) Validate() error {
	op, err := LookupAsyncOp(r.Op)
	if err != nil {
		return err
	}
	if r.LinkID == "" {
		return fmt.Errorf("%s: link is required", r.Op)
	}
	if op.NeedsRange && (r.DateFrom == "" || r.DateTo == "") {
		return fmt.Errorf("%s: date_from and date_to are required (YYYY-MM-DD)", r.Op)
	}
	if r.DateFrom != "" && r.DateTo != "" && r.DateFrom > r.DateTo {
		return fmt.Errorf("%s: date_from %s is after date_to %s", r.Op, r.DateFrom, r.DateTo)
	}
	if (op.NeedsType || r.Type != "") && r.Type != "INFLOW" && r.Type != "OUTFLOW" {
		return fmt.Errorf("%s: type must be INFLOW or OUTFLOW, got %q", r.Op, r.Type)
	}
	for _, d := range []string{r.DateFrom, r.DateTo} {
		if _, err := time.Parse(time.DateOnly, d); d != "" && err != nil {
			return fmt.Errorf("%s: date %q is not YYYY-MM-DD", r.Op, d)
		}
	}
	if len(r.Resources) > 0 && r.Op != OpLinkRefresh {
		return fmt.Errorf("%s: resources are only for a link refresh", r.Op)
	}
	doc := documentedFields[r.Op]
	for _, f := range []struct {
		name     string
		set, doc bool
	}{
		{"account", r.Account != "", doc.account},
		{"date_from and date_to", r.DateFrom != "" || r.DateTo != "", doc.dates},
		{"type", r.Type != "", doc.typ},
	} {
		if f.set && !f.doc {
			return fmt.Errorf("%s: Belvo documents no %s for %s %s", r.Op, f.name, op.Method, op.Path)
		}
	}
	for _, res := range r.Resources {
		if !res.Valid() {
			return fmt.Errorf("%s: unknown resource %q", r.Op, res)
		}
	}
	return nil
}

// ExpectedResources are the resources whose data the request produces and
// that are listed once its webhooks come: the refresh's Resources, the
// operation's one resource, or none (a link deletion).
func (r AsyncRequest) ExpectedResources() []Resource {
	if r.Op == OpLinkRefresh {
		return r.Resources
	}
	if op := asyncOps[r.Op]; op.Resource != "" {
		return []Resource{op.Resource}
	}
	return nil
}

// path is the request's path, with the link id in place of {link}.
func (r AsyncRequest) path() string {
	return strings.ReplaceAll(asyncOps[r.Op].Path, "{link}", url.PathEscape(r.LinkID))
}

// body is the JSON Belvo expects for the operation: nothing for a
// deletion, fetch_resources for a refresh (the link is in the path).
func (r AsyncRequest) body() map[string]any {
	switch r.Op {
	case OpLinkDeletion:
		return nil
	case OpLinkRefresh:
		b := map[string]any{}
		if len(r.Resources) > 0 {
			b["fetch_resources"] = Names(r.Resources)
		}
		return b
	}
	b := map[string]any{"link": r.LinkID}
	if r.Account != "" {
		b["account"] = r.Account
	}
	if r.DateFrom != "" {
		b["date_from"] = r.DateFrom
	}
	if r.DateTo != "" {
		b["date_to"] = r.DateTo
	}
	if r.Type != "" {
		b["type"] = r.Type
	}
	return b
}

// ListFilters are the query filters that select, in the list endpoint, the
// data this request produced: its date range, its type, its account, each
// only where the list documents that filter (the link is FirstPageURL's).
func (r AsyncRequest) ListFilters() map[string]string {
	op := asyncOps[r.Op]
	doc := documentedFields[r.Op]
	f := map[string]string{}
	if op.RangeFilter != "" && r.DateFrom != "" && r.DateTo != "" {
		f[op.RangeFilter] = r.DateFrom + "," + r.DateTo
	}
	if r.Type != "" && doc.listType {
		f["type"] = r.Type
	}
	if r.Account != "" && doc.listAccount {
		f["account"] = r.Account
	}
	return f
}

type accepted struct {
	RequestID string `json:"request_id"`
}

// StartAsync sends the operation with X-Belvo-Request-Mode: async (not for a
// refresh, which is always asynchronous and declares no such header) and
// returns the request_id of Belvo's 202 answer. Any other 2xx is an error:
// the data would have come back synchronously, which this product does not
// expect.
func (c *Client) StartAsync(ctx context.Context, r AsyncRequest) (string, error) {
	if err := r.Validate(); err != nil {
		return "", err
	}
	op := asyncOps[r.Op]
	path := r.path()
	var body any
	if b := r.body(); b != nil {
		body = b
	}
	headers := map[string]string{RequestModeHeader: RequestModeAsync}
	if documentedFields[r.Op].alwaysAsync {
		headers = nil
	}
	var a accepted
	status, err := c.doStatus(ctx, op.Method, c.url(path, nil), headers, body, &a)
	if err != nil {
		return "", err
	}
	if status != http.StatusAccepted || a.RequestID == "" {
		return "", fmt.Errorf("belvo: %s %s in async mode answered HTTP %d without a request_id", op.Method, path, status)
	}
	return a.RequestID, nil
}
