package main

import (
	"strings"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/sandbox"
)

func TestSandboxConfigFromEnvironment(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		check   func(sandbox.Config) bool
		wantErr string // a part of the error; "" for none
	}{
		{name: "defaults", env: nil, check: func(c sandbox.Config) bool {
			d := c.WithDefaults()
			return d.CompletionShape == sandbox.CompletionHistorical && d.RateLimitPosts == 0 && d.RefreshCooldown == belvo.RefreshCooldown
		}},
		{name: "unknown completion shape names the allowed ones", env: map[string]string{"SANDBOX_COMPLETION_SHAPE": "async"},
			wantErr: "historical, recurrent, async_request, none"},
		{name: "rate limit", env: map[string]string{"SANDBOX_RATE_LIMIT_POSTS": "3"},
			check: func(c sandbox.Config) bool { return c.RateLimitPosts == 3 }},
		{name: "rate limit of 1 refuses every POST", env: map[string]string{"SANDBOX_RATE_LIMIT_POSTS": "1"}, wantErr: "at least 2"},
		{name: "negative rate limit", env: map[string]string{"SANDBOX_RATE_LIMIT_POSTS": "-2"}, wantErr: "SANDBOX_RATE_LIMIT_POSTS"},
		{name: "refresh cooldown", env: map[string]string{"SANDBOX_REFRESH_COOLDOWN": "2s"},
			check: func(c sandbox.Config) bool { return c.RefreshCooldown == 2*time.Second }},
		{name: "refresh cooldown not a duration", env: map[string]string{"SANDBOX_REFRESH_COOLDOWN": "10"}, wantErr: "SANDBOX_REFRESH_COOLDOWN"},
		{name: "list faults with ok", env: map[string]string{"SANDBOX_LIST_FAULTS": "ok,slow:25s"},
			check: func(c sandbox.Config) bool { return len(c.ListFaults) == 2 && c.ListFaults[1].Slow == 25*time.Second }},
		{name: "list latency", env: map[string]string{"SANDBOX_LIST_LATENCY": "150ms"},
			check: func(c sandbox.Config) bool { return c.ListLatency == 150*time.Millisecond }},
		{name: "negative list latency", env: map[string]string{"SANDBOX_LIST_LATENCY": "-1s"}, wantErr: "SANDBOX_LIST_LATENCY=-1s must not be negative"},
		{name: "list latency not a duration", env: map[string]string{"SANDBOX_LIST_LATENCY": "100"}, wantErr: "SANDBOX_LIST_LATENCY"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, k := range []string{"SANDBOX_COMPLETION_SHAPE", "SANDBOX_RATE_LIMIT_POSTS", "SANDBOX_REFRESH_COOLDOWN", "SANDBOX_LIST_FAULTS", "SANDBOX_LIST_LATENCY"} {
				t.Setenv(k, c.env[k])
			}
			sc, err := sandboxConfig(config.Config{})
			switch {
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("error %v, want one mentioning %q", err, c.wantErr)
			case c.wantErr == "" && err != nil:
				t.Errorf("error %v", err)
			case c.wantErr == "" && !c.check(sc):
				t.Errorf("config %+v", sc)
			}
		})
	}
	for _, shape := range sandbox.CompletionShapes() {
		t.Setenv("SANDBOX_COMPLETION_SHAPE", string(shape))
		if sc, err := sandboxConfig(config.Config{}); err != nil || sc.CompletionShape != shape {
			t.Errorf("SANDBOX_COMPLETION_SHAPE=%s: %q, %v", shape, sc.CompletionShape, err)
		}
	}
}
