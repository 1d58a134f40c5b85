package activities

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
)

// pagedBelvo serves n pages of one transaction each and counts requests.
func pagedBelvo(t *testing.T, n int) (*belvo.Client, *atomic.Int32, func()) {
	var requests atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		p, _ := strconv.Atoi(r.URL.Query().Get("page"))
		p = max(p, 1)
		next := "null"
		if p < n {
			next = strconv.Quote(fmt.Sprintf("%s/api/transactions/?link=L1&page=%d", srv.URL, p+1))
		}
		fmt.Fprintf(w, `{"count":%d,"next":%s,"previous":null,"results":[{"id":"t%d"}]}`, n, next, p)
	}))
	bc, err := belvo.New(belvo.Options{BaseURL: srv.URL, SecretID: "id", SecretPassword: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	return bc, &requests, srv.Close
}

// Pages arrive in order, and no more than listAhead are downloaded beyond
// what the reader took: memory stays bounded however slow the store is.
func TestPrefetchIsOrderedAndBounded(t *testing.T) {
	bc, requests, stop := pagedBelvo(t, 10)
	defer stop()
	a := &Activities{Belvo: bc}
	in := FetchResourceInput{LinkID: "L1", Resource: belvo.Transactions}
	first, err := bc.FirstPageURL(in.Resource, in.LinkID, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pages := a.prefetch(ctx, in, first, 1)
	for took := 0; took <= 10; took++ {
		// With `took` pages read, the producer may hold listAhead more.
		want := int32(min(took+listAhead, 10))
		deadline := time.Now().Add(5 * time.Second)
		for requests.Load() < want && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond) // a producer that overran would show it now
		if got := requests.Load(); got != want {
			t.Fatalf("after reading %d pages: %d downloaded, want %d", took, got, want)
		}
		if took == 10 {
			break
		}
		d, ok := <-pages
		if !ok || d.err != nil || len(d.rows) != 1 || d.rows[0].ID != "t"+strconv.Itoa(took+1) {
			t.Fatalf("page %d: %+v (open %v)", took+1, d, ok)
		}
	}
	if _, ok := <-pages; ok {
		t.Fatal("the channel stays open after the last page")
	}
}

// A listing whose activity is cancelled mid-way ends with an error, never
// as a finished listing: a closed channel is not an empty last page.
func TestPrefetchCancelledIsNotDone(t *testing.T) {
	bc, _, stop := pagedBelvo(t, 1000)
	defer stop()
	a := &Activities{Belvo: bc}
	in := FetchResourceInput{LinkID: "L1", Resource: belvo.Transactions}
	first, _ := bc.FirstPageURL(in.Resource, in.LinkID, nil)
	ctx, cancel := context.WithCancel(context.Background())
	pages := a.prefetch(ctx, in, first, 1)
	<-pages
	cancel()
	for d := range pages {
		if d.err == nil && d.next == "" {
			t.Fatalf("a cancelled listing delivered a last page: %+v", d)
		}
	}
}
