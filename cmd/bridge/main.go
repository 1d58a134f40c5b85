// Command bridge runs the webhook bridge: Belvo posts webhooks to
// /webhooks/belvo and each becomes a durable Temporal signal. SIGINT/SIGTERM
// stop accepting new requests and let in-flight deliveries finish.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/internal/serve"
	"github.com/belvo-temporal/backbone/tracing"
	"github.com/belvo-temporal/backbone/webhookbridge"
	"go.uber.org/zap"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bridge:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, log, err := config.Load("bridge")
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck
	log.Info("bridge starting", zap.Stringer("config", cfg))
	if err := cfg.RefuseLocalWebhookSecret(); err != nil {
		return err
	}
	// Before the client and the server are built (docs/tracing.md);
	// closed after the server stopped, so its last spans are flushed.
	tp, err := tracing.Setup(context.Background(), "belvo-bridge", log)
	if err != nil {
		return err
	}
	defer tp.Close(log)
	c, err := cfg.DialTemporal(log)
	if err != nil {
		return err
	}
	defer c.Close()
	b, err := webhookbridge.New(webhookbridge.Options{
		Signaler: c, TaskQueue: cfg.TaskQueue, Authorization: cfg.WebhookAuthorization,
		PreviousAuthorization: cfg.WebhookAuthorizationPrevious, AllowedNetworks: cfg.WebhookAllowedNetworks,
		FetchTimeout: cfg.HistoricalFetchTimeout, FetchGrace: cfg.HistoricalWebhookGrace, OrphanTimeout: cfg.AsyncOrphanTimeout,
		DeliveryTimeout: cfg.WebhookDeliveryTimeout, MaxInFlight: cfg.WebhookMaxInFlight, MaxBodyBytes: cfg.WebhookMaxBodyBytes,
		Health: c, Logger: log,
	})
	if err != nil {
		return err
	}
	srv := b.Server(cfg.WebhookListenAddr)
	err = serve.Run(context.Background(), srv, 10*time.Second, func() {
		log.Info("bridge listening", zap.String("addr", cfg.WebhookListenAddr), zap.String("path", "/webhooks/belvo"))
	})
	log.Info("bridge stopped")
	return err
}
