package activities

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/store"
	"go.temporal.io/sdk/testsuite"
)

// fakeBelvo serves one page of transactions and remembers the query of
// the last list request.
type fakeBelvo struct {
	mu    sync.Mutex
	rows  []string
	query url.Values
}

func (f *fakeBelvo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.query = r.URL.Query()
	fmt.Fprintf(w, `{"count":%d,"next":null,"previous":null,"results":[%s]}`, len(f.rows), strings.Join(f.rows, ","))
}

// fetchFixture is FetchResource's world for a test: fake as Belvo, over
// real HTTP, and a SQLite store in a temporary directory.
func fetchFixture(t *testing.T, fake http.Handler) (*Activities, store.Store) {
	t.Helper()
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	bc, err := belvo.New(belvo.Options{BaseURL: srv.URL, SecretID: "id", SecretPassword: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return &Activities{Belvo: bc, Store: st}, st
}

func tx(id, collected string) string {
	if collected == "" {
		return fmt.Sprintf(`{"id":%q}`, id)
	}
	return fmt.Sprintf(`{"id":%q,"collected_at":%q}`, id, collected)
}

// FetchResource moves the cursor from the row timestamps of whole and
// incremental listings only, forward only, reads from it less the overlap,
// and drops it when a row has no usable timestamp.
func TestFetchResourceKeepsTheCursor(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	steps := []struct {
		name        string
		rows        []string
		in          FetchResourceInput
		wantSince   string // the collected_at__gte sent ("" : none)
		wantCursor  string // "" : no cursor afterwards
		wantErrText string
	}{
		{name: "incremental without a cursor lists whole and sets it",
			rows: []string{tx("a", "2026-11-20T10:00:00Z"), tx("b", "2026-11-20T10:00:01.5Z")},
			in:   FetchResourceInput{Incremental: true}, wantCursor: "2026-11-20T10:00:01.5Z"},
		{name: "incremental reads from the cursor less an hour and advances it",
			rows: []string{tx("b", "2026-11-20T10:00:01.5Z"), tx("c", "2026-11-21T09:00:00Z")},
			in:   FetchResourceInput{Incremental: true}, wantSince: "2026-11-20T09:00:01.5Z", wantCursor: "2026-11-21T09:00:00Z"},
		{name: "a listing of older rows never moves it back",
			rows: []string{tx("a", "2026-11-20T10:00:00Z")},
			in:   FetchResourceInput{}, wantCursor: "2026-11-21T09:00:00Z"},
		{name: "a listing narrowed by other filters leaves it",
			rows: []string{tx("d", "2026-11-25T00:00:00Z")},
			in:   FetchResourceInput{Filters: map[string]string{"value_date__range": "2026-10-01,2026-10-31"}}, wantCursor: "2026-11-21T09:00:00Z"},
		{name: "incremental with other filters is refused",
			in:         FetchResourceInput{Incremental: true, Filters: map[string]string{"type": "INFLOW"}},
			wantCursor: "2026-11-21T09:00:00Z", wantErrText: "takes no other filters"},
		{name: "a row without a timestamp drops it",
			rows: []string{tx("e", "2026-11-22T09:00:00Z"), tx("f", "")},
			in:   FetchResourceInput{Incremental: true}, wantSince: "2026-11-21T08:00:00Z"},
		{name: "then the next update lists whole",
			rows: []string{tx("e", "2026-11-22T09:00:00Z"), tx("f", "2026-11-22T09:00:00-05:00")},
			in:   FetchResourceInput{Incremental: true}, wantCursor: "2026-11-22T14:00:00Z"},
	}
	fake := &fakeBelvo{}
	a, st := fetchFixture(t, fake)
	var suite testsuite.WorkflowTestSuite
	for _, step := range steps {
		fake.mu.Lock()
		fake.rows = step.rows
		fake.mu.Unlock()
		env := suite.NewTestActivityEnvironment()
		env.RegisterActivity(a)
		in := step.in
		in.LinkID, in.Resource = "L1", belvo.Transactions
		_, err := env.ExecuteActivity(a.FetchResource, in)
		switch {
		case step.wantErrText != "" && (err == nil || !strings.Contains(err.Error(), step.wantErrText)):
			t.Fatalf("%s: err = %v, want one saying %q", step.name, err, step.wantErrText)
		case step.wantErrText == "" && err != nil:
			t.Fatalf("%s: %v", step.name, err)
		}
		if step.wantErrText == "" {
			if got := fake.query.Get("collected_at__gte"); got != step.wantSince {
				t.Errorf("%s: sent collected_at__gte=%q, want %q", step.name, got, step.wantSince)
			}
		}
		c, ok, err := st.Cursor(context.Background(), "L1", belvo.Transactions)
		if err != nil {
			t.Fatal(err)
		}
		if step.wantCursor == "" {
			if ok {
				t.Errorf("%s: cursor %s kept, want none", step.name, c)
			}
			continue
		}
		if !ok || !c.Equal(at(step.wantCursor)) {
			t.Errorf("%s: cursor %s (kept %v), want %s", step.name, c, ok, step.wantCursor)
		}
	}
}

// A retry that resumes after every page was stored reports the commit time
// the heartbeat carries, not its own, so the webhook-to-data latency does
// not include the retry's backoff; a heartbeat from before the field
// existed falls back to now.
func TestFetchResourceResumedDoneKeepsTheCommitTime(t *testing.T) {
	a, _ := fetchFixture(t, &fakeBelvo{rows: []string{tx("a", "2026-11-20T10:00:00Z")}})
	committed := time.Now().Add(-42 * time.Second).UTC().Round(time.Millisecond)
	cases := []struct {
		name  string
		prior fetchCursor
		want  func(got time.Time) bool
	}{
		{"the heartbeat's commit time", fetchCursor{Page: 2, Done: true, CommittedAt: committed},
			func(got time.Time) bool { return got.Equal(committed) }},
		{"an old heartbeat without one: now", fetchCursor{Page: 2, Done: true},
			func(got time.Time) bool { return got.After(committed.Add(30 * time.Second)) }},
	}
	var suite testsuite.WorkflowTestSuite
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := suite.NewTestActivityEnvironment()
			env.RegisterActivity(a)
			env.SetHeartbeatDetails(c.prior)
			v, err := env.ExecuteActivity(a.FetchResource, FetchResourceInput{LinkID: "L1", Resource: belvo.Transactions})
			if err != nil {
				t.Fatal(err)
			}
			var res FetchResourceResult
			if err := v.Get(&res); err != nil {
				t.Fatal(err)
			}
			if res.Pages != 0 {
				t.Errorf("a resumed finished listing fetched %d pages, want 0", res.Pages)
			}
			if !c.want(res.CommittedAt) {
				t.Errorf("CommittedAt = %s (heartbeat had %s)", res.CommittedAt, c.prior.CommittedAt)
			}
		})
	}
}
