package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/google/uuid"
)

// listRows lists every row of a resource of a link, raw as served.
func (h *harness) listRows(res belvo.Resource, link string) []json.RawMessage {
	h.t.Helper()
	var rows []json.RawMessage
	for page := 1; ; page++ {
		status, _, b := h.do("GET", res.ListPath()+"?page_size=1000&page="+strconv.Itoa(page)+"&link="+link, nil, nil)
		if status != http.StatusOK {
			h.t.Fatalf("list %s: HTTP %d: %s", res, status, b)
		}
		var p belvo.Page
		if err := json.Unmarshal(b, &p); err != nil {
			h.t.Fatal(err)
		}
		rows = append(rows, p.Results...)
		if p.Next == nil {
			return rows
		}
	}
}

// detail is GET /api/<resource>/{id}/.
func (h *harness) detail(res belvo.Resource, id string) (int, []byte) {
	h.t.Helper()
	status, _, b := h.do("GET", res.ListPath()+id+"/", nil, nil)
	return status, bytes.TrimSpace(b)
}

func TestDetailServesTheListedRow(t *testing.T) {
	h := newHarness(t, Config{Transactions: 300, WebhookDelay: time.Hour})
	link := h.register("", "ACCOUNTS", "TRANSACTIONS")
	h.register("") // another link, so that lookups must pick the right one
	for _, res := range belvo.AllResources() {
		t.Run(string(res), func(t *testing.T) {
			rows := h.listRows(res, link)
			if len(rows) == 0 {
				t.Fatalf("no %s rows", res)
			}
			for _, k := range []int{0, len(rows) - 1} {
				id, _ := belvo.RowID(rows[k])
				status, b := h.detail(res, id)
				if status != http.StatusOK || !bytes.Equal(b, rows[k]) {
					t.Errorf("row %d: HTTP %d\n got %.300s\nwant %.300s", k, status, b, rows[k])
				}
			}
		})
	}
	if n := h.s.DetailRequests(link); n != 2*len(belvo.AllResources()) {
		t.Errorf("DetailRequests = %d", n)
	}
}

func TestDetailNotFound(t *testing.T) {
	h := newHarness(t, Config{WebhookDelay: time.Hour})
	link := h.register("", "TRANSACTIONS")
	account := rowID(link, belvo.Accounts, 0)
	tx := rowID(link, belvo.Transactions, 0)
	cases := []struct {
		name string
		res  belvo.Resource
		id   string
	}{
		{"unknown id", belvo.Transactions, "00000000-0000-4000-8000-000000000000"},
		{"not a uuid", belvo.Transactions, "abc"},
		{"upper-case uuid", belvo.Transactions, "A" + tx[1:]},
		{"an account's id as a transaction", belvo.Transactions, account},
		{"a transaction's id as an account", belvo.Accounts, tx},
		{"past the rows of the link", belvo.Transactions, rowID(link, belvo.Transactions, 250)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, b := h.detail(c.res, c.id)
			if status != http.StatusNotFound {
				t.Fatalf("HTTP %d, want 404: %s", status, b)
			}
			if e := belvoErrorOf(t, b); e["code"] != "not_found" {
				t.Errorf("error %v", e)
			}
		})
	}
}

func TestDetailFollowsUpdatesAndDeletions(t *testing.T) {
	cases := []struct {
		name string
		// play changes the link and returns the transaction ids to read;
		// found says whether they must still be found.
		play  func(h *harness, link string) []string
		found bool
	}{
		{"transactions_updated: the new version", func(h *harness, link string) []string {
			wh, err := h.s.RecurrentEvent(link, "transactions_updated", 3)
			if err != nil {
				h.t.Fatal(err)
			}
			return wh.Data["updated_transactions"].([]string)
		}, true},
		{"transactions_deleted: gone", func(h *harness, link string) []string {
			wh, err := h.s.RecurrentEvent(link, "transactions_deleted", 3)
			if err != nil {
				h.t.Fatal(err)
			}
			return wh.Data["deleted_transactions"].([]string)
		}, false},
		{"a row found by scanning, then its link deleted", func(h *harness, link string) []string {
			id := rowID(link, belvo.Transactions, 42)
			if status, b := h.detail(belvo.Transactions, id); status != 200 {
				h.t.Fatalf("before the deletion: HTTP %d: %s", status, b)
			}
			if status, _, b := h.do("DELETE", "/api/links/"+link+"/", nil, nil); status != http.StatusNoContent {
				h.t.Fatalf("delete link: HTTP %d: %s", status, b)
			}
			return []string{id}
		}, false},
		{"an updated row's link deleted", func(h *harness, link string) []string {
			wh, _ := h.s.RecurrentEvent(link, "transactions_updated", 1)
			if _, err := h.s.RecurrentEvent(link, "link_deleted", 1); err != nil {
				h.t.Fatal(err)
			}
			return wh.Data["updated_transactions"].([]string)
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, Config{WebhookDelay: time.Hour})
			link := h.register("", "TRANSACTIONS")
			ids := c.play(h, link)
			listed := map[string]json.RawMessage{}
			if c.found {
				for _, row := range h.listRows(belvo.Transactions, link) {
					id, _ := belvo.RowID(row)
					listed[id] = row
				}
			}
			for _, id := range ids {
				status, b := h.detail(belvo.Transactions, id)
				switch {
				case !c.found && status != http.StatusNotFound:
					t.Errorf("%s: HTTP %d, want 404: %s", id, status, b)
				case c.found && (status != http.StatusOK || !bytes.Equal(b, listed[id])):
					t.Errorf("%s: HTTP %d\n got %.400s\nwant %.400s", id, status, b, listed[id])
				case c.found && !bytes.Contains(b, []byte(`"observations":"updated by Belvo (version 1)"`)):
					t.Errorf("%s: not the updated version: %.400s", id, b)
				}
			}
		})
	}
}

// TestDetailOfTheLastOf100kRowsIsIndexed reads the last row of a 100k-row
// link by id, which takes a scan of its ids, and checks that the row is
// then indexed so a second read scans nothing. How long the scan takes is
// BenchmarkDetailScan's: a timed assertion fails on a loaded machine.
func TestDetailOfTheLastOf100kRowsIsIndexed(t *testing.T) {
	h := newHarness(t, Config{Transactions: 100_000, WebhookDelay: time.Hour})
	link := h.register("", "TRANSACTIONS")
	id := rowID(link, belvo.Transactions, 99_999)
	indexed := func() bool {
		h.s.mu.Lock()
		defer h.s.mu.Unlock()
		_, ok := h.s.rowIndex[id]
		return ok
	}
	if indexed() {
		t.Fatal("the row is indexed before anyone read it: the scan is not exercised")
	}
	for read := 1; read <= 2; read++ {
		if status, b := h.detail(belvo.Transactions, id); status != http.StatusOK {
			t.Fatalf("read %d: HTTP %d: %s", read, status, b)
		}
		if !indexed() {
			t.Fatalf("read %d: the row found by a scan was not indexed", read)
		}
	}
}

// BenchmarkDetailScan is the scan a detail request of an unindexed row
// costs: the ids of a 100k-row link generated until the last one matches.
func BenchmarkDetailScan(b *testing.B) {
	link := uuid.NewString()
	want := uuid.MustParse(rowID(link, belvo.Transactions, 99_999))
	for b.Loop() {
		if i, ok := scanIDs(link, belvo.Transactions, 100_000, want); !ok || i != 99_999 {
			b.Fatalf("scan found %d, %v", i, ok)
		}
	}
}

func TestListIgnoresUnknownFilters(t *testing.T) {
	h := newHarness(t, Config{WebhookDelay: time.Hour})
	link := h.register("", "TRANSACTIONS")
	all := len(h.listRows(belvo.Transactions, link))
	cases := []struct{ name, query string }{
		{"id__in, undocumented", "&id__in=" + rowID(link, belvo.Transactions, 0)},
		{"any other unknown parameter", "&narnia=1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, _, b := h.do("GET", "/api/transactions/?link="+link+c.query, nil, nil)
			var p belvo.Page
			if status != http.StatusOK || json.Unmarshal(b, &p) != nil || p.Count != all {
				t.Errorf("HTTP %d, count %d, want 200 and every row (%d): %.300s", status, p.Count, all, b)
			}
		})
	}
}
