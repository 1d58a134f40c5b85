package belvo

import (
	"fmt"
	"sort"
	"strings"
)

// Resource is a Belvo resource name as used in fetch_resources and in the
// webhook_type of historical_update webhooks (for example "TRANSACTIONS").
type Resource string

// The historical resources Belvo can fetch for a link (fetch_resources in spec
// v1.223.0 for banking, employment and fiscal links).
const (
	Accounts               Resource = "ACCOUNTS"
	Transactions           Resource = "TRANSACTIONS"
	Owners                 Resource = "OWNERS"
	Bills                  Resource = "BILLS"
	Investments            Resource = "INVESTMENTS"
	InvestmentTransactions Resource = "INVESTMENT_TRANSACTIONS"
	Exchanges              Resource = "EXCHANGES"
	Incomes                Resource = "INCOMES"
	RecurringExpenses      Resource = "RECURRING_EXPENSES"
	RiskInsights           Resource = "RISK_INSIGHTS"
	Employments            Resource = "EMPLOYMENTS"
	EmploymentRecords      Resource = "EMPLOYMENT_RECORDS"
	CurrentEmployments     Resource = "CURRENT_EMPLOYMENTS"
	EmploymentMetrics      Resource = "EMPLOYMENT_METRICS"
	FinancialStatements    Resource = "FINANCIAL_STATEMENTS"
	Invoices               Resource = "INVOICES"
	TaxComplianceStatus    Resource = "TAX_COMPLIANCE_STATUS"
	TaxRetentions          Resource = "TAX_RETENTIONS"
	TaxReturns             Resource = "TAX_RETURNS"
	TaxStatus              Resource = "TAX_STATUS"
	// CLInvoices and CLDebtReports are not fetch_resources values; async
	// requests produce them (Chile fiscal).
	CLInvoices    Resource = "CL_INVOICES"
	CLDebtReports Resource = "CL_DEBT_REPORTS"
)

// resourceInfo is the one table that maps a resource to its list endpoint and
// to the store table that keeps its rows.
type resourceInfo struct {
	path  string
	table string
}

var resources = map[Resource]resourceInfo{
	Accounts:               {"/api/accounts/", "accounts"},
	Transactions:           {"/api/transactions/", "transactions"},
	Owners:                 {"/api/owners/", "owners"},
	Bills:                  {"/api/bills/", "bills"},
	Investments:            {"/api/br/investments/", "investments"},
	InvestmentTransactions: {"/api/br/investment-transactions/", "investment_transactions"},
	Exchanges:              {"/api/br/exchanges/", "exchanges"},
	Incomes:                {"/api/incomes/", "incomes"},
	RecurringExpenses:      {"/api/recurring-expenses/", "recurring_expenses"},
	RiskInsights:           {"/api/risk-insights/", "risk_insights"},
	Employments:            {"/api/br/employments/", "employments"},
	EmploymentRecords:      {"/api/employment-records/", "employment_records"},
	CurrentEmployments:     {"/api/mx/current-employments/", "current_employments"},
	EmploymentMetrics:      {"/api/employment-metrics/", "employment_metrics"},
	FinancialStatements:    {"/api/financial-statements/", "financial_statements"},
	Invoices:               {"/api/invoices/", "invoices"},
	TaxComplianceStatus:    {"/api/tax-compliance-status/", "tax_compliance_status"},
	TaxRetentions:          {"/api/tax-retentions/", "tax_retentions"},
	TaxReturns:             {"/api/tax-returns/", "tax_returns"},
	TaxStatus:              {"/api/tax-status/", "tax_status"},
	CLInvoices:             {"/api/cl/invoices/", "cl_invoices"},
	CLDebtReports:          {"/api/cl/debt-reports/", "cl_debt_reports"},
}

// ParseResource validates a resource name, accepting any letter case.
func ParseResource(s string) (Resource, error) {
	r := Resource(strings.ToUpper(strings.TrimSpace(s)))
	if _, ok := resources[r]; !ok {
		return "", fmt.Errorf("unknown Belvo resource %q (known: %s)", s, strings.Join(resourceNames(), ", "))
	}
	return r, nil
}

// ParseResources parses a list of resource names, rejecting unknown names and
// dropping duplicates while keeping the first-seen order.
func ParseResources(names []string) ([]Resource, error) {
	out := make([]Resource, 0, len(names))
	seen := map[Resource]bool{}
	for _, n := range names {
		r, err := ParseResource(n)
		if err != nil {
			return nil, err
		}
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out, nil
}

// AllResources lists every historical resource, sorted by name.
func AllResources() []Resource {
	out := make([]Resource, 0, len(resources))
	for _, n := range resourceNames() {
		out = append(out, Resource(n))
	}
	return out
}

// Names are the resources' names, in order (for search attributes, memos
// and anything else that takes plain strings).
func Names(rs []Resource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}

// ListPath is the list endpoint of the resource, with Belvo's trailing slash.
func (r Resource) ListPath() string { return resources[r].path }

// Table is the store table that keeps the resource's rows.
func (r Resource) Table() string { return resources[r].table }

// Valid reports whether r is a known historical resource.
func (r Resource) Valid() bool { _, ok := resources[r]; return ok }

func resourceNames() []string {
	names := make([]string, 0, len(resources))
	for r := range resources {
		names = append(names, string(r))
	}
	sort.Strings(names)
	return names
}
