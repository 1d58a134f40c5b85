//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/internal/stack"
	"github.com/belvo-temporal/backbone/internal/testenv"
	"github.com/belvo-temporal/backbone/logging"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/webhookbridge"
	"github.com/belvo-temporal/backbone/workflows"
)

// freeAddr is a loopback address on freePort.
func freeAddr(t *testing.T) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
}

// freePort is a loopback port no process listens on, outside the kernel's
// ephemeral range (stack.FreePort): a port picked there could be taken by
// an outgoing connection before the server binds it.
func freePort(t *testing.T) int {
	t.Helper()
	port, err := stack.FreePort()
	if err != nil {
		t.Fatalf("pick a free port: %v", err)
	}
	return port
}

// ownDevServer starts a dev server this test may stop and restart on the
// same address and database file.
func ownDevServer(t *testing.T, addr, db string) *stack.DevServer {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("dev server address %q: %v", addr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatalf("dev server port %q: %v", port, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := stack.StartDevServer(ctx, stack.DevServerOptions{CLI: testenv.TemporalCLI(t), Port: p, DBFile: db})
	if err != nil {
		t.Fatalf("start dev server on %s: %v", addr, err)
	}
	return srv
}

// orphanWebhook is a historical_update of a link of its own (link-<rid>)
// that no request of this product sent: it starts the link's fetch, which
// waits (no worker is needed), so the signal's presence is easy to check.
func orphanWebhook(rid string) sandbox.Webhook {
	return sandbox.Webhook{WebhookID: "w-" + rid, WebhookType: "TRANSACTIONS", ProcessType: "historical_update",
		WebhookCode: "historical_update", LinkID: "link-" + rid, RequestID: rid, Data: map[string]any{}}
}

// assertSignalled checks that the execution of each webhook's link received
// its webhook as a signal: nothing that got a 202 is missing.
func assertSignalled(t *testing.T, c client.Client, rids []string) {
	t.Helper()
	for _, rid := range rids {
		it := c.GetWorkflowHistory(context.Background(), workflows.HistoricalFetchWorkflowID("link-"+rid), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		found := false
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				t.Fatalf("history of %s: %v", rid, err)
			}
			if ev.GetEventType() == enums.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED {
				found = true
			}
		}
		if !found {
			t.Errorf("request %s: acknowledged, but no signal in Temporal", rid)
		}
	}
}

// Temporal stops mid-run: the bridge answers 503 (never 202) and /readyz says
// not ready; Belvo (the sandbox) retries; once Temporal is back every
// webhook is delivered.
func TestTemporalOutageThenRecovery(t *testing.T) {
	addr, db := freeAddr(t), filepath.Join(t.TempDir(), "temporal.db")
	srv := ownDevServer(t, addr, db)
	c, err := client.Dial(client.Options{HostPort: addr, Logger: logging.NewTemporal(zap.NewNop())})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	log := zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel))
	p, err := stack.StartInProcess(context.Background(), stack.InProcessOptions{Client: c, TaskQueue: "outage", Logger: log,
		Bridge:  &webhookbridge.Options{Authorization: webhookAuth, DeliveryTimeout: 2 * time.Second},
		Sandbox: &sandbox.Config{WebhookBackoff: 200 * time.Millisecond, WebhookMaxAttempts: 200}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	emu, bridgeURL := p.Sandbox, p.BridgeURL

	var rids []string
	send := func(n int) {
		for range n {
			rid := "outage" + strings.ReplaceAll(uuid.NewString(), "-", "")[:20]
			rids = append(rids, rid)
			emu.Send(orphanWebhook(rid))
		}
	}
	send(10)
	waitFor(t, 30*time.Second, func() bool { return emu.Delivered() == 10 })
	if code := get(t, bridgeURL+"/readyz"); code != 200 {
		t.Fatalf("/readyz %d while Temporal is up", code)
	}

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	send(10)
	waitFor(t, 30*time.Second, func() bool { return strings.Contains(metrics(t, bridgeURL), `status="503"`) })
	if code := get(t, bridgeURL+"/readyz"); code != 503 {
		t.Errorf("/readyz %d while Temporal is down, want 503", code)
	}
	if emu.Delivered() != 10 {
		t.Fatalf("%d webhooks acknowledged while Temporal was down", emu.Delivered()-10)
	}

	srv2 := ownDevServer(t, addr, db)
	defer func() { _ = srv2.Stop() }()
	waitFor(t, 90*time.Second, func() bool { return emu.Delivered() == 20 })
	// /readyz caches its last check for a second, and the outage check may
	// have been cached just before the deliveries drained: readiness is
	// eventually consistent, as a probe sees it.
	waitFor(t, 10*time.Second, func() bool { return get(t, bridgeURL+"/readyz") == 200 })
	assertSignalled(t, c, rids)
}

// SIGTERM to the bridge process in the middle of a burst: it stops accepting,
// finishes what it admitted, exits within its bound, and every webhook it
// answered 202 is in Temporal.
func TestBridgeSIGTERMDuringBurstLosesNothing(t *testing.T) {
	srv := devServer(t)
	bin := t.TempDir()
	var out bytes.Buffer
	if err := stack.Build(context.Background(), testenv.RepoRoot(), bin, &out, "bridge"); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	st, err := stack.Start(context.Background(), stack.Options{Root: testenv.RepoRoot(), Bin: bin, Dir: t.TempDir(),
		TemporalAddress: srv.Address(), Bridges: 1, Env: []string{"BELVO_WEBHOOK_AUTHORIZATION=" + webhookAuth, "LOG_LEVEL=warn"},
		Config: func(c *config.Config) { c.TaskQueue = "sigterm" }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	addr, bridge := st.Config.WebhookListenAddr, st.Bridges[0]
	logs := func() string { b, _ := os.ReadFile(st.LogPath("bridge")); return string(b) }

	var mu sync.Mutex
	var acked []string
	other := map[string]int{}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				rid := fmt.Sprintf("sigterm%02d%05d%s", w, i, strings.ReplaceAll(uuid.NewString(), "-", "")[:8])
				code := postWebhook("http://"+addr+"/webhooks/belvo", orphanWebhook(rid))
				mu.Lock()
				if code == 202 {
					acked = append(acked, rid)
				} else {
					other[fmt.Sprint(code)]++
				}
				mu.Unlock()
				if code == -1 {
					return // connection refused: the bridge is gone
				}
			}
		}()
	}
	waitFor(t, 30*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= 100 })
	start := time.Now()
	if !bridge.Stop(15 * time.Second) {
		t.Fatalf("bridge did not exit within 15 s of SIGTERM\n%s", logs())
	}
	if err := bridge.Err(); err != nil {
		t.Errorf("bridge exited with %v\n%s", err, logs())
	}
	t.Logf("bridge exited %s after SIGTERM", time.Since(start).Round(time.Millisecond))
	close(stop)
	wg.Wait()
	t.Logf("%d acknowledged; other answers %v", len(acked), other)
	c, err := client.Dial(client.Options{HostPort: srv.Address(), Logger: logging.NewTemporal(zap.NewNop())})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	assertSignalled(t, c, acked)
}

// postWebhook posts one webhook; -1 means the connection failed.
func postWebhook(url string, wh sandbox.Webhook) int {
	body, _ := json.Marshal(wh)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Authorization", webhookAuth)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func metrics(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
