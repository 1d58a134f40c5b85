//go:build integration

package integration

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/workflows"
)

// linkUpdates queries the latest run of a link's LinkUpdates.
func (s *testStack) linkUpdates(linkID string) (workflows.LinkUpdatesProgress, bool) {
	var p workflows.LinkUpdatesProgress
	v, err := s.client.QueryWorkflow(context.Background(), workflows.LinkUpdatesWorkflowID(linkID), "", workflows.ProgressQuery)
	if err != nil || v.Get(&p) != nil {
		return p, false
	}
	return p, true
}

func (s *testStack) waitHandled(linkID string, n int) workflows.LinkUpdatesProgress {
	s.t.Helper()
	var p workflows.LinkUpdatesProgress
	waitFor(s.t, 30*time.Second, func() bool {
		var ok bool
		p, ok = s.linkUpdates(linkID)
		return ok && p.Handled >= n
	})
	return p
}

func (s *testStack) event(linkID, code string, n int) sandbox.Webhook {
	s.t.Helper()
	wh, err := s.sandbox.RecurrentEvent(linkID, code, n)
	if err != nil {
		s.t.Fatalf("sandbox event %s: %v", code, err)
	}
	return wh
}

func (s *testStack) count(r belvo.Resource, linkID string) int {
	s.t.Helper()
	n, err := s.store.Count(context.Background(), r, linkID)
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

// A recurrent link's webhooks change the store: deleted transactions go,
// updated ones change, new rows arrive; link status webhooks are recorded;
// link_deleted ends the handler.
func TestRecurrentLinkWebhooksChangeTheStore(t *testing.T) {
	s := newStack(t, sandbox.Config{Transactions: 1500}, 0)
	reg := s.registerOnly("it-recurrent", "recurrent", belvo.Accounts, belvo.Transactions, belvo.Owners)
	if _, err := s.starter.WaitFetch(s.ctx(time.Minute), reg.LinkID); err != nil {
		t.Fatal(err)
	}
	link := reg.LinkID

	del := s.event(link, "transactions_deleted", 5)
	s.waitHandled(link, 1)
	if got := s.count(belvo.Transactions, link); got != 1495 {
		t.Errorf("after transactions_deleted: %d transactions, want 1495", got)
	}
	for _, id := range del.Data["deleted_transactions"].([]string) {
		if data, _ := s.store.Row(context.Background(), belvo.Transactions, link, id); data != nil {
			t.Errorf("deleted transaction %s still stored", id)
		}
	}

	upd := s.event(link, "transactions_updated", 3)
	s.waitHandled(link, 2)
	for _, id := range upd.Data["updated_transactions"].([]string) {
		data, _ := s.store.Row(context.Background(), belvo.Transactions, link, id)
		if !strings.Contains(string(data), "updated by Belvo") {
			t.Errorf("updated transaction %s not refreshed: %.120s", id, data)
		}
	}

	s.event(link, "new_transactions_available", 40)
	s.event(link, "new_accounts_available", 2)
	s.waitHandled(link, 4)
	want, _ := s.sandbox.Expected(link)
	if got := s.count(belvo.Transactions, link); got != 1535 || got != want[belvo.Transactions] {
		t.Errorf("after new transactions: %d stored, sandbox %d, want 1535", got, want[belvo.Transactions])
	}
	if got := s.count(belvo.Accounts, link); got != 5 {
		t.Errorf("after new accounts: %d stored, want 5", got)
	}

	s.event(link, "invalid_credentials", 1)
	if p := s.waitHandled(link, 5); p.Status != "invalid_credentials" {
		t.Errorf("status %q after invalid_credentials", p.Status)
	}
	s.event(link, "link_deleted", 1)
	var final workflows.LinkUpdatesProgress
	if err := s.client.GetWorkflow(s.ctx(30*time.Second), workflows.LinkUpdatesWorkflowID(link), "").Get(s.ctx(30*time.Second), &final); err != nil {
		t.Fatalf("link updates did not end on link_deleted: %v", err)
	}
	if final.Status != "deleted" || final.Handled != 6 {
		t.Errorf("final %+v", final)
	}
	assertReplays(t, s, workflows.LinkUpdatesWorkflowID(link), "link_updates_end_checks_history.json")
}

// Many webhooks at once against a handler that continues as new every three:
// every one is handled, across the switches, and the store ends exact.
func TestLinkUpdatesContinueAsNewUnderLoad(t *testing.T) {
	s := newStackWith(t, sandbox.Config{Transactions: 1000}, 0, bridgeTuning{eventsPerRun: 3})
	reg := s.registerOnly("it-can", "recurrent", belvo.Transactions)
	if _, err := s.starter.WaitFetch(s.ctx(time.Minute), reg.LinkID); err != nil {
		t.Fatal(err)
	}
	link := reg.LinkID
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, n := "new_transactions_available", 10
			if i%2 == 0 {
				code, n = "transactions_deleted", 2
			}
			if _, err := s.sandbox.RecurrentEvent(link, code, n); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("sandbox event: %v", err)
	}
	p := s.waitHandled(link, 12)
	want, _ := s.sandbox.Expected(link)
	if got := s.count(belvo.Transactions, link); got != want[belvo.Transactions] || got != 1000-12+60 {
		t.Errorf("store %d transactions, sandbox %d, want %d", got, want[belvo.Transactions], 1000-12+60)
	}
	if p.Runs < 4 || p.Handled != 12 || p.LastError != "" || len(p.Failed) != 0 || p.Duplicates != 0 {
		t.Errorf("progress %+v: want 12 handled over at least 4 runs, nothing failed", p)
	}
}
