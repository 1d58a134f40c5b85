package belvo

import (
	"context"
	"encoding/json"
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
// page_size=1000.
func (c *Client) FirstPageURL(r Resource, linkID string) (string, error) {
	if !r.Valid() {
		return "", fmt.Errorf("belvo: unknown resource %q", r)
	}
	q := url.Values{"link": {linkID}, "page_size": {strconv.Itoa(MaxPageSize)}, "page": {"1"}}
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
		return Page{}, fmt.Errorf("belvo: refusing to follow page URL on %s://%s (configured %s://%s)", u.Scheme, u.Host, c.base.Scheme, c.base.Host)
	}
	var p Page
	if err := c.do(ctx, "GET", pageURL, nil, &p); err != nil {
		return Page{}, err
	}
	return p, nil
}

// RowID reads the "id" of one raw Belvo object.
func RowID(raw json.RawMessage) (string, error) {
	var v struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", fmt.Errorf("belvo: row is not a JSON object: %w", err)
	}
	if v.ID == "" {
		return "", fmt.Errorf("belvo: row has no id")
	}
	return v.ID, nil
}
