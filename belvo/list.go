package belvo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
)

// Page is one page of Belvo's pagination envelope. Rows stay raw JSON: the
// store keeps Belvo's objects as they came, and only the id is read here.
type Page struct {
	Count    int               `json:"count"`
	Next     *string           `json:"next"`
	Previous *string           `json:"previous"`
	Results  []json.RawMessage `json:"results"`
}

// FirstPageURL is the URL of page 1 of a resource for one link, with
// page_size=1000 and any extra filters (for example value_date__range).
func (c *Client) FirstPageURL(r Resource, linkID string, filters map[string]string) (string, error) {
	if !r.Valid() {
		return "", fmt.Errorf("belvo: unknown resource %q", r)
	}
	q := url.Values{"link": {linkID}, "page_size": {strconv.Itoa(MaxPageSize)}, "page": {"1"}}
	for k, v := range filters {
		q.Set(k, v)
	}
	return c.url(r.ListPath(), q), nil
}

// ListPage fetches one page by its URL: the first page's URL or a previous
// page's Next. Next must point at the configured Belvo host: the client sends
// its credentials with every request, so following a link elsewhere would
// hand them over.
func (c *Client) ListPage(ctx context.Context, pageURL string) (Page, error) {
	u, err := url.Parse(pageURL)
	if err != nil {
		return Page{}, fmt.Errorf("belvo: bad page URL: %w", err)
	}
	if u.Scheme != c.base.Scheme || u.Host != c.base.Host {
		return Page{}, fmt.Errorf("%w: %s://%s (configured %s://%s)", ErrForeignPageURL, u.Scheme, u.Host, c.base.Scheme, c.base.Host)
	}
	status, data, err := c.exchange(ctx, "GET", pageURL, nil, nil)
	if err != nil {
		return Page{}, err
	}
	// An empty answer is an error here, not an empty page: a listing that
	// ended on it would lose the rest of the resource silently.
	p, err := decodePage(data)
	if err != nil {
		return Page{}, decodeError("GET", pageURL, status, data, err)
	}
	return p, nil
}

// ErrForeignPageURL is returned for a page URL outside the configured Belvo
// host; retrying cannot fix it.
var ErrForeignPageURL = errors.New("belvo: refusing to follow a page URL on another host")

// ErrRowWithoutID is returned for a listed object without an id; retrying
// cannot fix it and storing it would break idempotency.
var ErrRowWithoutID = errors.New("belvo: row has no id")

// RowID reads the "id" of one raw Belvo object.
func RowID(raw json.RawMessage) (string, error) {
	var v struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", fmt.Errorf("%w: not a JSON object: %v", ErrRowWithoutID, err)
	}
	if v.ID == "" {
		return "", ErrRowWithoutID
	}
	return v.ID, nil
}

// GetRow reads one object of a resource by its Belvo id (for example
// GET /api/transactions/{id}/), raw as Belvo sent it. It is how this product
// re-reads the transactions a transactions_updated webhook names: Belvo's
// transactions list documents no id filter.
func (c *Client) GetRow(ctx context.Context, r Resource, id string) (json.RawMessage, error) {
	if !r.Valid() {
		return nil, fmt.Errorf("belvo: unknown resource %q", r)
	}
	if id == "" {
		return nil, fmt.Errorf("belvo: %s id is required", r)
	}
	var raw json.RawMessage
	if err := c.do(ctx, "GET", c.url(r.ListPath()+url.PathEscape(id)+"/", nil), nil, &raw); err != nil {
		return nil, err
	}
	return raw, nil
}
