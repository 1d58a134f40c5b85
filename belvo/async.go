package belvo

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
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
)

// AsyncOp describes one async operation: where to send it, what it needs and
// which resource to list once Belvo's webhook says the data is ready.
type AsyncOp struct {
	Op Operation
	// Method and Path of the request (Path has a {link} placeholder only for
	// link deletion).
	Method, Path string
	// Resource is listed after the webhook; "" when nothing is to be listed.
	Resource Resource
	// NeedsRange: date_from and date_to are required. NeedsType: type
	// (INFLOW or OUTFLOW) is required.
	NeedsRange, NeedsType bool
	// RangeFilter is the list filter that selects the request's date range
	// ("" when the data is not dated).
	RangeFilter string
	// WebhookType is the webhook_type Belvo's completion webhook carries.
	WebhookType string
}

var asyncOps = map[Operation]AsyncOp{
	OpTransactions:        {OpTransactions, http.MethodPost, "/api/transactions/", Transactions, true, false, "value_date__range", "TRANSACTIONS"},
	OpInvoices:            {OpInvoices, http.MethodPost, "/api/invoices/", Invoices, true, true, "invoice_date__range", "INVOICES"},
	OpEmploymentRecords:   {OpEmploymentRecords, http.MethodPost, "/api/employment-records/", EmploymentRecords, false, false, "", "EMPLOYMENT_RECORDS"},
	OpBRemployments:       {OpBRemployments, http.MethodPost, "/api/br/employments/", Employments, false, false, "", "EMPLOYMENTS"},
	OpFinancialStatements: {OpFinancialStatements, http.MethodPost, "/api/financial-statements/", FinancialStatements, false, false, "", "FINANCIAL_STATEMENTS"},
	OpCLInvoices:          {OpCLInvoices, http.MethodPost, "/api/cl/invoices/", CLInvoices, true, false, "invoice_date__range", "CL_INVOICES"},
	OpCLDebtReports:       {OpCLDebtReports, http.MethodPost, "/api/cl/debt-reports/", CLDebtReports, false, false, "", "CL_DEBT_REPORTS"},
	OpLinkDeletion:        {OpLinkDeletion, http.MethodDelete, "/api/links/{link}/", "", false, false, "", "LINK"},
}

// AsyncOps lists every async operation.
func AsyncOps() []AsyncOp {
	out := make([]AsyncOp, 0, len(asyncOps))
	for _, op := range []Operation{OpTransactions, OpInvoices, OpEmploymentRecords, OpBRemployments,
		OpFinancialStatements, OpCLInvoices, OpCLDebtReports, OpLinkDeletion} {
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
	if op.NeedsType && r.Type != "INFLOW" && r.Type != "OUTFLOW" {
		return fmt.Errorf("%s: type must be INFLOW or OUTFLOW, got %q", r.Op, r.Type)
	}
	return nil
}

// body is the JSON Belvo expects for the operation.
func (r AsyncRequest) body() map[string]any {
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
// data this request produced: its link, its date range, its type, its account.
func (r AsyncRequest) ListFilters() map[string]string {
	op := asyncOps[r.Op]
	f := map[string]string{}
	if op.RangeFilter != "" && r.DateFrom != "" && r.DateTo != "" {
		f[op.RangeFilter] = r.DateFrom + "," + r.DateTo
	}
	if r.Type != "" {
		f["type"] = r.Type
	}
	if r.Account != "" {
		f["account"] = r.Account
	}
	return f
}

type accepted struct {
	RequestID string `json:"request_id"`
}

// StartAsync sends the operation with X-Belvo-Request-Mode: async and returns
// the request_id of Belvo's 202 answer. Any other 2xx is an error: the data
// would have come back synchronously, which this product does not expect.
func (c *Client) StartAsync(ctx context.Context, r AsyncRequest) (string, error) {
	if err := r.Validate(); err != nil {
		return "", err
	}
	op := asyncOps[r.Op]
	var body any
	path := op.Path
	if r.Op == OpLinkDeletion {
		path = "/api/links/" + url.PathEscape(r.LinkID) + "/"
	} else {
		body = r.body()
	}
	var a accepted
	status, err := c.doStatus(ctx, op.Method, c.url(path, nil), map[string]string{RequestModeHeader: RequestModeAsync}, body, &a)
	if err != nil {
		return "", err
	}
	if status != http.StatusAccepted || a.RequestID == "" {
		return "", fmt.Errorf("belvo: %s %s in async mode answered HTTP %d without a request_id", op.Method, path, status)
	}
	return a.RequestID, nil
}
