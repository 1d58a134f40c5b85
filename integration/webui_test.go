//go:build integration

package integration

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/codec"
	"github.com/belvo-temporal/backbone/internal/stack"
	"github.com/belvo-temporal/backbone/internal/testenv"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/workflows"
)

// People operate the product from the Temporal web UI: in a real browser
// (Debian's headless chromium), the UI finds a link's historical fetch by
// searching BelvoLinkID and an async request's execution by BelvoRequestID,
// opens each and shows it completed, with payloads decoded through the codec
// server. Screenshots are kept as artifacts (artifacts/webui-*.png).
func TestWebUIFindsExecutionsBySearchAttributes(t *testing.T) {
	chromium := testenv.Chromium(t)
	ui := freePort(t)
	uiPort := strconv.Itoa(ui)
	uiOrigin := "http://127.0.0.1:" + uiPort
	codecURL, closeCodec := stack.ServeCodec(testRing(t), codec.ServerOptions{
		AllowedOrigins: []string{uiOrigin, "http://localhost:" + uiPort}})
	defer closeCodec()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	port := freePort(t)
	srv, err := stack.StartDevServer(ctx, stack.DevServerOptions{CLI: testenv.TemporalCLI(t), Port: port, UIPort: ui, CodecEndpoint: codecURL})
	if err != nil {
		t.Fatalf("start dev server with UI: %v", err)
	}
	// Cleanups run last-in first-out: the server outlives the stack's worker.
	t.Cleanup(func() { _ = srv.Stop() })

	s := newStackWith(t, sandbox.Config{Transactions: 1200}, 0, bridgeTuning{server: srv})
	reg, p, err := s.registerLink("webui")
	if err != nil || p.Status != workflows.StatusCompleted {
		t.Fatalf("fetch: %v, %s", err, describe(p))
	}
	res, ap, err := s.runAsync(belvo.AsyncRequest{Op: belvo.OpInvoices, LinkID: reg.LinkID, DateFrom: "2026-08-01", DateTo: "2026-10-31", Type: "INFLOW"})
	if err != nil || ap.Status != workflows.StatusCompleted {
		t.Fatalf("async request: %v, %+v", err, ap)
	}

	// BelvoResources finds each flow by what it fetches.
	for q, id := range map[string]string{
		fmt.Sprintf("BelvoLinkID = '%s' AND BelvoResources = 'TRANSACTIONS'", reg.LinkID): workflows.HistoricalFetchWorkflowID(reg.LinkID),
		fmt.Sprintf("BelvoLinkID = '%s' AND BelvoResources = 'INVOICES'", reg.LinkID):     workflows.AsyncRequestWorkflowID(res.RequestID),
	} {
		waitFor(t, 20*time.Second, func() bool { return s.workflowIDs(q)[id] })
	}

	browser := newBrowser(t, chromium)
	// What the result shows once decoded (in history it is ciphertext).
	const decoded = `"status": "completed"`
	cases := []struct {
		name, query, workflowID, shot string
		// summary is an activity summary the execution page must show.
		summary string
	}{
		{"link id", fmt.Sprintf("BelvoLinkID=%q", reg.LinkID), workflows.HistoricalFetchWorkflowID(reg.LinkID), "webui-link",
			"list TRANSACTIONS into the store"},
		{"request id", fmt.Sprintf("BelvoRequestID=%q", res.RequestID), workflows.AsyncRequestWorkflowID(res.RequestID), "webui-request",
			"list the INVOICES request " + res.RequestID + " produced"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bctx, cancel := context.WithTimeout(browser, time.Minute)
			defer cancel()
			row := chromedp.CSS(fmt.Sprintf(`a[href*=%q]`, "/workflows/"+c.workflowID+"/"))
			var list, detail []byte
			var listText, detailText string
			err := chromedp.Do(bctx,
				chromedp.Navigate(uiOrigin+"/namespaces/default/workflows?query="+url.QueryEscape(c.query)),
				chromedp.WaitVisible(row),
				chromedp.Func(func(ctx context.Context, tg *chromedp.Target) (err error) {
					if listText, err = chromedp.Text(chromedp.CSS("main"))(ctx, tg); err != nil {
						return err
					}
					list, err = chromedp.FullScreenshot(100)(ctx, tg)
					return err
				}),
				chromedp.Click(row),
				chromedp.WaitVisible(chromedp.Search(`//*[normalize-space(text())="Completed"]`)),
				chromedp.Func(func(ctx context.Context, tg *chromedp.Target) (err error) {
					// The UI renders the encrypted payloads first and replaces
					// them once the codec server answered.
					for range 40 {
						if detailText, err = chromedp.Text(chromedp.CSS("main"))(ctx, tg); err != nil {
							return err
						}
						if strings.Contains(detailText, decoded) {
							break
						}
						time.Sleep(250 * time.Millisecond)
					}
					detail, err = chromedp.FullScreenshot(100)(ctx, tg)
					return err
				}),
			)
			save(t, c.shot+"-search.png", list)
			save(t, c.shot+"-execution.png", detail)
			if err != nil {
				t.Fatalf("browser: %v (screenshots in %s)", err, filepath.Dir(testenv.ArtifactPath(t, "x")))
			}
			if !strings.Contains(listText, c.workflowID) || !strings.Contains(listText, "Completed") {
				t.Errorf("search %s: the list does not show %s completed:\n%.600s", c.query, c.workflowID, listText)
			}
			if !strings.Contains(detailText, c.workflowID) {
				t.Errorf("execution page does not name %s:\n%.600s", c.workflowID, detailText)
			}
			// The result is encrypted in history; the UI shows it only
			// because it decoded it through the codec server.
			if !strings.Contains(detailText, decoded) {
				t.Errorf("execution page shows no decoded result:\n%.1200s", detailText)
			}
			if !strings.Contains(detailText, c.summary) {
				t.Errorf("execution page does not show the activity summary %q", c.summary)
			}
		})
	}
}

// newBrowser starts headless chromium with the flags a shared CI machine
// needs (no sandbox as root, no GPU, no network but loopback traffic).
func newBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1440, 1000),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	return bctx
}

func save(t *testing.T, name string, png []byte) {
	t.Helper()
	if len(png) == 0 {
		return
	}
	if err := os.WriteFile(testenv.ArtifactPath(t, name), png, 0o644); err != nil {
		t.Errorf("save screenshot: %v", err)
	}
}
