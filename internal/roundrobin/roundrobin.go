// Package roundrobin is the smallest load balancer that makes a multi-replica
// run honest on one machine: it spreads requests over backends in turn and,
// like a real balancer with passive health checks, moves on to the next
// backend when one refuses the connection (a killed replica). It never
// retries a request a backend has received, so it adds no duplicates of its
// own: an unanswered webhook is Belvo's to redeliver.
package roundrobin

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"syscall"
	"time"
)

// maxBody bounds what is buffered to try another backend; the bridge's own
// limit (1 MiB by default) answers anything larger.
const maxBody = 2 << 20

// Balancer forwards each request to the next backend in turn.
type Balancer struct {
	backends []*url.URL
	next     atomic.Uint64
	client   *http.Client
	// Tried counts, per backend index, the requests sent to it (tests and
	// the summary use it to show that every replica did work).
	tried []atomic.Int64
}

// New builds a balancer over base URLs such as http://127.0.0.1:8080.
func New(backends []string) (*Balancer, error) {
	if len(backends) == 0 {
		return nil, errors.New("roundrobin: no backends")
	}
	b := &Balancer{tried: make([]atomic.Int64, len(backends)),
		client: &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}}
	for _, s := range backends {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("roundrobin: backend %q is not a URL such as http://127.0.0.1:8080", s)
		}
		b.backends = append(b.backends, u)
	}
	return b, nil
}

// Sent is how many requests each backend was sent, in backend order.
func (b *Balancer) Sent() []int64 {
	out := make([]int64, len(b.tried))
	for i := range b.tried {
		out[i] = b.tried[i].Load()
	}
	return out
}

// ServeHTTP implements http.Handler.
func (b *Balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		http.Error(w, "roundrobin: request body unreadable or over 2 MiB", http.StatusRequestEntityTooLarge)
		return
	}
	n := uint64(len(b.backends))
	start := b.next.Add(1) % n
	var lastErr error
	for i := range n {
		idx := (start + i) % n
		resp, err := b.forward(r, body, b.backends[idx])
		if err == nil {
			b.tried[idx].Add(1)
			copyResponse(w, resp)
			return
		}
		lastErr = err
		if !refused(err) {
			break // the backend may have the request: never send it twice
		}
	}
	http.Error(w, "roundrobin: no backend answered: "+lastErr.Error(), http.StatusBadGateway)
}

func (b *Balancer) forward(r *http.Request, body []byte, to *url.URL) (*http.Response, error) {
	u := *to
	u.Path, u.RawQuery = r.URL.Path, r.URL.RawQuery
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = r.Header.Clone()
	return b.client.Do(req)
}

// refused is a connection that never opened: nothing was sent.
func refused(err error) bool {
	var op *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || (errors.As(err, &op) && op.Op == "dial")
}

func copyResponse(w http.ResponseWriter, resp *http.Response) {
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}
