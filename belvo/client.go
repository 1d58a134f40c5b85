// Package belvo is a small typed client for the parts of Belvo's API this
// product uses: link registration (with MFA completion), retrieval and
// listing, widget tokens, the paginated list and detail endpoints of every
// resource, and the async operations (async POSTs, link refresh, async
// deletion) in one table. Failed calls are typed (APIError) and classified
// for retries (Classify). Every request it sends is one Belvo's OpenAPI
// specs document (checked by spec_requests_test.go).
package belvo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultHTTPTimeout bounds one call to Belvo unless Options.HTTPClient
// says otherwise (BELVO_HTTP_TIMEOUT).
const DefaultHTTPTimeout = 60 * time.Second

// MaxPageSize is the largest page Belvo serves; the client always asks for it
// to keep the number of round trips (and activity heartbeats) small.
const MaxPageSize = 1000

// Client calls Belvo with HTTP Basic auth (secret id and password).
type Client struct {
	base     *url.URL
	secretID string
	password string
	http     *http.Client
}

// Options configure a Client.
type Options struct {
	BaseURL        string
	SecretID       string
	SecretPassword string
	// HTTPClient defaults to a client with DefaultHTTPTimeout and
	// keep-alive. The client uses a traced copy of it (tracing.go).
	HTTPClient *http.Client
}

// New builds a Client; the base URL must be absolute (http or https).
func New(o Options) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(o.BaseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("belvo: base URL %q must be an absolute http(s) URL", o.BaseURL)
	}
	if o.SecretID == "" || o.SecretPassword == "" {
		return nil, fmt.Errorf("belvo: secret id and secret password are required")
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	return &Client{base: u, secretID: o.SecretID, password: o.SecretPassword, http: traced(hc)}, nil
}

// Timeout is how long the client waits for one call (0: no limit): a call
// whose outcome was lost has ended at Belvo's side too, as far as this
// client can know, once it has passed.
func (c *Client) Timeout() time.Duration { return c.http.Timeout }

// do sends one request and decodes a 2xx JSON answer into out (when not nil).
// Non-2xx answers become *APIError.
func (c *Client) do(ctx context.Context, method, target string, body any, out any) error {
	_, err := c.doStatus(ctx, method, target, nil, body, out)
	return err
}

// doStatus is do with extra headers, returning the 2xx status.
func (c *Client) doStatus(ctx context.Context, method, target string, headers map[string]string, body any, out any) (int, error) {
	status, data, err := c.exchange(ctx, method, target, headers, body)
	if err != nil || out == nil || len(data) == 0 {
		return status, err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return status, decodeError(method, target, status, data, err)
	}
	return status, nil
}

// decodeError names the call whose 2xx answer could not be read.
func decodeError(method, target string, status int, data []byte, err error) error {
	return fmt.Errorf("belvo: decode %s %s answer (HTTP %d, %d bytes): %w", method, pathOf(target), status, len(data), err)
}

// exchange sends one request and reads a 2xx answer's body. Non-2xx
// answers become *APIError.
func (c *Client) exchange(ctx context.Context, method, target string, headers map[string]string, body any) (int, []byte, error) {
	var rdr io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, fmt.Errorf("belvo: encode %s %s body: %w", method, pathOf(target), err)
		}
		rdr = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rdr)
	if err != nil {
		return 0, nil, fmt.Errorf("belvo: build %s %s: %w", method, pathOf(target), err)
	}
	req.SetBasicAuth(c.secretID, c.password)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header[k] = []string{v} // verbatim: Belvo's header name and value as documented
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// url.Error includes the URL, which holds no secret: auth is a header.
		return 0, nil, fmt.Errorf("belvo: %s %s: %w", method, pathOf(target), err)
	}
	defer resp.Body.Close()
	data, err := readBody(resp)
	if err != nil {
		return 0, nil, fmt.Errorf("belvo: read %s %s answer: %w", method, pathOf(target), err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, nil, parseAPIError(method, pathOf(target), resp.StatusCode, data, resp.Header.Get("Retry-After"))
	}
	return resp.StatusCode, data, nil
}

// maxAnswer bounds the body the client reads: a page of 1,000 rows is a
// few MB, so anything near this is not an answer to keep in memory.
const maxAnswer = 256 << 20

// readBody reads an answer's body. A listed page's rows stay in this
// buffer while the page is stored, so it starts at the announced length
// (plus the room ReadFrom wants to see the end without growing) rather than
// growing by doubling; only up to readAhead, so that a wrong Content-Length
// cannot make it allocate what never comes. It reads to the end, so a body
// longer than announced is the transport's error, as with io.ReadAll.
func readBody(resp *http.Response) ([]byte, error) {
	var buf bytes.Buffer
	if n := resp.ContentLength; n > 0 {
		buf.Grow(int(min(n, readAhead)) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(io.LimitReader(resp.Body, maxAnswer))
	return buf.Bytes(), err
}

// readAhead bounds what readBody allocates on the word of Content-Length.
const readAhead = 16 << 20

func (c *Client) url(path string, q url.Values) string {
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + path
	if q != nil {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// pathOf keeps only the path of a URL for error messages and logs.
func pathOf(target string) string {
	if u, err := url.Parse(target); err == nil {
		return u.Path
	}
	return target
}
