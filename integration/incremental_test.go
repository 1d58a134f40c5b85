//go:build integration

package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/workflows"
)

// cursor reads a resource's cursor from the stack's store.
func (s *testStack) cursor(linkID string, r belvo.Resource) time.Time {
	s.t.Helper()
	c, ok, err := s.store.Cursor(context.Background(), linkID, r)
	if err != nil || !ok {
		s.t.Fatalf("no %s cursor for link %s (%v)", r, linkID, err)
	}
	return c
}

// A link fully fetched, then new transactions and their webhook: only the
// new rows (and the overlap) are listed, the store holds exactly Belvo's
// rows, none twice; an operator's relist lists everything again. The
// emulator's clock is hours away from the worker's, either way: the cursor
// comes from Belvo's timestamps only, so nothing is missed.
func TestNewTransactionsAreReadIncrementally(t *testing.T) {
	for _, offset := range []time.Duration{7 * time.Hour, -7 * time.Hour} {
		t.Run(fmt.Sprintf("emulator clock %+v from the worker's", offset), func(t *testing.T) {
			testIncremental(t, offset)
		})
	}
}

func testIncremental(t *testing.T, offset time.Duration) {
	const history = 2500 // three pages of 1000
	s := newStack(t, sandbox.Config{Transactions: history, ClockOffset: offset}, 0)
	reg := s.registerOnly("it-incremental", "recurrent", belvo.Accounts, belvo.Transactions)
	if _, err := s.starter.WaitFetch(s.ctx(time.Minute), reg.LinkID); err != nil {
		t.Fatal(err)
	}
	link := reg.LinkID
	created := s.cursor(link, belvo.Transactions)
	if d := time.Until(created) - offset; d > time.Minute || d < -time.Minute {
		t.Fatalf("the cursor %s is not the emulator's collection time (host %s, offset %s)", created, time.Now().UTC(), offset)
	}

	// A day later (by Belvo's clock), the first update: the history was
	// collected at one instant, the cursor, so the overlap re-reads all of
	// it once (docs/incremental-updates.md).
	s.sandbox.AdvanceClock(24 * time.Hour)
	lists := s.sandbox.ListRequests(link)
	s.event(link, "new_transactions_available", 10)
	s.waitHandled(link, 1)
	if got := s.sandbox.ListRequests(link) - lists; got != 3 {
		t.Errorf("the first update listed %d pages, want 3 (the history is within the overlap)", got)
	}
	s.assertTransactions(link, history+10)

	// Another day later, 100 new transactions: one page, with the 10 of
	// the day before (the overlap).
	s.sandbox.AdvanceClock(24 * time.Hour)
	lists = s.sandbox.ListRequests(link)
	s.event(link, "new_transactions_available", 100)
	s.waitHandled(link, 2)
	if got := s.sandbox.ListRequests(link) - lists; got != 1 {
		t.Errorf("the update listed %d pages, want 1 (110 rows)", got)
		for _, e := range s.logs.All() {
			if strings.Contains(e.Message, "listing") {
				t.Logf("%s %v", e.Message, e.ContextMap())
			}
		}
	}
	s.assertTransactions(link, history+110)
	moved := s.cursor(link, belvo.Transactions)
	if d := moved.Sub(created); d < 48*time.Hour || d > 48*time.Hour+time.Minute {
		t.Errorf("cursor moved %s, want the 48 h the emulator's clock advanced", d)
	}

	// At once, 50 more, stamped within the overlap of the last ones: the
	// 100 are read again (upserted, not doubled) with the 50.
	lists = s.sandbox.ListRequests(link)
	s.event(link, "new_transactions_available", 50)
	s.waitHandled(link, 3)
	if got := s.sandbox.ListRequests(link) - lists; got != 1 {
		t.Errorf("the third update listed %d pages, want 1", got)
	}
	s.assertTransactions(link, history+160)
	if c := s.cursor(link, belvo.Transactions); c.Before(moved) {
		t.Errorf("the cursor went back from %s to %s", moved, c)
	}

	// Accounts: a date-only filter (created_at__gte, the day before).
	s.event(link, "new_accounts_available", 2)
	s.waitHandled(link, 4)
	if got, want := s.count(belvo.Accounts, link), s.expected(link)[belvo.Accounts]; got != want {
		t.Errorf("%d accounts stored, Belvo holds %d", got, want)
	}

	// An explicit full relist reads every page again.
	lists = s.sandbox.ListRequests(link)
	if _, err := s.starter.Relist(s.ctx(time.Minute), "it-relist", link, []belvo.Resource{belvo.Transactions}); err != nil {
		t.Fatal(err)
	}
	p := s.waitHandled(link, 5)
	if got := s.sandbox.ListRequests(link) - lists; got != 3 {
		t.Errorf("the relist listed %d pages, want 3 (2660 rows)", got)
	}
	s.assertTransactions(link, history+160)
	if p.LastError != "" || len(p.Failed) != 0 || p.Ignored != 0 {
		t.Errorf("progress %+v", p)
	}
	if offset > 0 {
		assertReplays(t, s, workflows.LinkUpdatesWorkflowID(link), "link_updates_relist_history.json")
	}
}

// expected is what the emulator holds for a link.
func (s *testStack) expected(linkID string) sandbox.ExpectedCounts {
	s.t.Helper()
	want, ok := s.sandbox.Expected(linkID)
	if !ok {
		s.t.Fatalf("the emulator does not know link %s", linkID)
	}
	return want
}

// assertTransactions checks the store holds exactly the link's transactions
// at Belvo: as many as Belvo holds and as want, each row once (a link's
// rows are keyed by Belvo's id, so a count equal to Belvo's means none
// doubled and none missing).
func (s *testStack) assertTransactions(linkID string, want int) {
	s.t.Helper()
	if got, belvoHas := s.count(belvo.Transactions, linkID), s.expected(linkID)[belvo.Transactions]; got != want || belvoHas != want {
		s.t.Errorf("store holds %d transactions, Belvo %d, want %d", got, belvoHas, want)
	}
}
