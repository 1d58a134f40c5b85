package workflows_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/workflows"
)

// What the web UI shows about an execution names its shape, never the bank
// credentials it was started with.
func TestSummariesAndMemosCarryShapeNotSecrets(t *testing.T) {
	reg := activities.RegisterLinkInput{Institution: "erebor_mx_retail", Username: "user-SECRET-1", Password: "pw-SECRET-2",
		ExternalID: "ext-7", AccessMode: "single", FetchResources: []belvo.Resource{belvo.Accounts, belvo.Owners}}
	req := belvo.AsyncRequest{Op: belvo.OpInvoices, LinkID: linkID, DateFrom: "2026-08-01", DateTo: "2026-10-31", Type: "INFLOW"}
	cases := []struct {
		name    string
		summary string
		memo    map[string]any
		want    []string
	}{
		{"registration", workflows.LinkRegistrationSummary(reg), workflows.LinkRegistrationMemo(reg),
			[]string{"erebor_mx_retail", "ACCOUNTS, OWNERS", `"access_mode":"single"`, `"external_id":"ext-7"`}},
		{"async post", workflows.AsyncPostSummary(req), workflows.AsyncMemo(req),
			[]string{"invoices for link " + linkID, "2026-08-01..2026-10-31 INFLOW", `"op":"invoices"`, `"type":"INFLOW"`}},
		{"historical fetch", workflows.HistoricalFetchSummary(linkID),
			workflows.FetchMemo("starter", workflows.FetchRequest{Resources: []belvo.Resource{belvo.Transactions}, ExternalID: "ext-7"}),
			[]string{linkID, `"resources":["TRANSACTIONS"]`, `"started_by":"starter"`}},
		{"async request", workflows.AsyncRequestSummary("rid-1"), nil, []string{"rid-1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			memo, err := json.Marshal(c.memo)
			if err != nil {
				t.Fatal(err)
			}
			all := c.summary + " " + string(memo)
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("%q lacks %q", all, w)
				}
			}
			if strings.Contains(all, "SECRET") {
				t.Errorf("credentials in what the UI shows: %s", all)
			}
		})
	}
}
