package belvo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// RegisterLinkRequest is the body of POST /api/links/. Username and Password
// are the end user's bank credentials: never log or persist this value.
type RegisterLinkRequest struct {
	Institution        string     `json:"institution"`
	Username           string     `json:"username"`
	Password           string     `json:"password,omitempty"`
	ExternalID         string     `json:"external_id,omitempty"`
	AccessMode         string     `json:"access_mode,omitempty"`
	FetchResources     []Resource `json:"fetch_resources,omitempty"`
	CredentialsStorage string     `json:"credentials_storage,omitempty"`
}

// Link is Belvo's link object (the fields this product reads).
type Link struct {
	ID                 string     `json:"id"`
	Institution        string     `json:"institution"`
	AccessMode         string     `json:"access_mode"`
	Status             string     `json:"status"`
	ExternalID         *string    `json:"external_id"`
	CreatedAt          string     `json:"created_at"`
	FetchResources     []Resource `json:"fetch_resources"`
	CredentialsStorage string     `json:"credentials_storage"`
}

// RegisterLink creates a link (POST /api/links/).
func (c *Client) RegisterLink(ctx context.Context, r RegisterLinkRequest) (Link, error) {
	var l Link
	err := c.do(ctx, "POST", c.url("/api/links/", nil), r, &l)
	return l, err
}

// GetLink reads one link (GET /api/links/{id}/).
func (c *Client) GetLink(ctx context.Context, id string) (Link, error) {
	var l Link
	err := c.do(ctx, "GET", c.url("/api/links/"+url.PathEscape(id)+"/", nil), nil, &l)
	return l, err
}

// WidgetTokenRequest is the body of POST /api/token/ for the Connect Widget,
// asking Belvo to fetch the history of the listed resources once the user
// connects.
type WidgetTokenRequest struct {
	ID              string     `json:"id"`
	Password        string     `json:"password"`
	Scopes          string     `json:"scopes"`
	ExternalID      string     `json:"external_id,omitempty"`
	FetchHistorical bool       `json:"fetch_historical,omitempty"`
	FetchResources  []Resource `json:"fetch_resources,omitempty"`
}

// WidgetToken is the access/refresh pair the widget is started with.
type WidgetToken struct {
	Access  string `json:"access"`
	Refresh string `json:"refresh"`
}

// CreateWidgetToken asks for a widget access token (POST /api/token/). The
// client's own secret id and password fill the body.
func (c *Client) CreateWidgetToken(ctx context.Context, r WidgetTokenRequest) (WidgetToken, error) {
	r.ID, r.Password = c.secretID, c.password
	if r.Scopes == "" {
		r.Scopes = "read_institutions,write_links"
	}
	var t WidgetToken
	err := c.do(ctx, "POST", c.url("/api/token/", nil), r, &t)
	return t, err
}

// CompleteLink finishes a registration Belvo paused for an MFA token
// (PATCH /api/links/ with the session and link of the 428 answer and the
// user's token: Belvo's PatchBody requires session and link).
func (c *Client) CompleteLink(ctx context.Context, ch TokenChallenge, token string) (Link, error) {
	var l Link
	err := c.do(ctx, "PATCH", c.url("/api/links/", nil), map[string]string{"session": ch.Session, "link": ch.Link, "token": token}, &l)
	return l, err
}

// TokenChallenge is what a 428 token_required answer asks to resume.
type TokenChallenge struct {
	Session string `json:"session"`
	Link    string `json:"link"`
	// Expiry is how many seconds Belvo keeps the session open.
	Expiry int `json:"expiry"`
}

// TokenRequired returns the MFA challenge of a 428 token_required answer.
func TokenRequired(err error) (TokenChallenge, bool) {
	var api *APIError
	if !errors.As(err, &api) || api.StatusCode != 428 || len(api.Details) == 0 {
		return TokenChallenge{}, false
	}
	d := api.Details[0]
	return TokenChallenge{Session: d.Session, Link: d.Link, Expiry: d.Expiry}, d.Session != ""
}

// LinkFilter selects links in GET /api/links/ (Belvo's filters of the same
// names; empty fields are not sent).
type LinkFilter struct {
	ExternalID  string
	Institution string
	// CreatedAtOrAfter keeps links created at or after this instant. Belvo's
	// created_at__gte takes a date, so the day is sent and the time is
	// applied here.
	CreatedAtOrAfter time.Time
}

// ListLinks lists the links a filter selects, following every page.
func (c *Client) ListLinks(ctx context.Context, f LinkFilter) ([]Link, error) {
	q := url.Values{"page_size": {strconv.Itoa(MaxPageSize)}, "page": {"1"}}
	if f.ExternalID != "" {
		q.Set("external_id", f.ExternalID)
	}
	if f.Institution != "" {
		q.Set("institution", f.Institution)
	}
	if !f.CreatedAtOrAfter.IsZero() {
		q.Set("created_at__gte", f.CreatedAtOrAfter.UTC().Format(time.DateOnly))
	}
	var out []Link
	for next := c.url("/api/links/", q); next != ""; {
		p, err := c.ListPage(ctx, next)
		if err != nil {
			return nil, err
		}
		for _, raw := range p.Results {
			var l Link
			if err := json.Unmarshal(raw, &l); err != nil {
				return nil, fmt.Errorf("belvo: link in list: %w", err)
			}
			if at, err := time.Parse(time.RFC3339Nano, l.CreatedAt); err == nil && at.Before(f.CreatedAtOrAfter) {
				continue
			}
			out = append(out, l)
		}
		next = ""
		if p.Next != nil {
			next = *p.Next
		}
	}
	return out, nil
}
