package activities

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// pagedBelvo serves a link's transactions in pages of two rows, each
// answered after delay, following Belvo's next links on its own host.
type pagedBelvo struct {
	pages int
	delay time.Duration
}

func (p pagedBelvo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	time.Sleep(p.delay)
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	next := "null"
	if page < p.pages {
		next = strconv.Quote(fmt.Sprintf("http://%s/api/transactions/?link=L1&page=%d&page_size=1000", r.Host, page+1))
	}
	fmt.Fprintf(w, `{"count":%d,"next":%s,"previous":null,"results":[%s,%s]}`, 2*p.pages, next,
		tx(fmt.Sprintf("p%d-a", page), "2026-11-20T10:00:00Z"), tx(fmt.Sprintf("p%d-b", page), "2026-11-20T10:00:00Z"))
}

// listWithHeartbeat runs FetchResource as the workflows do, with a
// heartbeat timeout.
func listWithHeartbeat(ctx workflow.Context, in FetchResourceInput, heartbeat time.Duration) (FetchResourceResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute, HeartbeatTimeout: heartbeat})
	var a *Activities
	var res FetchResourceResult
	err := workflow.ExecuteActivity(ctx, a.FetchResource, in).Get(ctx, &res)
	return res, err
}

// TestListingHeartbeatsOnlyOnceItOutlivesATick checks what a listing asks
// of Temporal: one that ends within its first tick (a quarter of the
// heartbeat timeout) sends no heartbeat, so its engine records none; one
// that lasts several ticks (every page answered slower than a tick)
// heartbeats, and its latest details are a cursor past the first page, for
// a retry to resume from.
func TestListingHeartbeatsOnlyOnceItOutlivesATick(t *testing.T) {
	cases := []struct {
		name      string
		belvo     pagedBelvo
		heartbeat time.Duration
		// wantBeats: whether any heartbeat reaches Temporal.
		wantBeats bool
	}{
		{"one quick page within the first tick", pagedBelvo{pages: 1}, 20 * time.Second, false},
		{"pages slower than a tick", pagedBelvo{pages: 4, delay: 300 * time.Millisecond}, 800 * time.Millisecond, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, st := fetchFixture(t, c.belvo)
			var suite testsuite.WorkflowTestSuite
			env := suite.NewTestWorkflowEnvironment()
			env.RegisterActivity(a)
			env.RegisterWorkflow(listWithHeartbeat)
			var mu sync.Mutex
			var beats []fetchCursor
			env.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
				var cur fetchCursor
				if err := details.Get(&cur); err != nil {
					t.Errorf("heartbeat details: %v", err)
				}
				mu.Lock()
				beats = append(beats, cur)
				mu.Unlock()
			})
			env.ExecuteWorkflow(listWithHeartbeat, FetchResourceInput{LinkID: "L1", Resource: belvo.Transactions}, c.heartbeat)
			if err := env.GetWorkflowError(); err != nil {
				t.Fatal(err)
			}
			var res FetchResourceResult
			if err := env.GetWorkflowResult(&res); err != nil {
				t.Fatal(err)
			}
			if res.Pages != c.belvo.pages || res.Stored != 2*c.belvo.pages {
				t.Errorf("listed %d pages, stored %d rows; want %d and %d", res.Pages, res.Stored, c.belvo.pages, 2*c.belvo.pages)
			}
			if n, _ := st.Count(t.Context(), belvo.Transactions, "L1"); n != 2*c.belvo.pages {
				t.Errorf("store holds %d rows, want %d", n, 2*c.belvo.pages)
			}
			mu.Lock()
			defer mu.Unlock()
			if got := len(beats) > 0; got != c.wantBeats {
				t.Fatalf("%d heartbeats reached Temporal (%+v), want any: %v", len(beats), beats, c.wantBeats)
			}
			if c.wantBeats {
				if last := beats[len(beats)-1]; last.Page < 2 {
					t.Errorf("latest heartbeat %+v: want a cursor past the first stored page", last)
				}
			}
		})
	}
}
