package activities

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/store"
	"go.temporal.io/sdk/activity"
)

// FetchResourceInput names one resource of one link, optionally narrowed by
// list filters (an async request's date range and type).
type FetchResourceInput struct {
	LinkID   string            `json:"link_id"`
	Resource belvo.Resource    `json:"resource"`
	Filters  map[string]string `json:"filters,omitempty"`
	// WebhookKey, when set, is recorded as processed once the listing is
	// stored, so a copy of that webhook is recognised by later executions.
	WebhookKey string `json:"webhook_key,omitempty"`
	// Incremental reads only the rows at or after the resource's cursor
	// (less an overlap, see belvo.Incremental), or the whole resource when
	// it has none; it takes no Filters.
	Incremental bool `json:"incremental,omitempty"`
}

// FetchResourceResult is all the workflow learns of a listing: counts.
type FetchResourceResult struct {
	Resource belvo.Resource `json:"resource"`
	// Pages fetched by the attempt that finished (a resumed attempt counts
	// only its own pages).
	Pages int `json:"pages"`
	// BelvoCount is the envelope's count on the last page read.
	BelvoCount int `json:"belvo_count"`
	// Stored is the number of the link's rows of this resource in the store.
	Stored int `json:"stored"`
	// Since is the incremental filter's value when the listing read from
	// the cursor ("" when it listed whole or by Filters).
	Since string `json:"since,omitempty"`
	// CommittedAt is when the listing's last rows were committed (the
	// worker's clock), for the webhook-to-data latency.
	CommittedAt time.Time `json:"committed_at,omitzero"`
}

// fetchCursor is the heartbeat detail: where a retried attempt resumes, so a
// crash at page 70 of 100 does not list pages 1–69 again.
type fetchCursor struct {
	NextURL string `json:"next_url"`
	Page    int    `json:"page"`
	// Done: every page was stored; a retry only counts and marks.
	Done bool `json:"done,omitempty"`
	// Stamps are the row timestamps of the stored pages, for the cursor.
	Stamps stamps `json:"stamps,omitzero"`
	// CommittedAt is when the last page was committed (with Done), so a
	// retry that only counts and marks reports the real commit time, not
	// its own: the webhook-to-data latency would otherwise include the
	// retry's backoff.
	CommittedAt time.Time `json:"committed_at,omitzero"`
}

// FetchResource lists every page of a resource for a link (page_size=1000)
// and upserts each page into the store while the next one downloads, so
// memory holds at most two pages and a retry rewrites rows instead of adding
// them.
func (a *Activities) FetchResource(ctx context.Context, in FetchResourceInput) (_ FetchResourceResult, err error) {
	log := activity.GetLogger(ctx)
	plan, err := a.planListing(ctx, in)
	if err != nil {
		return FetchResourceResult{}, classify(ctx, err)
	}
	next, err := a.Belvo.FirstPageURL(in.Resource, in.LinkID, plan.filters)
	if err != nil {
		return FetchResourceResult{}, classify(ctx, err)
	}
	page := 1
	var seen stamps
	var committed time.Time
	if activity.HasHeartbeatDetails(ctx) {
		var c fetchCursor
		if err := activity.GetHeartbeatDetails(ctx, &c); err == nil && (c.NextURL != "" || c.Done) {
			next, page, seen = c.NextURL, c.Page, c.Stamps
			if c.Done {
				committed = c.CommittedAt
			}
			log.Info("resuming listing from heartbeat", "resource", in.Resource, "page", page, "done", c.Done)
		}
	}
	// A page may take longer than the heartbeat timeout (a slow
	// institution, inside BELVO_HTTP_TIMEOUT): keep heartbeating the last
	// stored cursor while waiting, so the engine does not kill an attempt
	// that is making progress. A dead worker still stops heartbeating.
	alive := keepAlive(ctx, fetchCursor{NextURL: next, Page: page})
	defer func() { alive.stop(err) }()
	res := FetchResourceResult{Resource: in.Resource, Since: plan.since}
	// Pages and rows per resource, beside the SDK's own series on /metrics.
	m := activity.GetMetricsHandler(ctx).WithTags(map[string]string{"resource": string(in.Resource)})
	// The next page downloads while this one is stored, so a listing takes
	// about as long as the slower of Belvo and the store, not their sum. At
	// most two pages are in memory; only stored pages are heartbeated, so a
	// retry resumes after the last page that is really in the store.
	var pending <-chan downloaded
	if next != "" {
		pending = a.download(ctx, in, next, page)
	}
	for next != "" {
		got := <-pending
		if got.err != nil {
			if smaller, ok := askForLess(got.err, next); ok {
				// Belvo timed out building the page: ask for the same rows
				// in smaller pages, at once, as Belvo advises.
				log.Warn("Belvo request timeout: asking for smaller pages", "resource", in.Resource, "page", page, "next", pathAndQuery(smaller))
				next = smaller
				pending = a.download(ctx, in, next, page)
				continue
			}
			return res, classify(ctx, got.err)
		}
		following := got.next
		if following != "" {
			pending = a.download(ctx, in, following, page+1)
		}
		if err := a.Store.UpsertRows(ctx, in.Resource, in.LinkID, got.rows); err != nil {
			return res, storeError(err)
		}
		m.Counter("belvo_pages_listed").Inc(1)
		m.Counter("belvo_rows_upserted").Inc(int64(len(got.rows)))
		res.Pages++
		res.BelvoCount = got.count
		seen.add(got.stamps)
		next = following
		page++
		c := fetchCursor{NextURL: next, Page: page, Done: next == "", Stamps: seen}
		if c.Done {
			committed = time.Now()
			c.CommittedAt = committed
		}
		alive.record(c)
		if err := ctx.Err(); err != nil {
			return res, errors.Join(fmt.Errorf("listing %s stopped at page %d", in.Resource, page), err)
		}
	}
	// Every page is committed: the moment the data became the app's (a
	// heartbeat from before the fields existed has none: now, as before).
	res.CommittedAt = committed
	if res.CommittedAt.IsZero() {
		res.CommittedAt = time.Now()
	}
	if res.Stored, err = a.Store.Count(ctx, in.Resource, in.LinkID); err != nil {
		return res, storeError(err)
	}
	// Every page is stored: only now may the cursor move past their rows.
	if err := a.keepCursor(ctx, in, plan, seen); err != nil {
		return res, err
	}
	if len(in.Filters) == 0 {
		// Only an unfiltered listing is the resource's whole history.
		if err := a.Store.MarkFetched(ctx, in.LinkID, in.Resource, res.Stored); err != nil {
			return res, storeError(err)
		}
	}
	if in.WebhookKey != "" {
		if err := a.Store.MarkWebhook(ctx, in.LinkID, in.WebhookKey); err != nil {
			return res, storeError(err)
		}
	}
	log.Info("resource stored", "link_id", in.LinkID, "resource", in.Resource, "pages", res.Pages, "stored", res.Stored)
	return res, nil
}

// downloaded is one page, parsed into rows, or why it could not be (the
// error unclassified: the caller may still ask for smaller pages).
type downloaded struct {
	rows   []store.Row
	next   string
	count  int
	stamps stamps
	err    error
}

// download fetches and parses one page in the background; the channel
// receives exactly one result (buffered, so an abandoned download never
// blocks: the activity's context stops its request).
func (a *Activities) download(ctx context.Context, in FetchResourceInput, pageURL string, page int) <-chan downloaded {
	out := make(chan downloaded, 1)
	go func() {
		p, err := a.Belvo.ListPage(ctx, pageURL)
		if err != nil {
			out <- downloaded{err: fmt.Errorf("list %s page %d of link %s: %w", in.Resource, page, in.LinkID, err)}
			return
		}
		d := downloaded{rows: make([]store.Row, 0, len(p.Results)), count: p.Count}
		field := stampField(in.Resource)
		for _, raw := range p.Results {
			// The id and the cursor's timestamp in one pass over the row.
			id, stamp, why, err := belvo.RowKeys(raw, field)
			if err != nil {
				out <- downloaded{err: fmt.Errorf("%s page %d of link %s: %w", in.Resource, page, in.LinkID, err)}
				return
			}
			d.stamps.add(stamps{Newest: stamp, Unstamped: why})
			d.rows = append(d.rows, store.Row{ID: id, Data: raw})
		}
		if p.Next != nil {
			d.next = *p.Next
		}
		out <- d
	}()
	return out
}

// LinkState is what earlier executions left for a link: the resources
// stored completely (with row counts) and the webhooks already processed.
type LinkState struct {
	Stored   map[belvo.Resource]int `json:"stored"`
	Webhooks []string               `json:"webhooks,omitempty"`
	// Deleted: the link was deleted (its data is gone); nothing is to be
	// fetched for it any more.
	Deleted bool `json:"deleted,omitempty"`
}

// StoredState reads a link's LinkState. A fetch started after an earlier one
// finished uses it instead of waiting for webhooks Belvo will not send again,
// and to recognise copies of webhooks already processed.
func (a *Activities) StoredState(ctx context.Context, linkID string) (LinkState, error) {
	deleted, err := a.Store.LinkDeleted(ctx, linkID)
	if err != nil {
		return LinkState{}, err
	}
	if deleted {
		return LinkState{Deleted: true}, nil
	}
	m, err := a.Store.Fetched(ctx, linkID)
	if err != nil {
		return LinkState{}, fmt.Errorf("read stored resources of link %s: %w", linkID, err)
	}
	keys, err := a.Store.Webhooks(ctx, linkID)
	if err != nil {
		return LinkState{}, fmt.Errorf("read processed webhooks of link %s: %w", linkID, err)
	}
	return LinkState{Stored: m, Webhooks: keys}, nil
}

// pageSizes is the ladder a request timeout walks down; each size divides the
// one before, so the same offset is a page boundary at every step.
var pageSizes = []int{1000, 500, 250, 125}

// askForLess returns the URL of the same rows in the next smaller page size
// when err is Belvo's request timeout, and false otherwise or at the bottom
// of the ladder.
func askForLess(err error, pageURL string) (string, bool) {
	if !belvo.Classify(err, 1).AskForLess {
		return "", false
	}
	u, perr := url.Parse(pageURL)
	if perr != nil {
		return "", false
	}
	q := u.Query()
	size, _ := strconv.Atoi(q.Get("page_size"))
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	for _, smaller := range pageSizes {
		if smaller < size && ((page-1)*size)%smaller == 0 {
			q.Set("page_size", strconv.Itoa(smaller))
			q.Set("page", strconv.Itoa((page-1)*size/smaller+1))
			u.RawQuery = q.Encode()
			return u.String(), true
		}
	}
	return "", false
}

// pathAndQuery is a URL without scheme and host, for logs.
func pathAndQuery(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.RequestURI()
	}
	return raw
}

// PeekResource asks Belvo how many rows of a resource a link has (one row of
// the list), to tell a late webhook from missing data.
func (a *Activities) PeekResource(ctx context.Context, in FetchResourceInput) (int, error) {
	first, err := a.Belvo.FirstPageURL(in.Resource, in.LinkID, map[string]string{"page_size": "1"})
	if err != nil {
		return 0, classify(ctx, err)
	}
	p, err := a.Belvo.ListPage(ctx, first)
	if err != nil {
		return 0, classify(ctx, fmt.Errorf("peek %s of link %s: %w", in.Resource, in.LinkID, err))
	}
	return p.Count, nil
}
