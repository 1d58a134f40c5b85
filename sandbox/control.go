package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
)

// Control is a client of the emulator's /_sandbox endpoints, for tools that
// drive a sandbox running as its own process (the stacks, benchmarks and
// failure suites): it plays the user in the Connect Widget and tells what
// Belvo holds, so results can be compared with the store.
type Control struct {
	BaseURL string // e.g. http://127.0.0.1:8090
	HTTP    *http.Client
}

func (c Control) client() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second}
}

// WidgetLink finishes the Connect Widget for an access token: the sandbox
// creates the link and sends its historical webhooks. It returns the link id.
func (c Control) WidgetLink(ctx context.Context, accessToken, institution string) (string, error) {
	return c.WidgetLinkSized(ctx, accessToken, institution, 0)
}

// WidgetLinkSized is WidgetLink for a link with its own number of
// transactions (0: the sandbox's configured size), so one big listing can
// run beside ordinary ones.
func (c Control) WidgetLinkSized(ctx context.Context, accessToken, institution string, transactions int) (string, error) {
	body, _ := json.Marshal(widgetConnectBody{Token: accessToken, Institution: institution, Transactions: transactions})
	var out struct {
		LinkID string `json:"link_id"`
	}
	if err := c.do(ctx, http.MethodPost, "/_sandbox/widget/links", body, http.StatusCreated, &out); err != nil {
		return "", fmt.Errorf("sandbox widget link: %w", err)
	}
	return out.LinkID, nil
}

// Expected is the number of rows of each requested resource a link has.
func (c Control) Expected(ctx context.Context, linkID string) (map[belvo.Resource]int, error) {
	var m map[belvo.Resource]int
	if err := c.do(ctx, http.MethodGet, "/_sandbox/links/"+url.PathEscape(linkID)+"/expected", nil, http.StatusOK, &m); err != nil {
		return nil, fmt.Errorf("sandbox expected rows of %s: %w", linkID, err)
	}
	return m, nil
}

// Count is the number of rows of a resource of a link that the list
// endpoint's filters select (as an async request's data is selected).
func (c Control) Count(ctx context.Context, linkID string, r belvo.Resource, filters map[string]string) (int, error) {
	q := url.Values{"resource": {string(r)}}
	for k, v := range filters {
		q.Set(k, v)
	}
	var out struct {
		Count int `json:"count"`
	}
	if err := c.do(ctx, http.MethodGet, "/_sandbox/links/"+url.PathEscape(linkID)+"/count?"+q.Encode(), nil, http.StatusOK, &out); err != nil {
		return 0, fmt.Errorf("sandbox count of %s %s: %w", linkID, r, err)
	}
	return out.Count, nil
}

// Event plays a recurrent-link event on a link (see Server.RecurrentEvent):
// for new_transactions_available, n new transactions collected now by the
// emulator's clock, then the webhook. It returns the webhook sent.
func (c Control) Event(ctx context.Context, linkID, code string, n int) (Webhook, error) {
	body, _ := json.Marshal(eventBody{Code: code, Count: n})
	var wh Webhook
	if err := c.do(ctx, http.MethodPost, "/_sandbox/links/"+url.PathEscape(linkID)+"/events", body, http.StatusAccepted, &wh); err != nil {
		return wh, fmt.Errorf("sandbox event %s on %s: %w", code, linkID, err)
	}
	return wh, nil
}

// AdvanceClock moves the emulator's clock d forward (Server.AdvanceClock)
// and returns its time after the move.
func (c Control) AdvanceClock(ctx context.Context, d time.Duration) (time.Time, error) {
	body, _ := json.Marshal(map[string]string{"advance": d.String()})
	var out struct {
		Now time.Time `json:"now"`
	}
	if err := c.do(ctx, http.MethodPost, "/_sandbox/clock", body, http.StatusOK, &out); err != nil {
		return time.Time{}, fmt.Errorf("sandbox clock: %w", err)
	}
	return out.Now, nil
}

// Refreshes is how many refreshes of a link the sandbox accepted (202).
func (c Control) Refreshes(ctx context.Context, linkID string) (int, error) {
	var out struct {
		Refreshes int `json:"refreshes"`
	}
	if err := c.do(ctx, http.MethodGet, "/_sandbox/links/"+url.PathEscape(linkID)+"/refreshes", nil, http.StatusOK, &out); err != nil {
		return 0, fmt.Errorf("sandbox refreshes of %s: %w", linkID, err)
	}
	return out.Refreshes, nil
}

// Stats are the connections clients opened and the API requests served.
func (c Control) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	if err := c.do(ctx, http.MethodGet, "/_sandbox/stats", nil, http.StatusOK, &st); err != nil {
		return st, fmt.Errorf("sandbox stats: %w", err)
	}
	return st, nil
}

func (c Control) do(ctx context.Context, method, path string, body []byte, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("HTTP %d, want %d", resp.StatusCode, want)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}
