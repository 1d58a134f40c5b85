package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/belvo-temporal/backbone/bench/internal/measure"
	"github.com/google/uuid"
)

// Slowloris sizes: the slow connections held open on each bridge, and the
// legitimate webhooks sent straight to each bridge per second.
const (
	slowPerBridgeFull  = 500
	slowPerBridgeShort = 200
	legitPerSecond     = 5
	// slowHoldFull and slowHoldShort: the least time the attack lasts.
	slowHoldFull  = 2 * time.Minute
	slowHoldShort = 30 * time.Second
	// trickleEvery is how often a slow client sends one more byte: often
	// enough that no idle timeout alone would cut it.
	trickleEvery = time.Second
	// slowBodyBytes is the body a slow client announces: large, yet under
	// the bridge's 1 MiB limit, so it is the trickle that must be cut, not
	// the announced size (refused at once with 413).
	slowBodyBytes = 512 << 10
	// heldTooLong is when a slow connection the bridge still has not cut
	// counts as a limit that did not hold: far beyond every bridge limit
	// (2 s for headers, WEBHOOK_DELIVERY_TIMEOUT for a body).
	heldTooLong = 30 * time.Second
	// maxLegitLatency is issue #16's promise for a legitimate webhook's
	// 202 under slowloris.
	maxLegitLatency = time.Second
)

// slowloris holds hundreds of slow connections on each bridge, half
// trickling headers, half trickling a body behind valid headers, for as
// long as the work runs, and meanwhile sends legitimate webhooks straight
// to each bridge, timing each one's 202.
func slowloris(ctx context.Context, o opts) (row, error) {
	s, err := startProd(ctx, o, prodOptions{name: "slowloris"})
	defer s.close()
	if err != nil {
		return row{}, err
	}
	links, err := s.legitLinks(ctx)
	if err != nil {
		return row{}, err
	}
	cost0, err := s.readSlowCost(ctx)
	if err != nil {
		return row{}, err
	}
	perBridge := slowPerBridgeFull
	if o.short {
		perBridge = slowPerBridgeShort
	}
	actx, stop := context.WithCancel(ctx)
	defer stop()
	a := &attack{}
	var wg sync.WaitGroup
	for _, addr := range s.BridgeAddrs {
		for i := range perBridge {
			wg.Add(1)
			go func() { defer wg.Done(); a.hold(actx, addr, i%2 == 1, s.Config.WebhookAuthorization) }()
		}
	}
	// The work starts once every slow connection is open (or after 30 s:
	// dials that fail are counted in the note).
	want, ramp := int64(perBridge*len(s.BridgeAddrs)), time.Now().Add(30*time.Second)
	for a.open.Load() < want && ctx.Err() == nil && time.Now().Before(ramp) {
		time.Sleep(50 * time.Millisecond)
	}
	f, err := s.offer(ctx, o.work())
	if err != nil {
		return row{}, err
	}
	fds := &fdPeak{peak: make([]float64, len(s.bridgeMetrics))}
	wg.Add(1)
	go func() { defer wg.Done(); fds.sample(actx, s.bridgeMetrics) }()
	l := &legit{}
	for i, addr := range s.BridgeAddrs {
		wg.Add(1)
		go func() { defer wg.Done(); l.stream(actx, addr, links[i], s.Config.WebhookAuthorization) }()
	}
	// The attack lasts while the work runs, and at least hold, so that
	// the bridges cut many generations of slow connections.
	hold := slowHoldFull
	if o.short {
		hold = slowHoldShort
	}
	select {
	case <-ctx.Done():
	case <-time.After(hold):
	}
	f.wg.Wait()
	stop()
	wg.Wait() // every legitimate webhook answered: tally's counts include them all
	cost, cerr := s.readSlowCost(ctx)
	r, err := s.tally(ctx, f, time.Time{})
	r.notes = append(r.notes, l.note(), a.note(), fmt.Sprintf("open at peak: %d slow connections (client side); bridges' open file descriptors %s",
		a.peak.Load(), fds.String()))
	if cerr == nil {
		r.notes = append(r.notes, cost.note(cost0))
	}
	if err != nil {
		return r, err
	}
	switch {
	case l.failed > 0:
		return r, fmt.Errorf("%d of %d legitimate webhooks got no 202: %w", l.failed, l.sent, errors.Join(l.errs...))
	case l.sent == 0:
		return r, errors.New("no legitimate webhook was sent")
	case a.held > 0:
		return r, fmt.Errorf("%d slow connections were still open after %s: a bridge limit did not hold", a.held, heldTooLong)
	case !o.short && l.max() > maxLegitLatency:
		// Only the full form enforces the 1 s: CI machines are noisy and
		// shared, so the short form reports the figure without failing on it.
		return r, fmt.Errorf("slowest legitimate 202 took %s, over %s", l.max().Round(time.Millisecond), maxLegitLatency)
	}
	return r, nil
}

// attack is the slow clients and what the bridges did to them.
type attack struct {
	open, peak atomic.Int64
	mu         sync.Mutex
	// lived is how long each cut connection lived, by kind; answers the
	// status lines the bridges cut them with ("" : closed, no answer).
	lived   map[string][]float64
	answers map[string]map[string]int
	held    int
	dialErr int
}

// hold keeps one slow connection open on addr, opening a new one each time
// the bridge cuts it, until ctx ends. A body trickler sends valid headers
// with the right Authorization: the worst case, a client the bridge has to
// read the body of.
func (a *attack) hold(ctx context.Context, addr string, body bool, authorization string) {
	kind, prefix := "headers", "POST /webhooks/belvo HTTP/1.1\r\nHost: "+addr+"\r\nX-Slow: "
	if body {
		kind = "body"
		prefix = "POST /webhooks/belvo HTTP/1.1\r\nHost: " + addr + "\r\nAuthorization: " + authorization +
			"\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(slowBodyBytes) + "\r\n\r\n{"
	}
	var d net.Dialer
	for ctx.Err() == nil {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			a.mu.Lock()
			a.dialErr++
			a.mu.Unlock()
			time.Sleep(100 * time.Millisecond)
			continue
		}
		for n, p := a.open.Add(1), a.peak.Load(); n > p && !a.peak.CompareAndSwap(p, n); p = a.peak.Load() {
		}
		lived, answer, cut := trickle(ctx, c, prefix)
		a.open.Add(-1)
		a.record(kind, lived, answer, cut)
	}
}

// trickle sends prefix, then a byte every trickleEvery, until the bridge
// closes the connection (cut) or ctx ends; answer is the status line the
// bridge sent, if any.
func trickle(ctx context.Context, c net.Conn, prefix string) (lived time.Duration, answer string, cut bool) {
	defer c.Close()
	t0 := time.Now()
	read := make(chan string, 1)
	go func() {
		_ = c.SetReadDeadline(t0.Add(heldTooLong))
		got, _ := io.ReadAll(c)
		line, _, _ := strings.Cut(string(got), "\r\n")
		read <- line
	}()
	_, _ = io.WriteString(c, prefix)
	tick := time.NewTicker(trickleEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return time.Since(t0), "", false
		case answer = <-read:
			return time.Since(t0), answer, true
		case <-tick.C:
			_, _ = c.Write([]byte("a")) // an error: the bridge cut it, which read reports
		}
	}
}

func (a *attack) record(kind string, lived time.Duration, answer string, cut bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.lived == nil {
		a.lived, a.answers = map[string][]float64{}, map[string]map[string]int{}
	}
	if !cut {
		return // ended by the scenario, not by the bridge
	}
	if lived >= heldTooLong {
		a.held++
		return
	}
	a.lived[kind] = append(a.lived[kind], lived.Seconds())
	if a.answers[kind] == nil {
		a.answers[kind] = map[string]int{}
	}
	if answer == "" {
		answer = "closed without an answer"
	}
	a.answers[kind][answer]++
}

func (a *attack) note() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var parts []string
	for _, kind := range []string{"headers", "body"} {
		xs := a.lived[kind]
		p := measure.Percentiles(xs, 50, 100)
		parts = append(parts, fmt.Sprintf("%d connections trickling %s cut (%s) after p50 %.1f s, max %.1f s", len(xs), kind, answersOf(a.answers[kind]), p[0], p[1]))
	}
	return fmt.Sprintf("slow connections (each reopened once cut): %s; %d held past %s; %d dials failed", strings.Join(parts, "; "), a.held, heldTooLong, a.dialErr)
}

func answersOf(m map[string]int) string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%d %s", v, k))
	}
	return strings.Join(out, ", ")
}

// legit is the stream of legitimate webhooks sent straight to the bridges.
type legit struct {
	mu       sync.Mutex
	sent     int
	failed   int
	errs     []error
	latency  []float64 // seconds to the 202
	maxDelay time.Duration
}

// stream sends legitPerSecond webhooks a second to addr until ctx ends,
// each on a new connection (the bridge must accept it among the slow
// ones), open loop: one slow answer does not delay the next webhook.
// Each is a transactions_deleted for one of links in turn, naming a
// transaction that does not exist: a real signal to the link's
// LinkUpdates that changes no row.
func (l *legit) stream(ctx context.Context, addr string, links []string, authorization string) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	tick := time.NewTicker(time.Second / legitPerSecond)
	defer tick.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		linkID := links[n%len(links)]
		wg.Add(1)
		go func() { defer wg.Done(); l.send(client, addr, linkID, authorization) }()
	}
}

// legitLinksPerBridge is how many links each bridge's legitimate webhooks
// go to in turn: Belvo's webhooks spread over an app's links, and five a
// second to one link would measure how fast one execution takes signals
// (its history is written one event at a time), not what slow clients do
// to the bridge.
const legitLinksPerBridge = 10

// legitLinks registers, before the attack, the links the legitimate
// webhooks name: legitLinksPerBridge for each bridge.
func (s *prodStack) legitLinks(ctx context.Context) ([][]string, error) {
	links := make([][]string, len(s.BridgeAddrs))
	errs := make([]error, len(s.BridgeAddrs)*legitLinksPerBridge)
	var wg sync.WaitGroup
	for b := range links {
		links[b] = make([]string, legitLinksPerBridge)
		for k := range links[b] {
			wg.Go(func() {
				id, err := s.load.Link(ctx, "rel-slowloris-legit-"+uuid.NewString()[:8])
				links[b][k], errs[b*legitLinksPerBridge+k] = id, err
			})
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("the legitimate webhooks' links: %w", err)
	}
	return links, nil
}

func (l *legit) send(client *http.Client, addr, linkID, authorization string) {
	body := fmt.Sprintf(`{"webhook_id":%q,"webhook_type":"TRANSACTIONS","webhook_code":"transactions_deleted","link_id":%q,`+
		`"external_id":null,"data":{"deleted_transactions":[%q]}}`, uuid.NewString(), linkID, uuid.NewString())
	// Not bound to the scenario's context: a webhook sent is seen through
	// to its answer, or it would count as lost when the scenario ends.
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/webhooks/belvo", strings.NewReader(body))
	if err != nil {
		l.fail(err)
		return
	}
	req.Header.Set("Authorization", authorization)
	req.Header.Set("Content-Type", "application/json")
	t0 := time.Now()
	resp, err := client.Do(req)
	took := time.Since(t0)
	if err != nil {
		l.fail(err)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		l.fail(fmt.Errorf("%s answered %d", addr, resp.StatusCode))
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent++
	l.latency = append(l.latency, took.Seconds())
	l.maxDelay = max(l.maxDelay, took)
}

func (l *legit) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent++
	l.failed++
	if len(l.errs) < 3 {
		l.errs = append(l.errs, err)
	}
}

func (l *legit) max() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.maxDelay
}

func (l *legit) note() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := measure.Percentiles(l.latency, 50, 99, 100)
	return fmt.Sprintf("legitimate webhooks straight to the bridges: %d sent, %d without a 202; time to 202 p50 %.0f ms, p99 %.0f ms, max %.0f ms",
		l.sent, l.failed, p[0]*1000, p[1]*1000, p[2]*1000)
}

// fdPeak is the most file descriptors each bridge had open (its
// connections, slow ones included, plus its own files and Temporal's).
type fdPeak struct {
	mu   sync.Mutex
	peak []float64
}

func (p *fdPeak) sample(ctx context.Context, metrics []string) {
	for ctx.Err() == nil {
		for i, url := range metrics {
			if v, err := measure.Counter(ctx, url, "process_open_fds", ""); err == nil {
				p.mu.Lock()
				p.peak[i] = max(p.peak[i], v)
				p.mu.Unlock()
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (p *fdPeak) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, v := range p.peak {
		out = append(out, strconv.FormatFloat(v, 'f', 0, 64))
	}
	return strings.Join(out, " and ")
}
