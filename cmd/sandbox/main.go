// Command sandbox runs the offline Belvo emulator as its own process: Belvo's
// API on SANDBOX_LISTEN_ADDR, webhooks posted to SANDBOX_WEBHOOK_URL with the
// BELVO_WEBHOOK_AUTHORIZATION value. SANDBOX_* variables make it misbehave on
// purpose (docs/configuration.md lists them).
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/internal/serve"
	"github.com/belvo-temporal/backbone/sandbox"
	"go.uber.org/zap"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, log, err := config.Load("sandbox")
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck
	sc, err := sandboxConfig(cfg)
	if err != nil {
		return err
	}
	sc.Logger = log
	emu := sandbox.New(sc)
	defer emu.Close()
	srv := &http.Server{Addr: cfg.SandboxListenAddr, Handler: emu.Handler(), ReadHeaderTimeout: 5 * time.Second,
		ConnState: emu.ConnState}
	return serve.Run(context.Background(), srv, 5*time.Second, func() {
		log.Info("sandbox listening", zap.String("addr", cfg.SandboxListenAddr), zap.String("webhook_url", sc.WebhookURL),
			zap.Int("transactions_per_link", sc.Transactions), zap.String("completion_shape", string(sc.CompletionShape)),
			zap.Int("rate_limit_posts", sc.RateLimitPosts))
	})
}

// sandboxConfig reads the emulator's own SANDBOX_* settings.
func sandboxConfig(cfg config.Config) (sandbox.Config, error) {
	sc := sandbox.Config{
		SecretID: cfg.BelvoSecretID, SecretPassword: cfg.BelvoSecretPassword,
		WebhookURL:           envOr("SANDBOX_WEBHOOK_URL", "http://"+cfg.WebhookListenAddr+"/webhooks/belvo"),
		WebhookAuthorization: cfg.WebhookAuthorization,
	}
	var err error
	ints := []struct {
		name string
		dst  *int
	}{{"SANDBOX_TRANSACTIONS", &sc.Transactions}, {"SANDBOX_ACCOUNTS", &sc.Accounts}, {"SANDBOX_INVOICES", &sc.Invoices},
		{"SANDBOX_FAIL_EVERY_NTH_LIST", &sc.FailEveryNthList}, {"SANDBOX_FAIL_LISTS_WITH", &sc.FailListsWith}}
	for _, i := range ints {
		if v := os.Getenv(i.name); v != "" {
			if *i.dst, err = strconv.Atoi(v); err != nil || *i.dst < 0 {
				return sc, fmt.Errorf("%s=%q is not a non-negative integer", i.name, v)
			}
		}
	}
	if v := os.Getenv("SANDBOX_SEED"); v != "" {
		if sc.Seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			return sc, fmt.Errorf("SANDBOX_SEED=%q is not an unsigned integer", v)
		}
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{{"SANDBOX_WEBHOOK_DELAY", &sc.WebhookDelay}, {"SANDBOX_ASYNC_DELAY", &sc.AsyncDelay},
		{"SANDBOX_CLOCK_OFFSET", &sc.ClockOffset}, {"SANDBOX_LIST_LATENCY", &sc.ListLatency}} {
		if v := os.Getenv(d.name); v != "" {
			if *d.dst, err = time.ParseDuration(v); err != nil {
				return sc, fmt.Errorf("%s=%q is not a Go duration such as 200ms", d.name, v)
			}
		}
	}
	if sc.ListLatency < 0 {
		return sc, fmt.Errorf("SANDBOX_LIST_LATENCY=%s must not be negative", sc.ListLatency)
	}
	sc.AsyncWebhookBefore202 = os.Getenv("SANDBOX_ASYNC_WEBHOOK_BEFORE_202") == "true"
	if v := os.Getenv("SANDBOX_TIMEOUT_ABOVE_PAGE_SIZE"); v != "" {
		if sc.TimeoutAbovePageSize, err = strconv.Atoi(v); err != nil {
			return sc, fmt.Errorf("SANDBOX_TIMEOUT_ABOVE_PAGE_SIZE=%q is not an integer", v)
		}
	}
	if v := os.Getenv("SANDBOX_EMPTY_RESOURCES"); v != "" {
		if sc.EmptyResources, err = belvo.ParseResources(strings.Split(v, ",")); err != nil {
			return sc, fmt.Errorf("SANDBOX_EMPTY_RESOURCES: %w", err)
		}
	}
	if v := os.Getenv("SANDBOX_LIST_FAULTS"); v != "" {
		if sc.ListFaults, err = sandbox.ParseFaults(v); err != nil {
			return sc, fmt.Errorf("SANDBOX_LIST_FAULTS: %w", err)
		}
	}
	if sc.CompletionShape, err = sandbox.ParseCompletionShape(os.Getenv("SANDBOX_COMPLETION_SHAPE")); err != nil {
		return sc, fmt.Errorf("SANDBOX_COMPLETION_SHAPE: %w", err)
	}
	if v := os.Getenv("SANDBOX_REFRESH_COOLDOWN"); v != "" {
		if sc.RefreshCooldown, err = time.ParseDuration(v); err != nil || sc.RefreshCooldown <= 0 {
			return sc, fmt.Errorf("SANDBOX_REFRESH_COOLDOWN=%q is not a positive Go duration such as 2s", v)
		}
	}
	if v := os.Getenv("SANDBOX_RATE_LIMIT_POSTS"); v != "" {
		// 1 would refuse every POST forever; the library takes it as 2, but
		// a person who wrote 1 most likely meant something else: say so.
		if sc.RateLimitPosts, err = strconv.Atoi(v); err != nil || sc.RateLimitPosts < 0 || sc.RateLimitPosts == 1 {
			return sc, fmt.Errorf("SANDBOX_RATE_LIMIT_POSTS=%q must be 0 (off) or an integer of at least 2 (1 would refuse every POST)", v)
		}
	}
	sc.FailAsync = os.Getenv("SANDBOX_FAIL_ASYNC")
	sc.DuplicateWebhooks = os.Getenv("SANDBOX_DUPLICATE_WEBHOOKS") == "true"
	sc.EarlyWebhooks = os.Getenv("SANDBOX_EARLY_WEBHOOKS") == "true"
	if v := os.Getenv("SANDBOX_SKIP_WEBHOOKS"); v != "" {
		if sc.SkipWebhooks, err = belvo.ParseResources(strings.Split(v, ",")); err != nil {
			return sc, fmt.Errorf("SANDBOX_SKIP_WEBHOOKS: %w", err)
		}
	}
	return sc, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
