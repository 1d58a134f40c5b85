package config

import (
	"fmt"

	"github.com/belvo-temporal/backbone/codec"
	"github.com/belvo-temporal/backbone/logging"
	"github.com/belvo-temporal/backbone/tracing"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.uber.org/zap"
)

// DialTemporal connects to the configured Temporal frontend with the SDK's
// logging sent through zap and every payload encrypted with the key ring.
func (c Config) DialTemporal(log *zap.Logger) (client.Client, error) {
	return c.DialTemporalWithMetrics(log, nil)
}

// DialTemporalWithMetrics is DialTemporal with the SDK's metrics (and those
// workflows and activities record) sent to h; nil drops them.
func (c Config) DialTemporalWithMetrics(log *zap.Logger, h client.MetricsHandler) (client.Client, error) {
	ring, err := c.KeyRing()
	if err != nil {
		return nil, err
	}
	cl, err := client.Dial(client.Options{
		HostPort:         c.TemporalAddress,
		Namespace:        c.TemporalNamespace,
		Logger:           logging.NewTemporal(log.Named("temporal")),
		DataConverter:    codec.DataConverter(ring),
		FailureConverter: codec.FailureConverter(ring),
		MetricsHandler:   h,
		Interceptors:     []interceptor.ClientInterceptor{tracing.TemporalInterceptor()}, // docs/tracing.md
	})
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s (namespace %s): %w", c.TemporalAddress, c.TemporalNamespace, err)
	}
	return cl, nil
}

// KeyRing loads the payload encryption keys the configuration names.
func (c Config) KeyRing() (*codec.KeyRing, error) {
	return codec.Load(c.PayloadKeys, c.PayloadKeysFile)
}

// Load reads the configuration and builds the process's zap logger, named
// after the process, from LOG_FORMAT and LOG_LEVEL.
func Load(process string) (Config, *zap.Logger, error) {
	cfg, err := FromEnv()
	if err != nil {
		return Config{}, nil, err
	}
	log, err := logging.New(cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return Config{}, nil, err
	}
	return cfg, log.Named(process), nil
}
