package main

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/internal/stack"
	"github.com/belvo-temporal/backbone/starter"
	"github.com/belvo-temporal/backbone/store"
	"go.temporal.io/sdk/client"
)

// scenarioStack is one scenario's product (internal/stack): a file-backed
// dev server on a fixed port, so it can be stopped and started again as the
// same cluster, and the sandbox, the worker and the bridge as processes.
type scenarioStack struct {
	*stack.Stack
	// db reads what the worker stored; opened once, since the scenarios
	// poll it many times a second.
	db      store.Store
	client  client.Client
	starter starter.Starter
}

func newStack(ctx context.Context, root, bin, cli, dir string, extraEnv []string) (*scenarioStack, error) {
	p, err := stack.FreePort()
	if err != nil {
		return nil, err
	}
	st, err := stack.Start(ctx, stack.Options{
		Root: root, Bin: bin, Dir: dir,
		DevServer: &stack.DevServerOptions{CLI: cli, Port: p, DBFile: filepath.Join(dir, "temporal.db")},
		Sandbox:   true, Workers: 1, Bridges: 1,
		Env: append([]string{"LOG_FORMAT=json"}, extraEnv...),
		Config: func(c *config.Config) {
			c.TaskQueue = "chaos"
			c.HistoricalWebhookGrace = graceOf(extraEnv, c.HistoricalWebhookGrace)
		},
	})
	if err != nil {
		return nil, err
	}
	s := &scenarioStack{Stack: st}
	if s.db, err = store.Open(ctx, st.Config.StoreDSN); err != nil {
		s.close()
		return nil, err
	}
	if s.client, err = st.Dial(nil); err != nil {
		s.close()
		return nil, err
	}
	s.starter = st.Starter(s.client)
	return s, nil
}

// graceOf is the HISTORICAL_WEBHOOK_GRACE a scenario sets, def otherwise:
// the starter passes it to the fetches it starts.
func graceOf(env []string, def time.Duration) time.Duration {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "HISTORICAL_WEBHOOK_GRACE="); ok {
			if d, err := time.ParseDuration(v); err == nil {
				return d
			}
		}
	}
	return def
}

func (s *scenarioStack) close() {
	if s.client != nil {
		s.client.Close()
	}
	if s.db != nil {
		s.db.Close()
	}
	s.Stop()
}

// tally compares the store with the sandbox for links: rows expected,
// stored, and the differences either way.
func (s *scenarioStack) tally(ctx context.Context, links []string) (expected, stored int, err error) {
	for _, l := range links {
		want, err := s.Control().Expected(ctx, l)
		if err != nil {
			return 0, 0, err
		}
		for r, n := range want {
			got, err := s.db.Count(ctx, r, l)
			if err != nil {
				return 0, 0, err
			}
			expected += n
			stored += got
		}
	}
	return expected, stored, nil
}

// storedRows is the store's row count of one resource of a link.
func (s *scenarioStack) storedRows(ctx context.Context, r belvo.Resource, link string) int {
	n, _ := s.db.Count(ctx, r, link)
	return n
}

// widgetLink plays a user finishing the Connect Widget.
func (s *scenarioStack) widgetLink(ctx context.Context, bc *belvo.Client, i int) (string, error) {
	tok, err := bc.CreateWidgetToken(ctx, belvo.WidgetTokenRequest{ExternalID: "chaos-widget-" + strconv.Itoa(i), FetchHistorical: true,
		FetchResources: []belvo.Resource{belvo.Accounts, belvo.Transactions, belvo.Owners}})
	if err != nil {
		return "", err
	}
	return s.Control().WidgetLink(ctx, tok.Access, "erebor_mx_retail")
}
